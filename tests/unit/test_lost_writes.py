"""No acknowledged write of the embedded store is lost unnoticed (issue 27, item 7). A journal
cut at a record boundary, cut inside an acknowledged record, emptied or deleted used to read
as a shorter intact one (or as "nothing stored yet"); each is now damage naming the
records that are missing, reported by ``status`` and ``repair``. Only a torn tail after the
last acknowledged write is dropped, and the log says it was never acknowledged."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from test_store_damage import turn_ids, user_dir, write_turns

from memory_graph.backends.journal import LOG, SNAPSHOT
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.errors import StoreCorruptedError
from memory_graph.schema import NodeLabel
from personavlm.cli import main


def lines_of(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def ana_and_ben(root: Path) -> Path:
    """ana with 10 acknowledged turns (11 records with her user node), ben with 3; ana's log."""
    write_turns(root, "ana", 10)
    write_turns(root, "ben", 3)
    return user_dir(root, "ana") / LOG


def refused(root: Path) -> StoreCorruptedError:
    """ana's error on reopening; ben stays available and intact."""
    store = NetworkxStore(root)
    try:
        assert turn_ids(store, "ben") == {"ben-t0", "ben-t1", "ben-t2"}
        with pytest.raises(StoreCorruptedError) as caught:
            store.find_nodes("ana", NodeLabel.TURN)
    finally:
        store.close()
    return caught.value


def test_a_journal_cut_at_a_record_boundary_names_the_missing_records(tmp_path: Path) -> None:
    log = ana_and_ben(tmp_path)
    kept = lines_of(log)[:8]  # records 1-8: the user node and turns 0-6
    log.write_bytes(b"".join(kept))
    error = refused(tmp_path)
    assert error.path == str(log)
    assert error.offset == len(b"".join(kept))
    assert "records 9 to 11" in str(error) and "after record 8" in str(error)
    assert log.read_bytes() == b"".join(kept), "the cut journal must be left as it is"


def test_a_cut_inside_an_acknowledged_record_is_damage_not_a_torn_append(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    log = ana_and_ben(tmp_path)
    lines = lines_of(log)
    cut = b"".join(lines[:6]) + lines[6][:40]
    log.write_bytes(cut)
    with caplog.at_level(logging.WARNING, logger="personavlm.store"):
        error = refused(tmp_path)
    assert "before it was acknowledged" not in caplog.text
    assert error.path == str(log)
    assert "records 7 to 11" in str(error) and "in the middle of a record" in str(error)
    assert log.read_bytes() == cut


@pytest.mark.parametrize("how", ["emptied", "deleted"])
def test_an_emptied_or_deleted_journal_is_not_nothing_stored_yet(tmp_path: Path,
                                                                 how: str) -> None:
    log = ana_and_ben(tmp_path)
    if how == "emptied":
        log.write_bytes(b"")
    else:
        log.unlink()
    error = refused(tmp_path)
    assert error.path == str(log)
    assert ("is empty" if how == "emptied" else "is gone") in str(error)
    assert "records 1 to 11" in str(error)


def test_a_deleted_snapshot_names_the_records_it_held(tmp_path: Path) -> None:
    write_turns(tmp_path, "ana", 30, compact_bytes=2_000)
    write_turns(tmp_path, "ben", 3)
    snapshot = user_dir(tmp_path, "ana") / SNAPSHOT
    snapshot.unlink()
    error = refused(tmp_path)
    assert error.path == str(snapshot) and "is gone" in str(error)


def test_repair_reports_the_writes_it_could_not_recover(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = ana_and_ben(tmp_path)
    log.write_bytes(b"".join(lines_of(log)[:8]))
    location = ["--location", str(tmp_path)]
    assert main(["status", "--user", "ben", *location]) == 0
    assert f"damaged: users/{log.parent.name}: {log}" in capsys.readouterr().out
    assert main(["repair", *location]) == 1
    printed = capsys.readouterr()
    assert "nothing is damaged" not in printed.out
    assert f"could not recover users/{log.parent.name}: records 9 to 11" in printed.err
    store = NetworkxStore(tmp_path)
    assert turn_ids(store, "ana") == {f"ana-t{i}" for i in range(7)}
    store.close()
    assert main(["repair", *location]) == 0  # what is kept is the store's now
    assert "nothing is damaged" in capsys.readouterr().out


def test_a_torn_tail_after_the_last_acknowledged_write_is_dropped_as_such(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    log = ana_and_ben(tmp_path)
    with log.open("ab") as handle:
        handle.write(b'deadbeef {"seq": 12, "op": {"kind": "nod')
    store = NetworkxStore(tmp_path)
    with caplog.at_level(logging.WARNING, logger="personavlm.store"):
        assert turn_ids(store, "ana") == {f"ana-t{i}" for i in range(10)}  # opened now
    assert "never acknowledged" in caplog.text
    store.close()
