"""Entity resolution against the user's graph: names that are no entity are set aside
(``memory_work.entity_names``), then a deterministic name/alias match, then, only for names left
over that resemble a known entity, one model question."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage

from agent_runtime.cost import CostMeter
from agent_runtime.structured import StructuredOutputError, call_structured
from memory_graph.graph import MemoryGraph
from memory_graph.schema import Entity, stable_id
from memory_work.entity_names import junk_reason
from memory_work.model_outputs import EntityMatch
from memory_work.prompts import ENTITY_MATCH, ENTITY_MATCH_SHAPE

#: Cosine similarity above which an unmatched name is worth asking the model about.
ASK_MODEL_SIMILARITY = 0.75
_ARTICLES = re.compile(r"^(the|a|an|my|our|his|her|their)\s+")


def normalise_name(name: str) -> str:
    cleaned = re.sub(r"[^\w\s'-]", " ", name.lower()).strip()
    cleaned = _ARTICLES.sub("", re.sub(r"\s+", " ", cleaned))
    return cleaned


class EntityResolver:
    """Maps names mentioned in one turn to Entity nodes, existing or new (not yet stored)."""

    def __init__(self, memory: MemoryGraph, user_id: str, chat: BaseChatModel | None,
                 meter: CostMeter, errors: list[str], *, source: str = "",
                 excluded: Sequence[str] = ()) -> None:
        """``source`` is the text the names come from; ``excluded`` the names that are
        never the user's entities (the assistant's, the user's own)."""
        self.memory = memory
        self.user_id = user_id
        self.chat = chat
        self.meter = meter
        self.errors = errors
        self._known: dict[str, Entity] | None = None
        self.resolved: dict[str, Entity] = {}
        self.source = source
        self.excluded = tuple(excluded)
        #: Names set aside as no entity, with the reason.
        self.rejected: dict[str, str] = {}

    def resolve_all(self, names: Iterable[str], kind: str = "other") -> list[Entity]:
        """The entities of the ``names`` that are entities (see ``entity_names``)."""
        return [self.resolve(n, kind) for n in names if self.accepts(n, kind)]

    def accepts(self, name: str, kind: str = "other") -> bool:
        reason = "empty" if not normalise_name(name) else \
            junk_reason(name, kind, self.source, self.excluded)
        if reason:
            self.rejected[name] = reason
        return not reason

    def _index(self) -> dict[str, Entity]:
        if self._known is None:
            self._known = {}
            with self.meter.store():
                entities = self.memory.entities(self.user_id)
            for entity in entities:
                for name in (entity.name, *entity.aliases):
                    self._known.setdefault(normalise_name(name), entity)
        return self._known

    def resolve(self, name: str, kind: str = "other") -> Entity:
        key = normalise_name(name)
        if not key:
            raise ValueError(f"entity name {name!r} is empty after normalisation")
        if key in self.resolved:
            return self.resolved[key]
        entity = self._index().get(key) or self._ask_model(name, kind)
        if entity is None:
            entity = Entity(id=stable_id(self.user_id, "entity", key), user_id=self.user_id,
                            name=name.strip()[:200], kind=kind)
        elif normalise_name(entity.name) != key and name not in entity.aliases:
            entity = entity.model_copy(update={"aliases": [*entity.aliases, name.strip()],
                                               "embedding": None})
        if entity.kind in ("other", "thing") and kind not in ("other", "thing"):
            entity = entity.model_copy(update={"kind": kind, "embedding": None})
        self.resolved[key] = entity
        self._index()[key] = entity
        return entity

    def _ask_model(self, name: str, kind: str) -> Entity | None:
        if self.chat is None or not self._index():
            return None
        with self.meter.store():
            similar = self.memory.similar_entities(self.user_id, name, 3)
        candidates = [entity for entity, score in similar if score >= ASK_MODEL_SIMILARITY]
        if not candidates:
            return None
        listing = "; ".join(f"{c.name} ({c.kind})" for c in candidates)
        prompt = ENTITY_MATCH.format(candidates=listing, name=name, kind=kind)
        try:
            match = call_structured(self.chat, [HumanMessage(prompt)], EntityMatch, self.meter,
                                    "resolve_entity", shape=ENTITY_MATCH_SHAPE,
                                    max_tokens=40)
        except StructuredOutputError as exc:
            self.errors.append(str(exc))
            return None
        if match.same_as is None:
            return None
        wanted = normalise_name(match.same_as)
        return next((c for c in candidates if normalise_name(c.name) == wanted), None)

    def touched(self) -> Sequence[Entity]:
        return list({e.id: e for e in self.resolved.values()}.values())
