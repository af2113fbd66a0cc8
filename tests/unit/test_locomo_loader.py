"""``personavlm ingest`` and ``eval locomo`` read a LoCoMo file the same way: every turn of
the first speaker becomes a user message, with the same text and photo captions."""

from __future__ import annotations

from pathlib import Path

from evals.history import load_history
from evals.locomo import load_locomo

SAMPLE = Path(__file__).resolve().parents[2] / "personavlm" / "samples" / "locomo_sample.json"


def test_ingest_replays_exactly_the_turns_the_eval_stores() -> None:
    conversation = load_locomo(SAMPLE)[0]
    history = load_history(SAMPLE, conversation.sample_id)
    user = conversation.speakers[0]
    assert history.user_name == user
    expected = [t.text + "".join(f" [shares a photo: {c}]" for c in t.image_captions)
                for t in conversation.turns if t.speaker == user]
    assert [e.user for e in history.exchanges if e.user != "(listens)"] == expected
    replies = " ".join(e.reply for e in history.exchanges)
    for turn in conversation.turns:
        if turn.speaker != user:
            assert turn.text in replies
