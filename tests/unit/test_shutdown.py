"""The server's bounded exit (graphs/shutdown.py): a process whose worker thread is stuck
(as one inside a llama.cpp call is) says what it waits for and ends within the bound."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import threading, time
from graphs.shutdown import exit_within
threading.Thread(target=time.sleep, args=(60,)).start()   # a call that cannot be cut
exit_within(1.0, "the stuck call")
"""


def test_a_stuck_worker_does_not_hold_the_exit_and_the_wait_is_said() -> None:
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True,
                          text=True, timeout=30, check=False)
    assert time.monotonic() - started < 10
    assert done.returncode == 0
    assert "the stuck call get at most 1 s" in done.stderr
    assert "stopped after 1 s with work still running" in done.stderr
