"""Every node and graph module imports on its own in a fresh interpreter (no import
cycles depending on which module a user imports first)."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules() -> list[str]:
    names = []
    for package in ("agent_memory", "agent_runtime", "memory_work", "nodes", "graphs"):
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(ROOT / package)])]
    return sorted(names)


def _import_alone(module: str, data: Path) -> tuple[str, int, str]:
    # graphs.server makes its internal key in the data home: a temporary one, not the
    # user's.
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False,
                          env={**os.environ, "PERSONAVLM_DATA": str(data / module)})
    return module, done.returncode, done.stderr[-600:]


def test_each_module_imports_first(tmp_path: Path) -> None:
    modules = _modules()
    assert "memory_work.consolidate" in modules and "graphs.agent" in modules
    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [r for r in pool.map(lambda m: _import_alone(m, tmp_path), modules)
                    if r[1] != 0]
    assert not failures, failures


def test_the_memory_graph_loads_without_langgraph() -> None:
    """No module of ``memory_graph`` imports LangGraph (its ``BaseStore`` adapter is
    ``agent_memory.base_store``): the graph, the embedded store and the search never load it."""
    code = ("import sys, pkgutil, importlib, memory_graph; "
            "[importlib.import_module(m.name) for m in "
            "pkgutil.walk_packages(memory_graph.__path__, 'memory_graph.')]; "
            "memory_graph.backends.open_store; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('langgraph', 'langchain_core')))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stdout
