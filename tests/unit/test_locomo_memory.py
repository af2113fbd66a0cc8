"""Resuming LoCoMo ingestion: a session logged as failed is not consolidated again unless
asked (wiring only: the scripted fake model always answers with invalid JSON)."""

from __future__ import annotations

from pathlib import Path

from helpers import HashingEmbedder, ScriptedFakeChatModel

from evals.locomo import load_locomo
from evals.locomo_memory import build_memories, logged_failures
from memory_graph.backends.networkx_store import NetworkxStore

SAMPLE = Path(__file__).resolve().parents[2] / "personavlm" / "samples" / "locomo_sample.json"


def test_failed_sessions_are_skipped_on_resume_unless_retried(tmp_path: Path) -> None:
    conversations = load_locomo(SAMPLE)
    sessions = sum(len(c.session_ids()) for c in conversations)
    chat = ScriptedFakeChatModel(script=lambda messages: "not json")
    log = tmp_path / "ingest.jsonl"
    store = NetworkxStore(tmp_path / "memory")
    try:
        first = build_memories(conversations, store, chat, HashingEmbedder(), log)
        assert first.failed == sessions and first.consolidated == 0
        assert len(logged_failures(log)) == sessions
        calls = len(chat.calls)
        assert calls >= sessions

        resumed = build_memories(conversations, store, chat, HashingEmbedder(), log)
        assert resumed.failed == sessions and len(chat.calls) == calls
        assert store.has_user(conversations[0].sample_id)

        retried = build_memories(conversations, store, chat, HashingEmbedder(), log,
                                 retry_failed=True)
        assert retried.failed == sessions and len(chat.calls) == 2 * calls
    finally:
        store.close()


def test_a_conversation_whose_turns_a_stopped_run_never_stored_is_stored_on_resume(
        tmp_path: Path) -> None:
    """The user was made, then the run stopped before its turns were written."""
    from memory_graph.graph import MemoryGraph

    conversations = load_locomo(SAMPLE)
    chat = ScriptedFakeChatModel(script=lambda messages: "not json")
    store = NetworkxStore(tmp_path / "memory")
    try:
        memory = MemoryGraph(store, HashingEmbedder())
        memory.ensure_user(conversations[0].sample_id)
        build_memories(conversations, store, chat, HashingEmbedder(), tmp_path / "log.jsonl",
                       consolidate=False)
        assert len(memory.turns(conversations[0].sample_id)) == len(conversations[0].turns)
    finally:
        store.close()
