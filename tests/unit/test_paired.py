"""Paired comparison of two systems on the same items (no model)."""

from __future__ import annotations

from typing import Any

import pytest

from evals.paired import compare_with_baselines, paired_difference


def _records(system: str, values: dict[str, float | None]) -> list[dict[str, Any]]:
    return [{"system": system, "item_id": item, "f1": value} for item, value in values.items()]


def test_difference_counts_and_interval_over_shared_items_only() -> None:
    records = [*_records("ours", {"1": 1.0, "2": 0.5, "3": 0.0, "4": 1.0, "only-ours": 1.0}),
               *_records("base", {"1": 0.0, "2": 0.5, "3": 0.5, "4": 0.0, "only-base": 0.0})]
    result = paired_difference(records, "f1", "ours", "base")
    assert result is not None
    assert result["n"] == 4
    assert result["difference"] == pytest.approx(0.375)
    assert (result["better"], result["worse"], result["same"]) == (2, 1, 1)
    assert -0.5 <= result["ci_low"] <= result["difference"] <= result["ci_high"] <= 1.0
    assert result["ci_low"] < result["ci_high"]
    assert paired_difference(records, "f1", "ours", "base") == result  # fixed seed


def test_items_without_the_metric_are_left_out() -> None:
    records = [*_records("ours", {"1": 1.0, "2": None}), *_records("base", {"1": 0.0, "2": 1.0})]
    result = paired_difference(records, "f1", "ours", "base")
    assert result is not None and result["n"] == 1 and result["difference"] == 1.0


def test_no_shared_items_or_absent_systems_give_no_rows() -> None:
    records = [*_records("ours", {"1": 1.0}), *_records("base", {"2": 0.0})]
    assert paired_difference(records, "f1", "ours", "base") is None
    assert compare_with_baselines(records, ["f1"], "ours", ["base"]) == []
    assert compare_with_baselines(_records("base", {"1": 0.0}), ["f1"], "ours", ["base"]) == []
    both = [*_records("ours", {"1": 1.0}), *_records("base", {"1": 0.0})]
    rows = compare_with_baselines(both, ["f1"], "ours", ["base", "missing", "ours"])
    assert [(r["baseline"], r["metric"]) for r in rows] == [("base", "f1")]
