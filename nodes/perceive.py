"""perceive: validate and normalise the turn, detect the session, store the raw turn and
its images (described by the chat model when it has vision), and snapshot the context the
rest of the turn uses. Everything is validated before anything is written."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from langchain_core.messages import AnyMessage, HumanMessage, RemoveMessage
from langgraph.runtime import Runtime
from langgraph.types import Overwrite

from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider, Resources
from memory_graph.errors import InvalidInputError
from memory_graph.graph import MAX_TURN_CHARS, TurnInput
from memory_graph.schema import EdgeType, Image, Turn, stable_id, utc_now
from memory_graph.text import check_unicode
from memory_graph.timeparse import parse_timestamp
from memory_work.personality import Personality
from memory_work.photos import caption_photo, image_node
from nodes.chat_messages import pending_user_message, thread_turns, unanswered
from nodes.node_run import NodeRun
from nodes.state import (
    Background,
    GivenReply,
    MediaRef,
    State,
    TurnInfo,
)
from providers.images import LoadedImage, load_image

MAX_IMAGES_PER_TURN = 8
MAX_PREFERENCES_IN_PROMPT = 8


@dataclass(frozen=True)
class SaidTurn:
    """The turn as the run gives it, validated: nothing is written before all of it is."""
    text: str
    images: list[LoadedImage]
    at: datetime
    replay: GivenReply | None
    thread: list[AnyMessage]
    """The thread's messages, without those an earlier failed run left unanswered."""
    left_unanswered: set[str]
    as_message: bool
    """Said as the thread's last message (not as ``text`` or ``images``)."""


def perceive(state: State, runtime: Runtime[Context], *, provider: ResourceProvider
             ) -> dict[str, Any]:
    """Its update is a plain dict: it resets the channels with reducers (``Overwrite``),
    which the state's types do not admit."""
    run = NodeRun.start(provider, runtime)
    said = read_turn(state, provider.policy.image_paths_allowed)
    ctx, res, meter = run.ctx, run.res, run.meter
    run.errors_of("memory_work", res.worker.take_failures(ctx.user_id))
    with meter.store():
        if ctx.update_memory:
            res.memory.ensure_user(ctx.user_id, ctx.user_name)
        session_id, new_session, last = res.memory.session_for(
            ctx.user_id, said.at, timedelta(minutes=ctx.session_gap_minutes))
    captions = [caption_photo(res, image, meter, run.error) for image in said.images]
    turn_id = stable_id(ctx.user_id, session_id, said.at.isoformat(), said.text,
                        *(i.sha256 for i in said.images))
    image_nodes = [image_node(ctx.user_id, image, caption, said.at)
                   for image, caption in zip(said.images, captions, strict=True)]
    media = save_media(res, ctx, said.images, image_nodes)
    # A thread is a conversation: when it has one, its messages are the recent turns;
    # otherwise they are the session's turns in the store.
    conversation = thread_turns(said.thread, said.as_message, ctx.recent_turns)
    with meter.store():
        recent = (recent_turns(res, ctx, last.id)
                  if not conversation and not new_session and last is not None else [])
        if ctx.update_memory:
            store_turn(run, said, turn_id, session_id, image_nodes)
        background = snapshot_background(res, ctx, recent)
        personality = Personality.latest(res.memory, ctx.user_id)
    if conversation:
        background["recent"] = conversation
    res.worker.begin_reply(ctx.user_id)  # ended by respond
    turn: TurnInfo = {
        "id": turn_id, "session_id": session_id, "at": said.at.isoformat(),
        "text": said.text, "speaker": ctx.display_name,
        "image_ids": [n.id for n in image_nodes], "captions": captions, "media": media,
        "new_session": new_session,
        "previous_session_id": last.id if new_session and last is not None else None,
        "stored": ctx.update_memory,
    }
    # A new turn: the channels with reducers start again, not from the last turn.
    # Given as text, the turn joins the thread's messages too (as messages, it is there).
    joins = [] if said.as_message else [HumanMessage(content=said.text or "[photo]")]
    return {"turn": turn, "replay": said.replay, "background": background,
            "memories": Overwrite([]),
            "messages": [*(RemoveMessage(id=i) for i in said.left_unanswered), *joins],
            "retrieval": {"round": 0, "queries": [], "next": "retrieve"},
            "personality": personality.as_dict(), "extraction": {}, "reply": "",
            "cost": Overwrite(meter.as_dict()), "errors": Overwrite(run.errors)}


def read_turn(state: State, allow_paths: bool) -> SaidTurn:
    """The run's turn, validated (``InvalidInputError`` for what is wrong with it)."""
    text = state.get("text") or ""
    sources = state.get("images") or []
    thread = state.get("messages") or []
    # Given text or images, the turn is not a message: no message of the thread is
    # read (one a failed run left may not even parse, and is removed by perceive).
    from_messages = None if text or sources else pending_user_message(thread)
    if from_messages is not None:
        text, sources = from_messages
    left_unanswered = unanswered(thread, from_messages is not None)
    if not isinstance(text, str):
        raise InvalidInputError("text must be a string")
    text = text.strip()
    if len(text) > MAX_TURN_CHARS:
        raise InvalidInputError(f"the message has {len(text)} characters; the limit is "
                                f"{MAX_TURN_CHARS}")
    check_unicode(text, "the message")
    replay = given_reply(state)
    if replay is not None:
        check_unicode(replay["text"], "the given reply")
        check_unicode(replay["speaker"], "the given reply's speaker")
    if len(sources) > MAX_IMAGES_PER_TURN:
        raise InvalidInputError(f"at most {MAX_IMAGES_PER_TURN} images per turn")
    images = [load_image(source, allow_paths=allow_paths) for source in sources]
    for image in images:
        check_unicode(image.caption, "a photo's caption")
    if not text and not images:
        raise InvalidInputError("a turn needs text or at least one image")
    at = parse_timestamp(state["at"]) if state.get("at") else utc_now()
    return SaidTurn(text=text, images=images, at=at, replay=replay,
                    thread=[m for m in thread if m.id not in left_unanswered],
                    left_unanswered=left_unanswered, as_message=from_messages is not None)


def store_turn(run: NodeRun, said: SaidTurn, turn_id: str, session_id: str,
               image_nodes: list[Image]) -> None:
    """Store the user's turn with its photos, unanswered until respond stores the reply;
    first remove what earlier runs left unanswered."""
    ctx, memory = run.ctx, run.res.memory
    run.errors_of("unanswered", remove_unanswered(run.res, ctx.user_id))
    memory.add_turns(ctx.user_id, [TurnInput(
        text=said.text or "[photo]", at=said.at, session_id=session_id, role="user",
        speaker=ctx.display_name, turn_id=turn_id, answered=False,
        memory_work="pending" if ctx.extract_memories else "none",
        image_captions=[n.caption or "a photo" for n in image_nodes])],
        images={turn_id: image_nodes})


def save_media(res: Resources, ctx: Context, images: list[LoadedImage],
               image_nodes: list[Image]) -> list[MediaRef]:
    """Put the turn's photos in the media store, where the nodes after perceive read
    them. A photo of a turn that is not stored is removed after the reply, unless a
    stored image already had it."""
    refs: list[MediaRef] = []
    for image, node in zip(images, image_nodes, strict=True):
        existed = res.media.path(ctx.user_id, image.sha256, image.suffix).exists()
        path = res.media.save(ctx.user_id, image.sha256, image.suffix, image.data)
        node.uri = path.as_uri()
        refs.append({"image_id": node.id, "sha256": image.sha256, "suffix": image.suffix,
                     "mime": image.mime, "transient": not ctx.update_memory and not existed})
    return refs


def given_reply(state: State) -> GivenReply | None:
    """The reply given with the turn (replaying a history), None when there is none."""
    text, speaker = state.get("given_reply"), state.get("given_reply_speaker")
    if text is None:
        return None
    if not isinstance(text, str) or not isinstance(speaker, str | None):
        raise InvalidInputError("a given reply and its speaker must be strings")
    return {"text": text, "speaker": speaker or ""}


def remove_unanswered(res: Resources, user_id: str) -> list[str]:
    """Remove whole the exchanges an earlier run stored but never answered (it failed or
    was killed before the reply was written), unless a reply of this user is in progress
    in this process. Returns what was removed, for the turn's ``errors``."""
    if res.worker.replying(user_id):
        return []
    removed = []
    for turn in res.memory.unanswered_turns(user_id):
        res.memory.drop_exchange(user_id, turn.id)
        removed.append(f"an earlier message ({turn.at.isoformat()}: {turn.text[:60]!r}) got "
                       "no reply and was removed whole")
    return removed


def recent_turns(res: Resources, ctx: Context, session_id: str) -> list[Turn]:
    """The turns of the session quoted verbatim in the reply prompt."""
    return res.memory.session_turns(ctx.user_id, session_id)[-ctx.recent_turns:]


def snapshot_background(res: Resources, ctx: Context, recent: list[Turn]) -> Background:
    """The user's profile and preferences as the reply prompt shows them, and the recent
    turns."""
    memory = res.memory
    user = memory.user(ctx.user_id)
    preferences = memory.preferences(ctx.user_id)[-MAX_PREFERENCES_IN_PROMPT:]
    names = memory.preference_names(ctx.user_id, preferences)
    lines = []
    for edge in preferences:
        name = names[edge.target]
        verb = "likes" if edge.type is EdgeType.PREFERS else "dislikes"
        since = edge.valid_from.date().isoformat() if edge.valid_from else "?"
        reason = f" ({edge.reason})" if edge.reason else ""
        lines.append(f"- {verb} {name}{reason}, since {since}")
    return {
        "profile": user.profile or "(nothing yet)",
        "preferences": "\n".join(lines) or "(none known yet)",
        "recent": [{"role": t.role, "text": t.text, "at": t.at.isoformat(), "id": t.id}
                   for t in recent],
    }
