"""The reply prompt, shared by the retrieval decision and the reply itself.

Both calls send the same messages up to the user's text (the decision only appends its
question), so a local model reuses its prompt cache and pays for the memories once."""

from __future__ import annotations

import base64
import re
from datetime import datetime
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from agent_runtime.context import Context
from memory_graph.media import MediaStore
from memory_graph.relative_dates import day_text, resolve_relative_dates
from memory_graph.schema import EdgeType, Entity
from memory_graph.search import MemoryHit
from memory_graph.text import tokenize
from memory_graph.views import describe_node
from memory_work.personality import Personality, PersonalityEstimate
from nodes.prompts import (
    ANSWER_FORM,
    ANSWER_HINT,
    CHAT_HINT,
    MEMORY_BLOCK,
    PROFILE_LINE,
    REMEMBER_HINT,
    REPLY_SYSTEM,
)
from nodes.state import Background, RetrievedMemory, State, TurnInfo

MAX_MEMORY_CHARS = 320
MAX_RECENT_CHARS = 600


def render_hit(hit: MemoryHit, preference_notes: dict[str, str]) -> str:
    """One memory line: its date, then its text with relative dates ("yesterday")
    resolved against that date."""
    node = hit.node
    when = day_text(hit.date) if hit.date else "undated"
    text = describe_node(node)
    if hit.date:
        text = resolve_relative_dates(text, hit.date)
    if isinstance(node, Entity) and node.id in preference_notes:
        text += f"; {preference_notes[node.id]}"
    return f"[{when}] {text}"[:MAX_MEMORY_CHARS]


def preference_notes(edges: list[Any]) -> dict[str, str]:
    notes: dict[str, list[str]] = {}
    for edge in edges:
        verb = "liked" if edge.type is EdgeType.PREFERS else "disliked"
        start = edge.valid_from.date().isoformat() if edge.valid_from else "?"
        span = f"from {start}" + (f" to {edge.valid_to.date().isoformat()}"
                                  if edge.valid_to else " on (current)")
        notes.setdefault(edge.target, []).append(f"user {verb} it {span}")
    return {target: "; ".join(items) for target, items in notes.items()}


def reply_prefix(background: Background, personality: PersonalityEstimate | None, ctx: Context,
                 replies: bool = True) -> list[BaseMessage]:
    """The stable part of the reply prompt: system prompt (profile, personality) and the
    session's recent turns, the assistant's replies among them unless ``replies`` is
    false. ``nodes.warm_prefix`` prefills it for the next turn."""
    persona = personality if ctx.use_personality else None
    profile = (PROFILE_LINE.format(user=ctx.display_name, profile=background["profile"])
               if ctx.use_profile else "")
    system = REPLY_SYSTEM.format(
        assistant=ctx.assistant_name, user=ctx.display_name, profile=profile,
        personality=(persona and persona["description"]) or Personality.neutral().describe())
    messages: list[BaseMessage] = [SystemMessage(system)]
    for item in background["recent"]:
        if item["role"] == "assistant" and not replies:
            continue
        content = str(item["text"])[:MAX_RECENT_CHARS]
        messages.append(AIMessage(content) if item["role"] == "assistant"
                        else HumanMessage(content))
    return messages


def attached_images(media: MediaStore, user_id: str, turn: TurnInfo) -> list[dict[str, Any]]:
    """The turn's photos as content blocks, read from the media store by id."""
    return [{"type": "image", "mime_type": ref["mime"],
             "base64": base64.b64encode(media.load(user_id, ref["sha256"], ref["suffix"]))
             .decode("ascii")} for ref in turn["media"]]


def reply_messages(state: State, ctx: Context, images: list[dict[str, Any]] | None = None,
                   hint: bool = True) -> list[BaseMessage]:
    """The reply prompt; ``images`` (``attached_images``) for a model that can see them.
    ``hint`` ends it with how to reply (the retrieval decision asks its own question)."""
    background = state["background"]
    turn = state["turn"]
    # A question is answered from what the user said: the assistant's own earlier replies
    # are left out (served, a first reply that said "I'm <user>, and this is my cat <pet>"
    # made the next answer "Your cat is called <user>").
    messages = reply_prefix(background, state["personality"], ctx,
                            replies=not is_question(turn["text"] or ""))
    memories = state.get("memories") or []
    listing = "\n".join(f"- {m['text']}" for m in memories) or "- (nothing relevant found)"
    for subject in unmentioned_in_prompt(state, ctx):
        listing += f"\n- (Nothing {ctx.display_name} told you mentions their {subject}.)"
    photos = "".join(f"\n[attached photo {i}: {c or 'no description'}]"
                     for i, c in enumerate(turn["captions"], 1))
    at = datetime.fromisoformat(turn["at"])
    text = MEMORY_BLOCK.format(memories=listing, user=ctx.display_name,
                               preferences=background["preferences"],
                               now=at.strftime("%Y-%m-%d %H:%M (%A)"),
                               text=(turn["text"] or "") + photos)
    if hint:
        text += reply_hint(turn["text"] or "", ctx.display_name, ctx.answer_format)
    if images:
        messages.append(HumanMessage(content=[{"type": "text", "text": text}, *images]))
    else:
        messages.append(HumanMessage(text))
    return messages


_QUESTION_START = re.compile(r"^\s*(what|when|where|who|whom|whose|which|why|how|do|does|did|"
                             r"is|are|was|were|can|could|would|will|have|has|had)\b",
                             re.IGNORECASE)


#: A question after someone's name or identity ("what's my X's name?", "who is my X?").
_ASKS_A_NAME = re.compile(r"\b(name|names|called|named|who|whom)\b", re.IGNORECASE)
#: "my" and up to three words after it, up to a possessive or the question's verb.
_MY_SUBJECT = re.compile(r"\bmy ((?:[\w-]+ ){0,2}?[\w-]+?)(?:'s\b|\s+(?:called|named|name|"
                         r"now|is|was|are|were|again|do|does|did)\b|\W*$|\?)", re.IGNORECASE)


def unmentioned_subjects(text: str, known: list[str]) -> list[str]:
    """What a question after a name asks about ("my brother" in "What's my brother's
    name?") that nothing the prompt holds mentions: the prompt then says so, because a
    small model asked a name it was never told takes one from another part of the
    history."""
    if not is_question(text) or not _ASKS_A_NAME.search(text):
        return []
    said = set(tokenize(" ".join(known)))
    subjects = dict.fromkeys(m.lower() for m in _MY_SUBJECT.findall(text))
    # A subject counts as mentioned when any of its words was ("my original restaurant"
    # is mentioned where the restaurant is).
    return [s for s in subjects if tokenize(s) and not set(tokenize(s)) & said]


def unmentioned_in_prompt(state: State, ctx: Context) -> list[str]:
    """``unmentioned_subjects`` of the turn against what the reply prompt holds: the
    memories shown, the recent turns, the profile (when shown) and the preferences."""
    background = state["background"]
    known = [m["text"] for m in state.get("memories") or []] + [
        str(t["text"]) for t in background["recent"]] + [str(background["preferences"])]
    if ctx.use_profile:
        known.append(str(background["profile"]))
    return unmentioned_subjects(state["turn"]["text"] or "", known)


_REMEMBER = re.compile(r"\b(remember|don't forget|do not forget|remind me)\b", re.IGNORECASE)


def reply_hint(text: str, user: str, answer_format: str = "") -> str:
    """How to reply to ``text``: a request to remember is acknowledged, a question answered
    in ``answer_format`` (default: one short sentence that starts with the answer),
    anything else answered warmly."""
    if _REMEMBER.search(text) and not text.rstrip().endswith("?"):
        return REMEMBER_HINT.format(user=user)
    if is_question(text):
        return ANSWER_HINT.format(form=answer_format.strip().rstrip(".") or ANSWER_FORM)
    return CHAT_HINT


def is_question(text: str) -> bool:
    """Whether the message asks something (a question mark, or a question word first)."""
    return "?" in text or bool(_QUESTION_START.match(text))


def memory_record(hit: MemoryHit, text: str, round_number: int, query: str
                  ) -> RetrievedMemory:
    return {"id": hit.node.id, "label": hit.label.value, "text": text,
            "content": text.partition("] ")[2] if text.startswith("[") else text,
            "date": hit.date.isoformat() if hit.date else None, "session_id": hit.session_id,
            "provenance": list(hit.provenance), "score": round(float(hit.score), 4),
            "round": round_number, "query": query,
            "found_by": sorted(signal for signal in hit.signals if signal != "rerank")}
