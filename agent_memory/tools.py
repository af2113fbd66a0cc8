"""Two memory tools any tool-calling LangGraph agent can bind, in the manner of LangMem's
``search_memory`` / ``manage_memory``: ``search_memory`` asks the graph's store (the
``store`` it was compiled or served with: ``MemoryGraphStore`` for the hybrid search over
the user's whole memory) and ``remember`` puts a memory there. Called asynchronously,
they run in LangChain's thread pool (the store's work blocks either way).

The namespace is a template whose ``{placeholders}`` are filled at call time, first from
the authenticated user of a LangGraph server run (``langgraph_auth_user_id``), then from
the run's context (``context={"user_id": ...}``), then from ``configurable``. A model can
never choose them: they are not tool arguments.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, StructuredTool, ToolException
from langgraph.config import get_store
from langgraph.runtime import get_runtime
from langgraph.store.base import BaseStore, SearchItem

from memory_graph.schema import stable_id

AUTH_USER_KEY = "langgraph_auth_user_id"
DEFAULT_SEARCH_NAMESPACE = ("{user_id}",)
DEFAULT_REMEMBER_NAMESPACE = ("{user_id}", "memories")


def create_search_memory_tool(namespace: Sequence[str] = DEFAULT_SEARCH_NAMESPACE, *,
                              store: BaseStore | None = None, limit: int = 5,
                              name: str = "search_memory") -> BaseTool:
    """A tool that searches the memories under ``namespace`` (by default everything the user
    told or asked to keep) and returns the best ``limit``, dated."""

    def search_memory(query: str, config: RunnableConfig) -> tuple[str, list[dict[str, Any]]]:
        items = _store(store).search(_namespace(namespace, config), query=query, limit=limit)
        return _listing(items), [item.dict() for item in items]

    return StructuredTool.from_function(
        search_memory, name=name,
        response_format="content_and_artifact",
        description="Search the user's long-term memory (what they told you in earlier "
                    "conversations, and what you were asked to remember). Use it before "
                    "answering anything that depends on the user's past, preferences or "
                    "plans. `query`: what to look for, in a few words.")


def create_remember_tool(namespace: Sequence[str] = DEFAULT_REMEMBER_NAMESPACE, *,
                         store: BaseStore | None = None, name: str = "remember") -> BaseTool:
    """A tool that keeps one memory under ``namespace``; the same text again is one memory."""

    def remember(content: str, config: RunnableConfig) -> str:
        where = _namespace(namespace, config)
        key = stable_id(*where, content.strip())
        _store(store).put(where, key, {"content": content})
        return f"Remembered (key {key})."

    return StructuredTool.from_function(
        remember, name=name,
        description="Keep something about the user in long-term memory, for later "
                    "conversations: a fact, preference, plan or anything they asked you to "
                    "remember. `content`: one self-contained statement.")


def _store(given: BaseStore | None) -> BaseStore:
    if given is not None:
        return given
    try:
        return get_store()
    except RuntimeError as exc:
        raise ToolException("no store: compile the graph with store=... or pass store= "
                            "to the tool") from exc


def _namespace(template: Sequence[str], config: RunnableConfig) -> tuple[str, ...]:
    values = _template_values(config)
    filled = []
    for part in template:
        names = [field for _, field, _, _ in string.Formatter().parse(part) if field]
        missing = [n for n in names if not values.get(n)]
        if missing:
            raise ToolException(f"the memory namespace needs {', '.join(missing)}: give it "
                                "in the run's context or configurable")
        filled.append(part.format_map(values))
    return tuple(filled)


def _template_values(config: RunnableConfig) -> dict[str, str]:
    """Placeholder values, the most trusted last so that it wins."""
    values: dict[str, str] = {}
    configurable: Mapping[str, Any] = config.get("configurable") or {}
    values.update({k: str(v) for k, v in configurable.items() if isinstance(v, str | int)})
    context = _run_context()
    values.update({k: str(v) for k, v in context.items() if isinstance(v, str | int)})
    if configurable.get(AUTH_USER_KEY):
        values["user_id"] = str(configurable[AUTH_USER_KEY])
    return values


def _run_context() -> Mapping[str, Any]:
    try:
        context = getattr(get_runtime(), "context", None)
    except RuntimeError:  # called outside a graph run
        return {}
    if context is None:
        return {}
    if isinstance(context, Mapping):
        return context
    return {k: getattr(context, k) for k in dir(context)
            if not k.startswith("_") and not callable(getattr(context, k))}


def _listing(items: Sequence[SearchItem]) -> str:
    if not items:
        return "No memories found."
    lines = []
    for item in items:
        content = item.value.get("content") if isinstance(item.value, Mapping) else None
        date = item.value.get("date") or item.updated_at.date().isoformat()
        lines.append(f"- [{str(date)[:10]}] {content or item.value} (key {item.key})")
    return "\n".join(lines)
