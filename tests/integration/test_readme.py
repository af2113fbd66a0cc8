"""Every Python snippet of the README runs as written (a fresh process in the repository,
memories kept in a temporary ``$PERSONAVLM_DATA``; the offline model is the real one):
it exits 0, prints what the README says it prints, peaks at no more than 3 GB, and ends
within 20 s of its last line of output."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SNIPPETS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text("utf-8"), re.S)
#: What each snippet, in README order, must print (lower case): {line from the end: words}.
PRINTS: list[dict[int, str]] = [
    {-1: "beagle"},                  # the search hit
    {-1: "cello"},                   # the answer to the second question
    {-2: "peanut", -1: "peanut"},    # the agent's answer, then the store's memory
    {},
]
#: Reports the snippet's peak resident memory after everything else at exit: VmHWM, the
#: high-water mark of this program's memory (``ru_maxrss`` would carry over the forking
#: test process's, which Linux records at ``exec``).
PEAK = ("import atexit, sys\n"
        "atexit.register(lambda: print('PEAK_KB', open('/proc/self/status').read()"
        ".split('VmHWM:')[1].split()[0], file=sys.stderr))\n")


def test_the_readme_has_the_snippets_this_test_knows() -> None:
    assert len(SNIPPETS) == len(PRINTS)


@pytest.mark.parametrize("number", range(len(PRINTS)))
def test_a_readme_snippet_runs_as_written(number: int, tmp_path: Path) -> None:
    shutil.rmtree(ROOT / "results" / "readme-tools-memory", ignore_errors=True)
    env = {**os.environ, "PERSONAVLM_DATA": str(tmp_path / "data")}
    started = time.monotonic()
    child = subprocess.Popen([sys.executable, "-c", PEAK + SNIPPETS[number]], cwd=ROOT,
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    assert child.stdout is not None and child.stderr is not None
    lines = []
    last_line_at = started
    for line in child.stdout:
        lines.append(line)
        last_line_at = time.monotonic()
    errors = child.stderr.read()
    code = child.wait(timeout=900)
    ended = time.monotonic()
    printed = "".join(lines)
    assert code == 0, f"snippet {number} exited {code}:\n{printed}\n{errors[-3000:]}"
    lines = printed.lower().strip().splitlines()
    assert all(word in lines[at] for at, word in PRINTS[number].items()), printed
    peak_kb = int(re.findall(r"PEAK_KB (\d+)", errors)[-1])
    print(f"snippet {number}: {ended - started:.0f} s, peak {peak_kb / 1024:.0f} MB, ended "
          f"{ended - last_line_at:.1f} s after its last line")
    assert peak_kb <= 3 * 1024 * 1024, f"peak {peak_kb / 1024:.0f} MB"
    assert ended - last_line_at <= 20, f"ended {ended - last_line_at:.0f} s after its output"
