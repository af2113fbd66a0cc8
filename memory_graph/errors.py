"""Typed errors. ``PersonaVLMError`` is the root of every error the project raises on
purpose (the memory graph's here, the providers' and the agent's in their packages); it
lives in the lowest layer so every package can derive from it. Every memory-graph error
leaves stored data unchanged."""

import errno


class PersonaVLMError(Exception):
    """Base class of every typed error of PersonaVLM: catch this to handle them all."""


class ConfigurationError(PersonaVLMError, ValueError):
    """A setting (a ``Context`` field, a command-line option) has a value it cannot take."""


class MemoryGraphError(PersonaVLMError):
    """Base class of every error raised by the memory graph."""


class InvalidInputError(MemoryGraphError, ValueError):
    """The caller's input is malformed (empty or oversized text, bad id, bad record)."""


class InvalidTimestampError(InvalidInputError):
    """A timestamp could not be parsed or is out of range."""


class UnknownUserError(MemoryGraphError, KeyError):
    """The user has no graph in this store."""

    def __init__(self, user_id: str) -> None:
        super().__init__(user_id)
        self.user_id = user_id

    def __str__(self) -> str:
        return (f"unknown user {self.user_id!r}: nothing is stored for this user yet (talk "
                f"to the assistant or run `personavlm ingest` first)")


class StoreUnavailableError(MemoryGraphError, ConnectionError):
    """The graph database cannot be reached or refused the operation."""


class StoreLockedError(MemoryGraphError):
    """Another process holds the embedded store's data directory."""


class StoreReadOnlyError(MemoryGraphError):
    """A write to an embedded store opened read-only (``NetworkxStore(read_only=True)``,
    beside the process that holds it)."""


class StoreCorruptedError(MemoryGraphError):
    """A store file is damaged (a record fails its checksum, a snapshot cannot be read).
    The file is left exactly as it was; only the user it belongs to is unavailable.
    ``personavlm repair`` sets the damaged records aside and keeps every intact one."""

    def __init__(self, path: str, offset: int, reason: str) -> None:
        super().__init__(path, offset, reason)
        self.path = path
        self.offset = offset
        self.reason = reason

    def __str__(self) -> str:
        return (f"{self.path} is damaged at byte {self.offset}: {self.reason}. The file was "
                f"left as it is; `personavlm repair` sets the damaged records aside "
                f"(kept in a quarantine file) and keeps every intact one")


class MissingWritesError(StoreCorruptedError):
    """A store file holds fewer records than the store acknowledged (a journal cut, emptied
    or deleted, a snapshot gone): the records ``first_seq`` to ``last_seq`` (None when
    only the length shows the loss) are missing. The files are left as they are;
    ``personavlm repair`` keeps what is there and reports what it could not recover."""

    def __init__(self, path: str, offset: int, reason: str, first_seq: int | None = None,
                 last_seq: int | None = None) -> None:
        super().__init__(path, offset, reason)
        self.args = (path, offset, reason, first_seq, last_seq)
        self.first_seq = first_seq
        self.last_seq = last_seq

    def __str__(self) -> str:
        return (f"{self.path} is missing acknowledged writes: {self.reason}. The files were "
                f"left as they are; `personavlm repair` keeps every record that is there "
                f"and reports what it could not recover")


class StoreUnreadableError(StoreCorruptedError):
    """A store file is there but cannot be read (a directory in its place, no permission,
    an I/O error). It is damage like any other, so only its user is unavailable; but
    ``personavlm repair`` cannot recover what it cannot read, so it changes nothing of
    that user: make the file readable again (or move it away yourself) and reopen."""

    def __init__(self, path: str, os_error: OSError) -> None:
        super().__init__(path, 0, f"the file cannot be read: {_os_reason(os_error)}")
        self.args = (path, os_error)  # as the constructor takes them (pickling)
        self.os_error = os_error

    def __str__(self) -> str:
        return (f"{self.path} cannot be read: {_os_reason(self.os_error)}. Nothing was "
                f"changed; `personavlm repair` cannot recover a file it cannot read: make "
                f"it a readable file again (or move it away yourself) and reopen the store")


def _os_reason(error: OSError) -> str:
    """``Is a directory (EISDIR)``: the OS's words and the error's symbolic name."""
    name = errno.errorcode.get(error.errno or 0)
    return f"{error.strerror or error}" + (f" ({name})" if name else "")


class UnknownMemoryError(MemoryGraphError, KeyError):
    """The id names no turn (or session) of this user: nothing was changed."""

    def __init__(self, user_id: str, kind: str, memory_id: str) -> None:
        super().__init__(user_id, kind, memory_id)
        self.user_id = user_id
        self.kind = kind
        self.memory_id = memory_id

    def __str__(self) -> str:
        return (f"user {self.user_id!r} has no {self.kind} {self.memory_id!r}; "
                f"`personavlm memories --user {self.user_id} --ids` lists them")
