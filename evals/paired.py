"""Paired comparison of two systems on the same items: the mean difference of a metric
with a bootstrap confidence interval, so a lead of one question in fifty is not read as a
win. Items are resampled with replacement (the same resample for both systems)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

RESAMPLES = 2000
SEED = 0


def paired_difference(records: Iterable[dict[str, Any]], metric: str, system: str,
                      baseline: str, confidence: float = 0.95) -> dict[str, Any] | None:
    """``system`` minus ``baseline`` on the items both answered; None when they share none."""
    by_item: dict[str, dict[str, float]] = {}
    for record in records:
        if record["system"] in (system, baseline) and record.get(metric) is not None:
            by_item.setdefault(record["item_id"], {})[record["system"]] = float(record[metric])
    pairs = [(v[system], v[baseline]) for v in by_item.values() if len(v) == 2]
    if not pairs:
        return None
    diffs = np.array([a - b for a, b in pairs])
    rng = np.random.default_rng(SEED)
    means = diffs[rng.integers(0, len(diffs), size=(RESAMPLES, len(diffs)))].mean(axis=1)
    tail = (1.0 - confidence) / 2 * 100
    low, high = np.percentile(means, [tail, 100 - tail])
    return {"system": system, "baseline": baseline, "metric": metric, "n": len(pairs),
            "difference": round(float(diffs.mean()), 4), "ci_low": round(float(low), 4),
            "ci_high": round(float(high), 4), "confidence": confidence,
            "better": int((diffs > 0).sum()), "worse": int((diffs < 0).sum()),
            "same": int((diffs == 0).sum())}


def compare_with_baselines(records: Sequence[dict[str, Any]], metrics: Sequence[str],
                           system: str, baselines: Sequence[str]) -> list[dict[str, Any]]:
    """``system`` against every baseline present, for every metric."""
    present = {r["system"] for r in records}
    if system not in present:
        return []
    found = (paired_difference(records, metric, system, baseline)
             for baseline in baselines if baseline in present and baseline != system
             for metric in metrics)
    return [row for row in found if row is not None]
