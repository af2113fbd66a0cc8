"""Fault benchmark of the embedded store: what survives a fault, per fault class.

Each round writes turns into a fresh store and counts the writes that were acknowledged,
injects one fault, reopens (and runs ``repair`` when the store reports damage), and counts
what is present. A record set aside in a quarantine file is not lost (it is kept, and
reported); *lost* counts acknowledged writes neither present nor quarantined; *damaged*
says the reopened store refused the user (``StoreCorruptedError``); *detected* says no
acknowledged write is missing unnoticed: nothing is missing, or the store refused the user
and ``repair`` named every acknowledged write it could not recover.

- ``sigkill``: a writer process is killed with SIGKILL at a random moment of its writes.
- ``flipped-byte``: one random byte of a user's journal is flipped (another user is
  written beside it and must stay available and intact).
- ``truncated``: a user's journal is cut at a random offset (what a lost page does). The
  records after the cut are gone from the disk: lost, and detected.
- ``cut-at-boundary``: the journal is cut at a random record boundary (it reads as a
  shorter intact journal but for the acknowledgement file).
- ``emptied``, ``deleted``: the user's journal is emptied, or deleted.
- ``full-disk``: a writer process writes on a 256 KiB tmpfs (in a private mount namespace,
  ``unshare``) that a ballast file has filled; now and then a few pages come free again,
  so some writes fail with ENOSPC in the middle of their line and later ones succeed. A
  write that raised is not acknowledged; *failed* counts them. Skipped where user
  namespaces cannot mount a tmpfs.
- ``kill-pending``: a writer stores turns whose memory work is pending (as the agent does
  before extraction) and is killed; each acknowledged turn must be present and still
  recorded as pending, so its work is resumed.

Embeddings are hashed (``HashingEmbedder``): the benchmark measures the store, not a model.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evals.report import print_table, write_json
from memory_graph.backends.journal import LOG, QUARANTINE
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.conformance import HashingEmbedder
from memory_graph.errors import StoreCorruptedError
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import NodeLabel, Turn, stable_id

CLASSES = ("sigkill", "flipped-byte", "truncated", "cut-at-boundary", "emptied", "deleted",
           "full-disk", "kill-pending")
#: Mounts a small tmpfs at $1 in the private mount namespace, then runs the rest.
TMPFS = 'mount -t tmpfs -o size=256k tmpfs "$1" && shift && exec "$@"'
T0 = datetime(2024, 1, 1, tzinfo=UTC)
WRITER = textwrap.dedent("""
    import sys
    from datetime import datetime, timedelta, UTC
    from memory_graph.backends.networkx_store import NetworkxStore
    from memory_graph.conformance import HashingEmbedder
    from memory_graph.graph import MemoryGraph, TurnInput
    store = NetworkxStore(sys.argv[1], compact_bytes=int(sys.argv[2]))
    memory = MemoryGraph(store, HashingEmbedder())
    memory.ensure_user("u")
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    for i in range(1_000_000):
        memory.add_turns("u", [TurnInput(text=f"note {i} " + "x" * 500,
                                         at=t0 + timedelta(minutes=i), session_id=f"s{i // 20}",
                                         turn_id=f"t{i}", seq=i % 20, answered=True,
                                         memory_work=sys.argv[3])])
        print(i, flush=True)
""")
FULL_DISK_WRITER = textwrap.dedent("""
    import errno, json, os, random, shutil, sys
    from datetime import datetime, timedelta, UTC
    from pathlib import Path
    from memory_graph.backends.networkx_store import NetworkxStore
    from memory_graph.conformance import HashingEmbedder
    from memory_graph.graph import MemoryGraph, TurnInput
    disk, out, seed, turns = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    rng = random.Random(seed)
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    store = NetworkxStore(disk / "store", compact_bytes=20_000)
    memory = MemoryGraph(store, HashingEmbedder())

    def turn(user, i):
        return TurnInput(text=f"{user} note {i} " + "x" * rng.randint(100, 3000),
                         at=t0 + timedelta(minutes=i), session_id="s", turn_id=f"{user}-t{i}",
                         seq=i)

    for user in ("u", "other"):
        memory.ensure_user(user)
    for i in range(5):
        memory.add_turns("other", [turn("other", i)])
    ballast = os.open(disk / "ballast", os.O_WRONLY | os.O_CREAT)
    try:  # the disk is full
        while True:
            os.write(ballast, bytes(4096))
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
    acknowledged, failed = [], 0
    for i in range(turns):
        if i % 6 == 5:  # a few pages come free (another file was deleted)
            size = os.fstat(ballast).st_size
            os.ftruncate(ballast, max(0, size - rng.randint(1, 3) * 4096))
        try:
            memory.add_turns("u", [turn("u", i)])
        except OSError:
            failed += 1
        else:
            acknowledged.append(i)
    store.close()
    shutil.copytree(disk / "store", out)
    print(json.dumps({"acknowledged": acknowledged, "failed": failed}))
""")


@dataclass
class Round:
    fault: str
    acknowledged: int
    present: int
    quarantined: int
    lost: int
    detected: bool
    other_user_intact: bool = True
    damaged: bool = False
    failed: int = 0


def _turn_ids(store: NetworkxStore, user: str) -> set[str]:
    return {n.id for n in store.find_nodes(user, NodeLabel.TURN)}


def _env() -> dict[str, str]:
    """A writer process's environment: this checkout first on its path."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]),
                                                         os.environ.get("PYTHONPATH", "")])}


def _kill_writer(root: Path, rng: random.Random, memory_work: str) -> tuple[int, Path]:
    script = root / "writer.py"
    script.write_text(WRITER)
    process = subprocess.Popen([sys.executable, str(script), str(root / "store"), "40000",
                                memory_work], stdout=subprocess.PIPE, text=True, env=_env())
    assert process.stdout is not None
    target = rng.randint(20, 120)
    acknowledged = -1
    deadline = time.monotonic() + 120
    while acknowledged < target and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        acknowledged = int(line)
    time.sleep(rng.random() * 0.05)  # land the kill anywhere in the next write
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return acknowledged + 1, root / "store"


def _sigkill(root: Path, rng: random.Random, memory_work: str = "none") -> Round:
    acknowledged, data = _kill_writer(root, rng, memory_work)
    store = NetworkxStore(data)
    try:
        turns = [n for n in store.find_nodes("u", NodeLabel.TURN) if isinstance(n, Turn)]
    finally:
        store.close()
    wanted = {f"t{i}" for i in range(acknowledged)}
    present = {t.id for t in turns if memory_work == "none" or t.memory_work == memory_work}
    return Round("kill-pending" if memory_work != "none" else "sigkill", acknowledged,
                 len(wanted & present), 0, len(wanted - present), True)


def _write_two_users(root: Path, turns: int) -> None:
    store = NetworkxStore(root)
    memory = MemoryGraph(store, HashingEmbedder())
    for user in ("u", "other"):
        memory.ensure_user(user)
        for i in range(turns):
            memory.add_turns(user, [TurnInput(text=f"{user} note {i}",
                                              at=T0 + timedelta(minutes=i), session_id="s",
                                              turn_id=f"{user}-t{i}", seq=i)])
    store.close()


def _damaged(root: Path, rng: random.Random, fault: str, turns: int = 60) -> Round:
    _write_two_users(root, turns)
    log = root / "users" / stable_id("user", "u") / LOG
    data = bytearray(log.read_bytes())
    if fault == "flipped-byte":
        offset = rng.randrange(len(data))
        data[offset] ^= 1 << rng.randrange(8)
    elif fault == "truncated":
        data = data[:rng.randrange(1, len(data))]
    elif fault == "cut-at-boundary":
        lines = data.splitlines(keepends=True)
        data = bytearray(b"".join(lines[:rng.randrange(1, len(lines))]))
    if fault == "deleted":
        log.unlink()
    else:
        log.write_bytes(b"" if fault == "emptied" else bytes(data))
    return _reopen(root, fault, {f"u-t{i}" for i in range(turns)},
                   {f"other-t{i}" for i in range(turns)})


def _full_disk(root: Path, rng: random.Random, turns: int = 60) -> Round:
    disk = root / "disk"
    disk.mkdir(parents=True)
    script = root / "full_disk.py"
    script.write_text(FULL_DISK_WRITER)
    result = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", TMPFS, "sh",
         str(disk), sys.executable, str(script), str(disk), str(root / "store"),
         str(rng.randrange(2 ** 32)), str(turns)],
        capture_output=True, text=True, env=_env(), timeout=600, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"the full-disk writer failed: {result.stderr[-2000:]}")
    written = json.loads(result.stdout.splitlines()[-1])
    return _reopen(root / "store", "full-disk",
                   {f"u-t{i}" for i in written["acknowledged"]},
                   {f"other-t{i}" for i in range(5)}, failed=written["failed"])


def tmpfs_available() -> bool:
    """Whether this machine lets ``unshare`` mount a tmpfs in a private namespace."""
    with tempfile.TemporaryDirectory(prefix="personavlm-tmpfs-") as tmp:
        try:
            probe = subprocess.run(["unshare", "--user", "--map-root-user", "--mount", "sh",
                                    "-c", TMPFS, "sh", tmp, "true"],
                                   capture_output=True, timeout=60, check=False)
        except OSError:
            return False
    return probe.returncode == 0


def _reopen(data: Path, fault: str, wanted: set[str], others: set[str],
            failed: int = 0) -> Round:
    """Reopen the store after the fault (repairing it when it refuses ``u``) and count
    ``u``'s acknowledged turns ``wanted``: present, set aside in quarantine, or lost."""
    store = NetworkxStore(data)
    damaged = reported = False
    try:
        try:
            store.find_nodes("u", NodeLabel.TURN)
        except StoreCorruptedError:
            damaged = True
            reported = any(report.unrecovered for report in store.repair())
        other = _turn_ids(store, "other") == others
        present = _turn_ids(store, "u")
    finally:
        store.close()
    quarantine = data / "users" / stable_id("user", "u") / QUARANTINE
    set_aside = b"".join(f.read_bytes() for f in quarantine.glob("*")) \
        if quarantine.exists() else b""
    missing = wanted - present
    kept = {t for t in missing if f'"id":"{t}"'.encode() in set_aside}
    lost = missing - kept
    detected = not missing or (damaged and (not lost or reported))
    return Round(fault, len(wanted), len(wanted & present), len(kept), len(lost), detected,
                 other, damaged, failed)


def run(rounds: int, seed: int = 0) -> list[Round]:
    rng = random.Random(seed)
    classes = list(CLASSES)
    if not tmpfs_available():
        print("full-disk: skipped, unshare cannot mount a tmpfs here", file=sys.stderr)
        classes.remove("full-disk")
    results = []
    with tqdm(total=rounds * len(classes), desc="fault rounds", unit="round") as bar:
        for fault in classes:
            for _ in range(rounds):
                with tempfile.TemporaryDirectory(prefix=f"personavlm-{fault}-") as tmp:
                    root = Path(tmp)
                    if fault == "sigkill":
                        results.append(_sigkill(root, rng))
                    elif fault == "kill-pending":
                        results.append(_sigkill(root, rng, memory_work="pending"))
                    elif fault == "full-disk":
                        results.append(_full_disk(root, rng))
                    else:
                        results.append(_damaged(root / "store", rng, fault))
                bar.update()
    return results


def main(rounds: int, out: Path, seed: int = 0) -> dict[str, Any]:
    results = run(rounds, seed)
    summary = []
    for fault in CLASSES:
        mine = [r for r in results if r.fault == fault]
        if not mine:
            continue
        summary.append({
            "fault": fault, "rounds": len(mine),
            "acknowledged": sum(r.acknowledged for r in mine),
            "failed": sum(r.failed for r in mine),
            "present": sum(r.present for r in mine),
            "quarantined": sum(r.quarantined for r in mine),
            "lost": sum(r.lost for r in mine),
            "damaged": sum(r.damaged for r in mine),
            "detected": sum(r.detected for r in mine),
            "other user intact": sum(r.other_user_intact for r in mine)})
    headers = list(summary[0])
    print_table(headers, [[row[h] for h in headers] for row in summary])
    payload = {"rounds": rounds, "seed": seed, "summary": summary,
               "rounds_detail": [asdict(r) for r in results]}
    write_json(out, payload)
    print(f"wrote {out}")
    return payload
