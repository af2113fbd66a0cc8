"""Start real local servers for integration tests and wait until they answer, and the
helpers the served tests share."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

import httpx
import pytest
from langgraph_sdk import get_sync_client
from langgraph_sdk.client import SyncLangGraphClient

from evals.local_server import REPO, free_port, langgraph_dev, running


def refused(call: Callable[[], object], *statuses: int) -> httpx.HTTPStatusError:
    """The HTTP error ``call`` raises, whose status must be one of ``statuses``."""
    with pytest.raises(httpx.HTTPStatusError) as caught:
        call()
    assert caught.value.response.status_code in statuses, caught.value.response.text
    return caught.value


def client(url: str, user: str) -> SyncLangGraphClient:
    """A client of the server at ``url`` holding ``user``'s token (``<user>-token``)."""
    return get_sync_client(url=url, headers={"Authorization": f"Bearer {user}-token"})


def wait_for(predicate: Callable[[], bool], seconds: float = 120) -> bool:
    """Whether ``predicate`` holds within ``seconds``, asked once a second."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(1)
    return predicate()


def python_bin() -> str:
    return sys.executable


__all__ = ["REPO", "client", "free_port", "langgraph_dev", "python_bin", "refused", "running",
           "wait_for"]
