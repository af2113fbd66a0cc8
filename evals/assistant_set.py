"""The assistant set: hand-written long-term conversations of one user with an assistant,
and the probes, reply checks and trait labels that score what a person would notice
(format and scoring in the data folder's README).

Scoring, as that README defines it: answers and gold strings are lower-cased and stripped
of punctuation; a probe is correct when the answer contains any gold string as whole
words; an ``update`` or ``preference`` answer with a ``stale`` string and no gold one is
``stale``; a reply check fails when the reply contains a ``forbidden`` phrase. Traits use
the agent's own levels (``memory_work.personality.trait_level``): a labelled trait agrees when
its level is on the same side ("high" or "very high" for high), and a ``{}`` dialogue
passes when every trait is "moderate"."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from memory_graph.errors import InvalidInputError
from memory_work.personality import TRAITS, trait_level

ProbeKind = Literal["fact", "update", "temporal", "multi-hop", "preference", "abstain"]
PROBE_KINDS: tuple[ProbeKind, ...] = ("fact", "update", "temporal", "multi-hop",
                                      "preference", "abstain")
#: Kinds whose answers can be stale (a value that was true once).
STALE_KINDS = ("update", "preference")
#: Minutes between two messages of a session when they are replayed.
TURN_SPACING_MINUTES = 2


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Session(_Strict):
    at: str
    turns: list[str] = Field(min_length=1)


class Probe(_Strict):
    at: str
    question: str
    kind: ProbeKind
    gold: list[str] = Field(min_length=1)
    stale: list[str] = Field(default_factory=list)
    note: str = ""


class ReplyCheck(_Strict):
    session: int = Field(ge=1)
    turn: int = Field(ge=1)
    forbidden: list[str] = Field(min_length=1)
    note: str = ""


class Dialogue(_Strict):
    id: str
    user_name: str
    sessions: list[Session] = Field(min_length=1)
    probes: list[Probe] = Field(default_factory=list)
    reply_checks: list[ReplyCheck] = Field(default_factory=list)
    traits: dict[str, Literal["high", "low"]] = Field(default_factory=dict)

    def turn_times(self, session: int) -> list[str]:
        """When each message of a session (0-based) is said: the session's time, then
        ``TURN_SPACING_MINUTES`` apart."""
        start = datetime.strptime(self.sessions[session].at, "%Y-%m-%d %H:%M")
        return [(start + timedelta(minutes=TURN_SPACING_MINUTES * i)).strftime(
            "%Y-%m-%d %H:%M") for i in range(len(self.sessions[session].turns))]


class AssistantSet(_Strict):
    version: int
    dialogues: list[Dialogue] = Field(min_length=1)


def load_assistant_set(path: str | Path) -> list[Dialogue]:
    """The dialogues of an assistant-set file; a file that does not fit the format is an
    ``InvalidInputError`` naming where."""
    try:
        raw = json.loads(Path(path).read_text("utf-8"))
        data = AssistantSet.model_validate(raw)
    except (OSError, json.JSONDecodeError, ValidationError) as exc:
        raise InvalidInputError(f"{path}: not an assistant-set file: {exc}") from exc
    for dialogue in data.dialogues:
        for trait in dialogue.traits:
            if trait not in TRAITS:
                raise InvalidInputError(f"{path}: {dialogue.id}: unknown trait {trait!r}")
        for check in dialogue.reply_checks:
            if check.session > len(dialogue.sessions) or check.turn > len(
                    dialogue.sessions[check.session - 1].turns):
                raise InvalidInputError(f"{path}: {dialogue.id}: reply check S{check.session}"
                                        f" turn {check.turn} is not a message")
    return data.dialogues


_PUNCTUATION = str.maketrans({c: " " for c in string.punctuation if c != "'"})


def normalise(text: str) -> str:
    """Lower case, punctuation as spaces (apostrophes kept: "don't"), curly quotes
    straightened, single spaces."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").lower().translate(_PUNCTUATION)
    return " ".join(text.split())


def contains_phrase(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``text`` as whole words ("no" is not in "know")."""
    wanted = normalise(phrase)
    return bool(wanted) and re.search(rf"(?<![\w']){re.escape(wanted)}(?![\w'])",
                                      normalise(text)) is not None


def score_probe(probe: Probe, answer: str) -> dict[str, bool]:
    """``correct``: a gold string is in the answer; ``stale``: an update or preference
    answer with a stale string and no gold one."""
    correct = any(contains_phrase(answer, g) for g in probe.gold)
    stale = (probe.kind in STALE_KINDS and not correct
             and any(contains_phrase(answer, s) for s in probe.stale))
    return {"correct": correct, "stale": stale}


def check_reply(check: ReplyCheck, reply: str) -> list[str]:
    """The forbidden phrases the reply contains (empty: the check passes)."""
    return [phrase for phrase in check.forbidden if contains_phrase(reply, phrase)]


def score_traits(labels: Mapping[str, str], scores: Mapping[str, float]) -> dict[str, object]:
    """Agreement of inferred scores with a dialogue's labels: per labelled trait whether
    its level is on the labelled side, or (no labels) whether no trait left "moderate"."""
    levels = {t: trait_level(float(scores.get(t, 3.0))) for t in TRAITS}
    if labels:
        agree = {t: (levels[t] in ("high", "very high")) == (side == "high")
                 and levels[t] != "moderate" for t, side in labels.items()}
        return {"levels": levels, "agree": agree, "claims_none": None}
    return {"levels": levels, "agree": {},
            "claims_none": all(level == "moderate" for level in levels.values())}
