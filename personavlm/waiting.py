"""What the command line shows while it waits: a spinner with the seconds so far (on a
terminal), and a bounded, skippable wait for memory work at exit."""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time
from types import TracebackType
from typing import Any

from graphs.assistant import STAGES, Assistant
from nodes.state import OutputState


class Spinner:
    """``with Spinner("thinking"):`` shows "thinking ⠋ 3 s" on stderr until stopped (only
    on a terminal; elsewhere nothing); ``stage`` changes the words."""

    def __init__(self, label: str) -> None:
        self.label = label
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, daemon=True)
        self._shown = sys.stderr.isatty()

    def _spin(self) -> None:
        start = time.monotonic()
        widest = 0
        for frame in itertools.cycle("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"):
            if self._stop.wait(0.1):
                break
            line = f"{self.label} {frame} {time.monotonic() - start:.0f} s"
            widest = max(widest, len(line))
            sys.stderr.write(f"\r{line:<{widest}} ")
            sys.stderr.flush()
        sys.stderr.write("\r" + " " * (widest + 2) + "\r")
        sys.stderr.flush()

    def stage(self, label: str) -> None:
        """Name what is being waited for now (the seconds keep counting)."""
        self.label = label

    def stop(self) -> None:
        if self._shown and not self._stop.is_set():
            self._stop.set()
            self._thread.join()

    def __enter__(self) -> Spinner:
        if self._shown:
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.stop()


def finish_memory_work(assistant: Assistant, limit_seconds: float = 60.0) -> None:
    """Wait at most ``limit_seconds`` for the user's queued memory work, saying so; Ctrl-C
    skips the wait and exits at once: the work is recorded in the store and resumes the
    next time the user talks (``personavlm status`` / ``sync``)."""
    worker = assistant.provider.worker
    user_id = assistant.context.user_id
    pending = worker.pending(user_id)
    if not pending:
        return
    print(f"finishing {pending} memory job(s) for {user_id} (at most {limit_seconds:.0f} s; "
          "Ctrl-C skips: the work resumes next time)", file=sys.stderr)
    try:
        with Spinner("memory work"):
            worker.drain(user_id, timeout=limit_seconds)
    except KeyboardInterrupt:
        print(f"skipped: {worker.pending(user_id)} memory job(s) left pending; they resume "
              "the next time this user talks, or with `personavlm sync`", file=sys.stderr)
        sys.stdout.flush()
        os._exit(0)  # a running model call cannot be interrupted; its work is pending
    left = worker.pending(user_id)
    if left:
        print(f"{left} memory job(s) still running after {limit_seconds:.0f} s; they resume "
              "next time", file=sys.stderr)


def answer_with_progress(assistant: Assistant, text: str, **options: Any) -> OutputState:
    """The reply to one message, printed whole once done (``ask``, the demo's questions),
    with a spinner naming each stage meanwhile."""
    with Spinner(STAGES["perceive"]) as spinner:
        return assistant.say_streaming(text, lambda _: None, on_stage=spinner.stage,
                                       **options)
