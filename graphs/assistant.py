"""``Assistant``: the agent plus one user's context, for the CLI and for scripts.

It is a thin convenience over ``build_agent(...).invoke(...)``; everything it does goes
through the LangGraph graph or the memory graph API."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from types import TracebackType
from typing import Any, cast

from langchain_core.messages import AIMessage, AIMessageChunk

from agent_runtime.cost import CostMeter
from agent_runtime.resources import ResourceProvider, Resources
from graphs import Context, build_agent
from graphs.agent import Agent
from memory_graph.errors import ConfigurationError
from memory_graph.forgetting import ForgetReport
from memory_graph.schema import Turn
from memory_graph.views import memory_rows, turn_rows
from memory_work.forget import forget_memories
from memory_work.outstanding import work_status
from memory_work.personality import Personality
from memory_work.pipeline import run_session_work
from memory_work.sync import sync as sync_memory_work
from nodes.state import InputState, OutputState

#: What each step of a turn is doing, in words, for progress shown while one runs.
STAGES = {"perceive": "reading the message", "extract_memory": "noting it",
          "retrieve": "searching memories", "infer_personality": "thinking",
          "respond": "answering"}


class Assistant:
    """Use it as a context manager (or call ``close``): closing finishes queued memory work
    and closes the stores, unless the agent and its provider were passed in (then their
    owner closes them)."""

    def __init__(self, context: Context, agent: Agent | None = None,
                 provider: ResourceProvider | None = None) -> None:
        if (agent is None) != (provider is None):
            raise ConfigurationError("pass an agent together with the ResourceProvider it "
                                     "was built with, or neither")
        self.context = context
        self._owns_resources = provider is None
        self.provider = provider or ResourceProvider()
        self.agent = agent or build_agent(provider=self.provider)

    @property
    def resources(self) -> Resources:
        return self.provider.resolve(self.context)

    def warm_up(self) -> None:
        """Start loading the models the first reply needs, in parallel, in the background
        (``ResourceProvider.warm_up``): call it as the process starts, before the user's
        first message."""
        self.provider.warm_up(self.context)

    def close(self) -> None:
        if self._owns_resources:
            self.provider.close()

    def __enter__(self) -> Assistant:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def say(self, text: str, images: list[Any] | None = None, at: str | None = None,
            **overrides: Any) -> OutputState:
        payload, context = self._turn(text, images, at, overrides)
        return cast(OutputState, self.agent.invoke(payload, context=context))

    def say_streaming(self, text: str, on_token: Callable[[str], None],
                      images: list[Any] | None = None, at: str | None = None,
                      on_stage: Callable[[str], None] | None = None,
                      **overrides: Any) -> OutputState:
        """``say``, with the reply's tokens handed to ``on_token`` as the model writes
        them (LangGraph's ``messages`` stream: internal model calls never reach it) and,
        given ``on_stage``, each step's name in words as it starts (``STAGES``)."""
        payload, context = self._turn(text, images, at, overrides)
        final: Any = {}
        for mode, data in cast(Iterator[tuple[str, Any]], self.agent.stream(
                payload, context=context, stream_mode=["messages", "values", "tasks"])):
            if mode == "tasks":
                stage = STAGES.get(str(data.get("name"))) if "input" in data else None
                if stage is not None and on_stage is not None:
                    on_stage(stage)
            elif mode == "messages":
                message = data[0]
                if isinstance(message, AIMessage | AIMessageChunk) and isinstance(
                        message.content, str) and message.content:
                    on_token(message.content)
            elif mode == "values":
                final = data
        return cast(OutputState, final)

    def _turn(self, text: str, images: list[Any] | None, at: str | None,
              overrides: dict[str, Any]) -> tuple[InputState, Context]:
        """The graph input of one turn and the context it runs with."""
        payload: dict[str, Any] = {"text": text, "images": images or []}
        if at:
            payload["at"] = at
        context = replace(self.context, **overrides) if overrides else self.context
        return cast(InputState, payload), context

    def replay(self, text: str, reply: str, at: str, images: list[Any] | None = None,
               reply_speaker: str = "") -> OutputState:
        """Store one historical exchange (extracting memories) without generating."""
        payload = {"text": text, "images": images or [], "at": at, "given_reply": reply,
                   "given_reply_speaker": reply_speaker}
        return cast(OutputState, self.agent.invoke(cast(InputState, payload),
                                                   context=self.context))

    def wait(self) -> None:
        """Block until background memory work of this user is done."""
        self.provider.worker.drain(self.context.user_id)

    def finish_sessions(self) -> dict[str, Any]:
        """Finish the last, still open session (a history ends without a boundary): extract
        its turns still waiting for their window, then consolidate it, as memory work
        (``memory_work.pipeline.run_session_work``: claimed, a failure recorded)."""
        self.wait()
        res = self.resources
        session = res.memory.latest_session(self.context.user_id)
        if session is None or session.summary:
            return {"status": "skipped"}
        errors: list[str] = []
        report = run_session_work(res.in_background(), self.context, session.id, CostMeter(),
                                  errors)
        return {**report, "errors": errors}

    def sync(self, progress: Callable[[str], None] = print) -> dict[str, int]:
        """Run this user's outstanding memory work (pending or failed extraction, finished
        sessions not yet consolidated) to completion (``memory_work.pipeline.sync``)."""
        self.wait()
        return sync_memory_work(self.resources, self.context, progress)

    def status(self) -> dict[str, Any]:
        """The user's memory-work states and failures (``memory_work.outstanding.work_status``)."""
        return work_status(self.resources.memory, self.context,
                           self.resources.worker.pending(self.context.user_id))

    def memories(self, as_of: str | datetime | None = None) -> list[dict[str, Any]]:
        """Derived memories, oldest first; ``as_of`` keeps what was known at that time."""
        return memory_rows(self.resources.memory, self.context.user_id, as_of)

    def personality_trajectory(self) -> list[Personality]:
        history = self.resources.memory.personality_history(self.context.user_id)
        return [Personality.from_snapshot(s) for s in history]

    def forget(self, *, turn_id: str | None = None, session_id: str | None = None,
               everything: bool = False) -> ForgetReport:
        """Forget a turn (with the reply of its exchange), a session or the whole user
        (``memory_work.forget.forget_memories``), after this user's queued memory work."""
        self.wait()
        return forget_memories(self.resources, self.context.user_id, turn_id=turn_id,
                               session_id=session_id, everything=everything)

    def turns(self) -> list[Turn]:
        return self.resources.memory.turns(self.context.user_id)

    def turn_rows(self) -> list[dict[str, Any]]:
        """The user's raw turns (``memory_graph.views.turn_rows``)."""
        return turn_rows(self.resources.memory, self.context.user_id)
