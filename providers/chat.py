"""Chat models by provider name. Any LangChain ``BaseChatModel`` can be used instead."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import SecretStr

from memory_graph.errors import ConfigurationError

if TYPE_CHECKING:  # the provider names are read by commands that never load a model
    from langchain_core.language_models import BaseChatModel

ChatProviderName = Literal["llamacpp", "hf", "openai"]
CHAT_PROVIDERS: tuple[ChatProviderName, ...] = get_args(ChatProviderName)


def make_chat_model(provider: str = "llamacpp", model: str = "", base_url: str = "",
                    **options: Any) -> BaseChatModel:
    """``llamacpp``: ``model`` is a GGUF path (default: the bundled offline model).
    ``hf``: a local transformers VLM directory. ``openai``: a model name served at
    ``base_url`` (or ``$OPENAI_BASE_URL``), key from ``$OPENAI_API_KEY`` if set."""
    if provider == "llamacpp":
        from providers.gguf import default_gguf_path
        from providers.llamacpp import ChatLlamaCpp

        return ChatLlamaCpp(model_path=model or str(default_gguf_path()), **options)
    if provider == "hf":
        from providers.hf import ChatHFVision

        if not model:
            raise ConfigurationError("the hf provider needs a local model directory "
                                     "(chat_model)")
        return ChatHFVision(model_path=model, **options)
    if provider == "openai":
        from providers.openai_compat import ChatOpenAICompatible

        url = base_url or os.environ.get("OPENAI_BASE_URL", "")
        return ChatOpenAICompatible(
            model=model or "default", base_url=url or None,
            api_key=SecretStr(os.environ.get("OPENAI_API_KEY", "not-needed")), **options)
    raise ConfigurationError(f"unknown chat provider {provider!r}; choose one of "
                     f"{', '.join(CHAT_PROVIDERS)}")


def supports_vision(model: BaseChatModel) -> bool:
    """Whether images are sent to the model. Our providers declare it; a model passed in
    from Python may set ``supports_vision`` itself. Unknown models get text only."""
    return bool(getattr(model, "supports_vision", False))
