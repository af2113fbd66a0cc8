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
import sys
import threading
import time


def exit_within(seconds: float, what: str) -> threading.Thread:
    """Announce the wait for ``what`` on stderr; end the process after ``seconds`` unless
    it ended by itself."""
    print(f"PersonaVLM: stopping; {what} get at most {seconds:.0f} s, then the process "
          "exits (work cut short is recorded and resumes at the user's next turn).",
          file=sys.stderr, flush=True)
    countdown = threading.Thread(target=_exit_after, args=(seconds,),
                                 name="personavlm-exit-countdown", daemon=True)
    countdown.start()
    return countdown


def _exit_after(seconds: float) -> None:
    time.sleep(seconds)
    print(f"PersonaVLM: stopped after {seconds:.0f} s with work still running; it resumes "
          "at the user's next turn.", file=sys.stderr, flush=True)
    os._exit(0)
