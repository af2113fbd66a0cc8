"""Third-party backends run the conformance suite with ``from memory_graph.conformance
import *``: every test in it must be exported, or it silently never runs."""

from __future__ import annotations

import memory_graph.conformance as conformance


def test_every_conformance_test_is_exported() -> None:
    tests = {name for name in vars(conformance) if name.startswith("test_")}
    assert len(tests) > 15
    assert tests <= set(conformance.__all__)
