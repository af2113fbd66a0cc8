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
