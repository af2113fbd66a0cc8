"""Scoring rules and item construction of the evaluation harness (no model)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.harness import EvalItem, ItemLog, aggregate
from evals.locomo import Conversation, QAItem
from evals.locomo_eval import NOT_MENTIONED, question_text, select_items
from evals.metrics import (
    choice_letter,
    evidence_recall,
    f1_multi,
    f1_score,
    locomo_score,
    normalize_answer,
)
from evals.persona_mme import ALIGNMENT, build_items, user_key


def test_normalisation_drops_case_punctuation_articles_and_commas() -> None:
    assert normalize_answer("The Beach, and a Lake!") == "beach lake"


def test_token_f1_uses_porter_stems() -> None:
    assert f1_score("painting sunsets", "painted sunset") == pytest.approx(1.0)
    assert f1_score("a red car", "blue car") == pytest.approx(0.5)
    assert f1_score("nothing", "something else") == 0.0


def test_multi_hop_takes_the_best_part_per_gold_part() -> None:
    assert f1_multi("beach, mountains", "mountains, beach") == pytest.approx(1.0)
    assert f1_multi("beach", "mountains, beach") == pytest.approx(0.5)
    assert locomo_score("beach", "mountains, beach", 1) == pytest.approx(0.5)


def test_open_domain_gold_is_cut_at_the_first_semicolon() -> None:
    assert locomo_score("likely yes", "likely yes; because she loves it", 3) == 1.0


def test_adversarial_counts_a_not_available_reply() -> None:
    assert locomo_score("(a) Not mentioned in the conversation", "Paris", 5) == 1.0
    assert locomo_score("No information available.", "Paris", 5) == 1.0
    assert locomo_score("Paris", "Paris", 5) == 0.0


def test_choice_letter_is_the_letter_before_the_first_parenthesis() -> None:
    assert choice_letter("(b) Painting.") == "b"
    assert choice_letter("B) yes (a) no") == "b"
    assert choice_letter("I think painting") is None


def test_evidence_recall_at_k_and_without_evidence() -> None:
    assert evidence_recall(["D1:1", "D2:3", "D1:2"], ["D1:2", "D2:3"], 2) == 0.5
    assert evidence_recall(["D1:1", "D2:3", "D1:2"], ["D1:2", "D2:3"]) == 1.0
    assert evidence_recall(["D1:1"], []) is None


def _qa(category: int, n: int = 0) -> QAItem:
    return QAItem(question=f"Where did Ana go {n}?", answer="Paris", evidence=("D1:1",),
                  category=category)


def test_adversarial_question_offers_not_mentioned_as_an_option() -> None:
    text = question_text(_qa(5))
    assert NOT_MENTIONED in text and "(a)" in text and "(b) " in text and "Paris" in text
    assert "approximate date" in question_text(_qa(2))


def test_limit_takes_questions_from_every_category_in_turn() -> None:
    qa = tuple(_qa(c, n) for n in range(4) for c in (1, 1, 2, 4, 5))
    conversation = Conversation(sample_id="c", turns=(), qa=qa)
    chosen = select_items(conversation, 4)
    assert sorted(q.category for _, q in chosen) == [1, 2, 4, 5]
    assert len(select_items(conversation, None)) == len(qa)


def test_alignment_pair_becomes_two_yes_no_items() -> None:
    record = {"data_path": "./data/Persona-MME/samples/50/0/user_data.json",
              "type": "Memory Recall", "question_type": "Semantic Information Recall",
              "time": "2024-09-23 20:08", "query": "What did I say?",
              "choices": {"(a)": "x", "(b)": "y"}, "answer": "(b)",
              "alignment": {"chosen": "good reply", "rejected": "bad reply"}}
    items = build_items([record])
    assert [i.item_id for i in items] == ["q0", "q0-chosen", "q0-rejected"]
    assert items[0].user_key == user_key(record["data_path"]) == "pmme-50-0"
    assert "(a) x (b) y" in items[0].text
    assert [i.meta["answer"] for i in items[1:]] == ["(a)", "(b)"]
    assert all(i.meta["aspect"] == ALIGNMENT for i in items[1:])
    assert '"good reply"' in items[1].text


def test_item_log_resumes_and_refuses_another_model(tmp_path: Path) -> None:
    path = tmp_path / "run.items.jsonl"
    log = ItemLog(path, {"model": {"file": "/a/m.gguf", "sha256": "a"}, "data": "d.json",
                         "systems": ["x"]})
    log.add({"system": "x", "item_id": "1", "f1": 1.0})
    again = ItemLog(path, {"model": {"file": "../a/m.gguf", "sha256": "a"},
                           "data": "/abs/d.json", "systems": ["x", "y"],
                           "conversations": ["c"]})
    assert again.done("x", "1") and not again.done("y", "1")
    with pytest.raises(ValueError, match="another configuration"):
        ItemLog(path, {"model": {"file": "/a/m.gguf", "sha256": "b"}, "data": "d.json",
                       "systems": ["x"]})
    assert len(path.read_text().splitlines()) == 2
    assert json.loads(path.read_text().splitlines()[1])["item_id"] == "1"


def test_aggregate_per_group_and_cost() -> None:
    rows = [{"system": "s", "item_id": str(i), "f1": v, "category": c, "prompt_tokens": 10,
             "model_calls": 1, "seconds": 1.0}
            for i, (v, c) in enumerate([(1.0, "a"), (0.0, "a"), (0.5, "b")])]
    summary = aggregate(rows, "f1", "category")["s"]
    assert summary["f1"] == pytest.approx(0.5)
    assert summary["f1_by_category"] == {"a": 0.5, "b": 0.5}
    assert summary["total_seconds"] == 3.0
    assert EvalItem("i", "u", "t", "now").meta == {}


def test_the_share_of_the_oracle_gap_ours_closes_counts_common_answerable_items() -> None:
    from evals.locomo_eval import oracle_gap_closed

    rows = [{"item_id": f"q{i}", "category": 1, "system": s, "f1": f}
            for i in range(2) for s, f in (("ours", 0.6), ("simple-rag", 0.4), ("oracle", 0.8))]
    rows += [{"item_id": "adv", "category": 5, "system": "ours", "f1": 0.0},
             {"item_id": "only-ours", "category": 1, "system": "ours", "f1": 0.0}]
    gap = oracle_gap_closed(rows)
    assert gap is not None and gap["n"] == 2 and gap["share"] == 0.5
    assert oracle_gap_closed([r for r in rows if r["system"] != "oracle"]) is None
