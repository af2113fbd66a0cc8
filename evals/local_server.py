"""Start real local servers (``langgraph dev`` on this repository's ``langgraph.json``, or any
command with a URL that answers when it is ready), for the served benchmark and the
integration tests."""

from __future__ import annotations

import json
import os
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


@contextmanager
def langgraph_dev(directory: Path, tokens: dict[str, str] | None = None,
                  log_name: str = "server.log", port: int | None = None,
                  env: dict[str, str] | None = None
                  ) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``langgraph dev`` serving this repository's langgraph.json from ``directory`` (where
    the server keeps its threads), with ``PERSONAVLM_DATA`` there too and, given
    ``tokens``, a tokens file for them; ``env`` adds to its environment. Yields the URL and
    the process."""
    port = port or free_port()
    binary = Path(sys.executable).with_name("langgraph")
    command = [str(binary) if binary.exists() else "langgraph", "dev", "--no-browser",
               "--no-reload", "--port", str(port), "--config", str(REPO / "langgraph.json")]
    # This checkout's modules first: the server runs in ``directory``, where an editable
    # install of another checkout (a git worktree's main) would otherwise be imported.
    environment = {"LANGGRAPH_CLI_NO_ANALYTICS": "1", "PERSONAVLM_DATA": str(directory / "data"),
                   "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO),
                                                              os.environ.get("PYTHONPATH")))),
                   **(env or {})}
    if tokens is not None:
        (directory / "tokens.json").write_text(json.dumps(tokens))
        environment["PERSONAVLM_AUTH_TOKENS"] = str(directory / "tokens.json")
    url = f"http://127.0.0.1:{port}"
    with running(command, f"{url}/ok", directory / log_name, env=environment,
                 cwd=directory) as process:
        yield url, process
