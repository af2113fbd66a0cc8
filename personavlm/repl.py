"""``personavlm chat``: a read-eval-print loop. ``/image PATH [caption]`` attaches a photo to
the next message, ``/memories`` lists what is remembered, ``/quit`` leaves."""

from __future__ import annotations

import shlex
import sys
import time
from typing import Any

from graphs.assistant import Assistant
from memory_graph.errors import MemoryGraphError
from nodes.state import error_text
from personavlm.waiting import Spinner, finish_memory_work
from providers.chat import supports_vision


def chat(assistant: Assistant) -> None:
    images: list[dict[str, str]] = []
    print("Talk to the assistant. /image PATH [caption], /memories, /quit")
    while True:
        try:
            line = _typed("you> ")
        except EOFError:
            break
        if not line:
            continue
        if line in ("/quit", "/exit"):
            break
        if line == "/memories":
            for row in assistant.memories():
                print(f"  {(row['date'] or '')[:10]}  {row['kind']:10}  {row['text']}")
            continue
        if line.startswith("/image"):
            try:
                parts = shlex.split(line)[1:]
            except ValueError as exc:  # an unclosed quote
                print(f"error: {exc}; usage: /image PATH [caption]")
                continue
            if not parts:
                print("usage: /image PATH [caption]")
                continue
            caption = " ".join(parts[1:])
            if not caption and not supports_vision(assistant.resources.chat):
                print("  the model cannot see photos: say in a few words what it shows, so "
                      "it can be remembered (empty: stored without a description)")
                typed = _typed("caption> ")
                if typed is None:
                    continue
                caption = typed
            images.append({"path": parts[0], "caption": caption})
            print(f"  (photo {parts[0]} attached to your next message)")
            continue
        try:
            out = _reply(assistant, line, images)
        except MemoryGraphError as exc:
            print(f"error: {exc}")
            continue
        finally:
            images = []
        for error in out.get("errors", []):
            print(f"  warning: {error_text(error)}")
        pending = out.get("extraction", {}).get("pending", 0)
        if pending:
            print(f"  ({pending} memory job(s) pending: what you said is remembered in the "
                  "background; /memories shows it when done)")
    finish_memory_work(assistant)


def _typed(prompt: str) -> str | None:
    """The line typed at ``prompt``, stripped; None, said, when its bytes are not UTF-8 (a
    terminal in another encoding, stdin decoding strictly): the line is refused and the
    chat goes on. Bytes read with ``surrogateescape`` arrive as lone surrogates instead,
    which the assistant refuses with an ``InvalidInputError``."""
    try:
        return input(prompt).strip()
    except UnicodeDecodeError as exc:
        print(f"error: the line is not UTF-8 text ({exc.reason}); it was not read")
        return None


def _reply(assistant: Assistant, line: str, images: list[dict[str, str]]) -> dict[str, Any]:
    """The reply, printed as it is written, after a spinner; then its timing."""
    start = time.perf_counter()
    first: list[float] = []
    spinner = Spinner("thinking")

    def show(token: str) -> None:
        if not first:
            spinner.stop()
            first.append(time.perf_counter() - start)
            print("assistant> ", end="")
        print(token, end="", flush=True)

    with spinner:
        out = assistant.say_streaming(line, show, images=images, on_stage=spinner.stage)
    if not first:  # a model that does not stream: the reply comes whole
        first.append(time.perf_counter() - start)
        print(f"assistant> {out.get('reply', '')}", end="")
    print()
    print(f"  ({first[0]:.1f} s to the first token, {time.perf_counter() - start:.1f} s in "
          "all)", file=sys.stderr)
    return dict(out)
