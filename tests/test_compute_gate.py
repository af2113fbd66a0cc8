"""ComputeGate: replies go before queued background work, and a running background call
that reaches a pause point hands the gate to a waiting reply."""

from __future__ import annotations

import threading
import time

from providers.gate import ComputeGate


def test_running_background_call_steps_aside_for_a_waiting_reply() -> None:
    gate = ComputeGate()
    events: list[str] = []
    background_started = threading.Event()

    def background() -> None:
        with gate.hold(background=True):
            background_started.set()
            for step in range(40):
                gate.yield_to_foreground()
                events.append(f"bg{step}")
                time.sleep(0.005)

    def reply() -> None:
        with gate.hold(background=False):
            events.append("reply")

    worker = threading.Thread(target=background)
    worker.start()
    background_started.wait(5)
    time.sleep(0.02)
    reply()
    worker.join(5)
    assert "reply" in events
    position = events.index("reply")
    assert 0 < position < 39, events  # interrupted the background call, which then resumed
    assert events[-1] == "bg39"


def test_queued_background_call_waits_while_a_reply_is_waiting() -> None:
    gate = ComputeGate()
    order: list[str] = []
    holder_ready, release = threading.Event(), threading.Event()

    def first_holder() -> None:
        with gate.hold(background=False):
            holder_ready.set()
            release.wait(5)
            order.append("first")

    def run(name: str, background: bool) -> None:
        with gate.hold(background=background):
            order.append(name)

    threads = [threading.Thread(target=first_holder)]
    threads[0].start()
    holder_ready.wait(5)
    threads.append(threading.Thread(target=run, args=("background", True)))
    threads[1].start()
    time.sleep(0.05)
    threads.append(threading.Thread(target=run, args=("reply", False)))
    threads[2].start()
    time.sleep(0.05)
    release.set()
    for thread in threads:
        thread.join(5)
    assert order == ["first", "reply", "background"]

