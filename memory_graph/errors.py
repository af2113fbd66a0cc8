"""Typed errors. ``PersonaVLMError`` is the root of every error the project raises on
purpose (the memory graph's here, the providers' and the agent's in their packages); it
lives in the lowest layer so every package can derive from it. Every memory-graph error
leaves stored data unchanged."""


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
