"""The fault benchmark's damage classes run in-process and quickly: a flipped byte is always
detected and loses nothing (the damaged record is quarantined, the other user intact); a
journal that lost acknowledged records (truncated, cut at a record boundary, emptied,
deleted) makes the store refuse the user every time, and repair names what it could not
recover, so the loss is counted and detected, never hidden."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from evals.bench_faults import _damaged


def test_a_flipped_byte_is_detected_and_loses_nothing(tmp_path: Path) -> None:
    rng = random.Random(7)
    for round_number in range(5):
        result = _damaged(tmp_path / f"r{round_number}", rng, "flipped-byte", turns=20)
        assert result.detected and result.lost == 0 and result.other_user_intact
        assert result.present + result.quarantined == result.acknowledged


@pytest.mark.parametrize("fault", ["truncated", "cut-at-boundary", "emptied", "deleted"])
def test_a_journal_that_lost_acknowledged_records_is_detected_every_time(tmp_path: Path,
                                                                         fault: str) -> None:
    rng = random.Random(3)
    for round_number in range(3):
        result = _damaged(tmp_path / f"r{round_number}", rng, fault, turns=20)
        assert result.damaged and result.detected and result.other_user_intact
        assert result.quarantined + result.lost > 0
        assert result.present + result.quarantined + result.lost == result.acknowledged
