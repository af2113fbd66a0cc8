"""``langgraph dev`` serving the agent offline, driven by the real ``langgraph_sdk``
client: facts and a photo over several sessions, then a question that needs an earlier
session; the returned state shows the memory that was retrieved."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from langgraph_sdk import get_sync_client
from servers import REPO, langgraph_dev

pytestmark = pytest.mark.slow

PHOTO = REPO / "personavlm/samples/images/cat_on_sofa.png"


def test_agent_served_by_langgraph_dev(tmp_path: Path) -> None:
    # No tokens file: the unauthenticated local mode, which takes the user from the
    # context and says so loudly at start.
    with langgraph_dev(tmp_path) as (url, _):
        client = get_sync_client(url=url)
        for assistant in client.assistants.search():
            schemas = client.assistants.get_schemas(assistant["assistant_id"])
            for which in ("input_schema", "output_schema", "context_schema"):
                properties = (schemas.get(which) or {}).get("properties") or {}
                assert properties, (assistant["graph_id"], which)
                assert all(spec.get("description") for spec in properties.values()), which
        thread = client.threads.create()
        context = {"user_id": "t-served", "user_name": "Maya", "extraction_window": 1}
        photo = {"base64": base64.b64encode(PHOTO.read_bytes()).decode(),
                 "caption": "an orange cat lying on a blue sofa"}
        turns = [
            ({"text": "This is Pixel, the orange cat I adopted.", "images": [photo],
              "at": "2024-03-02 19:05"}),
            ({"text": "I teach chemistry in Porto.", "at": "2024-03-02 19:08"}),
            ({"text": "Back from camping by a lake in the mountains.",
              "at": "2024-04-20 10:30"}),
        ]
        for payload in turns:
            state = client.runs.wait(thread["thread_id"], "agent", input=payload,
                                     context=context)
            assert isinstance(state, dict) and state["reply"], state
        first_session = None
        question = client.runs.wait(thread["thread_id"], "agent", input={
            "text": "What is the name of my cat?", "at": "2024-06-03 18:00"},
            context={**context, "update_memory": False})
        assert isinstance(question, dict)
        hits = [m for m in question["memories"] if "Pixel" in m["text"]]
        assert hits, question["memories"]
        first_session = hits[0]["session_id"]
        assert first_session and first_session != question["turn"]["session_id"]
        assert hits[0]["date"].startswith("2024-03-02")
        assert question["retrieval"]["round"] >= 1
        chat = client.runs.wait(thread["thread_id"], "agent", input={"messages": [
            {"role": "user", "content": "Where do I teach?"}]}, context=context)
        assert isinstance(chat, dict)
        assert [m["type"] for m in chat["messages"][-2:]] == ["human", "ai"]
        assert chat["messages"][-1]["content"] == chat["reply"]
    assert "WITHOUT AUTHENTICATION" in (tmp_path / "server.log").read_text()
