"""Memory work after the reply: one worker thread runs jobs in submission order, so a
user's turns are extracted in the order they were said. A job waits while that user has a
reply in progress (``begin_reply`` at perceive, ``end_reply`` at respond): the turn's
nodes queue their jobs before the reply is written, and a job started then would hold
the model between the reply's calls. Failures are kept per user and reported in the
state of that user's next turn; nothing fails silently."""

from __future__ import annotations

import atexit
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, wait

log = logging.getLogger(__name__)

#: How long a job waits for a reply in progress. A turn that fails before its reply never
#: calls ``end_reply``; after this its queued memory work runs anyway.
REPLY_WAIT_SECONDS = 120.0
#: How long a process that exits without closing its worker waits for memory work.
EXIT_WAIT_SECONDS = 15.0


class DaemonExecutor:
    """Jobs run in submission order on one daemon thread (started with the first job): a
    process may exit while one runs. Memory work is recorded in the store before it is
    queued and its writes are transactions, so a job cut short by the exit resumes later;
    a ``ThreadPoolExecutor``'s thread would keep the process alive for every queued job."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[tuple[Future[None], Callable[[], None]] | None] = \
            queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> Future[None]:
        future: Future[None] = Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
                self._thread.start()
            self._jobs.put((future, job))
        return future

    def _run(self) -> None:
        while (item := self._jobs.get()) is not None:
            future, job = item
            del item  # a finished job's closure (its resources) is not kept while waiting
            if future.set_running_or_notify_cancel():
                try:
                    job()
                except BaseException as exc:  # a job reports its own errors; this the rest
                    future.set_exception(exc)
                else:
                    future.set_result(None)
            del future, job

    def shutdown(self) -> None:
        """Cancel the jobs not yet started and let the thread end after the running one."""
        with self._lock:
            while True:
                try:
                    item = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
            self._jobs.put(None)


class BackgroundWorker:
    def __init__(self) -> None:
        self._executor = DaemonExecutor("personavlm-bg")
        self._pending: dict[str, list[Future[None]]] = {}
        self._keys: dict[Future[None], str] = {}
        self._timers: dict[str, threading.Timer] = {}
        self._failures: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        atexit.register(self._at_exit)
        self._replies = threading.Condition()
        self._replying: dict[str, list[float]] = {}

    def begin_reply(self, user_id: str) -> None:
        with self._replies:
            self._replying.setdefault(user_id, []).append(time.monotonic())

    def end_reply(self, user_id: str) -> None:
        with self._replies:
            starts = self._replying.get(user_id, [])
            if starts:
                starts.pop(0)
            self._replies.notify_all()

    def _wait_for_reply(self, user_id: str) -> None:
        deadline = time.monotonic() + REPLY_WAIT_SECONDS
        with self._replies:
            while self._replying_now(user_id) and time.monotonic() < deadline:
                self._replies.wait(timeout=1.0)

    def replying(self, user_id: str) -> bool:
        """Whether a reply of this user is in progress in this process."""
        with self._replies:
            return self._replying_now(user_id)

    def _replying_now(self, user_id: str) -> bool:
        """Whether a reply of this user is in progress; one begun longer than
        ``REPLY_WAIT_SECONDS`` ago is taken for a failed turn and forgotten."""
        cutoff = time.monotonic() - REPLY_WAIT_SECONDS
        starts = [t for t in self._replying.get(user_id, []) if t > cutoff]
        if starts:
            self._replying[user_id] = starts
        else:
            self._replying.pop(user_id, None)
        return bool(starts)

    def submit(self, user_id: str, label: str, job: Callable[[], object],
               key: str = "") -> None:
        """Queue ``job``; ``key`` names the work it does (``queued_keys``)."""
        def run() -> None:
            self._wait_for_reply(user_id)
            try:
                job()
            except Exception as exc:  # reported at the user's next turn, and logged
                log.exception("background %s for %s failed", label, user_id)
                with self._lock:
                    self._failures.setdefault(user_id, []).append(f"{label}: {exc}")

        future = self._executor.submit(run)
        with self._lock:
            pending = [f for f in self._pending.get(user_id, []) if not f.done()]
            pending.append(future)
            self._pending[user_id] = pending
            if key:
                self._keys[future] = key
            for done in [f for f in self._keys if f.done()]:
                del self._keys[done]

    def queued_keys(self, user_id: str) -> set[str]:
        """The keys of this user's jobs queued or running in this process."""
        with self._lock:
            return {self._keys[f] for f in self._pending.get(user_id, [])
                    if not f.done() and f in self._keys}

    def schedule(self, user_id: str, delay: float, job: Callable[[], object]) -> None:
        """Run ``job`` after ``delay`` seconds unless this user schedules again before
        (a debounce: the idle-time consolidation of a user's last session). Cancelled by
        ``close``; work it would have queued stays outstanding in the store."""
        timer = threading.Timer(delay, job)
        timer.daemon = True
        with self._lock:
            previous = self._timers.pop(user_id, None)
            self._timers[user_id] = timer
        if previous is not None:
            previous.cancel()
        timer.start()

    def scheduled(self, user_id: str) -> bool:
        """Whether a job of this user waits on its timer (``schedule``)."""
        with self._lock:
            timer = self._timers.get(user_id)
            return timer is not None and timer.is_alive()

    def pending(self, user_id: str) -> int:
        with self._lock:
            return sum(1 for f in self._pending.get(user_id, []) if not f.done())

    def take_failures(self, user_id: str) -> list[str]:
        with self._lock:
            return self._failures.pop(user_id, [])

    def drain(self, user_id: str | None = None, timeout: float | None = None) -> None:
        """Wait for the pending jobs of one user (or everyone)."""
        with self._lock:
            futures = [f for uid, fs in self._pending.items() if user_id in (None, uid)
                       for f in fs]
        wait(futures, timeout=timeout)

    def close(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for queued jobs (saying so: a warning, which
        Python prints to stderr even without logging set up), then stop the worker thread;
        jobs still queued then are cancelled and logged. Nothing is lost: their turns are
        stored with their memory work pending, and it resumes at the user's next turn."""
        started = time.monotonic()
        with self._lock:
            futures = [f for fs in self._pending.values() for f in fs if not f.done()]
            timers = list(self._timers.values())
            self._timers.clear()
        for timer in timers:
            timer.cancel()
        if futures:
            log.warning("finishing %d memory job(s) before exit (at most %.0f s; they are "
                        "recorded in the store and resume later if cut short)", len(futures),
                        timeout)
        _, unfinished = wait(futures, timeout=timeout)
        if unfinished:
            log.warning("stopped with %d memory job(s) unfinished after %.0f s",
                        len(unfinished), time.monotonic() - started)
        self._executor.shutdown()
        atexit.unregister(self._at_exit)

    def _at_exit(self) -> None:
        """A process that ends without ``close``: its queued memory work gets a short
        wait, said on stderr, and then the process ends (the work resumes later)."""
        self.close(EXIT_WAIT_SECONDS)
