"""A LangGraph chat UI drives the served agent end to end: LangChain's Agent Chat UI
(tools/chat-ui, the same ``useStream`` protocol as LangGraph Studio's chat: a thread, runs
streamed as ``messages-tuple`` and ``values``) in headless Chromium, against the real
``langgraph dev`` server and the offline model. Two messages are typed; the second reply
is answered from the memory of the first, and no internal model output (the retrieval
decision's JSON) is shown. docs/figures/chat-ui.png is this test's screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from servers import REPO, client, free_port, langgraph_dev, python_bin, running

from personavlm.screenshot import browser

pytestmark = pytest.mark.slow

FIRST = "Hi! I'm Maya. This is my cat Pixel, she is orange."
SECOND = "What is my cat called?"


NEEDS = pytest.mark.skipif(browser() is None or shutil.which("npm") is None,
                           reason="needs chromium (scripts/chromium.sh) and npm")


def drive(tmp_path: Path, tokens: dict[str, str] | None = None,
          api_key: str = "") -> subprocess.CompletedProcess[str]:
    """The UI, served from its build, typing FIRST and SECOND to ``langgraph dev``."""
    built = subprocess.run(["bash", str(REPO / "tools/chat-ui/build.sh")], check=True,
                           capture_output=True, text=True, timeout=900)
    app = Path(built.stdout.strip().splitlines()[-1])
    site_port = free_port()
    with langgraph_dev(tmp_path, tokens=tokens) as (api, _), running(
            [python_bin(), "-m", "http.server", str(site_port), "--bind", "127.0.0.1"],
            f"http://127.0.0.1:{site_port}/", tmp_path / "site.log", cwd=app / "dist"):
        page = f"http://127.0.0.1:{site_port}/?apiUrl={api}&assistantId=agent"
        shot = tmp_path / "chat-ui.png"
        done = subprocess.run(["node", "drive.mjs", page, str(shot), FIRST, SECOND],
                              cwd=app, capture_output=True, text=True, timeout=900,
                              env={**os.environ, "CHROMIUM": str(browser()),
                                   "API_KEY": api_key})
        if tokens:
            mine = client(api, "maya").threads.search(limit=10)
            theirs = client(api, "ben").threads.search(limit=10)
            done.stdout += f"\nTHREADS maya={len(mine)} ben={len(theirs)}"
    return done


@NEEDS
def test_the_chat_ui_talks_to_the_agent(tmp_path: Path) -> None:
    done = drive(tmp_path)
    shot = tmp_path / "chat-ui.png"
    assert done.returncode == 0, done.stderr[-2000:]
    shown = done.stdout
    assert "reply 2 after" in shown
    after_question = shown[shown.rindex(SECOND) + len(SECOND):]
    assert "Pixel" in after_question, shown
    assert '"action"' not in shown and "keywords" not in shown
    assert shot.stat().st_size > 10_000


@NEEDS
def test_the_chat_ui_holds_a_users_token(tmp_path: Path) -> None:
    """With tokens, each UI user is the one their key names (sent as X-Api-Key): Maya's
    conversation is remembered as hers, her thread is in her list and not in Ben's."""
    done = drive(tmp_path, tokens={"maya-token": "maya", "ben-token": "ben"},
                 api_key="maya-token")
    assert done.returncode == 0, done.stderr[-2000:]
    shown = done.stdout
    assert "Pixel" in shown[shown.rindex(SECOND) + len(SECOND):], shown
    assert "THREADS maya=1 ben=0" in shown, shown
