"""``personavlm eval extraction``: do the memories a dialogue leaves behind stay true?

Short labelled dialogues (a fact that is later updated, a fact said twice, an assistant
reply that states things the user never said, messages full of junk entity candidates)
are replayed through the agent with their scripted replies, extracting memories after
every user message as in normal use. Then the user's *current* facts (those no later fact
closed) and entities are compared with the labels:

- a fact label is a list of alternative word sets; a current fact matches it when its
  word stems include every stem of one alternative;
- fact precision: current facts that match a label no earlier fact matched / current
  facts (a duplicate, an assistant echo, a stale fact or an invented one counts against;
  one fact may cover several labels);
- fact recall: labels matched / labels;
- entity precision: entities that match an expected name / entities (verbs, dates,
  phrases, the assistant's name count against); entity recall: expected names found.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from tqdm import tqdm

from agent_runtime.context import DEFAULT_EXTRACTION_WINDOW, Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import ResourceProvider
from evals.harness import model_identity
from evals.report import format_table, write_report
from graphs.agent import build_agent
from graphs.assistant import Assistant
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.embedding import Embedder
from memory_graph.schema import Fact, NodeLabel
from memory_graph.text import tokenize
from memory_work.pipeline import finish_windows
from nodes.state import error_text

#: One expected fact: any one of these word sets, all of whose stems the fact must hold.
Label = tuple[str, ...]


@dataclass(frozen=True)
class ExtractionCase:
    name: str
    #: (user message, the assistant's scripted reply), one minute apart.
    exchanges: tuple[tuple[str, str], ...]
    facts: tuple[Label, ...] = ()
    entities: tuple[str, ...] = ()
    what: str = ""


CASES: tuple[ExtractionCase, ...] = (
    ExtractionCase("update", (
        ("I drink way too much coffee, like five cups a day.",
         "That's a lot of coffee! How do you sleep?"),
        ("Big news: I quit coffee completely. Green tea only from now on.",
         "Good for you, green tea is a nice change."),
    ), facts=(("quit coffee", "gave coffee", "stopped coffee", "no coffee"),
              ("green tea",)),
        entities=("coffee", "green tea"),
        what="the five-cups fact must be closed by the quitting one"),
    ExtractionCase("job change", (
        ("I work as a nurse at Santa Maria hospital.", "That must be demanding work."),
        ("I left the hospital last month. I'm a primary school teacher now!",
         "Congratulations on the new job!"),
    ), facts=(("teacher",), ("left hospital", "left Santa Maria")),
        entities=("Santa Maria hospital", "primary school"),
        what="the nurse fact must be closed by the teacher one"),
    ExtractionCase("duplicate", (
        ("My sister Lia lives in Lisbon.", "Do you visit her often?"),
        ("Lia, my sister, is coming up from Lisbon this weekend.", "Have a lovely time!"),
    ), facts=(("sister Lia",), ("Lia Lisbon live", "Lia lives Lisbon"),
              ("Lia coming weekend", "Lia visit", "Lia weekend")),
        entities=("Lia", "Lisbon"),
        what="'Maya has a sister named Lia' said twice is one memory"),
    ExtractionCase("assistant echo", (
        ("Can you suggest something to do this evening?",
         "Since you love rock climbing and your dog Bruno, why not an evening walk with "
         "Bruno by the climbing gym?"),
        ("Hmm, maybe. What's a good film to watch?",
         "Try a classic comedy like Some Like It Hot."),
    ), facts=(), entities=(),
        what="nothing the assistant said (climbing, Bruno) is a fact about the user"),
    ExtractionCase("assistant recap", (
        ("I teach chemistry at a high school in Porto.", "Chemistry in Porto, lovely!"),
        ("I'm so tired today.", "You teach chemistry at a high school in Porto, no wonder "
         "you are tired!"),
    ), facts=(("teach chemistry",), ("tired",)),
        entities=("chemistry", "Porto", "high school"),
        what="the assistant repeating a fact does not add it again"),
    ExtractionCase("junk entities", (
        ("Yesterday I walked my dog Bruno by the lake with Tiago, then slept for ten hours.",
         "Sounds like a perfect day, Mira is happy for you."),
    ), facts=(("dog Bruno",), ("walk lake", "walked lake"), ("Tiago",)),
        entities=("Bruno", "lake", "Tiago"),
        what="no 'slept', 'yesterday', 'hours' or 'Mira' entities"),
    ExtractionCase("greeting", (
        ("Hi Mira! How are you today?", "I'm great, thanks for asking!"),
        ("What's the weather like in general in spring?",
         "Usually mild, with some rain."),
    ), facts=(), entities=(),
        what="questions and greetings leave nothing"),
    ExtractionCase("remember", (
        ("Please remember that my dentist appointment is on June 3.",
         "I'll remember your dentist appointment on June 3."),
    ), facts=(("dentist June 3",),),
        entities=("dentist",),
        what="an explicit remember request is kept once"),
)


@dataclass
class CaseResult:
    name: str
    facts: list[str]
    closed: list[str]
    entities: list[str]
    fact_hits: int
    fact_labels: int
    facts_matched: int
    entity_hits: int
    entity_labels: int
    entities_matched: int
    errors: list[str] = field(default_factory=list)
    #: Model calls of the memory work (extraction, and the entity and reconciliation
    #: questions it asks).
    model_calls: int = 0


def stems(text: str) -> set[str]:
    return set(tokenize(text))


def matches(statement: str, label: Label) -> bool:
    words = stems(statement)
    return any(stems(alternative) <= words for alternative in label)


def score_facts(statements: Sequence[str], labels: Sequence[Label]) -> tuple[int, int]:
    """(labels matched, facts that matched a label no earlier fact matched). One fact may
    cover several labels; a fact that only repeats what earlier ones cover counts as
    wrong, as does one that matches no label."""
    matched: set[int] = set()
    useful = 0
    for statement in statements:
        covers = {i for i, label in enumerate(labels) if matches(statement, label)}
        if covers - matched:
            useful += 1
        matched |= covers
    return len(matched), useful


def score_entities(names: Sequence[str], expected: Sequence[str]) -> tuple[int, int]:
    """(expected names found, entities that are an expected name)."""
    def same(name: str, wanted: str) -> bool:
        a, b = stems(name), stems(wanted)
        return bool(a) and (a <= b or b <= a)

    found = sum(any(same(n, w) for n in names) for w in expected)
    good = sum(any(same(n, w) for w in expected) for n in names)
    return found, good


def replay_case(case: ExtractionCase, chat: BaseChatModel, embedder: Embedder,
                root: Path, window: int = DEFAULT_EXTRACTION_WINDOW) -> CaseResult:
    store = NetworkxStore(root / case.name.replace(" ", "-"))
    provider = ResourceProvider(chat_model=chat, embedder=embedder, store=store,
                                media_dir=root / "media")
    ctx = Context(user_id="fixture", user_name="Maya", assistant_name="Mira",
                  background_extraction=False, use_personality=False,
                  extraction_window=window)
    errors: list[str] = []
    calls = 0
    with Assistant(ctx, build_agent(provider=provider), provider) as assistant:
        for minute, (text, reply) in enumerate(case.exchanges):
            out = assistant.replay(text, reply, f"2024-03-02 19:{minute * 2:02d}")
            errors += [error_text(e) for e in out.get("errors", [])]
            calls += out["cost"]["model_calls"]
        # The last window's turns (of a window wider than one) are extracted as when the
        # session ends, without its consolidation: only extraction is scored.
        res = provider.resolve(ctx).in_background()
        meter = CostMeter()
        for session in res.memory.sessions(ctx.user_id):
            finish_windows(res, ctx, session.id, meter, errors)
        calls += meter.model_calls
        facts = [n for n in provider.resolve(ctx).memory.nodes(ctx.user_id, NodeLabel.FACT)
                 if isinstance(n, Fact)]
        entities = [e.name for e in provider.resolve(ctx).memory.entities(ctx.user_id)
                    if e.name != ctx.display_name]
    current = [f.statement for f in sorted(facts, key=lambda f: f.at) if f.is_current()]
    closed = [f.statement for f in facts if not f.is_current()]
    hits, useful = score_facts(current, case.facts)
    found, good = score_entities(entities, case.entities)
    provider.close()
    return CaseResult(case.name, current, closed, entities, hits, len(case.facts), useful,
                      found, len(case.entities), good, errors, calls)


def ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def run(chat: BaseChatModel, embedder: Embedder, out: Path,
        cases: Sequence[ExtractionCase] = CASES, window: int = DEFAULT_EXTRACTION_WINDOW
        ) -> dict[str, Any]:
    """Replay every case with ``window`` user turns per extraction call."""
    started = time.perf_counter()
    results: list[CaseResult] = []
    with tempfile.TemporaryDirectory(prefix="personavlm-extraction-") as tmp:
        for case in tqdm(cases, desc="extraction dialogues", unit="dialogue"):
            results.append(replay_case(case, chat, embedder, Path(tmp), window))
    facts = sum(len(r.facts) for r in results)
    entities = sum(len(r.entities) for r in results)
    summary = {
        "fact_precision": ratio(sum(r.facts_matched for r in results), facts),
        "fact_recall": ratio(sum(r.fact_hits for r in results),
                             sum(r.fact_labels for r in results)),
        "entity_precision": ratio(sum(r.entities_matched for r in results), entities),
        "entity_recall": ratio(sum(r.entity_hits for r in results),
                               sum(r.entity_labels for r in results)),
        "current_facts": facts, "closed_facts": sum(len(r.closed) for r in results),
        "entities": entities, "dialogues": len(results),
        "errors": sum(len(r.errors) for r in results),
        "seconds": round(time.perf_counter() - started, 1)}
    summary["model_calls"] = sum(r.model_calls for r in results)
    payload = {"config": {"benchmark": "extraction", "model": model_identity(chat),
                          "extraction_window": window},
               "summary": summary, "cases": [vars(r) for r in results]}
    rows = [[r.name, f"{r.fact_hits}/{r.fact_labels}", f"{r.facts_matched}/{len(r.facts)}",
             f"{r.entity_hits}/{r.entity_labels}", f"{r.entities_matched}/{len(r.entities)}",
             len(r.closed), "; ".join(r.facts)[:120]] for r in results]
    table = format_table(["dialogue", "labels found", "facts right", "entities found",
                          "entities right", "closed", "current facts"], rows)
    markdown = (f"{table}\n\nfact precision {summary['fact_precision']}, recall "
                f"{summary['fact_recall']}; entity precision {summary['entity_precision']}, "
                f"recall {summary['entity_recall']} ({len(results)} dialogues, "
                f"{summary['seconds']} s)\n")
    write_report(out, payload, markdown)
    _plot(out.with_suffix(".png"), results)
    print(f"wrote {out}, .md and .png")
    return payload


def _plot(path: Path, results: Sequence[CaseResult]) -> None:
    """Per dialogue: current facts that are right vs wrong, entities right vs wrong."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [r.name for r in results]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
    for ax, right, total, title in (
            (axes[0], [r.facts_matched for r in results], [len(r.facts) for r in results],
             "current facts"),
            (axes[1], [r.entities_matched for r in results], [len(r.entities) for r in results],
             "entities")):
        wrong = [t - g for t, g in zip(total, right, strict=True)]
        ax.barh(names, right, color="#2e7d32", label="right")
        ax.barh(names, wrong, left=right, color="#c62828", label="wrong")
        ax.set_title(title)
        ax.set_xlabel("count")
    axes[0].invert_yaxis()
    axes[1].legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
