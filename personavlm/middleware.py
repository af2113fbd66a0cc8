"""``PersonaMemoryMiddleware``: PersonaVLM's memory in any LangChain v1 agent
(``langchain.agents.create_agent(model, tools, middleware=[PersonaMemoryMiddleware()])``).

Before each model call it puts the user's memories found for their last message right
before that message, and their personality in words in the system message (for that call
only: nothing of it enters the agent's state or its checkpoints); after the agent's turn
it records the exchange (the user's last message and the agent's final reply) and queues
its memory work on the memory's worker, as the PersonaVLM agent does after a reply. The
user is the run's: the authenticated user on a LangGraph server
(``langgraph_auth_user_id``), else ``user_id`` of the run's context, else of
``configurable``; a run without one gets no memories and records nothing (a warning
says so)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from langchain.agents.middleware import AgentMiddleware, AgentState, ModelRequest, ModelResponse
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage
from langgraph.config import get_config
from langgraph.runtime import Runtime

from agent_memory.tools import AUTH_USER_KEY
from memory_graph.errors import UnknownUserError
from personavlm.memory import Memory, content_text

#: What ``PersonaMemoryMiddleware`` adds before each model call: to the system message,
#: what the memories are and the personality in words (stable from call to call); to the
#: user's last message, the memories found for it, right before it, as the agent's own
#: reply prompt places them (the 1.5B model, given them in the system message, answered
#: that it knew nothing of what they said).
MIDDLEWARE_SYSTEM = """

Memories shown with the user's message come from your earlier conversations with them: \
use them where they bear on the message, and never invent memories. The user's \
personality, inferred from their messages (adapt your tone to it): {personality}"""
MIDDLEWARE_MEMORIES = """[Memories that may be relevant, with dates:
{memories}]

{text}"""

log = logging.getLogger(__name__)


class PersonaMemoryMiddleware(AgentMiddleware):
    """Memories and personality before each model call, the exchange recorded after the
    turn (module docstring). ``memory``: a ``Memory`` (by default the embedded store where
    the command line keeps it, extracting with the bundled offline model); ``limit``:
    how many memories each call is given."""

    def __init__(self, memory: Memory | None = None, *, limit: int = 5) -> None:
        super().__init__()
        self.memory = memory if memory is not None else Memory(model="offline")
        self.limit = limit

    # -- before each model call --
    def wrap_model_call(self, request: ModelRequest,
                        handler: Callable[[ModelRequest], ModelResponse],
                        ) -> ModelResponse:
        return handler(self._with_memories(request))

    async def awrap_model_call(
            self, request: ModelRequest,
            handler: Callable[[ModelRequest], Awaitable[ModelResponse]],
    ) -> ModelResponse:
        return await handler(await asyncio.to_thread(self._with_memories, request))

    def _with_memories(self, request: ModelRequest) -> ModelRequest:
        """The request with the memories before the user's last message and what they
        are, with the personality, in the system message (``nodes.prompts``); the agent's
        state is not changed."""
        user_id = run_user(request.runtime)
        said = _last(request.messages, HumanMessage)
        if user_id is None or said is None:
            return request
        try:
            found = self.memory.search(_text(said), user_id, limit=self.limit)
            personality = self.memory.profile(user_id)["personality"]
        except UnknownUserError:  # nothing remembered of this user yet
            return request
        system = request.system_message
        content = (_text(system) if system is not None else "") + \
            MIDDLEWARE_SYSTEM.format(personality=personality)
        messages = list(request.messages)
        if found:
            lines = "\n".join(f"- {m['valid_from'][:10]}: {m['text']}" for m in found)
            messages[messages.index(said)] = HumanMessage(
                content=MIDDLEWARE_MEMORIES.format(memories=lines, text=_text(said)),
                id=said.id)
        return request.override(system_message=SystemMessage(content=content.lstrip()),
                                messages=messages)

    # -- after the turn --
    def after_agent(self, state: AgentState,
                    runtime: Runtime[Any]) -> dict[str, Any] | None:
        self._record(state["messages"], run_user(runtime))
        return None

    async def aafter_agent(self, state: AgentState,
                           runtime: Runtime[Any]) -> dict[str, Any] | None:
        await asyncio.to_thread(self._record, state["messages"], run_user(runtime))
        return None

    def _record(self, messages: list[AnyMessage], user_id: str | None) -> None:
        """Store the user's last message and the reply after it; queue their memory work."""
        if user_id is None:
            log.warning("PersonaMemoryMiddleware: the run names no user (context or "
                        "configurable user_id); the exchange is not remembered")
            return
        said = _last(messages, HumanMessage)
        if said is None:
            return
        after = messages[messages.index(said) + 1:]
        reply = _last(after, AIMessage)
        exchange = [{"role": "user", "content": _text(said)}]
        if reply is not None and _text(reply).strip():
            exchange.append({"role": "assistant", "content": _text(reply)})
        self.memory.add(exchange, user_id, background=True)


def run_user(runtime: Runtime[Any] | None) -> str | None:
    """The run's user: the server's authenticated user, else the context's ``user_id``,
    else ``configurable``'s."""
    try:
        configurable: Mapping[str, Any] = get_config().get("configurable") or {}
    except RuntimeError:  # outside a run
        configurable = {}
    if configurable.get(AUTH_USER_KEY):
        return str(configurable[AUTH_USER_KEY])
    context = getattr(runtime, "context", None)
    given = context.get("user_id") if isinstance(context, Mapping) else \
        getattr(context, "user_id", None)
    given = given or configurable.get("user_id")
    return str(given) if given else None


def _last(messages: list[AnyMessage], kind: type[AnyMessage]) -> AnyMessage | None:
    return next((m for m in reversed(messages) if isinstance(m, kind)), None)



def _text(message: AnyMessage) -> str:
    return content_text(message.content)
