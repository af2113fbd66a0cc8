"""Typed errors of the memory graph. Every one leaves stored data unchanged."""


class MemoryGraphError(Exception):
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
        return f"unknown user {self.user_id!r}: create it with ensure_user() first"


class StoreUnavailableError(MemoryGraphError, ConnectionError):
    """The graph database cannot be reached or refused the operation."""


class StoreLockedError(MemoryGraphError):
    """Another process holds the embedded store's data directory."""
