"""A bounded, announced exit for the server process.

When the LangGraph server stops (Ctrl-C, SIGTERM), its event loop waits for the threads
that run graph nodes, and a thread inside a llama.cpp call cannot be interrupted: the
process used to sit silent for as long as that call (or the memory work queued behind it)
took. ``exit_within``, called as the server's teardown begins (the store's context exits),
says what is being waited for and ends the process after at most ``seconds`` if it has not
ended by itself. Nothing is lost by that: every acknowledged write is durable (the stores
survive a kill) and memory work not done is recorded as pending, to resume at the user's
next turn (``personavlm status`` / the ``memory`` graph's ``sync``).
"""

from __future__ import annotations

import os
import threading
import time
from typing import TextIO


def terminal() -> TextIO:
    """A stream on this process's stderr as it is now. llama-cpp-python points stderr at
    /dev/null (file descriptor and ``sys.stderr``) while it loads a model, for the whole
    process; what is written to this copy is seen even then."""
    return os.fdopen(os.dup(2), "w", buffering=1)


def exit_within(seconds: float, what: str, stream: TextIO) -> threading.Thread:
    """Announce the wait for ``what`` on ``stream``; end the process after ``seconds``
    unless it ended by itself."""
    print(f"PersonaVLM: stopping; {what} get at most {seconds:.0f} s, then the process "
          "exits (work cut short is recorded and resumes at the user's next turn).",
          file=stream, flush=True)
    countdown = threading.Thread(target=_exit_after, args=(seconds, stream),
                                 name="personavlm-exit-countdown", daemon=True)
    countdown.start()
    return countdown


def _exit_after(seconds: float, stream: TextIO) -> None:
    time.sleep(seconds)
    print(f"PersonaVLM: stopped after {seconds:.0f} s with work still running; it resumes "
          "at the user's next turn.", file=stream, flush=True)
    os._exit(0)
