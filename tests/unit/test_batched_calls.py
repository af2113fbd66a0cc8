"""``BatchedCalls``: texts of calls made while a run is in progress are joined into the
next run, and every caller gets its own results, or the run's error."""

from __future__ import annotations

import threading
import time

import pytest

from providers.batched_calls import BatchedCalls


def test_calls_waiting_for_a_run_are_joined_and_each_gets_its_own_results() -> None:
    runs: list[list[str]] = []
    first_started = threading.Event()

    def run(texts: list[str]) -> list[str]:
        runs.append(texts)
        first_started.set()
        time.sleep(0.2)  # the others arrive while the first run is in progress
        return [text.upper() for text in texts]

    calls = BatchedCalls(run)
    results: dict[int, list[str]] = {}

    def call(i: int) -> None:
        results[i] = calls([f"a{i}", f"b{i}"])

    first = threading.Thread(target=call, args=(0,))
    first.start()
    first_started.wait()
    others = [threading.Thread(target=call, args=(i,)) for i in range(1, 6)]
    for thread in others:
        thread.start()
    for thread in [first, *others]:
        thread.join()
    assert results == {i: [f"A{i}", f"B{i}"] for i in range(6)}
    assert len(runs) == 2 and sorted(runs[1]) == sorted(
        text for i in range(1, 6) for text in (f"a{i}", f"b{i}"))


def test_every_caller_of_a_failed_run_gets_its_error_and_the_next_run_works() -> None:
    def run(texts: list[str]) -> list[str]:
        if "bad" in texts:
            raise ValueError("bad text")
        return texts

    calls = BatchedCalls(run)
    with pytest.raises(ValueError, match="bad text"):
        calls(["bad"])
    assert calls(["good"]) == ["good"]
    assert calls([]) == []
