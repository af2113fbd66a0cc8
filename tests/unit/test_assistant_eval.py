"""``eval assistant`` end to end on one small invented dialogue with a SCRIPTED FAKE chat
model that copies its prompt into its reply (so a probe is answered exactly when the
system put the evidence in front of the model), and the scoring rules of the set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from helpers import HashingEmbedder, ScriptedFakeChatModel, step_of
from langchain_core.messages import BaseMessage

from evals.assistant_eval import AssistantOptions, run
from evals.assistant_set import (
    Probe,
    ReplyCheck,
    check_reply,
    contains_phrase,
    load_assistant_set,
    score_probe,
    score_traits,
)
from memory_graph.errors import ConfigurationError, InvalidInputError

DIALOGUE = {"version": 1, "dialogues": [{
    "id": "t01", "user_name": "Ines",
    "sessions": [
        {"at": "2024-01-08 09:00", "turns": ["Hello! I run a small ceramics studio.",
                                             "My tortoise Gaspard is thirty years old."]},
        {"at": "2024-02-12 18:30", "turns": ["I stopped drinking cola last month.",
                                             "Now I only drink sparkling water."]},
    ],
    "probes": [
        {"at": "2024-03-01 10:00", "question": "What is my tortoise called?", "kind": "fact",
         "gold": ["Gaspard"]},
        {"at": "2024-03-01 10:00", "question": "What's my uncle's name?", "kind": "abstain",
         "gold": ["don't know", "not mentioned"], "stale": ["Gaspard"]},
    ],
    "reply_checks": [{"session": 2, "turn": 2, "forbidden": ["cola"]}],
    "traits": {}}]}


def copying_model() -> ScriptedFakeChatModel:
    """Memory-work calls get empty JSON; a reply is every message of the prompt but the
    last, so it holds what the system showed the model and nothing else."""
    def script(messages: list[BaseMessage]) -> str:
        step = step_of(messages)
        if step == "extract":
            return json.dumps({"facts": [], "preferences": [], "remember": [], "visual": []})
        if step == "consolidate":
            return json.dumps({"profile": "", "topics": [], "routines": []})
        if step == "personality":
            return json.dumps({"signals": []})
        if step == "decide":
            return json.dumps({"keywords": ""})
        if step in ("entity", "reconcile"):
            return json.dumps({"same_as": None} if step == "entity" else {"verdicts": []})
        last = str(messages[-1].content)
        memories = last.split("[Current preferences")[0] if "[Memories" in last else ""
        return " ".join(str(m.content) for m in messages[:-1]) + " " + memories
    return ScriptedFakeChatModel(script=script)


def test_a_dialogue_is_heard_probed_scored_and_resumed(tmp_path: Path) -> None:
    data = tmp_path / "set.json"
    data.write_text(json.dumps(DIALOGUE))
    out = tmp_path / "eval.json"
    options = AssistantOptions(data=data, out=out, systems=("ours", "full-context",
                                                            "simple-rag", "no-memory"))
    model = copying_model()
    result = run(options, chat=model, embedder=HashingEmbedder())
    systems = result["systems"]
    assert set(systems) == {"ours", "full-context", "simple-rag", "no-memory"}
    fact = {r["system"]: r for r in result["items"] if r["item_id"] == "t01#P1"}
    assert fact["full-context"]["correct"] == 1.0
    assert fact["simple-rag"]["correct"] == 1.0
    assert fact["ours"]["correct"] == 1.0 and fact["ours"]["shown"]
    assert fact["no-memory"]["correct"] == 0.0 and not fact["no-memory"]["shown"]
    check = {r["system"]: r for r in result["items"] if r["item_id"] == "t01#S2T2"}
    # The copying model repeats the session's first message, which names the cola.
    assert check["full-context"]["forbidden_found"] == ["cola"]
    assert check["full-context"]["check_passed"] == 0.0
    traits = [r for r in result["items"] if r["kind"] == "traits"]
    assert [t["system"] for t in traits] == ["ours"] and traits[0]["claims_none"] is True
    assert systems["ours"]["reply_calls_per_message"] >= 1
    # Memory work's calls, counted by the tag of their kind; the references do none.
    heard = next(r for r in result["items"] if r["system"] == "ours" and r["kind"] == "dialogue")
    assert heard["settle"]["background_calls"].get("extract_memory", 0) >= 1
    assert systems["ours"]["background_calls_per_message"] > 0
    assert systems["simple-rag"]["background_calls_per_message"] is None
    assert systems["ours"]["seconds_per_dialogue"] is not None
    assert {p["baseline"] for p in result["paired"]} == {"full-context", "simple-rag",
                                                         "no-memory"}
    assert out.with_suffix(".png").stat().st_size > 0
    assert "| ours" in out.with_suffix(".md").read_text()
    calls = len(model.calls)
    run(options, chat=model, embedder=HashingEmbedder())
    assert len(model.calls) == calls  # resumed: nothing asked again


def test_probes_are_asked_again_on_the_memory_a_run_left(tmp_path: Path) -> None:
    data = tmp_path / "set.json"
    data.write_text(json.dumps(DIALOGUE))
    first = AssistantOptions(data=data, out=tmp_path / "first.json",
                             systems=("ours", "simple-rag"))
    run(first, chat=copying_model(), embedder=HashingEmbedder())
    model = copying_model()
    again = AssistantOptions(data=data, out=tmp_path / "again.json",
                             systems=("ours", "simple-rag"), heard_from=first.out)
    result = run(again, chat=model, embedder=HashingEmbedder())
    # Nothing heard again: no memory work. Both of ours' probes are answered from memory
    # without the model (a name that is stored, a name never told); the reference's
    # records are its run's own.
    assert not {step_of(call) for call in model.calls} - {"decide", "reply"}
    fact = {r["system"]: r for r in result["items"] if r["item_id"] == "t01#P1"}
    assert fact["ours"]["correct"] == 1.0  # the copied memory answers
    assert fact["simple-rag"]["heard_in"] == str(first.out)
    assert not [r for r in result["items"] if r["system"] == "ours"
                and r["kind"] == "reply-check"]
    assert result["systems"]["ours"]["reply_calls_per_message"] is None
    ablation = run(AssistantOptions(data=data, out=tmp_path / "ablation.json",
                                    systems=("ours-no-rerank",), heard_from=first.out),
                   chat=model, embedder=HashingEmbedder())
    assert ablation["systems"]["ours-no-rerank"]["probes"] == 2  # asked on ours' hearing
    with pytest.raises(ConfigurationError):
        run(AssistantOptions(data=data, out=tmp_path / "third.json", systems=("no-memory",),
                             heard_from=first.out), chat=model, embedder=HashingEmbedder())


def test_probes_are_scored_on_whole_words_with_stale_answers_apart() -> None:
    update = Probe(at="2024-01-01 00:00", question="q", kind="update", gold=["mint"],
                   stale=["coffee", "rooibos"])
    assert score_probe(update, "Fresh mint tea these days!") == {"correct": True,
                                                                "stale": False}
    assert score_probe(update, "You love coffee.") == {"correct": False, "stale": True}
    assert score_probe(update, "You moved from coffee to mint.")["correct"]
    assert score_probe(update, "No idea.") == {"correct": False, "stale": False}
    abstain = Probe(at="2024-01-01 00:00", question="q", kind="abstain", gold=["no"])
    assert not score_probe(abstain, "I know it")["correct"]
    assert contains_phrase("I don\u2019t know.", "don't know")
    assert not contains_phrase("Marchetti", "March")
    check = ReplyCheck(session=1, turn=1, forbidden=["your wedding"])
    assert check_reply(check, "How exciting, your Wedding plans!") == ["your wedding"]
    assert check_reply(check, "Your sister's wedding sounds lovely.") == []


def test_traits_agree_on_the_labelled_side_only() -> None:
    scores = {"openness": 3.0, "conscientiousness": 3.0, "extraversion": 4.1,
              "agreeableness": 3.0, "neuroticism": 2.0}
    found = score_traits({"extraversion": "high", "neuroticism": "high"}, scores)
    assert found["agree"] == {"extraversion": True, "neuroticism": False}
    assert score_traits({}, scores)["claims_none"] is False
    assert score_traits({}, dict.fromkeys(scores, 3.1))["claims_none"] is True


@pytest.mark.parametrize("change", [
    lambda d: d["dialogues"][0]["probes"][0].update(kind="guess"),
    lambda d: d["dialogues"][0]["reply_checks"][0].update(turn=9),
    lambda d: d["dialogues"][0].update(traits={"grumpiness": "high"}),
    lambda d: d.pop("dialogues"),
])
def test_a_malformed_set_is_a_typed_error(tmp_path: Path, change: Any) -> None:
    data = json.loads(json.dumps(DIALOGUE))
    change(data)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InvalidInputError):
        load_assistant_set(path)
