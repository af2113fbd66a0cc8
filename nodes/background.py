"""Memory work after the reply: one worker thread runs jobs in submission order, so a
user's turns are extracted in the order they were said. Failures are kept per user and
reported in the state of that user's next turn; nothing fails silently."""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait

from providers.gate import BACKGROUND

log = logging.getLogger(__name__)


class BackgroundWorker:
    def __init__(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="personavlm-bg")
        self._pending: dict[str, list[Future[None]]] = {}
        self._failures: dict[str, list[str]] = {}
        self._lock = threading.Lock()
        atexit.register(self.drain)

    def submit(self, user_id: str, label: str, job: Callable[[], object]) -> None:
        def run() -> None:
            token = BACKGROUND.set(True)
            try:
                job()
            except Exception as exc:  # reported at the user's next turn, and logged
                log.exception("background %s for %s failed", label, user_id)
                with self._lock:
                    self._failures.setdefault(user_id, []).append(f"{label}: {exc}")
            finally:
                BACKGROUND.reset(token)

        future = self._executor.submit(run)
        with self._lock:
            pending = [f for f in self._pending.get(user_id, []) if not f.done()]
            pending.append(future)
            self._pending[user_id] = pending

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
