"""Warm the next reply while the user is idle: after a generated reply, the background
worker builds the stable start of the next turn's reply prompt (system prompt with the
profile and personality as they stand after this turn's memory work, and the session's
recent turns) and has a local model evaluate it into its prompt cache. The next reply
then only pays for its memories and message. If the next message starts a new session
the warmed system prompt is still its prefix; if it arrives during the prefill, the
prefill stops and the reply goes first. When the context already holds all but a few
tokens of the prefix (a session's recent turns grew by one exchange), nothing is
evaluated."""

from __future__ import annotations

from functools import partial
from typing import Protocol, runtime_checkable

from langchain_core.messages import BaseMessage

from agent_runtime.context import Context
from agent_runtime.resources import Resources
from memory_work.personality import Personality
from nodes.perceive import recent_turns, snapshot_background
from nodes.reply_prompt import reply_prefix
from providers.llamacpp import PrefillOutcome


@runtime_checkable
class PrefixCache(Protocol):
    """A chat model that can evaluate a prompt prefix ahead of time (``ChatLlamaCpp``)."""

    def prefill(self, messages: list[BaseMessage]) -> PrefillOutcome: ...


def submit_warm_prefix(res: Resources, ctx: Context, session_id: str) -> None:
    """Queue the prefill behind this turn's memory work; a no-op for other models."""
    if isinstance(res.chat, PrefixCache):
        res.worker.submit(ctx.user_id, "warm_reply_prefix",
                          partial(warm_reply_prefix, res.chat, res.in_background(), ctx,
                                  session_id))


def warm_reply_prefix(cache: PrefixCache, res: Resources, ctx: Context, session_id: str
                      ) -> PrefillOutcome:
    background = snapshot_background(res, ctx, recent_turns(res, ctx, session_id))
    personality = Personality.latest(res.memory, ctx.user_id).as_dict()
    return cache.prefill(reply_prefix(background, personality, ctx))
