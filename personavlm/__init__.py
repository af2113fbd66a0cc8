"""PersonaVLM on LangGraph: ``from personavlm import Memory`` (a user's long-term memory in
a few calls) and ``PersonaMemoryMiddleware`` (that memory in any LangChain agent). Both
are imported when first named, so the command line starts without them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from personavlm.memory import Memory
    from personavlm.middleware import PersonaMemoryMiddleware

__all__ = ["Memory", "PersonaMemoryMiddleware"]


def __getattr__(name: str) -> Any:
    if name == "Memory":
        from personavlm.memory import Memory
        return Memory
    if name == "PersonaMemoryMiddleware":
        from personavlm.middleware import PersonaMemoryMiddleware
        return PersonaMemoryMiddleware
    raise AttributeError(f"module 'personavlm' has no attribute {name!r}")
