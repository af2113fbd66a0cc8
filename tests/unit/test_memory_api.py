"""``from personavlm import Memory``: add, search (scores on 0-1, best first, ``as_of``),
get_all, remember, update (a correction closes the old memory in valid time, ``history``
shows both), delete (the text leaves every file), users, profile, the async twins, and a
photo without a caption on a model that cannot see (a warning that says how to caption
it). The real embedded store; a hashing embedder and no reranker keep it fast."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import HashingEmbedder

from memory_graph.errors import InvalidInputError, UnknownMemoryError
from personavlm import Memory

PHOTO = Path(__file__).resolve().parents[2] / "personavlm/samples/images/cat_on_sofa.png"
KEYS = {"id", "text", "kind", "valid_from", "valid_to", "source_turns"}


@pytest.fixture
def memory(tmp_path: Path) -> Iterator[Memory]:
    with Memory(tmp_path / "memory", embedder=HashingEmbedder(), search="hybrid_fast") as m:
        yield m


def test_what_is_added_is_found_with_a_score_on_0_to_1(memory: Memory) -> None:
    stored = memory.add("I adopted a beagle called Pixel.", user_id="ana",
                        at="2024-03-03 10:00")
    assert [r["kind"] for r in stored] == ["user turn"]
    assert set(stored[0]) == KEYS and stored[0]["source_turns"] == [stored[0]["id"]]
    memory.add([{"role": "user", "content": "I moved to Porto last spring."},
                {"role": "assistant", "content": "How do you like it there?"},
                {"role": "system", "content": "not a turn"}], user_id="ana",
               at="2024-03-04 10:00")
    hits = memory.search("beagle called Pixel", user_id="ana", limit=3)
    assert hits[0]["text"] == "I adopted a beagle called Pixel."
    scores = [h["score"] for h in hits]
    assert all(0 <= s <= 1 for s in scores) and scores == sorted(scores, reverse=True)
    everything = memory.get_all("ana")
    assert [r["kind"] for r in everything] == ["user turn", "user turn", "assistant turn"]
    assert memory.users() == ["ana"]
    with pytest.raises(InvalidInputError):
        memory.add([{"role": "system", "content": "only this"}], user_id="ana")


def test_a_correction_closes_the_old_memory_and_keeps_it_as_history(memory: Memory) -> None:
    old = memory.remember("Ana drinks coffee every morning.", user_id="ana",
                          at="2024-01-01 08:00")
    assert old["kind"] == "remember" and old["valid_to"] is None
    new = memory.update(old["id"], "Ana drinks green tea every morning.")
    versions = memory.history(new["id"])
    assert [v["text"] for v in versions] == ["Ana drinks coffee every morning.",
                                            "Ana drinks green tea every morning."]
    assert versions[0]["valid_to"] == new["valid_from"] and versions[1]["valid_to"] is None
    assert memory.history(old["id"], user_id="ana") == versions
    then = memory.search("what does Ana drink", user_id="ana", as_of="2024-02-01")
    assert [h["text"] for h in then] == ["Ana drinks coffee every morning."]
    with pytest.raises(UnknownMemoryError):
        memory.update(old["id"], "closed already")
    turn = memory.add("I like jazz.", user_id="ana")[0]
    with pytest.raises(UnknownMemoryError):  # what was said is never rewritten
        memory.update(turn["id"], "I like rock.")


def test_delete_forgets_the_text_everywhere(memory: Memory, tmp_path: Path) -> None:
    turn = memory.add("My locker code is QX-5521-LAMP.", user_id="ana")[0]
    memory.add("See you at the pool.", user_id="ana")
    assert memory.delete(turn["id"])["turns"] >= 1
    assert [r["text"] for r in memory.get_all("ana")] == ["See you at the pool."]
    assert not [p for p in (tmp_path / "memory").rglob("*")
                if p.is_file() and b"QX-5521-LAMP" in p.read_bytes()]
    with pytest.raises(UnknownMemoryError):
        memory.delete(turn["id"])


def test_delete_removes_the_files_of_the_photos_it_forgets(memory: Memory,
                                                           tmp_path: Path) -> None:
    def photos() -> list[Path]:
        return [p for p in tmp_path.rglob("*.png") if p.is_file()]

    shared = memory.add("My cat.", user_id="ana",
                        images=[{"path": str(PHOTO), "caption": "a cat asleep on a sofa"}])
    assert len(photos()) == 1
    memory.delete(shared[0]["id"])
    assert photos() == []
    memory.add("My cat.", user_id="ben",
               images=[{"path": str(PHOTO), "caption": "a cat asleep on a sofa"}])
    assert len(photos()) == 1
    memory.delete_all("ben")
    assert photos() == [] and memory.users() == ["ana"]


def test_profile_and_async_twins(memory: Memory) -> None:
    async def run() -> None:
        await memory.aadd("I love organising parties and meeting new people!",
                          user_id="ben", at="2024-05-01 18:00")
        assert (await memory.asearch("parties", user_id="ben"))[0]["kind"] == "user turn"
        assert await memory.ausers() == ["ben"]
    asyncio.run(run())
    profile = memory.profile("ben")
    assert set(profile["big_five"]) == {"openness", "conscientiousness", "extraversion",
                                        "agreeableness", "neuroticism"}
    assert profile["messages_observed"] == 1 and profile["personality"]


def test_a_photo_without_a_caption_on_a_model_that_cannot_see_is_a_warning(
        memory: Memory) -> None:
    with pytest.warns(UserWarning, match="caption"):
        stored = memory.add("Look at my cat.", user_id="ana", images=[str(PHOTO)])
    assert [r["kind"] for r in stored] == ["user turn", "image"]
    captioned = memory.add("And again.", user_id="ana",
                           images=[{"path": str(PHOTO), "caption": "a cat asleep on a sofa"}])
    assert captioned[-1]["text"] == "a cat asleep on a sofa"
    assert memory.search("cat asleep sofa", user_id="ana")[0]["kind"] == "image"


def test_memory_and_the_command_line_use_one_default_location(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    from personavlm.cli import main

    monkeypatch.setenv("PERSONAVLM_DATA", str(tmp_path / "data"))
    with Memory(embedder=HashingEmbedder(), search="hybrid_fast") as memory:
        memory.add("I keep bees on the roof.", user_id="dora", at="2024-06-01 09:00")
    assert main(["memories", "--user", "dora", "--ids"]) == 0
    assert "I keep bees on the roof." in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["memories", "--help"])
    assert "$PERSONAVLM_DATA/memory" in " ".join(capsys.readouterr().out.split())
