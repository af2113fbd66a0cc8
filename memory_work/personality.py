"""Big Five personality: the paper's EMA update and the words the reply prompt uses."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import ConfigDict, with_config
from typing_extensions import TypedDict

from memory_graph.graph import MemoryGraph
from memory_graph.schema import PersonalitySnapshot, stable_id

TRAITS = ("openness", "conscientiousness", "extraversion", "agreeableness", "neuroticism")
NEUTRAL = 3.0

_DESCRIPTIONS: dict[str, tuple[str, str]] = {
    "openness": ("prefers the familiar, concrete and practical",
                 "curious, imaginative, enjoys new ideas and experiences"),
    "conscientiousness": ("spontaneous and flexible, dislikes rigid plans",
                          "organised, plans ahead, values reliability and detail"),
    "extraversion": ("reserved, prefers quiet settings and small groups",
                     "outgoing, talkative, energised by other people"),
    "agreeableness": ("direct and sceptical, values frankness over tact",
                      "warm, cooperative and considerate of others"),
    "neuroticism": ("calm and emotionally steady",
                    "prone to stress and worry, appreciates reassurance"),
}


@with_config(ConfigDict(use_attribute_docstrings=True))
class PersonalityEstimate(TypedDict):
    """The user's Big Five estimate, as the agent's state and output carry it."""
    scores: dict[str, float]
    """Each trait's score, 1-5 (3 is neutral)."""
    interactions: int
    """The messages it was observed on."""
    at: str | None
    """When it was last updated (ISO 8601)."""
    description: str
    """The traits in words, as the reply prompt has them."""


def ema_weight(interactions: int) -> float:
    """λ_m = 0.7 - 0.2·cos(π·min(m, 50)/50): 0.5 at the first turn (fast), 0.9 from the
    fiftieth on (stable). It is the weight kept on the previous profile."""
    return 0.7 - 0.2 * math.cos(math.pi * min(interactions, 50) / 50)


@dataclass(frozen=True)
class Personality:
    scores: dict[str, float]
    interactions: int
    at: datetime | None = None

    @classmethod
    def neutral(cls) -> Personality:
        return cls({t: NEUTRAL for t in TRAITS}, 0)

    @classmethod
    def latest(cls, memory: MemoryGraph, user_id: str) -> Personality:
        """The user's current profile: the last stored snapshot, neutral before any."""
        snapshot = memory.latest_personality(user_id)
        return cls.from_snapshot(snapshot) if snapshot is not None else cls.neutral()

    @classmethod
    def from_snapshot(cls, snapshot: PersonalitySnapshot) -> Personality:
        return cls({t: float(getattr(snapshot, t)) for t in TRAITS}, snapshot.interactions,
                   snapshot.at)

    def updated(self, observed: Mapping[str, float], at: datetime) -> Personality:
        """One EMA step; an observed neutral 3 leaves that trait where it was. The new
        profile's time is ``at``, or just after this one's when ``at`` is not later (a
        conversation from the past heard now): the latest in time is the current one."""
        weight = ema_weight(self.interactions)
        scores = {}
        for trait in TRAITS:
            value = float(observed[trait])
            old = self.scores[trait]
            scores[trait] = old if value == NEUTRAL else weight * old + (1 - weight) * value
        if self.at is not None and at <= self.at:
            at = self.at + timedelta(microseconds=1)
        return Personality(scores, self.interactions + 1, at)

    def snapshot(self, user_id: str) -> PersonalitySnapshot:
        if self.at is None:
            raise ValueError("a personality needs a time to be stored")
        return PersonalitySnapshot.model_validate({
            "id": stable_id(user_id, "personality", str(self.interactions),
                            self.at.isoformat()),
            "user_id": user_id, "at": self.at, "interactions": self.interactions,
            **{t: round(self.scores[t], 4) for t in TRAITS}})

    def as_dict(self) -> PersonalityEstimate:
        return {"scores": {t: round(v, 3) for t, v in self.scores.items()},
                "interactions": self.interactions,
                "at": self.at.isoformat() if self.at else None,
                "description": self.describe()}

    def describe(self) -> str:
        """The traits in words, for the reply prompt; moderate traits are left out. No
        scores: the text changes only when a trait changes level, so the system prompt
        stays a cached prefix from turn to turn."""
        if self.interactions == 0:
            return "Not enough conversation yet to judge the user's personality."
        lines = []
        for trait in TRAITS:
            value = self.scores[trait]
            level = trait_level(value)
            if level == "moderate":
                continue
            low, high = _DESCRIPTIONS[trait]
            lines.append(f"- {level} {trait}: {high if value > 3 else low}")
        if not lines:
            return "Balanced on every Big Five trait; no strong tendency yet."
        return "\n".join(lines)


def trait_level(value: float) -> str:
    if value <= 1.8:
        return "very low"
    if value <= 2.6:
        return "low"
    if value < 3.4:
        return "moderate"
    if value < 4.2:
        return "high"
    return "very high"
