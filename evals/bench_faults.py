"""Fault benchmark of the embedded store: what survives a fault, per fault class.

Each round writes turns into a fresh store and counts the writes that were acknowledged,
injects one fault, reopens (and runs ``repair`` when the store reports damage), and counts
what is present. A record set aside in a quarantine file is not lost (it is kept, and
reported); *lost* counts acknowledged writes neither present nor quarantined.

- ``sigkill``: a writer process is killed with SIGKILL at a random moment of its writes.
- ``flipped-byte``: one random byte of a user's journal is flipped (another user is
  written beside it and must stay available and intact).
- ``truncated``: a user's journal is cut at a random offset (what a full disk or a lost
  page does). The records after the cut are gone from the disk and are counted as lost:
  the journal cannot tell a cut inside a record from a torn append (it cuts the partial
  record, logs it and keeps its bytes), and a cut at a record boundary leaves no trace.
- ``kill-pending``: a writer stores turns whose memory work is pending (as the agent does
  before extraction) and is killed; each acknowledged turn must be present and still
  recorded as pending, so its work is resumed.

Embeddings are hashed (``HashingEmbedder``): the benchmark measures the store, not a model.
"""

from __future__ import annotations

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

CLASSES = ("sigkill", "flipped-byte", "truncated", "kill-pending")
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


@dataclass
class Round:
    fault: str
    acknowledged: int
    present: int
    quarantined: int
    lost: int
    detected: bool
    other_user_intact: bool = True


def _turn_ids(store: NetworkxStore, user: str) -> set[str]:
    return {n.id for n in store.find_nodes(user, NodeLabel.TURN)}


def _kill_writer(root: Path, rng: random.Random, memory_work: str) -> tuple[int, Path]:
    script = root / "writer.py"
    script.write_text(WRITER)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).parents[1]),
                                                        os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, str(script), str(root / "store"), "40000",
                                memory_work], stdout=subprocess.PIPE, text=True, env=env)
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
    else:
        data = data[:rng.randrange(1, len(data))]
    log.write_bytes(bytes(data))
    store = NetworkxStore(root)
    detected = False
    quarantined = 0
    try:
        try:
            store.find_nodes("u", NodeLabel.TURN)
        except StoreCorruptedError:
            detected = True
            quarantined = sum(r.quarantined_records for r in store.repair())
        other = _turn_ids(store, "other") == {f"other-t{i}" for i in range(turns)}
        present = _turn_ids(store, "u")
    finally:
        store.close()
    quarantine = log.parent / QUARANTINE
    set_aside = b"".join(f.read_bytes() for f in quarantine.glob("*")) \
        if quarantine.exists() else b""
    wanted = {f"u-t{i}" for i in range(turns)}
    missing = wanted - present
    kept = {t for t in missing if f'"id":"{t}"'.encode() in set_aside}
    # Detected: the store raised StoreCorruptedError, or cut a torn tail (logged, its bytes
    # kept in the quarantine folder).
    return Round(fault, len(wanted), len(wanted & present), len(kept),
                 len(missing - kept), detected or quarantined > 0 or bool(set_aside), other)


def run(rounds: int, seed: int = 0) -> list[Round]:
    rng = random.Random(seed)
    results = []
    with tqdm(total=rounds * len(CLASSES), desc="fault rounds", unit="round") as bar:
        for fault in CLASSES:
            for _ in range(rounds):
                with tempfile.TemporaryDirectory(prefix=f"personavlm-{fault}-") as tmp:
                    root = Path(tmp)
                    if fault == "sigkill":
                        results.append(_sigkill(root, rng))
                    elif fault == "kill-pending":
                        results.append(_sigkill(root, rng, memory_work="pending"))
                    else:
                        results.append(_damaged(root / "store", rng, fault))
                bar.update()
    return results


def main(rounds: int, out: Path, seed: int = 0) -> dict[str, Any]:
    results = run(rounds, seed)
    summary = []
    for fault in CLASSES:
        mine = [r for r in results if r.fault == fault]
        summary.append({
            "fault": fault, "rounds": len(mine),
            "acknowledged": sum(r.acknowledged for r in mine),
            "present": sum(r.present for r in mine),
            "quarantined": sum(r.quarantined for r in mine),
            "lost": sum(r.lost for r in mine),
            "detected": sum(r.detected for r in mine),
            "other user intact": sum(r.other_user_intact for r in mine)})
    headers = list(summary[0])
    print_table(headers, [[row[h] for h in headers] for row in summary])
    payload = {"rounds": rounds, "seed": seed, "summary": summary,
               "rounds_detail": [asdict(r) for r in results]}
    write_json(out, payload)
    print(f"wrote {out}")
    return payload
