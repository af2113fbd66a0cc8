"""Start real local servers for integration tests and wait until they answer."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from memory_graph.backends.falkordb_server import free_port
from providers.llama_runtime import openmp_environment

REPO = Path(__file__).resolve().parent.parent


@contextmanager
def running(command: list[str], ready_url: str, log: Path, timeout: float = 240,
            env: dict[str, str] | None = None, cwd: Path = REPO
            ) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``command``, wait until ``ready_url`` answers, yield the process; stop it
    afterwards (unless it was already stopped, e.g. killed by the test)."""
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, cwd=cwd,
                                   env={**openmp_environment(), **(env or {})})
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{command[0]} exited early:\n{log.read_text()[-3000:]}")
                try:
                    with urllib.request.urlopen(ready_url, timeout=2):
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{ready_url} not ready:\n"
                                           f"{log.read_text()[-3000:]}") from None
                    time.sleep(1)
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def python_bin() -> str:
    return sys.executable


__all__ = ["free_port", "python_bin", "running"]
