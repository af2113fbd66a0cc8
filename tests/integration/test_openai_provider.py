"""The ``openai`` provider against a real OpenAI-compatible server on loopback:
``python -m llama_cpp.server`` serving the offline model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from langchain_core.messages import HumanMessage
from servers import free_port, python_bin, running

from agent_runtime.cost import CostMeter
from agent_runtime.structured import call_structured
from memory_work.model_outputs import BigFiveScores
from providers.gguf import default_gguf_path
from providers.images import load_image
from providers.openai_compat import ChatOpenAICompatible

SAMPLE = Path(__file__).resolve().parents[2] / "personavlm/samples/images/cat_on_sofa.png"


def test_images_are_sent_as_content_blocks() -> None:
    model = ChatOpenAICompatible(model="m", base_url="http://127.0.0.1:9/v1", api_key="x")
    image = load_image(SAMPLE)
    message = HumanMessage(content=[
        {"type": "text", "text": "What is this?"},
        {"type": "image", "base64": image.data_url().partition(",")[2], "mime_type": image.mime},
    ])
    payload = model._get_request_payload([message])
    parts = payload["messages"][0]["content"]
    assert parts[1]["type"] == "image_url"
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = tmp_path_factory.mktemp("llama_server") / "server.log"
    command = [python_bin(), "-m", "llama_cpp.server", "--model", str(default_gguf_path()),
               "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096"]
    with running(command, f"http://127.0.0.1:{port}/v1/models", log):
        yield f"http://127.0.0.1:{port}/v1"


@pytest.mark.slow
def test_chat_and_structured_output_over_http(server_url: str) -> None:
    model = ChatOpenAICompatible(model="local", base_url=server_url, api_key="none",
                                 json_schema_style="json_object", max_tokens=40)
    reply = model.invoke([HumanMessage("Say hello to Ana in one short sentence.")])
    assert "Ana" in str(reply.content)
    assert reply.usage_metadata and reply.usage_metadata["input_tokens"] > 0
    meter = CostMeter()
    scores = call_structured(model, [HumanMessage(
        "Rate the Big Five of someone who says: 'I love parties and meeting new people "
        "every night!' Each trait 1-5, 3 when unknown.")], BigFiveScores, meter, "score")
    assert scores.extraversion >= 4
