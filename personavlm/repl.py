"""``personavlm chat``: a read-eval-print loop. ``/image PATH [caption]`` attaches a photo to
the next message, ``/memories`` lists what is remembered, ``/quit`` leaves."""

from __future__ import annotations

import shlex

from graphs.assistant import Assistant
from memory_graph.errors import MemoryGraphError


def chat(assistant: Assistant) -> None:
    images: list[dict[str, str]] = []
    print("Talk to the assistant. /image PATH [caption], /memories, /quit")
    while True:
        try:
            line = input("you> ").strip()
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
            parts = shlex.split(line)[1:]
            if not parts:
                print("usage: /image PATH [caption]")
                continue
            images.append({"path": parts[0], "caption": " ".join(parts[1:])})
            print(f"  (photo {parts[0]} attached to your next message)")
            continue
        try:
            out = assistant.say(line, images=images)
        except MemoryGraphError as exc:
            print(f"error: {exc}")
            continue
        finally:
            images = []
        print(f"assistant> {out['reply']}")
        for error in out.get("errors", []):
            print(f"  warning: {error}")
    assistant.wait()
