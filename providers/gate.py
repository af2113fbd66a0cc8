"""One local model, two kinds of callers: the reply the user waits for, and background
memory work. ``ComputeGate`` runs one call at a time (llama.cpp on two cores gains nothing
from overlap) and lets a waiting foreground call go before any waiting background call.
A background call that is already running steps aside too: it calls
``yield_to_foreground`` between small steps of its work (see ``providers.llamacpp``), so
a reply never waits for a whole memory-consolidation call to finish.

Which kind a call is belongs to the model object that makes it: a local chat model has a
``priority`` field, and ``for_background`` gives the copy that background memory work uses
(same loaded weights, same gate). No process-wide flag decides it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal, TypeVar

from langchain_core.language_models import BaseChatModel

Priority = Literal["reply", "background"]
PRIORITY_DESCRIPTION = ("Who waits for this model's calls: the user ('reply') or nobody "
                        "('background' memory work, which gives way to replies).")

M = TypeVar("M", bound=BaseChatModel)


def for_background(model: M, cache_slot: str = "") -> M:
    """The copy of ``model`` that background memory work calls. A model with a
    ``priority`` field shares its loaded weights and its gate with the copy (a shallow
    pydantic copy keeps the private attributes); any other model is returned as is.
    ``cache_slot`` names a prompt cache of its own where the model keeps one
    (``ChatLlamaCpp``)."""
    fields = type(model).model_fields
    if "priority" not in fields:
        return model
    update: dict[str, object] = {"priority": "background"}
    if "cache_slot" in fields:
        update["cache_slot"] = cache_slot
    return model.model_copy(update=update)


class ComputeGate:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._busy = False
        self._foreground_waiting = 0

    @contextmanager
    def hold(self, background: bool) -> Iterator[None]:
        with self._cond:
            if background:
                while self._busy or self._foreground_waiting:
                    self._cond.wait()
            else:
                self._foreground_waiting += 1
                try:
                    while self._busy:
                        self._cond.wait()
                finally:
                    self._foreground_waiting -= 1
            self._busy = True
        try:
            yield
        finally:
            with self._cond:
                self._busy = False
                self._cond.notify_all()

    def foreground_waiting(self) -> bool:
        with self._cond:
            return self._foreground_waiting > 0

    def yield_to_foreground(self) -> None:
        """Called by the background holder of the gate between steps: if a foreground call
        is waiting, hand the gate over and take it back once no foreground call wants it."""
        with self._cond:
            if not self._foreground_waiting:
                return
            self._busy = False
            self._cond.notify_all()
            while self._busy or self._foreground_waiting:
                self._cond.wait()
            self._busy = True
