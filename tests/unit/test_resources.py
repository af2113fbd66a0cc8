"""The resources of an agent have an explicit lifecycle: ``ResourceProvider.close`` waits a
bounded time for queued memory work (and says what it left), then releases the stores it
opened, so the data directory can be opened again; ``Assistant`` closes what it made."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from helpers import HashingEmbedder

from agent_runtime.background import BackgroundWorker
from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider
from graphs.assistant import Assistant
from memory_graph.errors import ConfigurationError


def test_close_finishes_memory_work_then_releases_the_store(tmp_path: Path) -> None:
    context = Context(user_id="t-ana", store_location=str(tmp_path / "memory"))
    provider = ResourceProvider(embedder=HashingEmbedder())
    provider.memory(context).ensure_user("t-ana")
    done = threading.Event()
    provider.worker.submit("t-ana", "job", lambda: (time.sleep(0.3), done.set()))
    provider.close(timeout=10)
    assert done.is_set()
    with ResourceProvider(embedder=HashingEmbedder()) as again:  # the lock was released
        assert again.memory(context).store.has_user("t-ana")
    provider.close()  # idempotent
    with pytest.raises(RuntimeError, match="closed"):
        provider.store(context)


def test_close_is_bounded_and_says_what_it_left(caplog: pytest.LogCaptureFixture) -> None:
    worker = BackgroundWorker()
    release = threading.Event()
    worker.submit("t-ana", "stuck", lambda: release.wait(10))
    worker.submit("t-ana", "queued", lambda: None)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        worker.close(timeout=0.5)
    assert time.monotonic() - started < 5
    assert "unfinished" in caplog.text
    release.set()


def test_an_assistant_closes_only_what_it_made(tmp_path: Path) -> None:
    context = Context(user_id="t-ana", store_location=str(tmp_path / "memory"))
    provider = ResourceProvider(embedder=HashingEmbedder())
    with pytest.raises(ConfigurationError):
        Assistant(context, provider=provider)
    from graphs.agent import build_agent

    with Assistant(context, build_agent(provider=provider), provider) as assistant:
        assistant.resources.memory.ensure_user("t-ana")
    assert provider.memory(context).store.has_user("t-ana")  # still open
    provider.close()


def test_warm_up_loads_the_models_a_first_reply_needs_at_once(tmp_path: Path) -> None:
    """Each load on a thread of its own, all started together (the SCRIPTED FAKE chat
    model stands in for the llama.cpp one); a load that fails is left to the call that
    needs it."""
    from helpers import ScriptedFakeChatModel

    from providers.embeddings import LazyEmbedder

    started = threading.Barrier(3, timeout=10)  # both loads and this test
    loaded: list[str] = []

    class LoadableFake(ScriptedFakeChatModel):
        def load(self) -> None:
            started.wait()
            loaded.append("chat")

    def load_embedder() -> HashingEmbedder:
        started.wait()
        loaded.append("embedder")
        return HashingEmbedder()

    context = Context(user_id="t-ana", store_location=str(tmp_path / "memory"),
                      search_recipe="hybrid_fast")
    embedder = LazyEmbedder(load_embedder)
    with ResourceProvider(chat_model=LoadableFake(script=lambda _m: ""),
                          embedder=embedder) as provider:
        threads = provider.warm_up(context)
        started.wait()  # would time out if the loads ran one after the other
        for thread in threads:
            thread.join(10)
        assert sorted(loaded) == ["chat", "embedder"]
        assert embedder.load() is embedder.load()  # loaded once

        def broken() -> HashingEmbedder:
            raise OSError("no model file")

        failing = ResourceProvider(embedder=LazyEmbedder(broken),
                                   chat_model=ScriptedFakeChatModel(script=lambda _m: ""))
        with pytest.raises(OSError, match="no model file"):
            for thread in failing.warm_up(Context(user_id="t-ana", store_location=str(
                    tmp_path / "other"), search_recipe="hybrid_fast")):
                thread.join(10)
            failing.embedder(context).embed_query("the first call reports it")
        failing.close()
