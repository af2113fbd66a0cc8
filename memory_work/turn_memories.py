"""Semantic memories of one user turn: facts, preferences with polarity, explicit
"remember this", and visual concepts linked to their image."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import Resources
from agent_runtime.structured import call_structured
from memory_graph.graph import MemoryGraph
from memory_graph.schema import EdgeType, Entity, Fact, Turn, stable_id
from memory_graph.text import tokenize
from memory_graph.writes import LinkedFact, PreferenceChange, Restatement, TurnMemoryWrite
from memory_work.entities import EntityResolver
from memory_work.model_outputs import (
    FactMemory,
    PreferenceMemory,
    TurnMemories,
    VisualConcept,
)
from memory_work.prompts import EXTRACT_EXAMPLES, EXTRACT_SHAPE, EXTRACT_SYSTEM, EXTRACT_USER
from memory_work.reconcile import reconcile_facts
from memory_work.turns import WorkTurn

FactKind = Literal["fact", "remember", "visual"]
EXTRACTION_CACHE = "extraction"


def read_window(res: Resources, ctx: Context, turns: Sequence[WorkTurn], meter: CostMeter
                ) -> tuple[list[tuple[WorkTurn, TurnMemories]], list[str]]:
    """The semantic memories of a window of user turns of one session, read in one model
    call (``Context.extraction_window``; one turn is a window of one), each kept item with
    the turn that says it (``by_turn``); none, and no call, for turns that state nothing.
    Returns the turns that state something with their memories (to be written turn after
    turn, ``write_turn_memories``), and what no turn says. Raises
    ``StructuredOutputError`` when the model's output stays invalid."""
    said = [t for t in turns if could_keep_anything(t)]
    if not said:
        return [], []
    name = ctx.display_name
    blocks = []
    first_photo = 1
    for turn in said:
        previous = _previous_assistant_text(res, ctx, turn, meter)
        photos = "; ".join(f"{i}: {c or 'no description'}" for i, c in
                           enumerate(turn["captions"], first_photo)) or "none"
        first_photo += len(turn["captions"])
        blocks.append(EXTRACT_USER.format(
            at=datetime.fromisoformat(turn["at"]).strftime("%Y-%m-%d %H:%M"),
            previous=previous[:300] or "none", text=turn["text"] or "(photo only)",
            photos=photos))
    messages = extraction_messages(name, "\n\n".join(blocks), len(said))
    # The prompt repeats its worked examples every turn: a prompt cache of its own keeps
    # them evaluated (the reconciliation and entity questions below use the shared one).
    chat = res.in_background(EXTRACTION_CACHE).chat
    found = call_structured(chat, messages, TurnMemories, meter, "extract_memory",
                            shape=EXTRACT_SHAPE.replace("USER", name),
                            max_tokens=TOKENS_PER_CALL + TOKENS_PER_MORE_TURN * (len(said) - 1))
    return by_turn(found, said, name, ctx.assistant_name)


#: Output budget of an extraction call: a turn's memories, and more for each further turn
#: of a window.
TOKENS_PER_CALL = 400
TOKENS_PER_MORE_TURN = 200


def by_turn(found: TurnMemories, turns: Sequence[WorkTurn], user_name: str,
            assistant_name: str) -> tuple[list[tuple[WorkTurn, TurnMemories]], list[str]]:
    """What each turn of a window says of what the model found (``keep_grounded``, turn by
    turn). A fact or note two turns say belongs to the later one. A thing liked or
    disliked belongs to the turns that speak of it: the model's items for it, in its
    order, go to the last of those turns in theirs ("I love coffee" ... "I quit coffee":
    the like to the first, the dislike to the second; a single item to the last), one per
    turn. Photos are numbered across the window: a visual concept belongs to its photo's
    turn (a number no photo has leaves it unlinked, with the last turn that says it).
    Returns the turns with their memories, and what no turn says."""
    total = sum(len(t["captions"]) for t in turns)
    owner: dict[tuple[str, str], int] = {}
    speaks_of: dict[str, list[int]] = {}
    grounded: list[TurnMemories] = []
    for number, (turn, photos) in enumerate(zip(turns, _photo_ranges(turns), strict=True)):
        own = found.model_copy(update={"visual": [
            v.model_copy(update={"image": v.image - photos.start + 1}) if v.image in photos
            else v for v in found.visual if v.image in photos or v.image > total]})
        kept, _ = keep_grounded(own, " ".join([turn["text"], *turn["captions"]]), user_name,
                                assistant_name)
        grounded.append(kept)
        for key, _ in _labelled_keys(kept, photos):
            owner[key] = number
        for entity in dict.fromkeys(_key(p.entity) for p in kept.preferences):
            speaks_of.setdefault(entity, []).append(number)
    liked: dict[int, dict[str, PreferenceMemory]] = {}
    for entity, numbers in speaks_of.items():
        items = [p for p in found.preferences if _key(p.entity) == entity]
        for index, item in enumerate(items):
            number = numbers[max(0, len(numbers) - len(items) + index)]
            liked.setdefault(number, {})[entity] = item  # one per turn: the model's last
    owned = []
    for number, (turn, kept, photos) in enumerate(zip(turns, grounded, _photo_ranges(turns),
                                                      strict=True)):
        keys = [key for key, _ in _labelled_keys(kept, photos)]
        mine = [item for item, key in zip(_items(kept), keys, strict=True)
                if owner.get(key) == number]
        owned.append((turn, found.model_copy(update={
            "facts": [i for i in mine if isinstance(i, FactMemory)],
            "remember": [i for i in mine if isinstance(i, str)],
            "preferences": list(liked.get(number, {}).values()),
            "visual": [i for i in mine if isinstance(i, VisualConcept)]})))
    window = range(1, total + 1)
    ungrounded = [label for key, label in _labelled_keys(found, window)
                  if key not in owner and key[0] != "preference"]
    ungrounded += [p.entity for p in found.preferences if _key(p.entity) not in speaks_of]
    return owned, ungrounded


def _photo_ranges(turns: Sequence[WorkTurn]) -> list[range]:
    """The window-wide numbers of each turn's photos."""
    ranges = []
    first = 1
    for turn in turns:
        ranges.append(range(first, first + len(turn["captions"])))
        first += len(turn["captions"])
    return ranges


def _key(text: str) -> str:
    return text.strip().lower()


def _items(memories: TurnMemories) -> list[FactMemory | str | PreferenceMemory | VisualConcept]:
    return [*memories.facts, *memories.remember, *memories.preferences, *memories.visual]


def _labelled_keys(memories: TurnMemories, photos: range) -> list[tuple[tuple[str, str], str]]:
    """Each item of ``memories`` (in ``_items`` order) by a key that is the same whichever
    turn of the window it is grounded in, with its label. ``photos``: the window-wide
    numbers of the photos ``memories`` number from 1 (a visual concept with a number
    past them keeps it)."""
    def photo(image: int) -> int:
        return photos.start + image - 1 if image <= len(photos) else image

    return [*((("fact", _key(f.statement)), f.statement) for f in memories.facts),
            *((("remember", _key(r)), r) for r in memories.remember),
            *((("preference", _key(p.entity)), p.entity) for p in memories.preferences),
            *((("visual", f"{photo(v.image)}:{_key(v.entity)}"), v.entity)
              for v in memories.visual)]


#: A message asking the assistant to keep something in mind: its questions count too.
_ASKS_TO_KEEP = re.compile(r"\b(remember|forget|note|keep in mind|save)\b", re.IGNORECASE)


def could_keep_anything(turn: WorkTurn) -> bool:
    """Whether extraction could keep anything of the turn, by ``keep_grounded``'s rules:
    a fact or a like is kept only when the message states it (not when it asks or
    supposes it), a note when the user asks to keep it, a visual concept with a photo. A
    turn of questions alone ("what should I cook tonight?") costs no extraction call."""
    text = turn["text"] or ""
    return bool(turn["image_ids"] or turn["captions"] or tokenize(statements_of(text))
                or _ASKS_TO_KEEP.search(text))


def extraction_messages(user_name: str, message: str, turns: int = 1) -> list[BaseMessage]:
    examples: list[BaseMessage] = []
    for example_message, example_json in EXTRACT_EXAMPLES:
        examples += [HumanMessage(example_message),
                     AIMessage(example_json.replace("USER", user_name))]
    source, where = (("one chat message", "this message") if turns == 1 else
                     (f"{turns} chat messages, each with its time", "these messages"))
    return [SystemMessage(EXTRACT_SYSTEM.format(user=user_name, source=source, where=where)),
            *examples,
            HumanMessage(message)]


def mentioned_in(name: str, source: str) -> bool:
    """Whether ``name`` is said in ``source``: some word of it of three letters or more
    (its first five letters, so plurals and -ing forms match) occurs in the source."""
    text = source.lower()
    words = [w for w in re.findall(r"\w+", name.lower()) if len(w) >= 3]
    return any(w[:5] in text for w in words)


#: Share of a fact's words (other than the user's name) that the message must hold: a
#: fact read from the assistant's words, or invented, shares few of them.
GROUNDED_SHARE = 0.6
MIN_NOTE_WORDS = 3

_SENTENCE = re.compile(r"[^.!?]+[.!?]*")


#: A sentence that starts so supposes or asks; it states nothing about the user.
_SUPPOSING = re.compile(r"^\W*(if|what if|suppose|supposing|imagine|maybe i should|"
                        r"do you think|(can|could|would|should|shall) (i|you|we|it))\b",
                        re.IGNORECASE)


def statements_of(message: str) -> str:
    """The message without its questions and suppositions ("what if I ...", "should I
    ..."): they state nothing about the user."""
    return " ".join(s for s in _SENTENCE.findall(message)
                    if not s.strip().endswith("?") and not _SUPPOSING.match(s))


def said_in(statement: str, source: str, user_name: str, questions: bool = False) -> bool:
    """Whether the message ``source`` says ``statement``: at least ``GROUNDED_SHARE`` of
    the statement's word stems, the user's name aside, occur in its statements (and in its
    questions too with ``questions``: "Can you remember that ...?" asks to remember)."""
    words = set(tokenize(statement)) - set(tokenize(user_name))
    said = set(tokenize(source if questions else statements_of(source)))
    return bool(words) and len(words & said) / len(words) >= GROUNDED_SHARE


def keep_grounded(found: TurnMemories, source: str, user_name: str, assistant_name: str = ""
                  ) -> tuple[TurnMemories, list[str]]:
    """Drop what the message or its photo captions do not say: a small model sometimes
    copies its worked example, or the previous assistant message, into the answer, or
    turns a question into a fact. A fact about the assistant is no fact about the user.
    Returns what was dropped."""
    dropped: list[str] = []
    assistant = set(tokenize(assistant_name))

    def keep(label: str, *names: str) -> bool:
        if any(mentioned_in(name, f"{user_name} {source}") for name in names):
            return True
        dropped.append(label)
        return False

    def stated_about(name: str) -> bool:
        if mentioned_in(name, statements_of(source)):
            return True
        dropped.append(f"{name} (only asked or supposed)")
        return False

    def stated(statement: str, questions: bool = False) -> bool:
        if said_in(statement, source, user_name, questions) and \
                not assistant & set(tokenize(statement)):
            return True
        dropped.append(statement)
        return False

    grounded = found.model_copy(update={
        "facts": [f for f in found.facts if stated(f.statement)
                  and (not f.entities or keep(f.statement, *f.entities))],
        # A note to remember is a statement ("Lia's birthday is June 3"), not a topic.
        "remember": [r for r in found.remember if len(set(tokenize(r))) >= MIN_NOTE_WORDS
                     and stated(r, questions=True)],
        # A like or dislike is stated, not asked or supposed ("what should I drink?").
        "preferences": [p for p in found.preferences
                        if keep(p.entity, p.entity) and stated_about(p.entity)],
        "visual": [v for v in found.visual if keep(v.entity, v.entity, v.description)],
    })
    return grounded, dropped


def write_turn_memories(res: Resources, ctx: Context, turn: WorkTurn, found: TurnMemories,
                        meter: CostMeter, errors: list[str]) -> dict[str, Any]:
    user_id = ctx.user_id
    memory = res.memory
    at = datetime.fromisoformat(turn["at"])
    resolver = EntityResolver(memory, user_id, res.chat, meter, errors,
                              source=" ".join([turn["text"], *turn["captions"]]),
                              excluded=(ctx.display_name, ctx.assistant_name))

    facts: list[tuple[Fact, list[Entity]]] = []

    def add_fact(statement: str, kind: FactKind, entity_names: list[str]) -> None:
        statement = statement.strip()
        if len(statement) < 3:
            return
        entities = resolver.resolve_all(entity_names)
        fact = Fact(id=stable_id(user_id, "fact", turn["id"], kind, statement),
                    user_id=user_id, statement=statement, kind=kind, at=at)
        facts.append((fact, entities))

    for item in found.facts:
        add_fact(item.statement, "fact", item.entities)
    for note in found.remember:
        add_fact(note, "remember", [])
    depicted: list[tuple[str, Entity]] = []
    for concept in found.visual:
        # A concept naming a photo the turn does not have is kept as a fact, unlinked.
        entity = resolver.resolve(concept.entity, concept.kind)
        description = concept.description or concept.entity
        add_fact(f"A photo {ctx.display_name} shared on {at.date().isoformat()} shows "
                 f"{description}.", "visual", [])
        facts[-1][1].append(entity)
        if concept.image <= len(turn["image_ids"]):
            depicted.append((turn["image_ids"][concept.image - 1], entity))
    preference_entities = [(p, resolver.resolve(p.entity, p.kind)) for p in found.preferences
                           if resolver.accepts(p.entity, p.kind)]

    changes = [PreferenceChange(entity.id, pref.likes, pref.reason)
               for pref, entity in preference_entities]
    changes += given_up(memory, user_id, [f.statement for f, _ in facts if f.kind == "fact"],
                        {change.entity_id for change in changes})
    stated = [fact for fact, _ in facts if fact.kind != "visual"]
    settled = reconcile_facts(res, user_id, ctx.display_name, stated, meter, errors)
    kept = {f.id for f in settled.new}
    facts = [(fact, linked) for fact, linked in facts
             if fact.kind == "visual" or fact.id in kept]
    entities = list(resolver.touched())
    with meter.store():
        memory.record_turn_memories(user_id, TurnMemoryWrite(
            turn_id=turn["id"], at=at, entities=entities,
            facts=[LinkedFact(fact, [e.id for e in linked]) for fact, linked in facts],
            restated=[Restatement(fact_id, [turn["id"]]) for fact_id in settled.restated],
            closed=settled.closed,
            depicted=[(image_id, entity.id) for image_id, entity in depicted],
            preferences=changes))
    return {"facts": len(found.facts), "remember": len(found.remember),
            "visual": len(found.visual), "preferences": len(found.preferences),
            "entities": [e.name for e in entities], "not_entities": resolver.rejected,
            "restated": len(settled.restated), "closed": len(settled.closed)}


#: A fact that says the user gave something up ("quit coffee", "no longer eats meat",
#: "no more sweets").
_GIVEN_UP = re.compile(r"\b(quit|quits|stopped|stops|gave up|given up|gives up|no longer|"
                       r"not any ?more|no more|cut out|dropped|can't have|cannot have)\b",
                       re.IGNORECASE)


def given_up(memory: MemoryGraph, user_id: str, statements: list[str],
             already: set[str]) -> list[PreferenceChange]:
    """Preference changes implied by facts: a fact that says the user gave up something
    they like now ends that like, as a dislike from the turn's time (so "likes coffee"
    is not a current preference after "I quit coffee", whatever the model extracted)."""
    quitting = [s for s in statements if _GIVEN_UP.search(s)]
    if not quitting:
        return []
    likes = [e for e in memory.preferences(user_id) if e.type is EdgeType.PREFERS
             and e.target not in already]
    names = memory.preference_names(user_id, likes)
    changes: list[PreferenceChange] = []
    for edge in likes:
        said = next((s for s in quitting if mentioned_in(names[edge.target], s)), None)
        if said is not None and edge.target not in {c.entity_id for c in changes}:
            changes.append(PreferenceChange(edge.target, False, said[:200]))
    return changes


def _previous_assistant_text(res: Resources, ctx: Context, turn: WorkTurn,
                             meter: CostMeter) -> str:
    with meter.store():
        turns = res.memory.session_turns(ctx.user_id, turn["session_id"])
    earlier = [t for t in turns if isinstance(t, Turn) and t.role == "assistant"
               and t.at.isoformat() <= turn["at"] and t.id != turn["id"]]
    return earlier[-1].text if earlier else ""


