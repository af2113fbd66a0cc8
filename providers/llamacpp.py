"""``ChatLlamaCpp``: a LangChain chat model over a local GGUF file (llama-cpp-python).

``Llama`` contexts share one loaded model (``another_context``): one for the replies the
user waits for, one for background memory work, and one more per ``cache_slot`` that
memory work asks for (extraction repeats the same worked examples every turn), so none
evicts another's prompt cache.
A ``ComputeGate`` runs one call at a time and lets replies jump the queue; the background
context evaluates tokens in small chunks and steps aside between them when a reply is
waiting (its KV cache stays put, so the paused call resumes where it stopped).
``prefill`` evaluates a prompt prefix into the reply context ahead of time (the next turn's
system prompt and recent turns, while the user is idle); it runs at background priority,
is abandoned between chunks as soon as a reply is waiting, and is skipped when the context
already holds all but a few tokens of it.
JSON-schema-constrained decoding (a llama.cpp grammar) is available with
``model.bind(json_schema=...)``; ``bind_tools`` calls tools through it
(``providers.llamacpp_tools``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, Literal

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import Field, PrivateAttr

from providers.gate import PRIORITY_DESCRIPTION, ComputeGate, Priority
from providers.llama_runtime import another_context, import_llama_cpp, load_llama
from providers.llamacpp_tools import calls_tools, parsed_reply, tool_schema, with_tools
from providers.messages import to_openai_messages


def _usage(prompt_tokens: int, completion_tokens: int) -> UsageMetadata:
    return {"input_tokens": prompt_tokens, "output_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens}


class PrefillInterrupted(Exception):
    """A reply is waiting for the context a prefill is filling."""


class PrefillNotNeeded(Exception):
    """The context holds all but a few tokens of the prefix a prefill was asked for."""


#: What a prefill did: evaluated the prefix, found it (nearly) all in the context already,
#: or gave way to a waiting reply.
PrefillOutcome = Literal["warmed", "not needed", "abandoned"]
#: A prefill is skipped when fewer tokens than this are missing from the context: the
#: reply evaluates them in about a second (about 90 prompt tokens/s on two cores), and the
#: prefill would spend that time in the background for no gain.
PREFILL_MIN_TOKENS = 96


class ChatLlamaCpp(BaseChatModel):
    model_path: str = Field(description="GGUF file to load.")
    n_ctx: int = 8192
    n_threads: int | None = None
    max_tokens: int = 512
    temperature: float = 0.1
    seed: int = 7
    priority: Priority = Field(default="reply", description=PRIORITY_DESCRIPTION)
    cache_slot: str = Field(default="", description=(
        "Background calls with a slot name use a llama.cpp context of their own, so a "
        "prompt prefix they repeat stays cached between them."))
    #: Structured output through llama.cpp grammars (see ``agent_runtime.structured``).
    supports_json_schema: bool = True
    supports_vision: bool = False

    _contexts: dict[str, Any] = PrivateAttr(default_factory=dict)
    _load_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)
    _gate: ComputeGate = PrivateAttr(default_factory=ComputeGate)

    @property
    def _llm_type(self) -> str:
        return "llamacpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {"model_path": self.model_path, "n_ctx": self.n_ctx}

    def _context(self, background: bool, slot: str = "") -> Any:
        key = f"background:{slot}" if background else "reply"
        with self._load_lock:
            llm = self._contexts.get(key)
            if llm is None:
                if not Path(self.model_path).is_file():
                    raise FileNotFoundError(f"GGUF model {self.model_path} does not exist")
                llama = import_llama_cpp().Llama
                kind = (_chunked_llama(llama, self._gate.yield_to_foreground) if background
                        else _chunked_llama(llama, partial(_stop_if_reply_waiting, self._gate)))
                loaded = next(iter(self._contexts.values()), None)
                llm = (another_context(loaded, kind) if loaded is not None else
                       load_llama(self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads,
                                  seed=self.seed, llama_class=kind))
                # The reply context is chunked only while ``prefill`` runs on it.
                llm.chunking = background
                self._contexts[key] = llm
            return llm

    def load(self) -> None:
        """Load the reply context now (a process's first reply need not wait for it)."""
        self._context(False)

    def count_tokens(self, text: str) -> int:
        return len(self._context(False).tokenize(text.encode("utf-8"), add_bos=False))

    def bind_tools(self, tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
                   *, tool_choice: Any = None, **kwargs: Any
                   ) -> Runnable[LanguageModelInput, AIMessage]:
        """Tools by constrained JSON (``providers.llamacpp_tools``): each reply is a call
        of one of them or an answer; ``tool_choice`` "any"/"required"/a name forces a
        call."""
        return self.bind(tools=[convert_to_openai_tool(t) for t in tools],
                         tool_choice=tool_choice, **kwargs)

    def _request(self, messages: list[BaseMessage], stop: list[str] | None,
                 kwargs: dict[str, Any]) -> dict[str, Any]:
        calls = calls_tools(kwargs)
        tools, tool_choice = kwargs.pop("tools", None), kwargs.pop("tool_choice", None)
        if calls:
            messages = with_tools(messages, tools, tool_choice)
            kwargs["json_schema"] = tool_schema(tools, tool_choice)
        request: dict[str, Any] = {
            "messages": to_openai_messages(messages, images=False),
            "max_tokens": int(kwargs.pop("max_tokens", self.max_tokens)),
            "temperature": float(kwargs.pop("temperature", self.temperature)),
            "seed": self.seed,
            "stop": stop,
        }
        schema = kwargs.pop("json_schema", None)
        if schema is not None:
            request["response_format"] = {"type": "json_object", "schema": schema}
        return request

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None,
                  **kwargs: Any) -> ChatResult:
        background = self.priority == "background"
        llm = self._context(background, self.cache_slot)
        with_calls = calls_tools(kwargs)
        request = self._request(messages, stop, kwargs)
        with self._gate.hold(background):
            output = llm.create_chat_completion(**request)
        choice = output["choices"][0]
        usage = output.get("usage") or {}
        text = choice["message"].get("content") or ""
        message = parsed_reply(text) if with_calls else AIMessage(content=text)
        message.usage_metadata = _usage(int(usage.get("prompt_tokens", 0)),
                                        int(usage.get("completion_tokens", 0)))
        message.response_metadata = {"finish_reason": choice.get("finish_reason"),
                                     "model": Path(self.model_path).name}
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None = None,
                run_manager: CallbackManagerForLLMRun | None = None,
                **kwargs: Any) -> Iterator[ChatGenerationChunk]:
        """Token by token (LangGraph's ``stream_mode="messages"``); the last chunk carries
        the token usage and the finish reason. With tools, the reply is one chunk: a call
        is known only once its JSON is whole."""
        if calls_tools(kwargs):
            whole = self._generate(messages, stop, None, **kwargs).generations[0].message
            assert isinstance(whole, AIMessage)
            yield ChatGenerationChunk(message=AIMessageChunk(
                content=whole.content, usage_metadata=whole.usage_metadata,
                response_metadata=whole.response_metadata,
                tool_call_chunks=[{"name": c["name"], "args": json.dumps(c["args"]),
                                   "id": c["id"], "index": i, "type": "tool_call_chunk"}
                                  for i, c in enumerate(whole.tool_calls)]))
            return
        background = self.priority == "background"
        llm = self._context(background, self.cache_slot)
        request = self._request(messages, stop, kwargs)
        generated = 0
        finish = None
        with self._gate.hold(background):
            for part in llm.create_chat_completion(**request, stream=True):
                choice = part["choices"][0]
                finish = choice.get("finish_reason") or finish
                text = (choice.get("delta") or {}).get("content") or ""
                if not text:
                    continue
                generated += 1
                chunk = ChatGenerationChunk(message=AIMessageChunk(content=text))
                if run_manager is not None:
                    run_manager.on_llm_new_token(text, chunk=chunk)
                yield chunk
            # The context holds the prompt and what was generated (llama.cpp's own count).
            prompt_tokens = max(0, int(llm.n_tokens) - generated)
        yield ChatGenerationChunk(message=AIMessageChunk(
            content="", usage_metadata=_usage(prompt_tokens, generated),
            response_metadata={"finish_reason": finish, "model": Path(self.model_path).name}))

    def prefill(self, messages: list[BaseMessage]) -> PrefillOutcome:
        """Evaluate ``messages`` (the start of a future reply prompt) into the reply
        context, so that call only pays for what follows them: "warmed"; "not needed"
        when the context holds all but fewer than ``PREFILL_MIN_TOKENS`` of them (their
        common start is kept); "abandoned" when a reply arrived first (what was evaluated
        is kept)."""
        llm = self._context(False)
        with self._gate.hold(background=True):
            llm.chunking = True  # no other call uses the context while the gate is held
            llm.skip_below = PREFILL_MIN_TOKENS
            try:
                llm.create_chat_completion(
                    messages=to_openai_messages(messages, images=False), max_tokens=1,
                    temperature=0.0, seed=self.seed)
            except PrefillInterrupted:
                return "abandoned"
            except PrefillNotNeeded:
                return "not needed"
            finally:
                llm.chunking = False
                llm.skip_below = 0
        return "warmed"


#: Tokens a background call evaluates between two chances to let a reply go first; at about
#: 90 prompt tokens/s on two cores a waiting reply is delayed by well under a second.
PAUSE_EVERY_TOKENS = 64


def _chunked_llama(llama_class: type[Any], before_chunk: Callable[[], None]) -> type[Any]:
    """A ``Llama`` subclass whose ``eval`` (prompt chunks and each generated token) runs
    ``before_chunk`` before every ``PAUSE_EVERY_TOKENS`` tokens while its ``chunking``
    attribute is true.
    ``Llama.eval`` continues from ``n_tokens``, so evaluating consecutive chunks is the same
    as evaluating the whole sequence, and a chunk not started leaves the state valid (the
    prompt's common start with what the context held, as ``Llama.generate`` kept it)."""

    class ChunkedLlama(llama_class):  # type: ignore[misc]
        chunking = True
        #: Refuse a first evaluation of fewer tokens than this (``PrefillNotNeeded``; the
        #: prompt's common start with the context is kept), once.
        skip_below = 0

        def eval(self, tokens: Any) -> None:
            threshold, self.skip_below = self.skip_below, 0
            if len(tokens) < threshold:
                raise PrefillNotNeeded
            if not self.chunking:
                super().eval(tokens)
                return
            for start in range(0, len(tokens), PAUSE_EVERY_TOKENS):
                before_chunk()
                super().eval(tokens[start:start + PAUSE_EVERY_TOKENS])

    return ChunkedLlama


def _stop_if_reply_waiting(gate: ComputeGate) -> None:
    """Between two chunks of a prefill on the reply context: give way to a waiting reply
    (it reuses the tokens already evaluated)."""
    if gate.foreground_waiting():
        raise PrefillInterrupted
