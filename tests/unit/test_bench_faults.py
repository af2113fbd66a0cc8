"""The fault benchmark's damage classes run in-process and quickly: a flipped byte is always
detected and loses nothing (the damaged record is quarantined, the other user intact); a
truncated journal's loss is counted, not hidden."""

from __future__ import annotations

import random
from pathlib import Path

from evals.bench_faults import _damaged


def test_a_flipped_byte_is_detected_and_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(7)
    for round_number in range(5):
        result = _damaged(tmp_path / f"r{round_number}", rng, "flipped-byte", turns=20)
        assert result.detected and result.lost == 0 and result.other_user_intact
        assert result.present + result.quarantined == result.acknowledged


def test_a_truncated_journal_is_counted_as_loss(tmp_path: Path) -> None:
    result = _damaged(tmp_path, random.Random(3), "truncated", turns=20)
    assert result.present + result.quarantined + result.lost == result.acknowledged
    assert result.other_user_intact
