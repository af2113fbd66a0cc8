"""The served agent under load: latency of runs and store searches, and that no answer
holds another user's memories and no acknowledged turn is lost (issue 27, item 10).

A real ``langgraph dev`` on this repository's ``langgraph.json`` with a tokens file for
``users`` users, its chat model the FAKE OpenAI-compatible endpoint
(``evals/fake_chat_endpoint.py``: the benchmark measures the server, its store and its
memory work, not a model), its embedder and reranker the bundled ones. Each user first
puts ``notes`` items into the store; then, all at once, every user starts ``runs`` runs
(one thread each, ``runs.wait``) while ``searches`` store searches run ``in_flight`` at a
time, spread over the users. Every text a user sends carries that user's marker word.

- *leaked*: search results or run outputs that hold another user's marker, or an item
  of another user's namespace;
- *lost*: runs that returned a reply whose turn the user's ``(user, "turns")`` namespace
  does not list once the load is over, and failed runs.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from tqdm import tqdm

from evals.fake_chat_endpoint import fake_openai
from evals.local_server import langgraph_dev
from evals.report import format_cell, print_table, save_plot, write_json

#: What users search for: words of the notes and turns, and words of none.
QUERIES = ("garden", "train ticket", "birthday", "coffee", "meeting notes", "violin",
           "weekend plans", "nothing of the sort")
TOPICS = ("garden", "train ticket", "birthday", "coffee", "meeting", "violin", "weekend")
#: The percentiles the table and the plot show.
PERCENTILES = (50, 75, 90, 95, 99, 100)


@dataclass
class Timings:
    """Seconds of each call of one kind, and how many failed."""

    seconds: list[float] = field(default_factory=list)
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def percentile(self, p: float) -> float | None:
        if not self.seconds:
            return None
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    def summary(self) -> dict[str, Any]:
        return {"count": len(self.seconds), "failed": self.failed,
                "mean": statistics.fmean(self.seconds) if self.seconds else None,
                **{f"p{p}": self.percentile(p) for p in PERCENTILES},
                "errors": self.errors[:5]}


@dataclass
class Load:
    """What one load produced."""

    runs: Timings = field(default_factory=Timings)
    searches: Timings = field(default_factory=Timings)
    replied: dict[str, list[str]] = field(default_factory=dict)
    leaked: list[str] = field(default_factory=list)


def _marker(user: str) -> str:
    """A word only ``user``'s texts hold."""
    return f"mark{uuid.uuid5(uuid.NAMESPACE_URL, user).hex[:10]}"


async def _timed(timings: Timings, call: Callable[[], Awaitable[Any]]) -> Any:
    started = time.perf_counter()
    try:
        result = await call()
    except Exception as exc:  # a failed call is counted and named, the load goes on
        timings.failed += 1
        timings.errors.append(f"{type(exc).__name__}: {exc}"[:300])
        return None
    timings.seconds.append(time.perf_counter() - started)
    return result


def _leaks(user: str, markers: dict[str, str], payload: object) -> list[str]:
    text = repr(payload)
    return [f"{user} got {other}'s marker" for other, mark in markers.items()
            if other != user and mark in text]


async def _seed(clients: dict[str, LangGraphClient], markers: dict[str, str],
                notes: int) -> None:
    for user, client in tqdm(clients.items(), desc="seeding the store", unit="user"):
        for i in range(notes):
            topic = TOPICS[i % len(TOPICS)]
            await client.store.put_item((user, "notes"), f"note-{i}", {
                "content": f"Note {i} about the {topic}, {markers[user]}."})


async def _run(load: Load, user: str, client: LangGraphClient, markers: dict[str, str],
               i: int, progress: tqdm[Any]) -> None:
    text = f"Today I thought about the {TOPICS[i % len(TOPICS)]} ({markers[user]} {i})."

    async def call() -> Any:
        thread = await client.threads.create()
        return await client.runs.wait(thread["thread_id"], "agent", input={"text": text},
                                      context={"user_name": "Sam"})

    out = await _timed(load.runs, call)
    progress.update()
    if isinstance(out, dict) and out.get("reply"):
        load.replied.setdefault(user, []).append(text)
        load.leaked += _leaks(user, markers, out)
    elif out is not None:
        load.runs.failed += 1
        load.runs.errors.append(f"no reply: {repr(out)[:200]}")


async def _search(load: Load, user: str, client: LangGraphClient, markers: dict[str, str],
                  query: str, gate: asyncio.Semaphore, progress: tqdm[Any]) -> None:
    async with gate:
        items = await _timed(load.searches,
                             lambda: client.store.search_items((user,), query=query, limit=10))
    progress.update()
    if items is None:
        return
    found = items["items"]
    load.leaked += _leaks(user, markers, found)
    load.leaked += [f"{user} got an item of {item['namespace']}" for item in found
                    if item["namespace"][:1] != [user]]


async def _stored_turns(client: LangGraphClient, user: str) -> str:
    """The texts of the user's stored turns of their own, one per line (a turn's text is
    stored after the speaker's name)."""
    items = await client.store.search_items((user, "turns"), limit=10_000)
    return "\n".join(str(item["value"].get("content", "")) for item in items["items"]
                     if item["value"].get("role") == "user")


async def _load(url: str, users: list[str], runs: int, searches: int, in_flight: int,
                notes: int) -> tuple[Load, dict[str, int]]:
    clients = {user: get_client(url=url, headers={"Authorization": f"Bearer {user}-token"},
                                timeout=600)
               for user in users}
    markers = {user: _marker(user) for user in users}
    await _seed(clients, markers, notes)
    load = Load()
    gate = asyncio.Semaphore(in_flight)
    with tqdm(total=runs * len(users), desc="runs", unit="run") as run_bar, \
            tqdm(total=searches, desc="store searches", unit="search") as search_bar:
        await asyncio.gather(
            *(_run(load, user, clients[user], markers, i, run_bar)
              for i in range(runs) for user in users),
            *(_search(load, users[i % len(users)], clients[users[i % len(users)]], markers,
                      QUERIES[i % len(QUERIES)], gate, search_bar)
              for i in range(searches)))
    lost = {}
    for user in users:
        stored = await _stored_turns(clients[user], user)
        lost[user] = sum(text not in stored for text in load.replied.get(user, []))
    return load, lost


def main(out: Path, users: int = 2, runs: int = 20, searches: int = 200, in_flight: int = 20,
         notes: int = 50) -> dict[str, Any]:
    names = [f"user{i}" for i in range(users)]
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as root, fake_openai() as model:
        print(f"starting langgraph dev with {users} users and a fake chat model …")
        with langgraph_dev(Path(root), {f"{name}-token": name for name in names},
                           env={"PERSONAVLM_CHAT_PROVIDER": "openai",
                                "PERSONAVLM_CHAT_MODEL": "fake",
                                "PERSONAVLM_CHAT_BASE_URL": model}) as (url, _):
            started = time.perf_counter()
            load, lost = asyncio.run(_load(url, names, runs, searches, in_flight, notes))
            wall = time.perf_counter() - started
    payload = {"users": users, "runs_per_user": runs, "searches": searches,
               "in_flight": in_flight, "notes_per_user": notes, "wall_seconds": wall,
               "runs": load.runs.summary(), "store_searches": load.searches.summary(),
               "leaked": load.leaked, "lost": lost}
    rows = [[name, timings.summary()["count"], timings.failed,
             *(format_cell(timings.percentile(p), 2) for p in (50, 95, 100))]
            for name, timings in (("runs", load.runs), ("store searches", load.searches))]
    print_table(["calls", "count", "failed", "p50 s", "p95 s", "max s"], rows)
    print(f"leaked: {len(load.leaked)}   lost: {sum(lost.values())}   "
          f"wall: {wall:.1f} s")
    write_json(out, payload)
    save_plot(out.with_suffix(".png"), "served load: latency by percentile",
              {"runs": [load.runs.percentile(p) or 0 for p in PERCENTILES],
               "store searches": [load.searches.percentile(p) or 0 for p in PERCENTILES]},
              PERCENTILES, "percentile", "seconds")
    print(f"wrote {out} and {out.with_suffix('.png')}")
    return payload
