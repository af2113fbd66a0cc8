"""One unreadable file is that user's damage only: a journal, snapshot, acknowledgement or
user file that is there but cannot be read (a directory in its place, a symlink loop: anything
that raises on open) makes only its user unavailable, with ``StoreUnreadableError`` naming the file
and the OS error; every other user opens, reads and writes. It is never taken for a
missing file (that would hide the memories it holds). ``repair`` changes nothing of that
user, says so naming the file and exits 1; ``status`` lists the user as damaged and
answers for the others."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import HashingEmbedder
from test_store_damage import T0, user_dir, write_turns

from memory_graph.backends.acks import ACKS
from memory_graph.backends.journal import LOG, QUARANTINE, SNAPSHOT
from memory_graph.backends.networkx_store import META, NetworkxStore
from memory_graph.errors import StoreCorruptedError, StoreUnreadableError
from memory_graph.graph import MemoryGraph, TurnInput
from memory_graph.schema import NodeLabel, stable_id
from personavlm.cli import main


def turn_ids(store: NetworkxStore, user: str) -> set[str]:
    return {n.id for n in store.find_nodes(user, NodeLabel.TURN)}


def two_users(root: Path) -> None:
    """ana with a snapshot and a log (30 compacted turns, then 3 more), ben with 2 turns."""
    write_turns(root, "ana", 30, compact_bytes=2_000)
    write_turns(root, "ana", 3, start=30)
    write_turns(root, "ben", 2)
    assert (user_dir(root, "ana") / SNAPSHOT).exists()


def make_unreadable(path: Path, how: str) -> None:
    """Put something that raises on open where the file was: a directory (with a file in
    it, which nothing may delete) or a symlink to itself."""
    path.unlink()
    if how == "directory":
        path.mkdir()
        (path / "kept").write_text("not the store's")
    else:
        path.symlink_to(path.name)


def files_of(directory: Path) -> dict[str, bytes | str]:
    return {str(p.relative_to(directory)): p.read_bytes() if p.is_file() else "directory"
            for p in sorted(directory.rglob("*"))}


def flip_middle_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    while data[middle] in b"\n":
        middle += 1
    data[middle] ^= 0x20
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["directory", "symlink loop"])
@pytest.mark.parametrize("name", [LOG, SNAPSHOT, META, ACKS])
def test_an_unreadable_file_is_its_users_damage_only(tmp_path: Path, name: str,
                                                     how: str) -> None:
    two_users(tmp_path)
    path = user_dir(tmp_path, "ana") / name
    make_unreadable(path, how)
    store = NetworkxStore(tmp_path)
    with pytest.raises(StoreUnreadableError) as caught:
        store.find_nodes("ana", NodeLabel.TURN)
    assert isinstance(caught.value, StoreCorruptedError)  # handled as any other damage
    assert caught.value.path == str(path)
    expected = "Is a directory (EISDIR)" if how == "directory" else "(ELOOP)"
    assert expected in str(caught.value) and str(path) in str(caught.value)
    with pytest.raises(StoreUnreadableError):
        MemoryGraph(store, HashingEmbedder()).ensure_user("ana")
    assert store.damaged() == {stable_id("user", "ana"): caught.value}
    assert turn_ids(store, "ben") == {"ben-t0", "ben-t1"}
    MemoryGraph(store, HashingEmbedder()).add_turns("ben", [TurnInput(
        text="ben note 2", at=T0, session_id="s", turn_id="ben-t2", seq=2)])
    store.close()
    reopened = NetworkxStore(tmp_path)
    assert turn_ids(reopened, "ben") == {"ben-t0", "ben-t1", "ben-t2"}
    reopened.close()
    assert os.path.lexists(path) and path.is_symlink() == (how == "symlink loop")


@pytest.mark.parametrize("unreadable, damaged", [(LOG, SNAPSHOT), (SNAPSHOT, LOG),
                                                 (META, LOG), (ACKS, LOG)])
def test_repair_changes_nothing_of_a_user_with_an_unreadable_file(
        tmp_path: Path, unreadable: str, damaged: str) -> None:
    two_users(tmp_path)
    ana = user_dir(tmp_path, "ana")
    flip_middle_byte(ana / damaged)  # damage repair could set aside, were all readable
    make_unreadable(ana / unreadable, "directory")
    flip_middle_byte(user_dir(tmp_path, "ben") / LOG)
    before = files_of(ana)
    store = NetworkxStore(tmp_path)
    reports = {report.directory: report for report in store.repair()}
    assert files_of(ana) == before and not (ana / QUARANTINE).exists()
    error = reports[ana].unreadable
    assert error is not None and error.path == str(ana / unreadable)
    assert not reports[ana].changed
    assert reports[user_dir(tmp_path, "ben")].unreadable is None
    assert len(turn_ids(store, "ben")) == 1  # ben's other record is the user's
    with pytest.raises(StoreUnreadableError):
        store.find_nodes("ana", NodeLabel.TURN)
    assert list(store.damaged()) == [ana.name]
    store.close()


def test_status_lists_an_unreadable_user_and_answers_for_the_others(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two_users(tmp_path)
    path = user_dir(tmp_path, "ana") / LOG
    make_unreadable(path, "directory")
    location = ["--location", str(tmp_path)]
    assert main(["status", "--user", "ben", *location]) == 0
    out = capsys.readouterr().out
    assert "turns: 2 none" in out
    assert (f"damaged: users/{path.parent.name}: {path}: the file cannot be read: "
            "Is a directory (EISDIR)") in out
    assert main(["status", "--user", "ben", *location, "--json"]) == 0
    work = json.loads(capsys.readouterr().out)
    assert work["turns"] == {"none": 2}
    assert work["damaged"] == [{"directory": f"users/{path.parent.name}", "file": str(path),
                                "error": "the file cannot be read: Is a directory (EISDIR)",
                                "byte": None}]
    assert main(["status", "--user", "ana", *location]) == 2
    err = capsys.readouterr().err
    assert err.startswith("personavlm: error: ") and str(path) in err
    assert "Is a directory" in err and "Traceback" not in err


def test_repair_says_which_user_it_could_not_recover_and_exits_1(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two_users(tmp_path)
    path = user_dir(tmp_path, "ana") / LOG
    journal = path.read_bytes()
    make_unreadable(path, "directory")
    flip_middle_byte(user_dir(tmp_path, "ben") / LOG)
    assert main(["repair", "--location", str(tmp_path)]) == 1
    printed = capsys.readouterr()
    assert f"damaged: users/{path.parent.name}: {path}: the file cannot be read" in printed.out
    assert f"repaired {user_dir(tmp_path, 'ben')}" in printed.out
    assert f"could not repair users/{path.parent.name}: {path} cannot be read" in printed.err
    assert "Is a directory" in printed.err and "Traceback" not in printed.err
    assert (path / "kept").exists()
    assert main(["repair", "--location", str(tmp_path)]) == 1  # still not recovered
    capsys.readouterr()
    (path / "kept").unlink()
    path.rmdir()
    path.write_bytes(journal)  # the file readable again: nothing of ana was lost
    assert main(["repair", "--location", str(tmp_path)]) == 0
    assert "nothing is damaged" in capsys.readouterr().out
    store = NetworkxStore(tmp_path)
    assert turn_ids(store, "ana") == {f"ana-t{i}" for i in range(33)}
    store.close()
