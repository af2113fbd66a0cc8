"""A photo without a caption, given to a model that cannot see (a SCRIPTED FAKE chat
model, which declares no vision), is stored undescribed and the turn's ``errors`` say how
to caption it; a captioned one says nothing."""

from __future__ import annotations

from pathlib import Path

from helpers import HashingEmbedder, ScriptedFakeChatModel

from agent_runtime.context import Context
from agent_runtime.resources import ResourceProvider
from graphs import build_agent
from graphs.assistant import Assistant
from memory_graph.backends.networkx_store import NetworkxStore

PHOTO = Path(__file__).resolve().parents[2] / "personavlm/samples/images/cat_on_sofa.png"


def test_an_undescribed_photo_is_said_in_the_turns_errors(tmp_path: Path) -> None:
    provider = ResourceProvider(chat_model=ScriptedFakeChatModel(script=lambda _: "Nice."),
                                embedder=HashingEmbedder(), store=NetworkxStore(tmp_path / "db"),
                                media_dir=tmp_path / "media")
    context = Context(user_id="maya", background_extraction=False, extract_memories=False)
    with Assistant(context, build_agent(provider=provider), provider) as assistant:
        bare = assistant.say("Look at this.", at="2024-05-01 10:00", images=[str(PHOTO)])
        assert any(e["kind"] == "photo" and "caption" in e["message"]
                   and "cannot see" in e["message"] for e in bare["errors"])
        captioned = assistant.say("And this.", at="2024-05-01 10:01",
                                  images=[{"path": str(PHOTO), "caption": "a cat asleep"}])
        assert not any("caption" in e["message"] for e in captioned["errors"])
    provider.close()
