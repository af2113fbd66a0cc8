"""The offline default model, loaded for real: file assembly, grammar-constrained JSON,
the agent answering from an earlier session, a reply overtaking background work, and a
prefilled prompt prefix reused by the next reply (or abandoned when a reply is waiting)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, SystemMessage

from agent_runtime.cost import CostMeter
from agent_runtime.resources import ResourceProvider
from agent_runtime.structured import call_structured
from graphs import Context, build_agent
from memory_work.model_outputs import TurnMemories
from memory_work.prompts import EXTRACT_SHAPE, EXTRACT_USER
from memory_work.turn_memories import extraction_messages
from providers.chat import make_chat_model
from providers.gate import for_background
from providers.gguf import DEFAULT_GGUF_SHA256, DEFAULT_GGUF_SIZE, default_gguf_path, file_sha256

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chat():  # type: ignore[no-untyped-def]
    return make_chat_model("llamacpp")


def test_default_model_file_is_the_published_one() -> None:
    path = default_gguf_path()
    assert path.stat().st_size == DEFAULT_GGUF_SIZE
    assert file_sha256(path) == DEFAULT_GGUF_SHA256


def test_grammar_constrained_extraction_finds_a_dislike(chat) -> None:  # type: ignore[no-untyped-def]
    meter = CostMeter()
    found = call_structured(chat, extraction_messages("Ana", EXTRACT_USER.format(
        at="2024-05-01 10:00", previous="none",
        text="I really hate mushrooms, they taste awful.", photos="none")),
        TurnMemories, meter, "extract_memory", shape=EXTRACT_SHAPE, max_tokens=300)
    assert any("mushroom" in p.entity.lower() and not p.likes for p in found.preferences)
    assert meter.model_calls == 1  # valid on the first try: the grammar did its job


def test_agent_answers_from_an_earlier_session(tmp_path: Path, chat) -> None:  # type: ignore[no-untyped-def]
    provider = ResourceProvider(chat_model=chat)
    agent = build_agent(provider=provider)
    context = Context(user_id="t-real", user_name="Ana", store_location=str(tmp_path),
                      background_extraction=False)
    agent.invoke({"text": "My cat is called Biscuit, she is a grey tabby.",
                  "at": "2024-03-02 19:05"}, context=context)
    agent.invoke({"text": "Work was busy today.", "at": "2024-04-10 18:00"}, context=context)
    # Not a name question: the user's own "called Biscuit" answers that without the model.
    out = agent.invoke({"text": "What colour is my cat?", "at": "2024-05-01 09:00"},
                       context=Context(user_id="t-real", user_name="Ana",
                                       store_location=str(tmp_path), update_memory=False))
    provider.close()
    assert any("Biscuit" in m["text"] for m in out["memories"])
    assert "grey" in out["reply"].lower() or "gray" in out["reply"].lower()
    assert out["cost"]["by_step"]["respond"] == 1
    assert out["cost"]["max_prompt_tokens"] <= 2500


def test_the_reply_streams_token_by_token_and_nothing_else_does(tmp_path: Path, chat
                                                                ) -> None:  # type: ignore[no-untyped-def]
    provider = ResourceProvider(chat_model=chat)
    agent = build_agent(provider=provider)
    context = Context(user_id="t-stream", user_name="Ana", store_location=str(tmp_path),
                      background_extraction=False, max_reply_tokens=40)
    agent.invoke({"text": "My cat is called Biscuit, she is a grey tabby.",
                  "at": "2024-03-02 19:05"}, context=context)
    # A statement: its reply is a sentence or two (a question's may be one word).
    chunks = list(agent.stream({"text": "She knocked a glass off the table this morning.",
                                "at": "2024-03-02 19:06"},
                               context=context, stream_mode="messages"))
    # A question: its retrieval decision is a model call too, and must not show.
    asked = list(agent.stream({"text": "What colour is my cat?", "at": "2024-03-02 19:07"},
                              context=context, stream_mode="messages"))
    provider.close()
    streamed = {metadata["langgraph_node"] for m, metadata in chunks + asked
                if isinstance(m, AIMessage | AIMessageChunk)}
    assert streamed == {"respond"}, streamed  # decision, extraction, personality: not shown
    replies = [(m, meta) for m, meta in chunks if isinstance(m, AIMessage | AIMessageChunk)]
    texts = [str(message.content) for message, _ in replies if message.content]
    assert len(texts) > 1, texts  # several chunks, not one
    usage = [m.usage_metadata for m, _ in replies if getattr(m, "usage_metadata", None)]
    assert usage and usage[-1]["input_tokens"] > 0 and usage[-1]["output_tokens"] == len(texts)


def test_reply_overtakes_a_running_background_call(chat) -> None:  # type: ignore[no-untyped-def]
    finished: dict[str, float] = {}
    started = threading.Event()
    long_prompt = [HumanMessage("Count from 1 to 200, one number per line.")]

    def background_call() -> None:
        started.set()
        out = for_background(chat).invoke(long_prompt, max_tokens=160, temperature=0.0)
        finished["background"] = time.monotonic()
        finished["background_tokens"] = out.usage_metadata["output_tokens"]

    worker = threading.Thread(target=background_call)
    worker.start()
    started.wait(10)
    time.sleep(3.0)  # the background call is generating by now
    chat.invoke([HumanMessage("Say hi.")], max_tokens=8)
    finished["reply"] = time.monotonic()
    worker.join(300)
    assert finished["reply"] < finished["background"]
    assert finished["background_tokens"] == 160  # paused, then resumed to the end


WARM_PREFIX = [
    SystemMessage("You are Persona, a friendly personal assistant talking with Ana. Core "
                  "profile of Ana: a nurse in Lyon who keeps two cats, Biscuit and Miso, "
                  "swims on Tuesdays and is learning Portuguese for a trip to Porto in "
                  "June. Personality of Ana: high openness, curious, imaginative, enjoys "
                  "new ideas and experiences; low neuroticism, calm and emotionally steady."),
    HumanMessage("I finally booked the flights to Porto, we leave on June 12!"),
    AIMessage("Wonderful news, Ana! June in Porto will be lovely for your Portuguese."),
]


def test_prefilled_prefix_is_reused_by_the_next_reply(chat, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    assert chat.prefill(WARM_PREFIX) == "warmed"
    llm = chat._context(False)
    warmed = llm.n_tokens
    evaluated: list[int] = []
    plain_eval = llm.eval

    def counting_eval(tokens):  # type: ignore[no-untyped-def]
        evaluated.append(len(tokens))
        plain_eval(tokens)

    monkeypatch.setattr(llm, "eval", counting_eval)
    out = chat.invoke([*WARM_PREFIX, HumanMessage("When do we leave?")], max_tokens=8)
    prompt_tokens = out.usage_metadata["input_tokens"]
    assert warmed > 100
    # Only the new message (and the template's few tokens around it) is evaluated.
    assert evaluated[0] <= prompt_tokens - warmed + 8


def test_a_prefix_the_context_nearly_holds_is_not_prefilled_again(chat) -> None:  # type: ignore[no-untyped-def]
    # A prefix of its own: another test may have left WARM_PREFIX in the context.
    prefix = [SystemMessage(str(WARM_PREFIX[0].content).replace("Ana", "Bea")),
              *WARM_PREFIX[1:]]
    assert chat.prefill(prefix) == "warmed"
    llm = chat._context(False)
    held = llm.n_tokens
    assert chat.prefill(prefix) == "not needed"
    one_more = [*prefix, HumanMessage("Can you remind me of the date?")]
    assert chat.prefill(one_more) == "not needed"  # a few tokens: the reply pays for them
    assert llm.n_tokens <= held
    longer = [*prefix, HumanMessage("Here is my packing list for the trip. " * 12)]
    assert chat.prefill(longer) == "warmed"
    assert llm.n_tokens > held + 96


def test_prefill_gives_way_to_a_waiting_reply(chat, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    llm = chat._context(False)
    other = [SystemMessage("You are a terse assistant. " * 30), HumanMessage("Hello.")]
    monkeypatch.setattr(chat._gate, "foreground_waiting", lambda: True)
    assert chat.prefill(other) == "abandoned"
    assert llm.n_tokens <= 8  # none of its ~200 tokens: it stopped before the first chunk
    monkeypatch.undo()
    reply = chat.invoke([HumanMessage("Say hi.")], max_tokens=8)
    assert str(reply.content).strip()


def test_loading_the_model_leaves_the_processs_output_alone() -> None:
    """While a model loads in one thread, another thread's stdout and stderr still reach
    the terminal (llama-cpp-python used to point both at /dev/null for the process)."""
    import os

    from providers.llama_runtime import load_llama

    seen: set[str] = set()
    loader = threading.Thread(target=load_llama, args=(str(default_gguf_path()),),
                              kwargs={"n_ctx": 512})
    loader.start()
    while loader.is_alive():
        seen.update(os.readlink(f"/proc/self/fd/{fd}") for fd in (1, 2))
        time.sleep(0.01)
    loader.join()
    assert os.devnull not in seen, seen


def test_the_contexts_of_one_model_share_its_weights() -> None:
    """A second context on the loaded model answers as a fresh load does and costs its
    context (~0.3 GB at 8,192 tokens), not another copy of the weights (~1.1 GB)."""
    from providers.gguf import default_gguf_path
    from providers.llama_runtime import another_context, import_llama_cpp, load_llama

    def resident_mb() -> int:
        return int(Path("/proc/self/status").read_text().split("VmRSS:")[1].split()[0]) // 1024

    first = load_llama(str(default_gguf_path()), n_ctx=8192)
    before = resident_mb()
    second = another_context(first, import_llama_cpp().Llama)
    grown = resident_mb() - before
    prompt = "The three primary colours are"
    assert second.create_completion(prompt, max_tokens=8, temperature=0.0)["choices"][0]["text"] \
        == first.create_completion(prompt, max_tokens=8, temperature=0.0)["choices"][0]["text"]
    assert grown < 600, f"the second context took {grown} MB"
