"""Calls of a batch function from many threads joined into one call.

A model on the CPU embeds 20 texts in one call in about the time of three calls of one
text (all-MiniLM-L6-v2 here: 22 ms against 8 ms each). Served, searches arrive 20 at a
time; while one thread runs the model, the texts of the threads that arrive meanwhile
wait together and the next of them runs the model once for all."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

Result = TypeVar("Result")


class BatchedCalls(Generic[Result]):
    """``call(texts)`` through ``run``, one run at a time, the texts of calls that wait
    for the run in progress joined into the next run (in order; each caller gets the
    results of its own texts, or the run's exception)."""

    def __init__(self, run: Callable[[list[str]], list[Result]]) -> None:
        self._run = run
        self._running = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[tuple[list[str], Future[list[Result]]]] = []

    def __call__(self, texts: list[str]) -> list[Result]:
        if not texts:
            return []
        mine: Future[list[Result]] = Future()
        with self._queue_lock:
            self._queue.append((texts, mine))
        with self._running:
            if not mine.done():  # no run took it while this thread waited: run the queue
                with self._queue_lock:
                    batch, self._queue = self._queue, []
                self._run_batch(batch)
        return mine.result()

    def _run_batch(self, batch: list[tuple[list[str], Future[list[Result]]]]) -> None:
        try:
            results = self._run([text for texts, _ in batch for text in texts])
        except BaseException as exc:
            for _, future in batch:
                future.set_exception(exc)
            return
        start = 0
        for texts, future in batch:
            future.set_result(results[start:start + len(texts)])
            start += len(texts)
