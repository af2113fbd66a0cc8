"""Pydantic models of every structured output of memory work. Their JSON schemas constrain decoding
where the provider allows it (llama.cpp grammars, OpenAI ``json_schema``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Literal, Protocol, TypeVar, get_args

from pydantic import AfterValidator, BaseModel, Field

EntityKind = Literal["person", "pet", "place", "object", "activity", "food", "organization",
                     "media", "other"]


def _without_loops(text: str) -> str:
    """Refuse a text that says the same sentence twice: the mark of a small model caught in
    a generation loop. The refusal sends the output to the repair retry."""
    sentences = [part.strip().lower() for part in re.split(r"[.!?;]\s+", text) if part.strip()]
    if len(sentences) != len(set(sentences)):
        raise ValueError("the text repeats a sentence")
    return text


def _unique_names(names: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for name in names:
        if name.strip() and name.strip().lower() not in seen:
            seen.add(name.strip().lower())
            kept.append(name.strip())
    return kept


class _Statement(Protocol):
    statement: str


_F = TypeVar("_F", bound=_Statement)


def _unique_facts(facts: list[_F]) -> list[_F]:
    kept: dict[str, _F] = {}
    for fact in facts:
        kept.setdefault(fact.statement.strip().lower(), fact)
    return list(kept.values())


def _unique_texts(texts: list[str]) -> list[str]:
    return list({t.strip().lower(): t.strip() for t in texts if t.strip()}.values())


Prose = Annotated[str, AfterValidator(_without_loops)]


def _clipped(limit: int) -> AfterValidator:
    """Cut a text that runs past ``limit`` at its last whole sentence, else its last
    word: a small model writes long, and the decoding grammar does not bound strings."""
    def clip(text: str) -> str:
        text = text.strip()
        if len(text) <= limit:
            return text
        head = text[:limit]
        end = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
        return head[:end + 1] if end > limit // 3 else head.rsplit(" ", 1)[0]

    return AfterValidator(clip)


#: Prose of consolidation outputs, clipped rather than refused (a refusal costs a repair
#: call as long as the output).
Summary = Annotated[str, _clipped(240), AfterValidator(_without_loops)]
Names = Annotated[list[str], AfterValidator(_unique_names)]


class FactMemory(BaseModel):
    statement: Prose = Field(min_length=3, max_length=400,
                           description="Self-contained sentence about the user, in third person.")
    entities: Names = Field(default_factory=list, max_length=5,
                            description="Names of the entities the fact is about.")


class PreferenceMemory(BaseModel):
    entity: str = Field(min_length=1, max_length=120, description="What is (dis)liked.")
    kind: EntityKind = "other"
    likes: bool = Field(description="true for a like, false for a dislike.")
    reason: str = Field(default="", max_length=300)


class VisualConcept(BaseModel):
    image: int = Field(ge=1, le=16, description="1-based index of the photo in this turn.")
    entity: str = Field(min_length=1, max_length=120, description="What the photo shows.")
    kind: EntityKind = "other"
    description: str = Field(default="", max_length=300)


class TurnMemories(BaseModel):
    """Semantic memories of one user turn, or of a window of them
    (``Context.extraction_window``). A window has the caps of one turn: each list bound
    becomes a repetition in the llama.cpp grammar, and with twice the bounds the demo's
    first window call took 44.6 s against 35.7 s (``bench agent``)."""

    facts: Annotated[list[FactMemory], AfterValidator(_unique_facts)] = Field(
        default_factory=list, max_length=8)
    preferences: list[PreferenceMemory] = Field(default_factory=list, max_length=6)
    remember: list[str] = Field(default_factory=list, max_length=4,
                                description="Things the user explicitly asked to remember.")
    visual: list[VisualConcept] = Field(default_factory=list, max_length=6)


class EpisodicTopic(BaseModel):
    """An episode of a session. Its turns are found by its words
    (``memory_work.consolidate.citing_turns``): asked for turn numbers, a small model lists them
    all, and every output token costs ten prompt tokens' time."""

    summary: Summary = Field(min_length=3)
    entities: Names = Field(default_factory=list, max_length=3)


class ProceduralMemory(BaseModel):
    description: Summary = Field(min_length=3)
    kind: Literal["habit", "goal"] = "habit"


class SessionConsolidation(BaseModel):
    """What a finished session leaves behind, in the order it is decoded (the grammar
    follows the field order): the profile first, so an output cut off at the token limit
    still updates it. The bounds keep the call short (every output token costs more than
    ten prompt tokens)."""

    profile: Annotated[str, _clipped(400), AfterValidator(_without_loops)] = Field(default="",
                           description="Updated core profile of the user, a few sentences.")
    topics: list[EpisodicTopic] = Field(default_factory=list, max_length=2)
    routines: list[ProceduralMemory] = Field(default_factory=list, max_length=2)


class SessionNotes(BaseModel):
    """Bulk ingestion of a long history: one call per session instead of one per turn,
    with the session's facts (plain sentences; the turns that say them are found by their
    words, ``memory_work.consolidate.citing_turns``). No profile: asked for one, the 1.5B model
    invented an age and a degree for a LoCoMo speaker, and looped on it."""

    topics: list[EpisodicTopic] = Field(default_factory=list, max_length=2)
    facts: Annotated[list[Summary], AfterValidator(_unique_texts)] = Field(
        default_factory=list, max_length=4)
    routines: list[ProceduralMemory] = Field(default_factory=list, max_length=2)


class BigFiveScores(BaseModel):
    """1 (very low) to 5 (very high); 3 when the dialogue says nothing about the trait."""

    openness: int = Field(ge=1, le=5)
    conscientiousness: int = Field(ge=1, le=5)
    extraversion: int = Field(ge=1, le=5)
    agreeableness: int = Field(ge=1, le=5)
    neuroticism: int = Field(ge=1, le=5)


Trait = Literal["openness", "conscientiousness", "extraversion", "agreeableness",
                "neuroticism"]

#: Where a shown level sits on the paper's 1-5 scale; a trait not shown is observed as 3
#: (neutral), which leaves it where it was. A 1.5B model judges levels far more reliably
#: than it picks numbers (asked for numbers it copies its example or says 3).
TRAIT_LEVEL_SCORES: dict[str, int] = {"low": 2, "high": 4}
NEUTRAL_SCORE = 3
#: Share of a quote's words that must occur in the user's messages for its signal to count.
QUOTE_GROUNDING = 0.6


class TraitSignal(BaseModel):
    trait: Trait
    level: Literal["low", "high"]
    quote: str = Field(max_length=300, description="The user's own words that show it.")


class PersonalitySignals(BaseModel):
    """The traits the messages clearly show, with the words that show them."""

    signals: list[TraitSignal] = Field(default_factory=list, max_length=5)

    def scores(self, messages: Sequence[str]) -> BigFiveScores:
        """The observation: each trait at its shown level when the quote is grounded in
        the messages (the first grounded signal of a trait wins), else neutral."""
        said = set(_words(" ".join(messages)))
        observed: dict[str, int] = {}
        for signal in self.signals:
            quoted = _words(signal.quote)
            grounded = len(quoted) >= 2 and \
                sum(w in said for w in quoted) >= QUOTE_GROUNDING * len(quoted)
            if grounded:
                observed.setdefault(signal.trait, TRAIT_LEVEL_SCORES[signal.level])
        return BigFiveScores.model_validate(
            {trait: observed.get(trait, NEUTRAL_SCORE) for trait in get_args(Trait)})


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


class EntityMatch(BaseModel):
    same_as: str | None = Field(
        default=None, description="Name of the known entity it is, or null when new.")


class FactVerdict(BaseModel):
    new: str = Field(max_length=2, description="Letter of the new fact.")
    old: int = Field(ge=1, description="Number of the known fact.")
    relation: Literal["same", "updates"] = Field(
        description="same: says what the known fact says; updates: makes it no longer true.")


class FactReconciliation(BaseModel):
    """How a turn's new facts relate to the user's known facts (only the pairs that are
    the same or where the new one makes the old one untrue)."""

    verdicts: list[FactVerdict] = Field(default_factory=list, max_length=8)
