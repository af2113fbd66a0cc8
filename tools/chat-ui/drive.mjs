// Drive the Agent Chat UI against a LangGraph server: type each message, wait for the
// reply to appear, screenshot. Usage: [API_KEY=token] node drive.mjs PAGE_URL OUT.png "message" ...
import puppeteer from "puppeteer-core";
const [pageUrl, out, ...messages] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"], headless: true,
});
const page = await browser.newPage();
await page.setViewport({ width: 1200, height: 900 });
// A server with tokens: the UI sends the key it holds as X-Api-Key (as typed in its form).
if (process.env.API_KEY) {
  await page.evaluateOnNewDocument((key) => localStorage.setItem("lg:chat:apiKey", key),
    process.env.API_KEY);
}
page.on("console", (m) => { if (m.type() === "error") console.error("page:", m.text()); });
await page.goto(pageUrl, { waitUntil: "networkidle0" });
for (const [i, text] of messages.entries()) {
  await page.waitForSelector("textarea", { timeout: 30000 });
  await page.type("textarea", text);
  await page.keyboard.press("Enter");
  const started = Date.now();
  // A reply has come when the page shows i+1 AI messages and nothing is loading.
  await page.waitForFunction((n) => {
    const ai = document.querySelectorAll("div.items-start.mr-auto.group");
    const busy = [...document.querySelectorAll("button")].some((b) => b.innerText.trim() === "Cancel");
    return ai.length >= n && !busy;
  }, { timeout: 240000, polling: 500 }, i + 1);
  console.log(`reply ${i + 1} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
await new Promise((r) => setTimeout(r, 1000));
await page.screenshot({ path: out });
console.log(await page.evaluate(() => document.body.innerText));
await browser.close();
