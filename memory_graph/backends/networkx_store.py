"""Embedded default backend: one networkx MultiDiGraph per user, persisted by a journal.

Zero setup: the graph lives in process, each user's graph in its own directory under
``data_dir`` (no directory means memory only). Keyword search is BM25 and vector search
exact cosine over numpy, both per user and per label, so no query can see another
user's data. One process owns a data directory at a time (an OS file lock).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from memory_graph.backends.acks import ACKS
from memory_graph.backends.journal import (
    LOG,
    QUARANTINE,
    SEGMENT_NODES,
    SNAPSHOT,
    Journal,
)
from memory_graph.backends.journal_repair import RepairReport, repair_journal
from memory_graph.backends.store_files import read_store_file, write_atomically
from memory_graph.backends.user_graph import UserGraph, node_record
from memory_graph.errors import (
    InvalidInputError,
    StoreCorruptedError,
    StoreLockedError,
    StoreReadOnlyError,
    StoreUnreadableError,
    UnknownUserError,
)
from memory_graph.schema import (
    Edge,
    EdgeType,
    Node,
    NodeLabel,
    User,
    stable_id,
)
from memory_graph.store import (
    Direction,
    Hit,
    Scalar,
    TimeWindow,
    WriteBatch,
    check_user_id,
    missing_endpoints,
    validate_batch,
)

META = "user.json"
#: Nodes held open across users before the least recently used are let go (~1-2 GB).
DEFAULT_RESIDENT_NODES = 200_000
#: Opens of a user read beside a writer before its files count as damaged.
READ_ONLY_ATTEMPTS = 5

log = logging.getLogger("personavlm.store")


def _has_journal(directory: Path) -> bool:
    """Whether a snapshot, log or acknowledgement file is there, readable or not
    (``exists`` says no to a symlink loop, which would let a fresh journal shadow the
    unreadable one; a lone acknowledgement file says what the journal should hold)."""
    return any(os.path.lexists(directory / name) for name in (LOG, SNAPSHOT, ACKS))


def _write_meta(directory: Path, user_id: str) -> None:
    """The user file: whose directory this is, and that its journal keeps an
    acknowledgement file (so a lost one is damage, not a store from before it existed)."""
    meta = json.dumps({"user_id": user_id, "acks": True}).encode("utf-8")
    write_atomically(directory / META, meta)


def _deletes(op: dict[str, Any]) -> bool:
    """Whether a journal operation deletes nodes or edges."""
    if op["kind"] == "batch":
        return any(_deletes(part) for part in op["ops"])
    return op["kind"] in ("delete", "delete_edges")


class NetworkxStore:
    """The embedded default ``GraphStore``.

    A user's graph is opened from its files when the user is first named, never at start,
    and the least recently used graphs are let go once more than ``resident_nodes`` nodes
    are open (their files hold everything: a later call opens them again). Damage is
    found when its user is opened; ``scan_damage`` opens every user to find all of it.
    """

    backend = "networkx"

    def __init__(self, data_dir: str | Path | None = None,
                 compact_bytes: int = 32 * 1024 * 1024,
                 resident_nodes: int = DEFAULT_RESIDENT_NODES,
                 segment_nodes: int = SEGMENT_NODES, read_only: bool = False) -> None:
        self._root = Path(data_dir).expanduser() if data_dir is not None else None
        self._compact_bytes = compact_bytes
        self._segment_nodes = segment_nodes
        #: Opened beside the process that holds the directory (``read_only``): no lock is
        #: taken, no file changed, every write refused (``StoreReadOnlyError``); a user is
        #: read as its files are when first named.
        self.read_only = read_only
        self._resident_nodes = resident_nodes
        self._users: OrderedDict[str, UserGraph] = OrderedDict()
        #: Users whose files one thread is reading now; the others wait for the event.
        self._opening: dict[str, threading.Event] = {}
        self._damaged: dict[str, StoreCorruptedError] = {}
        self._lock = threading.RLock()
        self._file_lock: FileLock | None = None
        if self._root is not None and not read_only:
            self._root.mkdir(parents=True, exist_ok=True)
            self._file_lock = FileLock(str(self._root / ".lock"))
            try:
                self._file_lock.acquire(timeout=0)
            except Timeout as exc:
                raise StoreLockedError(f"{self._root} is open in another process") from exc

    def _user_dir(self, user_id: str) -> Path:
        assert self._root is not None
        return self._root / "users" / stable_id("user", user_id)

    def _user_dirs(self) -> list[Path]:
        users_dir = self._root / "users" if self._root is not None else None
        if users_dir is None or not users_dir.is_dir():
            return []
        return sorted(d for d in users_dir.iterdir() if d.is_dir())

    def _open_dirs(self) -> set[str]:
        """The directory names of the users open or being opened now (their files are not
        read again)."""
        return {stable_id("user", user_id) for user_id in [*self._users, *self._opening]}

    def _meta_or_damage(self, directory: Path) -> tuple[str, bool] | None:
        """The user file's contents; damage in it is recorded (and logged) and raised."""
        try:
            return self._read_meta(directory)
        except StoreCorruptedError as exc:
            with self._lock:
                self._damaged[directory.name] = exc
            log.error("%s", exc)
            raise

    @staticmethod
    def _read_meta(directory: Path) -> tuple[str, bool] | None:
        """The user id the user file names and whether it says the journal keeps an
        acknowledgement file (files from before it existed do not); None: no user file."""
        meta = directory / META
        raw = read_store_file(meta)
        if raw is None:
            return None
        try:
            record = json.loads(raw.decode("utf-8"))
            user_id, acks = record["user_id"], record.get("acks", False)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StoreCorruptedError(str(meta), 0, f"the user file cannot be read ({exc})"
                                      ) from exc
        if not isinstance(user_id, str) or stable_id("user", user_id) != directory.name:
            raise StoreCorruptedError(str(meta), 0, "the user file names a user whose "
                                                    "directory this is not")
        return user_id, acks is True

    def _open_user(self, directory: Path, user_id: str, acks_expected: bool,
                   drop_dangling: bool = False) -> tuple[UserGraph, int]:
        """The user's graph from its files, and how many dangling edges were dropped:
        edges to nodes the files do not hold are damage (``StoreCorruptedError``), unless
        ``drop_dangling`` (repair, after a damaged snapshot was set aside). A journal
        opened without ``acks_expected`` has its acknowledgement file now, and the user
        file says so."""
        journal = Journal(directory, self._compact_bytes, self._segment_nodes, self.read_only)
        user = UserGraph(user_id, journal)
        snapshot, ops = journal.load(acks_expected)
        if snapshot is not None:
            user.restore(snapshot)
        unpurged = False
        for op in ops:
            user.apply(op)
            unpurged = unpurged or _deletes(op)
        dangling = user.dangling_edges()
        if dangling and (self.read_only or not drop_dangling):
            raise StoreCorruptedError(str(directory / LOG), 0, f"{len(dangling)} edge(s) "
                                      "point to nodes the files do not hold")
        if self.read_only:
            return user, 0
        if dangling:
            for source, target, key in dangling:
                user.graph.remove_edge(source, target, key=key)
            user.graph.remove_nodes_from([n for n, data in list(user.graph.nodes(data=True))
                                          if "node" not in data])
            user.compact(every_segment=True)
        elif unpurged:
            # A deletion is compacted away as it is written (a forget's text leaves the
            # files); one still in the log is a forget whose rewrite did not finish (a kill,
            # a full disk): finished now, before the user is served.
            user.compact()
            log.info("%s: finished the rewrite of an earlier forget", directory)
        if not acks_expected:
            _write_meta(directory, user_id)
        return user, len(dangling)

    def _unavailable(self, user_id: str) -> StoreCorruptedError | None:
        if self._root is None:
            return None
        return self._damaged.get(stable_id("user", user_id))

    def repair(self) -> list[RepairReport]:
        """Set the damaged records of every damaged user aside (kept in each user's
        ``quarantine`` folder), keep every intact record, and reopen those users. A user
        with a file that cannot be read is left exactly as it was and stays damaged: its
        report's ``unreadable`` says which file."""
        assert self._root is not None, "a memory-only store has nothing to repair"
        self._writable()
        reports = []
        with self._lock:
            self.scan_damage()
            for name in sorted(self._damaged):
                directory = self._root / "users" / name
                try:
                    reports.append(self._repair_user(directory))
                except StoreUnreadableError as exc:
                    self._damaged[name] = exc
                    reports.append(RepairReport(directory, unreadable=exc))
                else:
                    del self._damaged[name]
        return reports

    def _repair_user(self, directory: Path) -> RepairReport:
        """Repair one user's files and reopen the user; every file is read before any is
        changed, so an unreadable one (``StoreUnreadableError``) changes nothing."""
        try:
            meta = self._read_meta(directory)
            damaged_meta = False
        except StoreUnreadableError:
            raise
        except StoreCorruptedError:
            meta, damaged_meta = None, True
        report = repair_journal(directory, acks_expected=meta is not None and meta[1])
        if damaged_meta:
            # Reopened when the user is next named (the directory is its id's hash).
            (directory / QUARANTINE).mkdir(exist_ok=True)
            os.replace(directory / META, directory / QUARANTINE / META)
            report.quarantined_user_file = True
        if meta is not None:
            user_id, acks_expected = meta
            user, report.dropped_edges = self._open_user(directory, user_id, acks_expected,
                                                         drop_dangling=True)
            self._keep(user)
        return report

    def damaged(self) -> dict[str, StoreCorruptedError]:
        """The user directories that could not be opened, and why."""
        return dict(self._damaged)

    def _user(self, user_id: str) -> UserGraph:
        """The user's open graph, opened from its files if need be (``UnknownUserError``
        when there are none, the recorded or newly found damage when they are damaged).
        A user is opened by one thread, without the store's lock: other users are served
        meanwhile, and other callers for this one wait for it."""
        check_user_id(user_id)
        while True:
            with self._lock:
                user = self._users.get(user_id)
                if user is not None:
                    self._users.move_to_end(user_id)
                    return user
                damage = self._unavailable(user_id)
                if damage is not None:
                    raise damage
                opening = self._opening.get(user_id)
                if opening is None:
                    self._opening[user_id] = threading.Event()
                    break
            opening.wait()
        user = None
        try:
            user = self._open_named(user_id)
        finally:
            with self._lock:
                if user is not None:
                    self._keep(user)
                self._opening.pop(user_id).set()
        if user is None:
            raise UnknownUserError(user_id)
        return user

    @contextmanager
    def _locked(self, user_id: str) -> Iterator[UserGraph]:
        """The user's graph with its lock held: one the store let go of meanwhile is not
        used (it would write a journal that a newer open of the same files also writes)."""
        while True:
            user = self._user(user_id)
            with user.lock:
                if not user.evicted:
                    yield user
                    return

    def _open_named(self, user_id: str) -> UserGraph | None:
        """The user's graph from its directory, None when it holds no memories. A directory
        whose ``user.json`` was lost is reopened by the name its hash is of."""
        if self._root is None:
            return None
        directory = self._user_dir(user_id)
        meta = self._meta_or_damage(directory)
        if meta is None and not _has_journal(directory):
            return None
        user = self._open_or_damage(directory, user_id, meta is not None and meta[1])
        if meta is None:
            log.warning("reopened %r from %s, whose %s was missing", user_id, directory, META)
        return user

    def _open_or_damage(self, directory: Path, user_id: str, acks_expected: bool
                        ) -> UserGraph:
        """``_open_user``'s graph; damage in its files is recorded (and logged) and raised."""
        attempts = READ_ONLY_ATTEMPTS if self.read_only else 1
        for attempt in range(1, attempts + 1):
            try:
                return self._open_user(directory, user_id, acks_expected)[0]
            except StoreCorruptedError as exc:
                if attempt < attempts:
                    # Read beside a writer: files read mid-compaction disagree; again.
                    time.sleep(0.05 * attempt)
                    continue
                with self._lock:
                    self._damaged[directory.name] = exc
                log.error("user %r is unavailable: %s", user_id, exc)
                raise
        raise AssertionError("unreachable")

    def _keep(self, user: UserGraph) -> None:
        """Hold ``user`` open, letting go of the least recently used others while more than
        ``resident_nodes`` nodes are open (a memory-only store keeps everyone: it has no
        files to reopen from). A graph in use by another thread is skipped this time."""
        self._users[user.user_id] = user
        self._users.move_to_end(user.user_id)
        if self._root is None:
            return
        open_nodes = sum(len(u.graph) for u in self._users.values())
        for other in list(self._users.values())[:-1]:
            if open_nodes <= self._resident_nodes:
                break
            if other.lock.acquire(blocking=False):
                try:
                    other.evicted = True
                    del self._users[other.user_id]
                    open_nodes -= len(other.graph)
                finally:
                    other.lock.release()

    def scan_damage(self) -> dict[str, StoreCorruptedError]:
        """Open every user's files once to find all damage (users are otherwise opened,
        and their damage found, when first named), then ``damaged``. Users opened only
        for the scan are not kept open. It reads the whole store: a check, not a read."""
        with self._lock:
            open_dirs = self._open_dirs()
            for directory in self._user_dirs():
                if directory.name in self._damaged or directory.name in open_dirs:
                    continue
                try:
                    meta = self._meta_or_damage(directory)
                except StoreCorruptedError:
                    continue
                if meta is None:
                    if _has_journal(directory):
                        log.warning("%s has memories but no %s: they are reopened when "
                                    "their user is next named", directory, META)
                    continue
                with contextlib.suppress(StoreCorruptedError):  # recorded as damage
                    self._open_or_damage(directory, *meta)
        return self.damaged()

    # -- GraphStore --
    def ensure_user(self, user: User) -> None:
        self._writable()
        try:
            self._user(user.user_id)
        except UnknownUserError:
            with self._lock:
                if user.user_id not in self._users and user.user_id not in self._opening:
                    journal = None
                    if self._root is not None:
                        directory = self._user_dir(user.user_id)
                        journal = Journal(directory, self._compact_bytes, self._segment_nodes)
                        journal.create()
                        _write_meta(directory, user.user_id)
                    self._keep(UserGraph(user.user_id, journal))
        self.commit(user.user_id, WriteBatch(nodes=[user]))

    def has_user(self, user_id: str) -> bool:
        try:
            self._user(user_id)
        except UnknownUserError:
            return False
        return True

    def users(self) -> list[str]:
        """Every user with memories: those open, and those whose user file names them
        (read, not opened; a damaged user file is recorded as damage)."""
        with self._lock:
            found = set(self._users)
            open_dirs = self._open_dirs()
            for directory in self._user_dirs():
                if directory.name in open_dirs:
                    continue
                try:
                    meta = self._meta_or_damage(directory)
                except StoreCorruptedError:
                    continue
                if meta is not None and directory.name not in self._damaged:
                    found.add(meta[0])
            return sorted(found)

    def _writable(self) -> None:
        if self.read_only:
            raise StoreReadOnlyError(f"{self._root} is open read-only (beside the process "
                                     "that holds it): nothing can be written")

    def commit(self, user_id: str, batch: WriteBatch) -> None:
        """Validate everything, then write one journal record and apply it in memory."""
        self._writable()
        validate_batch(user_id, batch.nodes)
        validate_batch(user_id, batch.edges)
        if not batch:
            self._user(user_id)  # an unknown or damaged user is refused all the same
            return
        with self._locked(user_id) as user:
            # One dimension per label's index: the index's, or the batch's first vector's.
            dimensions = {label: index.dimension for label, index in user.vector.items()}
            for node in batch.nodes:
                embedding = getattr(node, "embedding", None)
                if embedding is None or not node.searchable:
                    continue
                dimension = dimensions.get(node.label) or len(embedding)
                dimensions[node.label] = dimension
                if len(embedding) != dimension:
                    raise InvalidInputError(
                        f"{node.label} {node.id!r} has a {len(embedding)}-d embedding, "
                        f"the index holds {dimension}-d vectors")
            missing = missing_endpoints(batch, lambda node_id: node_id in user.graph)
            if missing:
                raise InvalidInputError(f"edge endpoints not in {user_id!r}'s graph: {missing}")
            ops: list[dict[str, Any]] = []
            if batch.delete_edge_ids:
                ops.append({"kind": "delete_edges", "ids": list(batch.delete_edge_ids)})
            doomed = [i for i in batch.delete_node_ids if i in user.graph]
            if doomed:
                ops.append({"kind": "delete", "ids": doomed})
            if batch.nodes:
                ops.append({"kind": "nodes", "items": [node_record(n) for n in batch.nodes]})
            if batch.edges:
                ops.append({"kind": "edges",
                            "items": [e.model_dump(mode="json") for e in batch.edges]})
            if ops:
                # Deleted text must leave the files too: compact right away.
                deletes = bool(batch.delete_edge_ids or doomed)
                user.write(ops[0] if len(ops) == 1 else {"kind": "batch", "ops": ops},
                           compact=deletes or batch.forgets)
            if batch.forgets:
                self._drop_quarantine(user_id)

    def _drop_quarantine(self, user_id: str) -> None:
        """A forget leaves no copy in the user's ``quarantine`` folder either. What is
        there are records the store could not read (torn or damaged, set aside on open or
        by ``repair``, which reported them): which of them hold the forgotten text cannot
        be told (a torn record holds any part of a text, without its id), so all go."""
        if self._root is None:
            return
        quarantine = self._user_dir(user_id) / QUARANTINE
        if quarantine.is_dir() and not quarantine.is_symlink():
            shutil.rmtree(quarantine)
        elif os.path.lexists(quarantine):
            quarantine.unlink()

    def claim_node(self, user_id: str, node: Node, expected_claim: str) -> bool:
        with self._locked(user_id) as user:  # reentrant: the commit below takes it again
            if node.id not in user.graph or user.value(node.id, "work_claim") != expected_claim:
                return False
            self.commit(user_id, WriteBatch(nodes=[node]))
            return True

    def get_nodes(self, user_id: str, ids: Sequence[str],
                  embeddings: bool = True) -> list[Node]:
        with self._locked(user_id) as user:
            return [user.node(i, embeddings) for i in ids if i in user.graph]

    def find_nodes(self, user_id: str, label: NodeLabel,
                   where: dict[str, Scalar] | None = None, limit: int | None = None) -> list[Node]:
        with self._locked(user_id) as user:
            return [user.with_vector(n) for n in user.find(label, where or {}, limit)]

    def latest_nodes(self, user_id: str, label: NodeLabel, k: int = 1) -> list[Node]:
        with self._locked(user_id) as user:
            return [user.with_vector(n) for n in user.latest(label, k)]

    def edges(self, user_id: str, node_ids: Sequence[str] | None = None,
              types: Sequence[EdgeType] | None = None, direction: Direction = "both") -> list[Edge]:
        with self._locked(user_id) as user:
            return user.edges(list(node_ids) if node_ids is not None else None,
                              set(types) if types is not None else None, direction)

    def keyword_search(self, user_id: str, label: NodeLabel, query: str, k: int,
                       window: TimeWindow | None = None) -> list[Hit]:
        with self._locked(user_id) as user:
            if label not in user.keyword:
                return []
            bounds = window.bounds_ts() if window is not None else None
            hits = user.keyword[label].search(query, k, bounds)
            return [Hit(user.stored(i), s) for i, s in hits]

    def vector_search(self, user_id: str, label: NodeLabel, vector: Sequence[float], k: int,
                      window: TimeWindow | None = None) -> list[Hit]:
        with self._locked(user_id) as user:
            if label not in user.vector:
                return []
            bounds = window.bounds_ts() if window is not None else None
            try:
                hits = user.vector[label].search(vector, k, bounds)
            except ValueError as exc:
                raise InvalidInputError(str(exc)) from exc
            return [Hit(user.stored(i), s) for i, s in hits]

    def drop_user(self, user_id: str) -> None:
        """Delete the user and their files; works for a damaged user too."""
        self._writable()
        check_user_id(user_id)
        while True:
            with self._lock:
                user = self._users.get(user_id)
                opening = self._opening.get(user_id)
            if opening is not None:  # its files are being read: wait, then hold the graph
                opening.wait()
                continue
            # A user's lock before the store's, as every call takes them (never the reverse).
            with user.lock if user is not None else contextlib.nullcontext(), self._lock:
                if self._users.get(user_id) is not user or user_id in self._opening:
                    continue  # opened (or let go) meanwhile: hold the graph that is open now
                directory = self._user_dir(user_id) if self._root is not None else None
                on_disk = directory is not None and directory.exists()
                if user is None and not on_disk:
                    raise UnknownUserError(user_id)
                if user is not None:
                    user.evicted = True
                    del self._users[user_id]
                if directory is not None:
                    self._damaged.pop(directory.name, None)
                    if on_disk:
                        shutil.rmtree(directory)
                return

    def close(self) -> None:
        """Let go of the open graphs (their files hold every acknowledged write; a store in
        memory only keeps them) and release the directory's lock."""
        if self._root is not None:
            with self._lock:
                users = list(self._users.values())
                self._users.clear()
            for user in users:
                with user.lock:
                    user.evicted = True
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None
