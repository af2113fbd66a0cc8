"""The retrieval benchmark's filling of a user's store to a size (no model)."""

from __future__ import annotations

from evals.bench_retrieval import fillers
from evals.locomo import Conversation
from memory_graph.graph import TurnInput


def _conversation(name: str, turns: int) -> Conversation:
    return Conversation(sample_id=name, qa=(), turns=tuple(
        TurnInput(text=f"{name} says {i}", at="2023-05-01 10:00", session_id=f"{name}-s1",
                  turn_id=f"{name}-{i}") for i in range(turns)))


def test_a_user_is_filled_to_its_size_with_the_other_conversations_turns() -> None:
    one, two, three = _conversation("a", 3), _conversation("b", 4), _conversation("c", 2)
    filled = fillers(one, [one, two, three], turns_per_user=20)
    assert len(filled) == 17
    assert len({t.turn_id for t in filled}) == 17
    assert not {t.turn_id for t in one.turns} & {t.turn_id for t in filled}
    assert {t.text for t in filled} == {t.text for t in (*two.turns, *three.turns)}
    assert not {t.session_id for t in one.turns} & {t.session_id for t in filled}


def test_a_user_already_that_large_gets_no_fillers() -> None:
    one, two = _conversation("a", 5), _conversation("b", 5)
    assert fillers(one, [one, two], turns_per_user=0) == []
    assert fillers(one, [one, two], turns_per_user=5) == []
