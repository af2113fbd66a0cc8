"""The background worker holds a user's memory work while that user's reply is being
written, and forgets a reply whose turn failed before it ended."""

from __future__ import annotations

import threading

import pytest

import agent_runtime.background as background
from agent_runtime.background import BackgroundWorker


def test_job_waits_for_the_reply_in_progress() -> None:
    worker = BackgroundWorker()
    ran = threading.Event()
    worker.begin_reply("t-ana")
    worker.submit("t-ana", "job", ran.set)
    assert not ran.wait(0.5)  # queued behind the reply
    worker.end_reply("t-ana")
    assert ran.wait(5)


def test_other_users_jobs_do_not_wait_for_this_reply() -> None:
    worker = BackgroundWorker()
    ran = threading.Event()
    worker.begin_reply("t-ana")
    worker.submit("t-ben", "job", ran.set)
    assert ran.wait(5)
    worker.end_reply("t-ana")


def test_a_reply_that_never_ended_stops_blocking(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(background, "REPLY_WAIT_SECONDS", 0.3)
    worker = BackgroundWorker()
    ran = threading.Event()
    worker.begin_reply("t-ana")  # its turn failed: no end_reply
    worker.submit("t-ana", "job", ran.set)
    assert ran.wait(5)
    second = threading.Event()
    worker.submit("t-ana", "job", second.set)
    assert second.wait(5)  # the stale reply is forgotten, not waited for again


def test_a_process_ends_soon_after_its_last_call_with_memory_work_running() -> None:
    """Ending without ``close``: the queued work gets a short wait, said on stderr, and the
    process ends although a job still runs (its work is durable and resumes later)."""
    import subprocess
    import sys
    import time

    code = ("import time\n"
            "import agent_runtime.background as background\n"
            "background.EXIT_WAIT_SECONDS = 1.0\n"
            "worker = background.BackgroundWorker()\n"
            "worker.submit('ana', 'memory work', lambda: time.sleep(120))\n"
            "print('queued', flush=True)\n")
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "queued"
    assert time.monotonic() - started < 30
    assert "finishing 1 memory job(s)" in done.stderr
