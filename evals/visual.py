"""``personavlm eval visual``: visual memory of a personal concept (Yo'LLaVA's pet "bo").

The user shares the train photos naming the pet; then each two-option question about a
test photo is asked with that photo, memory updates off. Only meaningful with a vision
model: without one the runner says so and exits non-zero instead of printing a number.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from tqdm import tqdm

from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider
from evals.harness import model_identity
from evals.metrics import choice_letter
from evals.report import format_table, write_json
from graphs.agent import build_agent
from graphs.assistant import Assistant
from memory_graph.backends.networkx_store import NetworkxStore
from providers.chat import make_chat_model, supports_vision
from providers.embeddings import default_embedder
from providers.gguf import file_sha256

NO_VISION_EXIT = 3


def run(data: Path, name: str, out: Path, provider: str, model: str, base_url: str) -> int:
    questions_file = data / "visual_qa.json"
    if not questions_file.is_file():
        raise FileNotFoundError(f"{questions_file} does not exist")
    chat = make_chat_model(provider, model, base_url)
    if not supports_vision(chat):
        print(f"personavlm: the {provider} model {model or '(default)'} has no vision: the "
              "visual-memory benchmark needs a vision-language model (e.g. --provider hf "
              "--model <Qwen2.5-VL dir>); no score is reported.", file=sys.stderr)
        return NO_VISION_EXIT
    questions: dict[str, dict[str, Any]] = json.loads(questions_file.read_text("utf-8"))
    train = sorted((data / "images" / "train").glob("*.jpg"))
    with tempfile.TemporaryDirectory(prefix="pvlm-visual-") as tmp:
        store = NetworkxStore(Path(tmp) / "memory")
        try:
            resources = ResourceProvider(chat_model=chat, embedder=default_embedder(),
                                        store=store, media_dir=Path(tmp) / "media")
            assistant = Assistant(Context(user_id="visual-user", background_extraction=False),
                                  build_agent(provider=resources), resources)
            for number, photo in enumerate(tqdm(train, desc="share photos", unit="photo")):
                assistant.replay(f"This is my pet {name}.", f"{name} looks lovely!",
                                 f"2024-06-01 10:{number:02d}", images=[str(photo)])
            rows = []
            for path, item in tqdm(questions.items(), desc="ask", unit="q"):
                options = " ".join(f"({k.lower()}) {v}" for k, v in item["options"].items())
                text = (f"{item['question'].replace('<sks>', name)} Options: {options}\n"
                        'Answer with the letter of one option, like "(a)".')
                started = time.perf_counter()
                reply = assistant.say(text, images=[str(data / path)], at="2024-06-02 10:00",
                                      update_memory=False)
                picked = choice_letter(reply["reply"])
                rows.append({"image": path, "reply": reply["reply"],
                             "correct": picked == item["correct_answer"].lower(),
                             "seconds": round(time.perf_counter() - started, 2)})
        finally:
            store.close()
    accuracy = sum(r["correct"] for r in rows) / len(rows) if rows else 0.0
    payload = {"config": {"data": str(data), "data_sha256": file_sha256(questions_file),
                          "model": model_identity(chat), "name": name},
               "accuracy": accuracy, "n": len(rows), "items": rows}
    write_json(out, payload)
    table = format_table(["benchmark", "n", "accuracy"], [["visual", len(rows),
                                                            f"{accuracy:.3f}"]])
    out.with_suffix(".md").write_text(table + "\n", "utf-8")
    print(table)
    return 0
