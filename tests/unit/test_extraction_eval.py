"""The extraction fixture's scoring: a duplicate or an unlabelled fact counts against
precision, a junk entity against entity precision."""

from pathlib import Path

from helpers import HashingEmbedder, ScriptedFakeChatModel, step_of
from test_agent_wiring import Script

from evals.extraction_eval import CASES, matches, replay_case, score_entities, score_facts


def test_a_fact_matches_a_label_by_word_stems_of_any_alternative() -> None:
    assert matches("Maya quit drinking coffee.", ("gave coffee", "quit coffee"))
    assert not matches("Maya drinks coffee.", ("gave coffee", "quit coffee"))


def test_a_duplicate_fact_matches_once_and_counts_against_precision() -> None:
    labels = (("sister Lia",), ("Lia Lisbon",))
    facts = ["Maya has a sister named Lia.", "Maya's sister is Lia.",
             "Lia lives in Lisbon.", "Maya loves rock climbing."]
    assert score_facts(facts, labels) == (2, 2)  # 2 labels found, 2 of 4 facts right


def test_one_fact_may_cover_several_labels() -> None:
    labels = (("dog Bruno",), ("walked lake",), ("Tiago",))
    assert score_facts(["Maya walked her dog Bruno by the lake with Tiago."], labels) == (3, 1)


def test_junk_entities_count_against_entity_precision() -> None:
    found, good = score_entities(["Bruno", "slept", "yesterday", "the lake", "Tiago"],
                                 ["Bruno", "lake", "Tiago"])
    assert (found, good) == (3, 3)


def test_every_case_says_what_it_checks() -> None:
    assert all(case.what and case.exchanges for case in CASES)
    assert len({case.name for case in CASES}) == len(CASES)


def test_a_window_replay_extracts_the_last_window_and_counts_its_calls(tmp_path: Path) -> None:
    """SCRIPTED FAKE model: the case's two user turns wait in a window of three, and are
    extracted in one call when the replay ends, before scoring."""
    model = ScriptedFakeChatModel(script=Script())
    case = CASES[0]
    one = replay_case(case, model, HashingEmbedder(), tmp_path / "one", window=1)
    extractions = sum(step_of(c) == "extract" for c in model.calls)
    model.calls.clear()
    two = replay_case(case, model, HashingEmbedder(), tmp_path / "two", window=3)
    assert extractions == len(case.exchanges) == 2
    assert sum(step_of(c) == "extract" for c in model.calls) == 1
    assert two.model_calls == one.model_calls - 1
    assert two.errors == [] and two.facts == one.facts
