"""ComputeGate: replies go before queued background work, and a running background call
that reaches a pause point hands the gate to a waiting reply."""

from __future__ import annotations

import threading
import time

from providers.gate import ComputeGate, for_background
from providers.llamacpp import ChatLlamaCpp


def test_running_background_call_steps_aside_for_a_waiting_reply() -> None:
    gate = ComputeGate()
    events: list[str] = []
    first_step_done, reply_done = threading.Event(), threading.Event()

    def background() -> None:
        with gate.hold(background=True):
            step = 0
            while step < 2000 and not (reply_done.is_set() and events[-1] == "bg-after"):
                gate.yield_to_foreground()
                events.append("bg-after" if reply_done.is_set() else "bg")
                first_step_done.set()
                step += 1
                time.sleep(0.002)

    worker = threading.Thread(target=background)
    worker.start()
    first_step_done.wait(5)
    with gate.hold(background=False):  # waits for the background call's next pause
        events.append("reply")
    reply_done.set()
    worker.join(10)
    position = events.index("reply")
    assert events[:position] and set(events[:position]) == {"bg"}
    assert events[-1] == "bg-after"  # the background call resumed after the reply


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
    time.sleep(0.2)
    threads.append(threading.Thread(target=run, args=("reply", False)))
    threads[2].start()
    time.sleep(0.2)
    release.set()
    for thread in threads:
        thread.join(5)
    assert order == ["first", "reply", "background"]



def test_the_background_copy_shares_weights_and_gate() -> None:
    """Background memory work calls a copy of the reply model: same loaded contexts, same
    gate, only its priority differs (no process-wide flag decides it)."""
    reply = ChatLlamaCpp(model_path="/nonexistent/model.gguf")
    background = for_background(reply)
    assert (reply.priority, background.priority) == ("reply", "background")
    assert background._gate is reply._gate
    assert background._contexts is reply._contexts
    assert background._load_lock is reply._load_lock


def test_a_cache_slot_names_a_context_of_its_own_on_the_same_weights() -> None:
    """Extraction asks for a prompt cache of its own; it still shares the loaded contexts'
    registry and the gate with the reply model."""
    reply = ChatLlamaCpp(model_path="/nonexistent/model.gguf")
    extraction = for_background(reply, "extraction")
    assert (extraction.priority, extraction.cache_slot) == ("background", "extraction")
    assert for_background(reply).cache_slot == ""
    assert extraction._gate is reply._gate and extraction._contexts is reply._contexts
