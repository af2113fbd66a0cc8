"""Every node and graph module imports on its own in a fresh interpreter (no import
cycles depending on which module a user imports first)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _modules() -> list[str]:
    names = []
    for package in ("nodes", "graphs"):
        names += [f"{package}.{m.name}" for m in pkgutil.iter_modules([str(ROOT / package)])]
    return sorted(names)


def _import_alone(module: str) -> tuple[str, int, str]:
    done = subprocess.run([sys.executable, "-c", f"import {module}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)
    return module, done.returncode, done.stderr[-600:]


def test_each_module_imports_first() -> None:
    modules = _modules()
    assert "nodes.consolidate" in modules and "graphs.agent" in modules
    with ThreadPoolExecutor(max_workers=4) as pool:
        failures = [r for r in pool.map(_import_alone, modules) if r[1] != 0]
    assert not failures, failures
