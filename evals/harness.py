"""What every evaluation run shares: the resumable item log, file hashes, the answering
loop over systems, aggregation per group, and the comparison plot.

A run writes ``<out>.items.jsonl`` as it goes (one record per system and item); started
again with the same ``--out`` and the same configuration it skips what is already there.
"""

from __future__ import annotations

import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tqdm import tqdm

from evals.report import write_report
from evals.systems import Query, Reply, System
from memory_graph.errors import ConfigurationError
from providers.gguf import file_sha256


def model_identity(chat: Any) -> dict[str, str]:
    """The chat model's file and its sha256 (local models), else its name."""
    path = getattr(chat, "model_path", "") or ""
    if path and Path(path).is_file():
        return {"file": str(path), "sha256": file_sha256(Path(path))}
    name = getattr(chat, "model_name", "") or getattr(chat, "model", "") or type(chat).__name__
    return {"name": str(name)}


@dataclass(frozen=True)
class EvalItem:
    """One question of a benchmark, for one user's memory."""

    item_id: str
    user_key: str
    text: str
    at: str
    meta: dict[str, Any] = field(default_factory=dict)
    images: tuple[Any, ...] = ()


#: Configuration keys that only choose what is asked: a run may add or drop systems,
#: conversations and items and still reuse the answers already logged.
SELECTION_KEYS = ("systems", "conversations", "limit")
#: Where the data and model files were found: logged, but the same files (same sha256)
#: reached by another path are the same run.
LOCATION_KEYS = ("data", "file")


def _identity(value: Any) -> Any:
    """A log header without its file locations, at any depth."""
    if isinstance(value, dict):
        return {k: _identity(v) for k, v in value.items() if k not in LOCATION_KEYS}
    return value


class ItemLog:
    """Append-only JSONL of finished (system, item) records; refuses a log written with
    another model, data or settings (the selection of systems and items may change)."""

    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.path = path
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        header = {"config": {k: v for k, v in config.items() if k not in SELECTION_KEYS}}
        if path.exists():
            lines = path.read_text("utf-8").splitlines()
            written = _identity(json.loads(lines[0])) if lines else None
            if written is not None and written != _identity(
                    json.loads(json.dumps(header, default=str))):
                raise ConfigurationError(f"{path} was written by a run with another configuration; "
                                 "use another --out or delete it")
            for line in lines[1:]:
                if line.strip():
                    record = json.loads(line)
                    self.records[(record["system"], record["item_id"])] = record
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(header, default=str) + "\n", "utf-8")

    def done(self, system: str, item_id: str) -> bool:
        return (system, item_id) in self.records

    def add(self, record: dict[str, Any]) -> None:
        self.records[(record["system"], record["item_id"])] = record
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, default=str) + "\n")


Scorer = Callable[[EvalItem, Reply], dict[str, Any]]


def answer_items(systems: Sequence[System], items: Sequence[EvalItem],
                 queries: Callable[[EvalItem], Query], score: Scorer, log: ItemLog
                 ) -> dict[str, float]:
    """Ask every system every item (system by system, user by user, so a local model keeps
    one user's prompt prefix cached), score and log each answer. Returns seconds spent per
    system in this invocation."""
    spent: dict[str, float] = {}
    ordered = sorted(items, key=lambda i: i.user_key)
    for system in systems:
        todo = [i for i in ordered if not log.done(system.name, i.item_id)]
        started = time.perf_counter()
        for item in tqdm(todo, desc=system.name, unit="q"):
            reply = system.answer(queries(item))
            log.add({"system": system.name, "item_id": item.item_id, "user": item.user_key,
                     **item.meta, "reply": reply.text, "retrieved": reply.retrieved[:50],
                     "credited_turns": len(reply.retrieved),
                     "prompt_tokens": reply.prompt_tokens,
                     "completion_tokens": reply.completion_tokens,
                     "model_calls": reply.model_calls, "seconds": round(reply.seconds, 2),
                     "later_rounds": reply.retrieval_rounds - 1,
                     "time_window": reply.time_window, "graph_memories": reply.graph_memories,
                     "errors": reply.errors, **score(item, reply)})
        spent[system.name] = round(time.perf_counter() - started, 1)
    return spent


def mean(values: Iterable[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return round(statistics.fmean(kept), 4) if kept else None


def aggregate(records: Iterable[dict[str, Any]], metric: str, group: str,
              extra: Sequence[str] = ()) -> dict[str, dict[str, Any]]:
    """Per system: ``metric`` overall and per value of ``group``, the mean of every name in
    ``extra``, and the mean cost of an answer."""
    by_system: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_system[record["system"]].append(record)
    result: dict[str, dict[str, Any]] = {}
    for system, rows in by_system.items():
        groups: dict[str, list[float]] = defaultdict(list)
        for row in rows:
            groups[str(row[group])].append(row[metric])
        result[system] = {
            "n": len(rows),
            metric: mean(r[metric] for r in rows),
            f"{metric}_by_{group}": {g: mean(v) for g, v in sorted(groups.items())},
            **{name: mean(r.get(name) for r in rows) for name in extra},
            "prompt_tokens": mean(r["prompt_tokens"] for r in rows),
            "model_calls": mean(r["model_calls"] for r in rows),
            "seconds": mean(r["seconds"] for r in rows),
            "total_seconds": round(sum(r["seconds"] for r in rows), 1),
        }
    return result


def plot_comparison(path: Path, title: str, by_group: dict[str, dict[str, float | None]],
                    score_label: str, tokens: dict[str, float | None],
                    overall: dict[str, float | None]) -> None:
    """Left: the score per group, one bar per system. Right: prompt tokens per answer vs
    the overall score, one point per system, labelled with its token count because a
    log axis spanning less than a decade shows no tick labels."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    systems = list(by_group)
    groups = sorted({g for values in by_group.values() for g in values})
    fig, (bars, scatter) = plt.subplots(1, 2, figsize=(12, 4.6),
                                        gridspec_kw={"width_ratios": [1.7, 1]})
    width = 0.8 / max(1, len(systems))
    for s, system in enumerate(systems):
        ys = [by_group[system].get(g) or 0.0 for g in groups]
        bars.bar([g + s * width for g in range(len(groups))], ys, width, label=system)
    bars.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))], groups, rotation=20,
                    ha="right", fontsize=8)
    bars.set_ylabel(score_label)
    bars.set_title(title)
    bars.legend(fontsize=7, ncol=2)
    bars.grid(axis="y", alpha=0.3)
    for system in systems:
        x, y = tokens.get(system), overall.get(system)
        if x is not None and y is not None:
            scatter.scatter([x], [y])
            scatter.annotate(f"{system} ({x:,.0f} tok)", (x, y), fontsize=7, xytext=(3, 3),
                             textcoords="offset points")
    scatter.set_xscale("symlog", linthresh=100)
    scatter.set_xlabel("prompt tokens per answer (mean)")
    scatter.set_ylabel(score_label)
    scatter.set_title("cost vs " + score_label)
    scatter.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def write_outputs(out: Path, payload: dict[str, Any], markdown: str, title: str,
                  by_group: dict[str, dict[str, float | None]], score_label: str,
                  score_key: str) -> None:
    """A run's JSON, Markdown table (also printed) and comparison plot beside ``out``."""
    write_report(out, payload, markdown)
    systems: dict[str, dict[str, Any]] = payload["systems"]
    plot_comparison(out.with_suffix(".png"), title, by_group, score_label,
                    {s: v["prompt_tokens"] for s, v in systems.items()},
                    {s: v[score_key] for s, v in systems.items()})
    print(f"wrote {out}, .md, .png and .items.jsonl")
