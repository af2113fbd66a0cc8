"""Facts that stay true: a turn's new facts against the user's current ones. A restated
fact is not stored again (the known fact gains the turn as provenance); a fact that makes
a known fact, habit or goal untrue closes it in valid time. Deterministic first (the same
words), then one batched model question for the new facts that resemble a known fact or
routine about the same thing (a shared word besides the user's name and generic ones), as
Graphiti does."""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from datetime import datetime

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage

from agent_runtime.cost import CostMeter
from agent_runtime.resources import Resources
from agent_runtime.structured import StructuredOutputError, call_structured
from memory_graph.schema import Fact, Routine
from memory_graph.text import tokenize
from memory_work.model_outputs import FactReconciliation
from memory_work.prompts import RECONCILE_EXAMPLES, RECONCILE_FACTS, RECONCILE_SHAPE

#: Word-stem overlap (Jaccard) at which two statements are the same fact without asking.
SAME_WORDS = 0.8
#: Cosine above which a known fact is shown to the model beside a new one.
CANDIDATE_COSINE = 0.4
CANDIDATES_PER_FACT = 3
RECONCILE_CACHE = "reconcile"
#: Words too common to make two facts about the same thing.
GENERIC_STEMS = frozenset(tokenize("named name called has have like likes love loves want "
                                   "wants go goes went get got make made know say said "
                                   "really much lot new now"))


@dataclass
class Reconciled:
    """What to store: the new facts that are new, the known facts restated (by id, for
    each the new fact's id it absorbed) and the known facts and routines made untrue."""

    new: list[Fact] = field(default_factory=list)
    restated: dict[str, str] = field(default_factory=dict)
    closed: list[str] = field(default_factory=list)


def reconcile_messages(prompt: str) -> list[BaseMessage]:
    """The question after worked examples given as earlier chat turns (a small model
    copies an example from the instructions, but follows one from past turns)."""
    messages: list[BaseMessage] = []
    for question, answer in RECONCILE_EXAMPLES:
        messages += [HumanMessage(question), AIMessage(answer)]
    return [*messages, HumanMessage(prompt)]


def shares_a_subject(old: str, new: str, user_name: str) -> bool:
    """Whether two statements share a word (the user's name aside): a fact can only make
    untrue a fact about the same thing. The 1.5B model called "Maya went camping" an
    update of "Maya adopted a cat", and "Maya has a brother named Tiago" one of "Maya
    adopted a cat named Pixel"; this guard refuses such verdicts."""
    ignored = set(tokenize(user_name)) | GENERIC_STEMS
    return bool((set(tokenize(old)) - ignored) & (set(tokenize(new)) - ignored))


def started(memory: Fact | Routine) -> datetime:
    """When a known memory began to hold: a fact when said, a routine when last seen."""
    return memory.at if isinstance(memory, Fact) else memory.updated_at


def same_words(x: set[str], y: set[str]) -> bool:
    """Whether a statement with the word stems ``x`` adds nothing to one with ``y``:
    nearly the same stems, or a subset."""
    return bool(x and y) and (x <= y or len(x & y) / len(x | y) >= SAME_WORDS)


def reconcile_facts(res: Resources, user_id: str, user_name: str, facts: list[Fact],
                    meter: CostMeter, errors: list[str], *, ask_model: bool = True
                    ) -> Reconciled:
    result = Reconciled()
    with meter.store():
        known = res.memory.current_facts(user_id)
    # Every current fact of the user is compared: its stems are computed once.
    known_stems = [(k, set(tokenize(k.statement))) for k in known]
    stems_of = {f.id: set(tokenize(f.statement)) for f in facts}
    left: list[Fact] = []
    # The fuller statement first, so a shorter one saying part of it is the one dropped.
    for fact in sorted(facts, key=lambda f: -len(stems_of[f.id])):
        if any(same_words(stems_of[fact.id], stems_of[f.id]) for f in left):
            continue  # said twice in one turn
        twin = next((k for k, stems in known_stems if same_words(stems_of[fact.id], stems)),
                    None)
        if twin is None:
            left.append(fact)
        else:
            result.restated[twin.id] = fact.id
    if not ask_model or not left or not known:
        result.new = left
        return result
    candidates: dict[str, Fact | Routine] = {}
    with meter.store():
        for fact in left:
            similar: list[tuple[Fact | Routine, float]] = [
                *res.memory.similar_facts(user_id, fact.statement, CANDIDATES_PER_FACT),
                *res.memory.similar_routines(user_id, fact.statement, CANDIDATES_PER_FACT)]
            for other, score in similar:
                if score >= CANDIDATE_COSINE and other.id not in result.restated and \
                        shares_a_subject(other.search_text(), fact.statement, user_name):
                    candidates.setdefault(other.id, other)
    if not candidates:
        result.new = left
        return result
    shown = sorted(candidates.values(), key=started)
    letters = dict(zip(string.ascii_uppercase, left, strict=False))
    prompt = RECONCILE_FACTS.format(
        user=user_name, known="\n".join(f"{i}. {m.search_text()}" for i, m in
                                        enumerate(shown, 1)),
        new="\n".join(f"{letter}. {f.statement}" for letter, f in letters.items()))
    try:
        # Its worked examples stay evaluated in a prompt cache of their own.
        chat = res.in_background(RECONCILE_CACHE).chat
        answer = call_structured(chat, reconcile_messages(prompt), FactReconciliation, meter,
                                 "reconcile_facts", shape=RECONCILE_SHAPE, max_tokens=120)
    except StructuredOutputError as exc:
        errors.append(f"{exc}; the new facts are stored as they are")
        result.new = left
        return result
    absorbed: set[str] = set()
    for verdict in answer.verdicts:
        said = letters.get(verdict.new.strip().upper())
        if said is None or not 1 <= verdict.old <= len(shown):
            continue
        old = shown[verdict.old - 1]
        if verdict.relation == "same":
            # A fact restating a habit is still a fact of its own: only facts merge.
            if isinstance(old, Fact):
                result.restated.setdefault(old.id, said.id)
                absorbed.add(said.id)
        elif started(old) < said.at and shares_a_subject(old.search_text(), said.statement,
                                                         user_name) \
                and old.id not in result.closed:
            result.closed.append(old.id)
    result.new = [f for f in left if f.id not in absorbed]
    return result
