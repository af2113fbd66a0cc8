"""The embedded store opens a user's graph when the user is first named, never at start,
and lets the least recently used graphs go under a bound of open nodes; a graph let go is
opened again from its files, with every write it had."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from helpers import HashingEmbedder
from test_store_damage import T0, flip_middle_byte, turn_ids, user_dir, write_turns

from memory_graph.backends.journal import LOG, Journal
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import StoreCorruptedError
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import NodeLabel


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """The directories whose journals are read, in order."""
    seen: list[Path] = []
    load = Journal.load

    def counting(journal: Journal, acks_expected: bool) -> object:
        seen.append(journal.directory)
        return load(journal, acks_expected)

    monkeypatch.setattr(Journal, "load", counting)
    return seen


def test_a_store_opens_only_the_users_it_is_asked_about(tmp_path: Path,
                                                        opened: list[Path]) -> None:
    for user in ("ana", "ben", "cy"):
        write_turns(tmp_path, user, 3)
    opened.clear()
    store = NetworkxStore(tmp_path)
    assert opened == []
    assert store.users() == ["ana", "ben", "cy"]  # named by their user files, not opened
    assert opened == []
    assert turn_ids(store, "ben") == {"ben-t0", "ben-t1", "ben-t2"}
    assert turn_ids(store, "ben") == {"ben-t0", "ben-t1", "ben-t2"}
    assert opened == [user_dir(tmp_path, "ben")]
    store.close()


def test_damage_is_found_when_its_user_is_opened_and_by_a_scan(tmp_path: Path) -> None:
    for user in ("ana", "ben"):
        write_turns(tmp_path, user, 3)
    flip_middle_byte(user_dir(tmp_path, "ana") / LOG)
    store = NetworkxStore(tmp_path)
    assert turn_ids(store, "ben") == {"ben-t0", "ben-t1", "ben-t2"}
    assert store.damaged() == {}  # not met yet
    assert list(store.scan_damage()) == [user_dir(tmp_path, "ana").name]
    with pytest.raises(StoreCorruptedError):
        store.find_nodes("ana", NodeLabel.TURN)
    store.close()


def test_graphs_let_go_under_the_bound_reopen_with_every_write(
        tmp_path: Path, opened: list[Path]) -> None:
    store = NetworkxStore(tmp_path, resident_nodes=10)
    memory = MemoryGraph(store, HashingEmbedder())
    users = ("ana", "ben", "cy")
    for round_number in range(3):  # each user's graph outgrows the bound on its own
        for user in users:
            memory.ensure_user(user)
            memory.add_turns(user, [TurnInput(
                text=f"{user} note {round_number}-{i}", at=T0 + timedelta(minutes=i),
                session_id=f"s{round_number}", turn_id=f"{user}-{round_number}-{i}", seq=i)
                for i in range(4)])
    assert len(opened) >= 6, "users were let go and opened again"
    for user in users:
        assert turn_ids(store, user) == {f"{user}-{r}-{i}" for r in range(3) for i in range(4)}
    store.close()
    reopened = NetworkxStore(tmp_path)
    for user in users:
        assert len(turn_ids(reopened, user)) == 12
    reopened.close()


def test_a_graph_in_use_is_not_let_go(tmp_path: Path) -> None:
    for user in ("ana", "ben"):
        write_turns(tmp_path, user, 5)
    store = NetworkxStore(tmp_path, resident_nodes=1)
    in_use = threading.Event()
    done = threading.Event()

    def hold_ana() -> None:
        with store._locked("ana"):
            in_use.set()
            done.wait(10)

    holder = threading.Thread(target=hold_ana)
    holder.start()
    assert in_use.wait(10)
    assert turn_ids(store, "ben")  # opening ben goes over the bound; ana is in use
    assert "ana" in store._users
    done.set()
    holder.join()
    assert len(turn_ids(store, "ana")) == 5
    store.close()


def test_forgetting_a_user_in_use_waits_for_it_without_deadlock(tmp_path: Path) -> None:
    """A call holding a user's graph may need the store's lock (to open another user);
    forgetting that user meanwhile waits for the graph first, as every call orders them."""
    for user in ("ana", "ben"):
        write_turns(tmp_path, user, 3)
    store = NetworkxStore(tmp_path)
    turn_ids(store, "ana")
    holding = threading.Event()
    read: list[set[str]] = []

    def use_ana_then_read_ben() -> None:
        with store._locked("ana"):
            holding.set()
            time.sleep(0.3)  # the forget below has started by now
            read.append(turn_ids(store, "ben"))

    user = threading.Thread(target=use_ana_then_read_ben, daemon=True)
    user.start()
    assert holding.wait(10)
    forget = threading.Thread(target=store.drop_user, args=("ana",), daemon=True)
    forget.start()
    user.join(10)
    forget.join(10)
    assert not user.is_alive() and not forget.is_alive(), "deadlocked"
    assert read == [{"ben-t0", "ben-t1", "ben-t2"}]
    assert store.users() == ["ben"]
    store.close()


def test_a_user_being_opened_holds_up_no_other_and_is_opened_once(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for user in ("ana", "ben"):
        write_turns(tmp_path, user, 3)
    store = NetworkxStore(tmp_path)
    reading = threading.Event()
    release = threading.Event()
    loads: list[Path] = []
    load = Journal.load

    def slow_for_ana(journal: Journal, acks_expected: bool) -> object:
        loads.append(journal.directory)
        if journal.directory == user_dir(tmp_path, "ana"):
            reading.set()
            release.wait(10)
        return load(journal, acks_expected)

    monkeypatch.setattr(Journal, "load", slow_for_ana)
    found: list[set[str]] = []
    readers = [threading.Thread(target=lambda: found.append(turn_ids(store, "ana")),
                                daemon=True) for _ in range(3)]
    for reader in readers:
        reader.start()
    assert reading.wait(10)
    ben: list[set[str]] = []
    other = threading.Thread(target=lambda: ben.append(turn_ids(store, "ben")), daemon=True)
    other.start()
    other.join(5)  # while ana's files are still being read
    assert ben == [{"ben-t0", "ben-t1", "ben-t2"}], "another user's open held ben up"
    release.set()
    for reader in readers:
        reader.join(10)
    assert found == [{"ana-t0", "ana-t1", "ana-t2"}] * 3
    assert loads.count(user_dir(tmp_path, "ana")) == 1
    store.close()
