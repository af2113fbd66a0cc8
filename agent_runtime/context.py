"""The run-time configuration of the agent. LangGraph Studio shows these fields and their
descriptions; every node reads them from ``runtime.context``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Literal, get_args, get_origin, get_type_hints

from memory_graph.backends import BackendName
from memory_graph.errors import ConfigurationError
from memory_graph.search import RecipeName
from memory_graph.text import lone_surrogate
from providers.chat import ChatProviderName

ExtractionMode = Literal["turn", "session"]
PersonalityInference = Literal["markers", "model"]
#: Most user turns one extraction call reads (its output budget grows with them).
MAX_EXTRACTION_WINDOW = 6
#: User turns one extraction call reads by default: three took 40% fewer calls than one
#: and found more of the labelled memories, at the same assistant-set accuracy
#: (docs/results.md, "Extraction windows").
DEFAULT_EXTRACTION_WINDOW = 3
#: The fields that are text said to or of someone, not names of resources.
TEXT_FIELDS = ("user_name", "assistant_name", "answer_format")


@dataclass(kw_only=True)
class Context:
    user_id: str = field(default="default-user", metadata={
        "description": "Whose memory to read and write. Every store call is scoped to it."})
    user_name: str = field(default="", metadata={
        "description": "How the assistant calls the user; defaults to the user id."})
    store_backend: BackendName = field(default="networkx", metadata={
        "description": "Memory store: networkx (embedded, default), falkordb or neo4j."})
    store_location: str = field(default="", metadata={
        "description": "Data directory (networkx) or server URL (falkordb, neo4j). Empty: "
                       "$PERSONAVLM_DATA or ~/.local/share/personavlm/memory for networkx, "
                       "$FALKORDB_URL / $NEO4J_URI for the servers."})
    chat_provider: ChatProviderName = field(default="llamacpp", metadata={
        "description": "llamacpp (offline default), hf (transformers VLM) or openai "
                       "(any OpenAI-compatible endpoint)."})
    chat_model: str = field(default="", metadata={
        "description": "GGUF path (llamacpp), model directory (hf) or model name (openai). "
                       "Empty: the bundled Qwen2.5-Coder-1.5B-Instruct Q4_K_M."})
    chat_base_url: str = field(default="", metadata={
        "description": "Base URL of the OpenAI-compatible endpoint (openai provider)."})
    embedding_model: str = field(default="all-MiniLM-L6-v2", metadata={
        "description": "all-MiniLM-L6-v2 (bundled) or a local sentence-transformers dir."})
    search_recipe: RecipeName = field(default="hybrid", metadata={
        "description": "Search recipe: hybrid (keyword + vector, cross-encoder rerank), "
                       "hybrid_fast (no rerank), hybrid_graph (adds the graph "
                       "neighbourhood), bm25 or dense."})
    retrieval_k: int = field(default=4, metadata={
        "description": "Memories the first retrieval round adds; a later round adds at "
                       "most 3."})
    max_retrieval_rounds: int = field(default=1, metadata={
        "description": "Rounds of retrieval before answering (1-3). 1: one search with "
                       "the message, no extra model call. More: after each but the last "
                       "the model gives search words (and a time window), and a new "
                       "search runs when they are new (docs/results.md: it did not pay "
                       "for its second call on either benchmark)."})
    temporal_filter: bool = field(default=True, metadata={
        "description": "Apply the time window the model asks for in a later retrieval "
                       "round (False only for the ablation study)."})
    use_consolidation: bool = field(default=False, metadata={
        "description": "Consolidate each finished session with a model call (its episodes, "
                       "routines and the core profile) and search what it writes besides "
                       "turns and facts. Off by default: it did not pay for its call on "
                       "either benchmark (docs/results.md); a finished session is then "
                       "settled without one."})
    use_personality: bool = field(default=True, metadata={
        "description": "Describe the user's inferred personality in the reply prompt "
                       "(False only for the ablation study)."})
    personality_inference: PersonalityInference = field(default="markers", metadata={
        "description": "How traits are observed: markers (trait phrases in each "
                       "message, no model call) or model (the chat model names the traits "
                       "the session's last 5 messages show)."})
    use_profile: bool = field(default=False, metadata={
        "description": "Show the core profile that consolidation writes in the reply "
                       "prompt. Off by default: written by the model over merged sessions, "
                       "it carried invented and outdated details into replies "
                       "(docs/results.md, assistant set)."})
    session_gap_minutes: float = field(default=60.0, metadata={
        "description": "A pause longer than this starts a new session."})
    background_extraction: bool = field(default=True, metadata={
        "description": "Extract memories and update the personality after the reply, "
                       "in a background worker, so the user is not kept waiting."})
    extract_memories: bool = field(default=True, metadata={
        "description": "False: store raw turns only, no model extraction or personality "
                       "(fast bulk ingestion)."})
    extraction_mode: ExtractionMode = field(default="turn", metadata={
        "description": "turn: semantic memories from the user's turns (and, with "
                       "use_consolidation, a consolidation per session); session: one "
                       "call per finished session gives its facts, topics, routines and "
                       "profile (bulk ingestion of long histories)."})
    extraction_window: int = field(default=DEFAULT_EXTRACTION_WINDOW, metadata={
        "description": "User turns one extraction call reads (turn mode, 1-6): a turn's "
                       "memories wait until this many turns of its session wait, or the "
                       "session is finished (or `sync` runs); until then its words are "
                       "searchable as the raw turn, and its personality observation does "
                       "not wait. 1: every turn on its own."})
    update_memory: bool = field(default=True, metadata={
        "description": "False: answer from memory without storing the turn (evaluation)."})
    recent_turns: int = field(default=6, metadata={
        "description": "Turns of the current session quoted verbatim in the reply prompt."})
    max_reply_tokens: int = field(default=160, metadata={
        "description": "Upper bound on the reply length in tokens."})
    answer_format: str = field(default="", metadata={
        "description": "The form of answers to questions, in place of the default (an "
                       "evaluation protocol's answer format, or a house style). Empty: "
                       "one short sentence that starts with the answer."})
    assistant_name: str = field(default="Persona", metadata={
        "description": "The assistant's name in its own prompt."})

    def __post_init__(self) -> None:
        hints = get_type_hints(Context)
        for spec in fields(self):
            allowed = get_args(hints[spec.name]) if get_origin(hints[spec.name]) is Literal else ()
            if allowed and getattr(self, spec.name) not in allowed:
                raise ConfigurationError(
                    f"{spec.name} must be one of {', '.join(map(str, allowed))}, not "
                    f"{getattr(self, spec.name)!r}")
        if not 1 <= self.max_retrieval_rounds <= 3:
            raise ConfigurationError("max_retrieval_rounds must be 1, 2 or 3")
        if not 1 <= self.extraction_window <= MAX_EXTRACTION_WINDOW:
            raise ConfigurationError(
                f"extraction_window must be 1 to {MAX_EXTRACTION_WINDOW}")
        if self.retrieval_k < 1:
            raise ConfigurationError("retrieval_k must be at least 1")
        if self.session_gap_minutes <= 0:
            raise ConfigurationError("session_gap_minutes must be positive")
        for name in TEXT_FIELDS:  # they reach the store, the prompt and the terminal
            value = getattr(self, name)
            problem = lone_surrogate(value) if isinstance(value, str) else None
            if problem is not None:
                raise ConfigurationError(f"{name} is not valid Unicode: {problem}")

    @property
    def display_name(self) -> str:
        return self.user_name or self.user_id


def data_home(environ: Mapping[str, str] | None = None) -> Path:
    """``$PERSONAVLM_DATA``, else ``$XDG_DATA_HOME/personavlm``, else ~/.local/share/...
    (of ``environ``, default this process's environment)."""
    env = os.environ if environ is None else environ
    explicit = env.get("PERSONAVLM_DATA")
    if explicit:
        return Path(explicit).expanduser()
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "personavlm"


def store_location(context: Context) -> str:
    if context.store_location:
        return (str(Path(context.store_location).expanduser())
                if context.store_backend == "networkx" else context.store_location)
    return str(data_home() / "memory") if context.store_backend == "networkx" else ""
