"""``personavlm eval assistant``: the product as a person meets it, on the assistant set.

Each system hears each dialogue session by session and replies to every message (memory
updates on, its own replies); then it finishes its background work, as after an idle gap;
then every probe is asked on its own at its time, nothing stored, and scored on the
natural reply (``evals.assistant_set``). Reply checks score the replies given while the
dialogue was heard; trait labels score the inferred Big Five (ours).

A dialogue is the unit of resumption: its records (probes, reply checks, traits, the
dialogue's cost) are logged together once it is finished, in ``<out>.items.jsonl``; a run
started again with the same ``--out`` skips the dialogues already logged. Writes JSON,
Markdown (also printed) and a PNG of accuracy per probe kind.

``--heard-from PREVIOUS.json`` asks the probes again on the memory a previous run left,
nothing heard again: a change to how replies are made is measured in minutes instead of
the hours the hearing and the memory work take. Ours' stores are copied from that run's
``.memory`` (its traits are that run's); the references, which this project's agent does
not touch, keep that run's records; reply checks, made while hearing, are not redone.
"""

from __future__ import annotations

import shutil
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from tqdm import tqdm

from evals.assistant_conversants import (
    REFERENCE_NAMES,
    Conversant,
    OursConversant,
    ReferenceConversant,
    Turnout,
)
from evals.assistant_set import (
    PROBE_KINDS,
    STALE_KINDS,
    Dialogue,
    check_reply,
    load_assistant_set,
    score_probe,
    score_traits,
)
from evals.harness import ItemLog, mean, model_identity, plot_comparison
from evals.paired import compare_with_baselines
from evals.report import format_cell, format_table, write_report
from evals.system_names import ASSISTANT_SYSTEMS, OURS_VARIANTS
from memory_graph.embedding import Embedder
from memory_graph.errors import ConfigurationError
from providers.gguf import file_sha256

DEFAULT_SYSTEMS = ("ours", "full-context", "simple-rag", "no-memory")
#: What the paired comparison reports: ours against each reference.
PAIRED_METRICS = ("correct", "check_passed")


@dataclass(frozen=True)
class AssistantOptions:
    data: Path
    out: Path
    systems: tuple[str, ...] = DEFAULT_SYSTEMS
    dialogues: tuple[str, ...] = ()
    provider: str = "llamacpp"
    model: str = ""
    base_url: str = ""
    window_tokens: int = 8192
    max_reply_tokens: int = 120
    #: Only aggregate the dialogues already logged.
    report_only: bool = False
    #: A previous run's ``--out``: ask the probes again on the memory it left.
    heard_from: Path | None = None


def make_conversant(name: str, chat: BaseChatModel, embedder: Embedder, out: Path,
                    options: AssistantOptions) -> Conversant:
    store_dir = out.with_suffix(".memory") / name
    if name in OURS_VARIANTS:
        return OursConversant(name, chat, embedder, store_dir, OURS_VARIANTS[name],
                              options.max_reply_tokens)
    if name in REFERENCE_NAMES:
        return ReferenceConversant(name, chat, embedder, store_dir, options.max_reply_tokens,
                                   options.window_tokens)
    raise ConfigurationError(f"unknown system {name!r}; choose from "
                             f"{', '.join(ASSISTANT_SYSTEMS)}")


def _turnout_fields(turnout: Turnout) -> dict[str, Any]:
    return {"reply": turnout.text, "shown": turnout.shown[:20],
            "prompt_tokens": turnout.prompt_tokens, "model_calls": turnout.model_calls,
            "seconds": round(turnout.seconds, 2), "errors": turnout.errors}


def hear_dialogue(conversant: Conversant, dialogue: Dialogue,
                  heard: bool = False) -> list[dict[str, Any]]:
    """Every record of one dialogue for one system: replay, settle, probes, checks; with
    ``heard``, only the probes and traits, on the memory the conversant already holds."""
    started = time.perf_counter()
    conversant.begin(dialogue, keep=heard)
    checks = {(c.session, c.turn): c for c in dialogue.reply_checks}
    records: list[dict[str, Any]] = []
    base = {"system": conversant.name, "user": dialogue.id}
    turns = calls = tokens = 0
    steps = tqdm(total=(0 if heard else sum(len(s.turns) for s in dialogue.sessions))
                 + len(dialogue.probes),
                 desc=f"{conversant.name} {dialogue.id}", unit="msg", leave=False)
    for s, session in enumerate([] if heard else dialogue.sessions, 1):
        for t, (text, at) in enumerate(zip(session.turns, dialogue.turn_times(s - 1),
                                           strict=True), 1):
            turnout = conversant.say(text, at, new_session=t == 1)
            steps.update()
            turns, calls = turns + 1, calls + turnout.model_calls
            tokens += turnout.prompt_tokens
            check = checks.get((s, t))
            if check is not None:
                found = check_reply(check, turnout.text)
                records.append({**base, "item_id": f"{dialogue.id}#S{s}T{t}",
                                "kind": "reply-check", "message": text, "note": check.note,
                                "forbidden_found": found, "check_passed": float(not found),
                                **_turnout_fields(turnout)})
    replay_seconds = time.perf_counter() - started
    settled: dict[str, Any] = {}
    if not heard:
        steps.set_postfix_str("settling memory work")
        settled = conversant.settle()
        steps.set_postfix_str("")
    for p, probe in enumerate(dialogue.probes, 1):
        turnout = conversant.ask(probe.question, probe.at)
        steps.update()
        scored = score_probe(probe, turnout.text)
        records.append({**base, "item_id": f"{dialogue.id}#P{p}", "kind": probe.kind,
                        "question": probe.question, "gold": probe.gold, "stale_words":
                        probe.stale, "note": probe.note, "correct": float(scored["correct"]),
                        "stale": float(scored["stale"]) if probe.kind in STALE_KINDS
                        else None, **_turnout_fields(turnout)})
    steps.close()
    scores = conversant.trait_scores()
    if scores is not None:
        records.append({**base, "item_id": f"{dialogue.id}#traits", "kind": "traits",
                        "labels": dialogue.traits, "scores": scores,
                        **score_traits(dialogue.traits, scores)})
    records.append({**base, "item_id": f"{dialogue.id}#dialogue", "kind": "dialogue",
                    "turns": turns, "replay_model_calls": calls,
                    "replay_prompt_tokens": tokens, "replay_seconds": round(replay_seconds, 1),
                    "settle": settled, "heard": not heard,
                    "seconds": round(time.perf_counter() - started, 1)})
    return records


def run(options: AssistantOptions, chat: BaseChatModel | None = None,
        embedder: Embedder | None = None) -> dict[str, Any]:
    """Run (or resume) the evaluation; ``chat`` and ``embedder`` replace the ones the
    options name (tests pass a scripted model)."""
    dialogues = load_assistant_set(options.data)
    if options.dialogues:
        unknown = set(options.dialogues) - {d.id for d in dialogues}
        if unknown:
            raise ConfigurationError(f"no dialogue {', '.join(sorted(unknown))} in "
                                     f"{options.data}")
        dialogues = [d for d in dialogues if d.id in options.dialogues]
    for name in options.systems:
        if name not in ASSISTANT_SYSTEMS:
            raise ConfigurationError(f"unknown system {name!r}; choose from "
                                     f"{', '.join(ASSISTANT_SYSTEMS)}")
    if chat is None:
        from providers.chat import make_chat_model

        chat = make_chat_model(options.provider, options.model, options.base_url)
    config = {"benchmark": "assistant", "data": str(options.data),
              "data_sha256": file_sha256(options.data), "systems": list(options.systems),
              "conversations": [d.id for d in dialogues], "provider": options.provider,
              "model": model_identity(chat), "embeddings": "all-MiniLM-L6-v2",
              "window_tokens": options.window_tokens,
              "max_reply_tokens": options.max_reply_tokens}
    log = ItemLog(options.out.with_suffix(".items.jsonl"), config)
    heard = options.heard_from is not None and not options.report_only
    if heard:
        assert options.heard_from is not None
        take_over_hearing(options.heard_from, options.out, config, log,
                          [d.id for d in dialogues], options.systems)
    if not options.report_only:
        if embedder is None:
            from providers.embeddings import default_embedder

            embedder = default_embedder()
        for name in options.systems:
            todo = [d for d in dialogues if not log.done(name, f"{d.id}#dialogue")]
            if not todo:
                continue
            conversant = make_conversant(name, chat, embedder, options.out, options)
            try:
                for dialogue in tqdm(todo, desc=name, unit="dialogue"):
                    for record in hear_dialogue(conversant, dialogue, heard=heard):
                        log.add(record)
            finally:
                conversant.close()
    return report(options, config, log, {d.id for d in dialogues})


def take_over_hearing(previous: Path, out: Path, config: dict[str, Any], log: ItemLog,
                      dialogues: list[str], systems: Sequence[str]) -> None:
    """Prepare ``--heard-from``: ours' stores copied from the previous run (once), the
    references' records of the selected dialogues taken from its log. The previous run
    must have used the same model, data and settings, and have heard every selected
    dialogue with every selected system; a variant of ours it did not run (an ablation of
    retrieval or of the reply) is asked on what ours heard."""
    previous_log_path = previous.with_suffix(".items.jsonl")
    if previous.resolve() == out.resolve() or not previous_log_path.exists():
        raise ConfigurationError(f"--heard-from needs another run's --out with a log "
                                 f"({previous_log_path} is missing or is this run's)")
    previous_log = ItemLog(previous_log_path, config)
    for name in systems:
        heard_by = name if name in REFERENCE_NAMES or (
            previous.with_suffix(".memory") / name).exists() else "ours"
        missing = [d for d in dialogues if not previous_log.done(heard_by, f"{d}#dialogue")]
        if missing:
            raise ConfigurationError(f"{previous} did not hear {', '.join(missing)} with "
                                     f"{heard_by}")
        if name in REFERENCE_NAMES:
            for record in previous_log.records.values():
                if record["system"] == name and record["user"] in dialogues \
                        and not log.done(name, record["item_id"]):
                    log.add({**record, "heard_in": str(previous)})
            continue
        store = out.with_suffix(".memory") / name
        heard = previous.with_suffix(".memory") / name
        if not heard.exists():  # an ablation of how replies are made: on ours' hearing
            heard = previous.with_suffix(".memory") / "ours"
        if not store.exists():
            shutil.copytree(heard, store)


def _rate(rows: Sequence[dict[str, Any]], key: str,
          keep: Callable[[dict[str, Any]], bool] = lambda r: True) -> float | None:
    return mean(float(r[key]) for r in rows if keep(r) and r.get(key) is not None)


def summarise(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """One system's figures over its records. ``reply_calls_per_message`` counts the model
    calls of the runs that answered the heard messages; ours' background memory work
    (extraction, reconciliation, consolidation) runs after them and is counted apart,
    by kind in each dialogue record's ``settle``, in ``background_calls_per_message``."""
    probes = [r for r in rows if r["kind"] in PROBE_KINDS]
    checks = [r for r in rows if r["kind"] == "reply-check"]
    traits = [r for r in rows if r["kind"] == "traits"]
    heard = [r for r in rows if r["kind"] == "dialogue"]
    dialogues = [r for r in heard if r.get("heard", True)]  # cost of hearing: not re-asks
    agree = [float(v) for r in traits for v in r["agree"].values()]
    none = [float(r["claims_none"]) for r in traits if r["claims_none"] is not None]
    return {
        "dialogues": len(heard), "probes": len(probes),
        "accuracy": _rate(probes, "correct"),
        "accuracy_by_kind": {kind: _rate([r for r in probes if r["kind"] == kind], "correct")
                             for kind in PROBE_KINDS},
        "stale_rate": _rate(probes, "stale", lambda r: r["kind"] in STALE_KINDS),
        "abstain": _rate(probes, "correct", lambda r: r["kind"] == "abstain"),
        "reply_checks": _rate(checks, "check_passed"), "reply_checks_n": len(checks),
        "trait_agreement": mean(agree), "trait_agreement_n": len(agree),
        "claims_no_trait": mean(none), "claims_no_trait_n": len(none),
        "prompt_tokens": mean(r["prompt_tokens"] for r in probes),
        "reply_calls_per_message": (round(sum(r["replay_model_calls"] for r in dialogues)
                                       / max(1, sum(r["turns"] for r in dialogues)), 2)
                                 if dialogues else None),
        "background_calls_per_message": _background_calls_per_message(dialogues),
        "seconds_per_dialogue": mean(r["seconds"] for r in dialogues),
    }


def _background_calls_per_message(dialogues: list[dict[str, Any]]) -> float | None:
    """Memory work's model calls per heard message, over the hearings that counted them
    (ours; the references do no memory work)."""
    counted = [r for r in dialogues if "background_calls" in (r.get("settle") or {})]
    if not counted:
        return None
    calls = sum(int(n) for r in counted for n in r["settle"]["background_calls"].values())
    return round(calls / max(1, sum(int(r["turns"]) for r in counted)), 2)


def report(options: AssistantOptions, config: dict[str, Any], log: ItemLog,
           selected: set[str]) -> dict[str, Any]:
    records = [r for r in log.records.values()
               if r["system"] in options.systems and r["user"] in selected]
    by_system: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in records:
        by_system[record["system"]].append(record)
    systems = {name: summarise(by_system[name]) for name in options.systems
               if by_system.get(name)}
    paired_records = [r for r in records if r["kind"] not in ("traits", "dialogue")]
    payload = {"config": config, "systems": systems,
               "paired": compare_with_baselines(paired_records, PAIRED_METRICS, "ours",
                                                [s for s in options.systems if s != "ours"]),
               "items": sorted(records, key=lambda r: (r["system"], r["item_id"]))}
    write_report(options.out, payload, render(payload))
    if systems:
        plot_comparison(options.out.with_suffix(".png"), "Assistant set: accuracy per probe kind",
                        {s: v["accuracy_by_kind"] for s, v in systems.items()}, "accuracy",
                        {s: v["prompt_tokens"] for s, v in systems.items()},
                        {s: v["accuracy"] for s, v in systems.items()})
    print(f"wrote {options.out}, .md, .png and .items.jsonl")
    return payload


def render(payload: dict[str, Any]) -> str:
    systems: dict[str, dict[str, Any]] = payload["systems"]
    rows = [[name, v["dialogues"], v["probes"], format_cell(v["accuracy"]),
             *(format_cell(v["accuracy_by_kind"][k]) for k in PROBE_KINDS),
             format_cell(v["stale_rate"]), format_cell(v["reply_checks"]),
             format_cell(v["trait_agreement"]), format_cell(v["claims_no_trait"]),
             format_cell(v["prompt_tokens"], 0), format_cell(v["reply_calls_per_message"], 2),
             format_cell(v["background_calls_per_message"], 2),
             format_cell(v["seconds_per_dialogue"], 0)]
            for name, v in systems.items()]
    headers = ["system", "dialogues", "probes", "accuracy", *PROBE_KINDS, "stale",
               "reply checks", "traits agree", "no trait ({})", "prompt tok/probe",
               "reply calls/msg", "background calls/msg", "s/dialogue"]
    conversations = ", ".join(payload["config"]["conversations"])
    text = f"## Assistant set ({conversations})\n\n{format_table(headers, rows)}\n"
    if payload["paired"]:
        paired_rows = [[f"ours - {p['baseline']}", p["metric"], p["n"],
                        f"{p['difference']:+.3f}",
                        f"[{p['ci_low']:+.3f}, {p['ci_high']:+.3f}]",
                        f"{p['better']}/{p['worse']}/{p['same']}"] for p in payload["paired"]]
        text += ("\nPaired differences on the same probes and reply checks (95% bootstrap "
                 "interval):\n\n" + format_table(
                     ["pair", "metric", "n", "difference", "95% CI", "better/worse/same"],
                     paired_rows) + "\n")
    return text
