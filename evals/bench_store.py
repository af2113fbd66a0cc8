"""Store benchmark: write throughput, search latency and footprint of one backend.

Synthetic turns (Zipf-distributed words, random unit vectors: embedding is excluded from
the cost) are written for 10 users in session-sized batches; the measured user holds N
turns and each of the 9 others N/10, so every search also proves it ignores other users.
The embedded store also reports the RAM its open graphs hold per turn (resident, not peak)
and how long a new process takes to open the store and read one user's memories;
``open_many`` measures that on a store of many small users.
"""

from __future__ import annotations

import contextlib
import gc
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from evals.report import print_table, save_plot, write_json
from memory_graph.backends import open_store
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.embedding import DEFAULT_EMBEDDING_DIMENSION
from memory_graph.graph import MemoryGraph
from memory_graph.schema import Edge, EdgeType, NodeLabel, Session, Turn
from memory_graph.search import HybridSearch, recipe
from memory_graph.store import GraphStore, WriteBatch

SESSION_TURNS = 50
_EPOCH = datetime(2023, 1, 1, tzinfo=UTC)


class _RandomEmbedder:
    """Unit random vectors: the benchmark measures the store, not the embedding model."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def vectors(self, n: int) -> np.ndarray[Any, np.dtype[np.float32]]:
        v = self.rng.standard_normal((n, DEFAULT_EMBEDDING_DIMENSION)).astype(np.float32)
        norms: np.ndarray[Any, np.dtype[np.float32]] = np.linalg.norm(v, axis=1, keepdims=True)
        return v / norms

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return [list(map(float, row)) for row in self.vectors(len(texts))]

    def embed_query(self, text: str) -> list[float]:
        return self.embed_documents([text])[0]


def _vocabulary(rng: np.random.Generator, size: int = 5000) -> list[str]:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return ["".join(rng.choice(letters, size=int(rng.integers(3, 10)))) for _ in range(size)]


def _sentences(rng: np.random.Generator, vocab: list[str], n: int) -> list[str]:
    ranks = np.minimum(rng.zipf(1.3, size=(n, 14)), len(vocab)) - 1
    return [" ".join(vocab[i] for i in row) for row in ranks]


def _session_batches(user_id: str, n_turns: int, rng: np.random.Generator, vocab: list[str],
                     embedder: _RandomEmbedder) -> Iterator[tuple[list[Any], list[Edge]]]:
    for start in range(0, n_turns, SESSION_TURNS):
        count = min(SESSION_TURNS, n_turns - start)
        session_id = f"s{start // SESSION_TURNS}"
        at = _EPOCH + timedelta(hours=start // SESSION_TURNS * 12)
        texts = _sentences(rng, vocab, count)
        vectors = embedder.vectors(count)
        turns = [Turn(id=f"t{start + i}", user_id=user_id, session_id=session_id,
                      speaker="user", text=texts[i], at=at + timedelta(minutes=i), seq=i,
                      embedding=vectors[i].tolist()) for i in range(count)]
        edges = [Edge(type=EdgeType.IN_SESSION, user_id=user_id, source=t.id, target=session_id)
                 for t in turns]
        edges += [Edge(type=EdgeType.NEXT, user_id=user_id, source=a.id, target=b.id)
                  for a, b in pairwise(turns)]
        yield [Session(id=session_id, user_id=user_id, started_at=at), *turns], edges


def _rss_mb() -> float:
    """Peak resident memory of this process so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _resident_mb() -> float:
    """Resident memory of this process now, after a garbage collection."""
    gc.collect()
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def _dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


@contextlib.contextmanager
def _backend(backend: str, location: str | None, tmp: Path) -> Iterator[tuple[GraphStore, Any]]:
    if backend == "networkx":
        # Every graph held open: the RAM per turn is measured with all of them resident.
        embedded = NetworkxStore(tmp / "store", resident_nodes=2**62)
        yield embedded, None
        embedded.close()
    elif backend == "falkordb" and location is None:
        from memory_graph.backends.falkordb_server import FalkorDBServer

        with FalkorDBServer(tmp / "falkordb") as server:
            store = open_store("falkordb", server.url)
            yield store, server
            store.close()
    else:
        store = open_store(backend, location)
        yield store, None
        store.close()


def measure(backend: str, n_turns: int, users: int, queries: int, location: str | None,
            seed: int = 7) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    vocab = _vocabulary(rng)
    embedder = _RandomEmbedder(seed)
    measured = "bench-user-0"
    plan = [(measured, n_turns)] + [(f"bench-user-{i}", max(1, n_turns // 10))
                                    for i in range(1, users)]
    with tempfile.TemporaryDirectory(prefix="pvlm-store-") as tmp_name, \
            _backend(backend, location, Path(tmp_name)) as (store, server):
        rss_before, resident_before = _rss_mb(), _resident_mb()
        memory = MemoryGraph(store, embedder)
        for user_id, _ in plan:
            if store.has_user(user_id):
                memory.forget_user(user_id)
            memory.ensure_user(user_id)
        write_seconds, written = 0.0, 0
        total = sum(n for _, n in plan)
        with tqdm(total=total, desc=f"{backend} write {n_turns}", unit="turn") as bar:
            for user_id, count in plan:
                for nodes, edges in _session_batches(user_id, count, rng, vocab, embedder):
                    t0 = time.perf_counter()
                    memory.commit(user_id, WriteBatch(nodes=nodes, edges=edges))
                    write_seconds += time.perf_counter() - t0
                    written += len(nodes) - 1
                    bar.update(len(nodes) - 1)

        search = HybridSearch(memory, recipe("hybrid_fast", labels=(NodeLabel.TURN,)))
        query_texts = _sentences(rng, vocab, queries)
        query_vectors = embedder.vectors(queries)
        latencies: dict[str, list[float]] = {"keyword": [], "vector": [], "hybrid": []}
        leaked = 0
        for text, vector in tqdm(list(zip(query_texts, query_vectors, strict=True)),
                                 desc=f"{backend} search {n_turns}", unit="q"):
            words = " ".join(text.split()[:4])
            t0 = time.perf_counter()
            store.keyword_search(measured, NodeLabel.TURN, words, 10)
            t1 = time.perf_counter()
            store.vector_search(measured, NodeLabel.TURN, vector.tolist(), 10)
            t2 = time.perf_counter()
            hits = search.search(measured, words, k=10, query_vector=vector.tolist())
            t3 = time.perf_counter()
            leaked += sum(h.node.user_id != measured for h in hits)
            latencies["keyword"].append((t1 - t0) * 1000)
            latencies["vector"].append((t2 - t1) * 1000)
            latencies["hybrid"].append((t3 - t2) * 1000)
        footprint = _footprint(backend, store, server, Path(tmp_name), rss_before)
        if backend == "networkx":
            footprint["resident_kb_per_turn"] = round(
                (_resident_mb() - resident_before) * 1024 / total, 2)
            store.close()
            footprint.update(_reopen(Path(tmp_name) / "store", plan[-1][0], measured))
            store = NetworkxStore(Path(tmp_name) / "store")
            memory = MemoryGraph(store, embedder)
        # Forgetting one early turn of the measured user, open already: its text leaves
        # every file.
        store.get_nodes(measured, ["t5"])
        t0 = time.perf_counter()
        memory.forget_turn(measured, "t5")
        footprint["forget_turn_s"] = round(time.perf_counter() - t0, 2)
        # Removing a turn without looking for its quotes (an exchange that got no reply):
        # the deletion and, on the embedded store, the compaction it asks for.
        t0 = time.perf_counter()
        memory.drop_exchange(measured, "t7")
        footprint["delete_turn_s"] = round(time.perf_counter() - t0, 3)
        for user_id, _ in plan:
            memory.forget_user(user_id)
        if backend == "networkx":
            store.close()  # the one reopened above (the first was closed before it)
    return {
        "backend": backend,
        "turns": n_turns,
        "turns_written": written,
        "users": users,
        "write_turns_per_s": round(written / write_seconds, 1),
        "write_ms_per_turn": round(write_seconds * 1000 / written, 3),
        "search_ms": {name: {"p50": round(float(np.percentile(v, 50)), 2),
                             "p95": round(float(np.percentile(v, 95)), 2)}
                      for name, v in latencies.items()},
        "cross_user_hits": leaked,
        **footprint,
    }


def _reopen(directory: Path, small: str, large: str) -> dict[str, float]:
    """Seconds a fresh store takes to open and read a small user's turns, then the
    measured (largest) user's."""
    started = time.perf_counter()
    store = NetworkxStore(directory)
    store.find_nodes(small, NodeLabel.TURN)
    small_s = time.perf_counter() - started
    store.find_nodes(large, NodeLabel.TURN)
    large_s = time.perf_counter() - started - small_s
    store.close()
    return {"open_read_small_user_s": round(small_s, 3),
            "open_read_measured_user_s": round(large_s, 3)}


def open_many(users: int, turns_each: int, out: Path) -> dict[str, Any]:
    """A store of ``users`` users of ``turns_each`` turns: the seconds a fresh store takes
    to open and read one user's turns, and the wall time of ``personavlm memories`` for one
    user in a new process (its imports included)."""
    rng = np.random.default_rng(11)
    vocab = _vocabulary(rng)
    embedder = _RandomEmbedder(11)
    with tempfile.TemporaryDirectory(prefix="pvlm-open-") as tmp_name:
        directory = Path(tmp_name) / "store"
        store = NetworkxStore(directory)
        memory = MemoryGraph(store, embedder)
        started = time.perf_counter()
        for number in tqdm(range(users), desc=f"write {users} users", unit="user"):
            user_id = f"user-{number}"
            memory.ensure_user(user_id)
            for nodes, edges in _session_batches(user_id, turns_each, rng, vocab, embedder):
                memory.commit(user_id, WriteBatch(nodes=nodes, edges=edges))
        write_s = time.perf_counter() - started
        store.close()
        target = f"user-{users // 2}"
        started = time.perf_counter()
        store = NetworkxStore(directory)
        turns = store.find_nodes(target, NodeLabel.TURN)
        open_s = time.perf_counter() - started
        store.close()
        started = time.perf_counter()
        command = str(Path(sys.executable).parent / "personavlm")
        subprocess.run([command, "memories", "--user", target, "--location", str(directory)],
                       check=True, capture_output=True)
        cli_s = time.perf_counter() - started
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import personavlm.cli"], check=True)
        import_s = time.perf_counter() - started
        disk_mb = _dir_mb(directory)
    result = {"users": users, "turns_each": turns_each, "write_s": round(write_s, 1),
              "disk_mb": round(disk_mb, 1), "turns_read": len(turns),
              "open_read_one_user_s": round(open_s, 3), "memories_cli_s": round(cli_s, 2),
              "cli_import_s": round(import_s, 2)}
    print_table(["users", "turns each", "write s", "disk MB", "open + read one user s",
                 "`personavlm memories` s", "of it imports s"],
                [[users, turns_each, result["write_s"], result["disk_mb"],
                  result["open_read_one_user_s"], result["memories_cli_s"],
                  result["cli_import_s"]]])
    write_json(out, result)
    print(f"wrote {out}")
    return result


def _footprint(backend: str, store: GraphStore, server: Any, tmp: Path,
               rss_before: float) -> dict[str, float]:
    if backend == "networkx":
        return {"memory_mb": round(_rss_mb() - rss_before, 1),
                "disk_mb": round(_dir_mb(tmp / "store"), 1)}
    if backend == "falkordb":
        info = store.server_info()  # type: ignore[attr-defined]
        result = {"memory_mb": round(info["used_memory"] / 2**20, 1)}
        if server is not None:
            server.save()
            result["disk_mb"] = round(_dir_mb(server.directory), 1)
        return result
    return {}


def main(backend: str, sizes: list[int], out: Path, users: int = 10, queries: int = 200,
         location: str | None = None) -> list[dict[str, Any]]:
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    results = [measure(backend, n, users, queries, location) for n in sizes]
    rows = [[r["backend"], r["turns"], r["write_turns_per_s"], r["write_ms_per_turn"],
             r["search_ms"]["keyword"]["p95"], r["search_ms"]["vector"]["p95"],
             r["search_ms"]["hybrid"]["p50"], r["search_ms"]["hybrid"]["p95"],
             r.get("memory_mb", "-"), r.get("resident_kb_per_turn", "-"),
             r.get("open_read_small_user_s", "-"), r.get("open_read_measured_user_s", "-"),
             r.get("disk_mb", "-"), r.get("forget_turn_s", "-"), r.get("delete_turn_s", "-"),
             r["cross_user_hits"]]
            for r in results]
    print_table(["backend", "turns", "turns/s", "ms/turn", "kw p95", "vec p95", "search p50",
                 "search p95", "peak MB", "KB/turn", "open small s", "open measured s",
                 "disk MB", "forget s", "delete s", "leaks"], rows)
    write_json(out, {"backend": backend, "results": results})
    save_plot(out.with_suffix(".png"), f"{backend}: search latency by graph size",
              {"search p50": [r["search_ms"]["hybrid"]["p50"] for r in results],
               "search p95": [r["search_ms"]["hybrid"]["p95"] for r in results]},
              xs=[r["turns"] for r in results], xlabel="turns of the searched user",
              ylabel="ms", log_x=True)
    print(f"wrote {out} and {out.with_suffix('.png')}")
    return results
