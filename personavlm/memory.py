"""``Memory``: a user's long-term memory in a few calls, for apps that run their own
conversation loop (the shape of mem0's API): ``add`` what was said, ``search`` it,
``get_all``, ``update`` (a correction), ``delete`` (forgetting), ``history``, ``users`` and
``profile``. Each call has an ``a``-prefixed async twin.

Without a model it keeps what was said as raw turns, observes the personality from
trait phrases (no model call) and searches everything; with one (``model="offline"``,
the bundled llama.cpp model, or any LangChain chat model) ``add`` also extracts facts,
habits, entities and preferences from what was said, as the agent does after each
reply. Every result is a plain dict (``record``)."""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage

from agent_runtime.background import EXIT_WAIT_SECONDS
from agent_runtime.context import Context
from agent_runtime.cost import CostMeter
from agent_runtime.resources import ResourceProvider, Resources
from memory_graph.backends import BackendName
from memory_graph.embedding import Embedder
from memory_graph.errors import InvalidInputError, UnknownMemoryError
from memory_graph.graph import TurnInput
from memory_graph.schema import (
    Fact,
    Image,
    MemoryWorkState,
    Node,
    NodeLabel,
    Routine,
    Turn,
    stable_id,
    utc_now,
)
from memory_graph.search import RecipeName
from memory_graph.store import TimeWindow
from memory_graph.timeparse import parse_timestamp
from memory_work.forget import forget_memories
from memory_work.in_process import resume
from memory_work.personality import Personality
from memory_work.photos import CaptionProblem, caption_photo, image_node
from memory_work.pipeline import observe_or_report
from memory_work.sync import sync
from memory_work.turns import stored_turn
from providers.images import load_image

#: What a message may be: a text (the user's), a LangChain message, or a dict with a
#: ``role`` ("user"/"human", "assistant"/"ai"; others are skipped) and a ``content``.
Message = str | BaseMessage | dict[str, Any]
#: The labels ``get_all`` lists, raw turns last among equals.
LISTED = (NodeLabel.FACT, NodeLabel.ROUTINE, NodeLabel.EVENT, NodeLabel.ENTITY,
          NodeLabel.IMAGE, NodeLabel.TURN)
_ROLES = {"user": "user", "human": "user", "assistant": "assistant", "ai": "assistant"}
#: Between the turns of one ``add``, so that they keep their order.
_STEP = timedelta(milliseconds=1)


class Memory:
    """Long-term memory of many users in one store (module docstring).

    ``location``: None for the embedded store where the command line keeps it
    (``$PERSONAVLM_DATA/memory``), a folder for an embedded store there, or a server URL
    (``redis://…`` FalkorDB, ``bolt://…`` / ``neo4j://…`` Neo4j). Use it as a context
    manager, or call ``close``."""

    def __init__(self, location: str | Path | None = None, *,
                 model: BaseChatModel | Literal["offline"] | None = None,
                 embedder: Embedder | None = None, search: RecipeName = "hybrid",
                 session_gap_minutes: int = 60) -> None:
        backend, where = _store_of(location)
        self._context = Context(store_backend=backend, store_location=where,
                                extract_memories=model is not None,
                                background_extraction=False, search_recipe=search,
                                session_gap_minutes=session_gap_minutes)
        self._provider = ResourceProvider(
            chat_model=model if isinstance(model, BaseChatModel) else None, embedder=embedder)

    def _resources(self, user_id: str) -> tuple[Resources, Context]:
        context = replace(self._context, user_id=user_id)
        return self._provider.resolve(context), context

    # -- writing --
    def add(self, messages: Message | Sequence[Message], user_id: str, *,
            at: datetime | str | None = None, images: Sequence[Any] | None = None,
            background: bool = False) -> list[dict[str, Any]]:
        """Remember what was said: the messages as turns of the user's conversation (one
        session while they come within the session gap), ``images`` shared with the last
        user message (paths, bytes, base64 or ``{"path"|"base64": ..., "caption": ...}``),
        and with a model what it extracts from them: before returning, or with
        ``background`` on a worker thread (``close`` waits for it). Returns what was
        stored, turns first. The same messages at the same time again are stored once."""
        said = _said(messages)
        if not said:
            raise InvalidInputError("nothing to add: no user or assistant message")
        res, ctx = self._resources(user_id)
        memory = res.memory
        memory.ensure_user(user_id)
        start = parse_timestamp(at) if at is not None else utc_now()
        session_id, _, _ = memory.session_for(
            user_id, start, timedelta(minutes=ctx.session_gap_minutes))
        work: MemoryWorkState = "pending" if ctx.extract_memories else "none"
        turns = [TurnInput(text=text, at=start + number * _STEP, session_id=session_id,
                           role=role, speaker=user_id if role == "user" else "",
                           turn_id=stable_id(user_id, session_id, str(start + number * _STEP),
                                             role, text),
                           memory_work=work if role == "user" else "none", seq=number)
                 for number, (role, text) in enumerate(said)]
        photos = _photos(res, user_id, images, start) if images else []
        shown_with = [t for t in turns if t.role == "user"][-1:] or turns[-1:]
        stored = memory.add_turns(
            user_id, turns, images={shown_with[0].turn_id or "": photos} if photos else None)
        if ctx.extract_memories and background:
            resume(res, ctx)
        elif ctx.extract_memories:
            sync(res, ctx, progress=lambda _: None)
        else:
            errors: list[str] = []
            for turn in stored:
                if turn.role == "user":
                    observe_or_report(res, ctx, stored_turn(memory, turn), CostMeter(), errors)
        kept = [node for t in stored if (node := memory.find(user_id, t.id)) is not None]
        nodes = [*kept, *photos, *memory.derived_from(user_id, [t.id for t in kept])]
        return [record(res, user_id, node) for node in nodes if node.label in LISTED]

    def remember(self, statement: str, user_id: str, *, at: datetime | str | None = None
                 ) -> dict[str, Any]:
        """Keep a statement about the user as a memory as it is (no model): a "remember"
        fact from ``at`` (now by default). The same statement again is one memory."""
        res, _ = self._resources(user_id)
        moment = parse_timestamp(at) if at is not None else None
        fact = res.memory.remember(user_id, statement.strip(), at=moment,
                                   memory_id=stable_id(user_id, "remember", statement.strip()))
        return record(res, user_id, fact)

    def update(self, memory_id: str, text: str, *, user_id: str | None = None
               ) -> dict[str, Any]:
        """Correct a fact or habit: the old one ends now (kept, see ``history``) and the
        returned one holds from now. ``user_id`` spares looking the id up in every user."""
        owner = user_id or self._owner(memory_id)
        res, _ = self._resources(owner)
        return record(res, owner, res.memory.correct(owner, memory_id, text))

    def delete(self, memory_id: str, *, user_id: str | None = None) -> dict[str, int]:
        """Forget a memory, a turn (with its exchange) or a session, with everything
        derived from it, the quotes of it elsewhere and the files of its photos, after the
        owner's queued memory work; returns what was removed, by kind."""
        owner = user_id or self._owner(memory_id)
        res, _ = self._resources(owner)
        res.worker.drain(owner)
        return dict(forget_memories(res, owner, memory_id=memory_id).counts)

    def delete_all(self, user_id: str) -> None:
        """Forget the user, everything they said and their photos, after their queued
        memory work."""
        res, _ = self._resources(user_id)
        res.worker.drain(user_id)
        forget_memories(res, user_id, everything=True)

    # -- reading --
    def search(self, query: str, user_id: str, limit: int = 5,
               as_of: datetime | str | None = None) -> list[dict[str, Any]]:
        """The user's ``limit`` memories most relevant to ``query``, best first, each with
        a ``score`` on 0-1; ``as_of``: only what had happened and still held then."""
        res, _ = self._resources(user_id)
        res.memory.user(user_id)  # an unknown user is an error, not an empty answer
        moment = parse_timestamp(as_of) if as_of is not None else None
        hits = res.search.search(
            user_id, query, k=limit,
            window=TimeWindow(end=moment + _STEP) if moment is not None else None,
            keep=(lambda node: _held_at(node, moment)) if moment is not None else None)
        return [{**record(res, user_id, hit.node), "score": hit.relevance} for hit in hits]

    def get(self, memory_id: str, *, user_id: str | None = None) -> dict[str, Any]:
        owner = user_id or self._owner(memory_id)
        res, _ = self._resources(owner)
        found = res.memory.find(owner, memory_id)
        if found is None or found.label not in LISTED:
            raise UnknownMemoryError(owner, "memory", memory_id)
        return record(res, owner, found)

    def get_all(self, user_id: str) -> list[dict[str, Any]]:
        """Every memory of the user, oldest first: derived memories (those no longer true
        too, with their ``valid_to``) and the raw turns."""
        res, _ = self._resources(user_id)
        res.memory.user(user_id)
        nodes = [node for label in LISTED for node in res.memory.nodes(user_id, label)]
        rows = [record(res, user_id, node) for node in nodes]
        return sorted(rows, key=lambda r: r["valid_from"] or "")

    def history(self, memory_id: str, *, user_id: str | None = None) -> list[dict[str, Any]]:
        """The versions of a memory, oldest first: those it corrected and those that
        corrected it (``update``), itself among them."""
        owner = user_id or self._owner(memory_id)
        res, _ = self._resources(owner)
        versions = res.memory.corrections(owner, memory_id)
        if not versions:
            raise UnknownMemoryError(owner, "memory", memory_id)
        return [record(res, owner, node) for node in versions]

    def users(self) -> list[str]:
        res, _ = self._resources("default-user")
        return res.memory.users()

    def profile(self, user_id: str) -> dict[str, Any]:
        """The user's name, core profile (written by session consolidation) and Big Five
        personality: scores 1-5, in words, and how many messages it rests on."""
        res, _ = self._resources(user_id)
        user = res.memory.user(user_id)
        personality = Personality.latest(res.memory, user_id)
        return {"user_id": user_id, "name": user.name, "profile": user.profile,
                "big_five": {t: round(v, 3) for t, v in personality.scores.items()},
                "personality": personality.describe(),
                "messages_observed": personality.interactions,
                "personality_at": personality.at.isoformat() if personality.at else None}

    def _owner(self, memory_id: str) -> str:
        """The user whose memory ``memory_id`` is (every user is looked in)."""
        res, _ = self._resources("default-user")
        for user_id in res.memory.users():
            if res.memory.find(user_id, memory_id) is not None:
                return user_id
        raise UnknownMemoryError("(any)", "memory", memory_id)

    # -- async twins --
    async def aadd(self, messages: Message | Sequence[Message], user_id: str, *,
                   at: datetime | str | None = None, images: Sequence[Any] | None = None,
                   background: bool = False) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.add, messages, user_id, at=at, images=images,
                                       background=background)

    async def asearch(self, query: str, user_id: str, limit: int = 5,
                      as_of: datetime | str | None = None) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.search, query, user_id, limit, as_of)

    async def aget_all(self, user_id: str) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.get_all, user_id)

    async def aupdate(self, memory_id: str, text: str, *, user_id: str | None = None
                      ) -> dict[str, Any]:
        return await asyncio.to_thread(self.update, memory_id, text, user_id=user_id)

    async def adelete(self, memory_id: str, *, user_id: str | None = None) -> dict[str, int]:
        return await asyncio.to_thread(self.delete, memory_id, user_id=user_id)

    async def ahistory(self, memory_id: str, *, user_id: str | None = None
                       ) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self.history, memory_id, user_id=user_id)

    async def ausers(self) -> list[str]:
        return await asyncio.to_thread(self.users)

    async def aprofile(self, user_id: str) -> dict[str, Any]:
        return await asyncio.to_thread(self.profile, user_id)

    def sync(self, user_id: str) -> dict[str, int]:
        """Run the user's outstanding memory work to the end now (a model's extraction of
        turns still waiting for the rest of their window, sessions to settle); returns
        how much was done or failed."""
        res, ctx = self._resources(user_id)
        if not ctx.extract_memories:
            return {}
        # Work this process queued (``add(background=True)``) is claimed while it runs, and
        # ``sync`` leaves claimed work alone: it is waited for first.
        res.worker.drain(user_id)
        return sync(res, ctx, progress=lambda _: None)

    # -- lifetime --
    def close(self, timeout: float = EXIT_WAIT_SECONDS) -> None:
        """Wait up to ``timeout`` seconds for memory work queued by ``add(background=True)``
        (a warning says so), then close the store. Work not done by then stays recorded
        and resumes at the user's next ``add`` or ``sync``."""
        self._provider.close(timeout)

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()


def record(res: Resources, user_id: str, node: Node) -> dict[str, Any]:
    """A memory as ``Memory`` returns it: ``id``, ``text``, ``kind`` (fact, remember,
    visual, habit, goal, event, entity, image, user turn, assistant turn), ``valid_from``
    (when it happened or began to hold), ``valid_to`` (when it stopped holding; None while
    it holds) and ``source_turns`` (the turns it was learned from)."""
    if isinstance(node, Turn):
        kind, sources = f"{node.role} turn", [node.id]
    else:
        kind = node.kind if isinstance(node, Fact | Routine) else node.label.value.lower()
        sources = res.memory.source_turns(user_id, node.id)
    begins = node.event_time() or node.created_at
    ends = node.valid_to if isinstance(node, Fact | Routine) else None
    text = node.text if isinstance(node, Turn) else \
        node.caption if isinstance(node, Image) else node.search_text()
    return {"id": node.id, "text": text, "kind": kind, "valid_from": begins.isoformat(),
            "valid_to": ends.isoformat() if ends is not None else None,
            "source_turns": sources}


def _held_at(node: Node, moment: datetime) -> bool:
    if isinstance(node, Fact | Routine) and node.valid_to is not None:
        return node.valid_to > moment
    return True


def _store_of(location: str | Path | None) -> tuple[BackendName, str]:
    if location is None:
        return "networkx", ""
    text = str(location)
    if text.startswith(("redis://", "rediss://", "falkordb://")):
        return "falkordb", text
    if text.startswith(("bolt://", "bolt+s://", "neo4j://", "neo4j+s://")):
        return "neo4j", text
    return "networkx", str(Path(text).expanduser())


def _said(messages: Message | Sequence[Message]) -> list[tuple[str, str]]:
    """(role, text) of each user or assistant message with text, in order."""
    items: Sequence[Message] = [messages] if isinstance(messages, str | BaseMessage | dict) \
        else messages
    said = []
    for item in items:
        content: object
        if isinstance(item, str):
            role, content = "user", item
        elif isinstance(item, BaseMessage):
            role, content = item.type, item.content
        elif isinstance(item, dict):
            role, content = str(item.get("role", "user")), item.get("content", "")
        else:
            raise InvalidInputError(f"a message must be a string, a dict or a LangChain "
                                    f"message, not {type(item).__name__}")
        text = content_text(content).strip()
        if role in _ROLES and text:
            said.append((_ROLES[role], text))
    return said


def content_text(content: object) -> str:
    """A message's content as text: a string, or its text parts joined by new lines."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(part if isinstance(part, str) else str(part.get("text", ""))
                         for part in content if isinstance(part, str | dict))
    raise InvalidInputError("a message's content must be text or a list of parts")


def _photos(res: Resources, user_id: str, sources: Sequence[Any], at: datetime
            ) -> list[Image]:
    """The photos as stored images, their files in the media folder. A photo without a
    caption is described by a model that can see; with none, it is kept undescribed
    (found by date, not by what it shows) and a warning says how to caption it."""
    photos = []
    for number, source in enumerate(sources):
        image = load_image(source)
        caption = caption_photo(res, image, CostMeter(), partial(_warn_photo, number + 1))
        path = res.media.save(user_id, image.sha256, image.suffix, image.data)
        photo = image_node(user_id, image, caption, at)
        photo.uri = path.as_uri()
        photos.append(photo)
    return photos


def _warn_photo(number: int, _kind: CaptionProblem, message: str) -> None:
    warnings.warn(f"photo {number}: {message}", stacklevel=4)
