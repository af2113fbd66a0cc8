"""One root for every typed error; Context fields with a fixed set of values refuse others
when the Context is made, not later inside a node."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent_runtime.context import Context
from agent_runtime.structured import StructuredOutputError
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import (
    ConfigurationError,
    MemoryGraphError,
    PersonaVLMError,
    UnknownUserError,
)
from memory_graph.graph import MemoryGraph
from memory_graph.schema import User
from memory_graph.search import recipe
from memory_graph.store import WriteBatch
from providers.chat import make_chat_model
from providers.gguf import ModelFileError


@pytest.mark.parametrize("field, value", [
    ("store_backend", "sqlite"), ("chat_provider", "anthropic"), ("search_recipe", "bm5"),
    ("extraction_mode", "bulk")])
def test_a_literal_field_refuses_other_values(field: str, value: str) -> None:
    with pytest.raises(ConfigurationError, match=f"{field} must be one of .*'{value}'"):
        Context(**{field: value})  # type: ignore[arg-type]


def test_every_typed_error_has_one_root() -> None:
    for error in (ConfigurationError, MemoryGraphError, UnknownUserError, ModelFileError,
                  StructuredOutputError):
        assert issubclass(error, PersonaVLMError)
    with pytest.raises(ConfigurationError):
        recipe("bm5")
    with pytest.raises(ConfigurationError):
        make_chat_model("anthropic")


def test_unknown_user_message_names_the_user_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = NetworkxStore(tmp_path)
    store.ensure_user(User(id="ana", user_id="ana"))
    # The user's graph is there, its User node is not.
    store.commit("ana", WriteBatch(delete_node_ids=["ana"]))
    memory = MemoryGraph(store, embedder=None)  # type: ignore[arg-type]
    with pytest.raises(UnknownUserError) as caught:
        memory.user("ana")
    assert caught.value.user_id == "ana"
    assert str(caught.value).count("unknown user") == 1
    store.close()


def test_a_tilde_in_a_data_directory_means_home(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    store = NetworkxStore("~/memories")
    store.close()
    assert (tmp_path / "memories").is_dir()
    assert not (tmp_path / "~").exists()
