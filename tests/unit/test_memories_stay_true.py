"""Memories that stay true: a restated fact is one memory with both turns as provenance,
a fact the user makes untrue is closed in valid time, nothing the assistant said becomes a
fact about the user, and junk names are no entities. The chat model is a SCRIPTED FAKE."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from helpers import HashingEmbedder, ScriptedFakeChatModel, step_of
from langchain_core.messages import BaseMessage

from agent_runtime.resources import ResourceProvider
from graphs import Context
from graphs.agent import build_agent
from graphs.assistant import Assistant
from memory_graph.backends.networkx_store import NetworkxStore
from memory_graph.schema import EdgeType, Fact, NodeLabel, Routine, Turn
from memory_graph.search import MemoryHit
from memory_work.consolidate import citing_turns, real_routines
from memory_work.entity_names import junk_reason
from memory_work.model_outputs import ProceduralMemory, TurnMemories
from memory_work.reconcile import shares_a_subject
from memory_work.turn_memories import keep_grounded, said_in
from nodes.reply_prompt import reply_hint
from nodes.retrieve import without_restatements

FACTS = {
    "love coffee": "Maya loves coffee.",
    "five cups": "Maya drinks five cups of coffee a day.",
    "quit coffee": "Maya quit coffee.",
    "No more coffee": "Maya drinks no more coffee.",
    "sister Lia": "Maya has a sister named Lia.",
    "Lia, my sister": "Maya has a sister named Lia.",
    "tired": "Maya teaches chemistry in Porto.",  # read from the assistant's reply
}


def script(messages: list[BaseMessage]) -> str:
    step = step_of(messages)
    last = str(messages[-1].content)
    if step == "extract":
        text = last.split("message: ", 1)[1]
        facts = [{"statement": s, "entities": []} for k, s in FACTS.items() if k in text]
        # A small model turns questions into likes ("likes drink: tomorrow morning").
        preferences = [{"entity": name, "kind": "food", "likes": True}
                       for name in ("coffee", "drink") if name in text.lower()
                       and "quit" not in text and "No more" not in text]
        return json.dumps({"facts": facts, "preferences": preferences, "remember": [],
                           "visual": [],
                           "entities": [{"name": "slept", "kind": "activity"},
                                        {"name": "Mira", "kind": "person"}]})
    if step == "consolidate":
        return json.dumps({"profile": "", "topics": [], "routines": [
            {"description": "Maya drinks coffee", "kind": "habit"}] if "coffee" in last else []})
    if step == "reconcile":
        known = re.findall(r"^(\d+)\. (.*)$", last, re.MULTILINE)
        new = re.findall(r"^([A-Z])\. (.*)$", last, re.MULTILINE)
        verdicts = [{"new": letter, "old": int(number), "relation": "updates"}
                    for letter, statement in new for number, old in known
                    if "quit" in statement and "coffee" in old]
        return json.dumps({"verdicts": verdicts})
    return "scripted reply"


def replay(tmp_path: Path, exchanges: list[str]) -> tuple[Assistant, ResourceProvider]:
    provider = ResourceProvider(chat_model=ScriptedFakeChatModel(script=script),
                                embedder=HashingEmbedder(), store=NetworkxStore(tmp_path / "s"),
                                media_dir=tmp_path / "media")
    assistant = Assistant(Context(user_id="maya", user_name="Maya", assistant_name="Mira",
                                  background_extraction=False, use_personality=False,
                                  use_consolidation=True, extraction_window=1),
                          build_agent(provider=provider), provider)
    for minute, text in enumerate(exchanges):
        assistant.replay(text, "You teach chemistry in Porto, no wonder!",
                         f"2024-03-02 19:{minute:02d}")
    return assistant, provider


def facts_of(provider: ResourceProvider) -> list[Fact]:
    memory = provider.resolve(Context(user_id="maya")).memory
    return [n for n in memory.nodes("maya", NodeLabel.FACT) if isinstance(n, Fact)]


def test_a_fact_said_again_is_one_memory_with_both_turns(tmp_path: Path) -> None:
    _, provider = replay(tmp_path, ["My sister Lia lives in Lisbon.",
                                    "Lia, my sister, visits this weekend."])
    facts = facts_of(provider)
    assert [f.statement for f in facts] == ["Maya has a sister named Lia."]
    memory = provider.resolve(Context(user_id="maya")).memory
    assert len(memory.source_turns("maya", facts[0].id)) == 2


def test_a_fact_made_untrue_is_closed_at_the_turn_that_says_so(tmp_path: Path) -> None:
    _, provider = replay(tmp_path, ["I drink five cups of coffee a day.",
                                    "I quit coffee last week."])
    by_text = {f.statement: f for f in facts_of(provider)}
    old, new = by_text[FACTS["five cups"]], by_text[FACTS["quit coffee"]]
    assert old.valid_to is not None and old.valid_to == new.at
    assert new.is_current()
    memory = provider.resolve(Context(user_id="maya")).memory
    assert [f.statement for f in memory.current_facts("maya")] == [FACTS["quit coffee"]]


def test_a_habit_made_untrue_is_closed_and_shown_as_history(tmp_path: Path) -> None:
    assistant, provider = replay(tmp_path, ["I drink five cups of coffee every day."])
    assistant.replay("I quit coffee last week.", "Good for you!", "2024-05-28 21:00")
    memory = provider.resolve(Context(user_id="maya")).memory
    routines = [n for n in memory.nodes("maya", NodeLabel.ROUTINE) if isinstance(n, Routine)]
    assert [r.description for r in routines] == ["Maya drinks coffee"]
    assert routines[0].valid_to == datetime(2024, 5, 28, 21, 0, tzinfo=UTC)
    shown = [row["text"] for row in assistant.memories() if row["kind"] == "routine"]
    assert shown == ["habit: Maya drinks coffee (no longer true from 28 May 2024)"]


def test_what_the_assistant_said_is_no_fact_and_junk_is_no_entity(tmp_path: Path) -> None:
    _, provider = replay(tmp_path, ["I slept badly and I'm so tired."])
    assert facts_of(provider) == []  # "teaches chemistry" came from the assistant's reply
    memory = provider.resolve(Context(user_id="maya")).memory
    assert {e.name for e in memory.entities("maya")} == set()
    assert not memory.edges("maya", ["maya"], [EdgeType.INVOLVES])


@pytest.mark.parametrize(("name", "kind", "junk"), [
    ("slept", "activity", True), ("adopted", "other", True), ("last week", "other", True),
    ("right by the lake", "place", True), ("Mira", "person", True),
    ("stress", "person", True), ("Tiago", "person", False), ("my sister", "person", False),
    ("the lake", "place", False), ("green tea", "food", False), ("hiking", "activity", False),
])
def test_names_a_person_would_not_use_are_no_entities(name: str, kind: str, junk: bool
                                                      ) -> None:
    source = "Walked by the lake with Tiago and my sister, so much stress. Hiking soon!"
    assert bool(junk_reason(name, kind, source, excluded=("Mira", "Maya"))) is junk


@pytest.mark.parametrize(("statement", "said"), [
    ("Maya has a sister named Lia.", True), ("Maya gave up coffee completely.", True),
    ("Maya teaches chemistry in Porto.", False), ("Maya loves rock climbing.", False),
])
def test_a_fact_must_be_said_in_the_message(statement: str, said: bool) -> None:
    message = "My sister Lia says I should quit coffee completely."
    assert said_in(statement, message, "Maya") is said


def test_a_question_states_no_fact_but_may_ask_to_remember() -> None:
    question = "What's the weather like in general in spring?"
    assert not said_in("The weather is generally good in spring.", question, "Maya")
    ask = "Can you remember that Lia's birthday is June 3?"
    assert said_in("Lia's birthday is June 3.", ask, "Maya", questions=True)



def _turns(*texts: str) -> list[Turn]:
    return [Turn(id=f"t{i}", user_id="maya", role="user", speaker="Maya", text=text,
                 session_id="s1",
                 at=datetime(2024, 3, 2, 19, i), seq=i) for i, text in enumerate(texts)]


def test_a_routine_is_a_habit_said_with_how_often_or_a_stated_goal() -> None:
    habit = ProceduralMemory(description="strong espresso before class", kind="habit")
    goal = ProceduralMemory(description="run a half marathon in October", kind="goal")
    muddled = ProceduralMemory(description="coffee drinking, brother's birthday")
    assert real_routines([habit, goal, muddled], _turns(
        "I have a strong espresso every morning before class.",
        "I want to run a half marathon in October.")) == [habit, goal]
    assert real_routines([habit, goal], _turns("I love coffee.", "Tiago is my brother.")) == []


def test_a_session_fact_cites_the_turns_that_say_it() -> None:
    turns = _turns("Hi there!", "My brother Tiago turns 30 on April 14.", "Nice weather.")
    assert [t.id for t in citing_turns("Maya's brother Tiago turns 30.", turns)] == ["t1"]
    assert citing_turns("Maya adopted a beagle.", turns) == []


def _hit(node_id: str, label: str, provenance: list[str]) -> MemoryHit:
    at = datetime(2024, 3, 2, 19, 0)
    node: Any = Turn(id=node_id, user_id="maya", role="user", speaker="Maya", text="x",
                     session_id="s1", at=at, seq=0) if label == "Turn" else \
        Fact(id=node_id, user_id="maya", statement="Maya x.", at=at)
    return MemoryHit(node=node, score=1.0, date=at, session_id="s1", provenance=provenance)


def test_a_derived_memory_whose_turns_are_shown_gives_way_to_the_next_hit() -> None:
    hits = [_hit("t1", "Turn", ["t1"]), _hit("f1", "Fact", ["t1"]),
            _hit("f2", "Fact", ["t2"]), _hit("f3", "Fact", ["t0"])]
    assert [h.node.id for h in without_restatements(hits, {"t0"})] == ["t1", "f2"]


@pytest.mark.parametrize(("old", "new", "same"), [
    ("Maya drinks way too much coffee.", "Maya quit coffee completely.", True),
    ("Maya works at Santa Maria hospital.", "Maya left the hospital.", True),
    ("Maya adopted a cat named Pixel.", "Maya has a brother named Tiago.", False),
    ("Maya adopted a cat named Pixel.", "Maya went camping.", False),
])
def test_only_a_fact_about_the_same_thing_can_be_closed(old: str, new: str, same: bool
                                                         ) -> None:
    assert shares_a_subject(old, new, "Maya") is same


@pytest.mark.parametrize(("text", "hint"), [
    ("Please remember that Tiago's birthday is April 14.", "remember it"),
    ("Do you remember my cat's name?", "starts with the answer itself"),
    ("When is Tiago's birthday?", "it has not been mentioned"),
    ("I'm back from camping!", "warmly"),
])
def test_the_reply_prompt_ends_with_how_to_reply_to_this_message(text: str, hint: str
                                                                  ) -> None:
    assert hint in reply_hint(text, "Sam")


def test_an_answer_format_takes_the_place_of_the_products_form() -> None:
    """A protocol's format is the only form instruction of the prompt: appended after the
    product's sentence, the model kept answering in the sentence."""
    hint = reply_hint("When did I move?", "Sam", "Answer the question in a few words.")
    assert "Answer the question in a few words, as the memories" in hint
    assert "starts with the answer itself" not in hint and hint.count(".)") == 1
    assert "starts with the answer itself" in reply_hint("When did I move?", "Sam", " ")


def test_each_sentence_of_a_packed_session_fact_is_cited_apart() -> None:
    from memory_graph.schema import Session
    from memory_work.consolidate import session_facts
    from memory_work.model_outputs import SessionNotes

    class NoEntities:
        def touched(self) -> list[Any]:
            return []

    turns = _turns("I went to a support group yesterday.", "I paint sunsets by the lake.")
    notes = SessionNotes(facts=["Maya went to a support group. Maya paints sunsets by the lake."])
    session = Session(id="s1", user_id="maya", started_at=turns[0].at)
    cited = [(f.statement, ids) for f, ids, _ in
             session_facts("maya", session, turns, notes, NoEntities())]  # type: ignore[arg-type]
    assert cited == [("Maya went to a support group.", ["t0"]),
                     ("Maya paints sunsets by the lake.", ["t1"])]


def current_likes(provider: ResourceProvider) -> dict[str, str]:
    memory = provider.resolve(Context(user_id="maya")).memory
    edges = memory.preferences("maya")
    names = memory.preference_names("maya", edges)
    return {names[e.target]: e.type.value for e in edges}


@pytest.mark.parametrize("giving_up", ["I quit coffee last week.",
                                       "No more coffee for me, doctor's orders."])
def test_giving_something_up_ends_liking_it_in_valid_time(tmp_path: Path, giving_up: str
                                                          ) -> None:
    _, provider = replay(tmp_path, ["I love coffee, honestly.", giving_up])
    assert current_likes(provider) == {"coffee": EdgeType.DISLIKES.value}
    memory = provider.resolve(Context(user_id="maya")).memory
    history = memory.preferences("maya", history=True)
    liked = [e for e in history if e.type is EdgeType.PREFERS]
    assert liked and liked[0].valid_to is not None


@pytest.mark.parametrize("question", [
    "What should I drink tomorrow morning?", "Should I drink coffee before the exam?",
    "If I went to Rome, which coffee would you try?"])
def test_a_question_or_a_supposition_is_no_preference(tmp_path: Path, question: str) -> None:
    _, provider = replay(tmp_path, [question])
    assert current_likes(provider) == {}


def test_a_question_in_a_message_that_states_something_is_still_no_preference(
        tmp_path: Path) -> None:
    _, provider = replay(tmp_path, ["I teach on Mondays. What should I drink tomorrow morning?"])
    assert current_likes(provider) == {}


def test_a_message_of_questions_alone_costs_no_extraction_call(tmp_path: Path) -> None:
    model = ScriptedFakeChatModel(script=script)
    provider = ResourceProvider(chat_model=model, embedder=HashingEmbedder(),
                                store=NetworkxStore(tmp_path / "s"), media_dir=tmp_path / "m")
    assistant = Assistant(Context(user_id="maya", user_name="Maya", extraction_window=1,
                                  background_extraction=False), build_agent(provider=provider),
                          provider)
    for minute, text in enumerate(["What should I drink tomorrow morning?",
                                   "Can you remember that I love coffee?", "I love coffee."]):
        assistant.replay(text, "Noted.", f"2024-03-02 19:{minute:02d}")
    extracted = [str(c[-1].content).split("\nmessage: ", 1)[1].split("\n")[0]
                 for c in model.calls if step_of(c) == "extract"]
    assert extracted == ["Can you remember that I love coffee?", "I love coffee."]


def test_the_assistants_own_replies_are_no_evidence() -> None:
    from nodes.retrieve import tells_the_reply

    said = Turn(id="u", user_id="maya", session_id="s", role="user", text="I have a cat",
                at=datetime(2024, 1, 1, tzinfo=UTC))
    replied = said.model_copy(update={"id": "a", "role": "assistant",
                                      "text": "Your dog is called Rex"})
    assert tells_the_reply(said, {}) and not tells_the_reply(replied, {})


def test_the_product_prompts_hold_no_example_content() -> None:
    """Capitalised words of the reply instructions are placeholders or sentence starts:
    no name, pet or date a small model could copy into an answer."""
    from nodes import prompts
    from personavlm import middleware

    for module, name in [*((prompts, n) for n in ("REPLY_SYSTEM", "MEMORY_BLOCK",
                                                  "ANSWER_HINT", "CHAT_HINT",
                                                  "REMEMBER_HINT")),
                         (middleware, "MIDDLEWARE_SYSTEM"), (middleware, "MIDDLEWARE_MEMORIES")]:
        text = re.sub(r"\{\w+\}", "", getattr(module, name))
        words = set(re.findall(r"\b[A-Z][a-z]+", text))
        assert not words - {"Memories", "Current", "Now", "Profile", "Personality", "Only",
                            "If", "You", "Reply", "In", "Keep", "What", "The", "Answer",
                            "For"}, (name, words)
        assert not re.search(r"\d", text), name
    for name in ("ANSWER_HINT", "CHAT_HINT", "REMEMBER_HINT"):
        # Said five times, the user's name became the answer to "what is my cat called?".
        assert getattr(prompts, name).count("{user}") <= 1, name


def test_memory_works_examples_name_their_content_only_by_slots() -> None:
    """The worked examples of extraction and reconciliation stand for names, pets, places,
    foods and dates by slots in square brackets, so a copied example is no memory."""
    from memory_work import prompts

    texts = [text for pairs in (prompts.EXTRACT_EXAMPLES, prompts.RECONCILE_EXAMPLES)
             for pair in pairs for text in pair]
    for text in texts:
        content = re.sub(r"\[[A-Z ]+\]|USER", "", text)
        words = set(re.findall(r"\b[A-Z][a-z]+", content))
        assert not words - {"Time", "Previous", "Just", "Remember", "Enjoy", "Any", "Known",
                            "New", "For", "Leave"}, (text, words)
        # Clock times and the numbers of photos and known facts; no date, no year.
        assert all(re.fullmatch(r"\d\d:\d\d|\d", n)
                   for n in re.findall(r"\d+(?::\d+)?", content)), text


def test_a_copied_worked_example_is_no_memory() -> None:
    """What the model copies from its worked example is dropped: the message never says it."""
    from memory_work import prompts

    copied = TurnMemories.model_validate_json(
        prompts.EXTRACT_EXAMPLES[0][1].replace("USER", "Maya"))
    kept, dropped = keep_grounded(copied, "I had a long day at work.", "Maya")
    assert not (kept.facts or kept.preferences or kept.remember or kept.visual)
    assert dropped


@pytest.mark.parametrize(("question", "known", "unmentioned"), [
    ("What's my brother's name?", ["My sister Lia lives in Lisbon."], ["brother"]),
    ("Who is my dentist?", ["I saw my dentist today."], []),
    ("What's my cat called again?", ["This is Pixel, my cat."], []),
    ("What should I grab on my break?", [], []),   # advice, not a name
    ("Who's the head chef at my original restaurant now?", ["We opened the restaurant."],
     []),
    ("What's the name of my dog?", ["My cat sleeps."], ["dog"]),
    ("My brother is called Tiago.", [], []),          # not a question
])
def test_a_name_never_mentioned_is_said_to_be_unmentioned(question: str, known: list[str],
                                                          unmentioned: list[str]) -> None:
    from nodes.reply_prompt import unmentioned_subjects

    assert unmentioned_subjects(question, known) == unmentioned


def test_a_name_the_user_never_mentioned_is_not_guessed(tmp_path: Path) -> None:
    assistant, _ = replay(tmp_path, ["My sister Lia lives in Lisbon."])
    out = assistant.say("What's my brother's name?", at="2024-03-09 10:00",
                        update_memory=False)
    assert out["reply"] == "You haven't told me about your brother yet, so I don't know."
    assert "respond" not in out["cost"]["by_step"]
    asked = assistant.say("Where does my sister live?", at="2024-03-09 10:01",
                          update_memory=False)
    assert asked["reply"] == "scripted reply"  # she was mentioned: the model answers
    assert asked["cost"]["by_step"]["respond"] == 1


def test_a_name_the_user_never_gave_is_not_guessed(tmp_path: Path) -> None:
    assistant, _ = replay(tmp_path, ["My son called me from school.",
                                     "My sister Lia lives in Lisbon."])
    out = assistant.say("What's my son's name?", at="2024-03-09 10:00", update_memory=False)
    assert out["reply"] == "You haven't told me the name of your son, so I don't know it."
    assert "respond" not in out["cost"]["by_step"]
    asked = assistant.say("What's my sister called?", at="2024-03-09 10:01",
                          update_memory=False)
    assert asked["reply"] == "Your sister is called Lia."  # she was named, once


def test_the_assistants_replies_do_not_crowd_out_the_name_the_user_gave(tmp_path: Path
                                                                        ) -> None:
    """More replies that speak of the brother than the name search returns: they would
    take every place of the user's one message that names him."""
    assistant, _ = replay(tmp_path, ["My brother Tiago and I spent the whole long weekend "
                                     "repainting every room of the old family house."])
    for minute in range(51):
        assistant.replay("Okay.", "Your brother sounds kind; say hello to your brother!",
                         f"2024-03-05 {10 + minute // 60}:{minute % 60:02d}")
    out = assistant.say("What's my brother's name?", at="2024-03-09 10:00",
                        update_memory=False)
    assert out["reply"] == "Your brother is called Tiago."


def test_the_name_of_a_place_the_user_never_named_is_not_guessed(tmp_path: Path) -> None:
    assistant, _ = replay(tmp_path, ["I teach maths at a school in Leeds."])
    out = assistant.say("What's the name of the school I teach at?", at="2024-03-09 10:00",
                        update_memory=False)
    assert out["reply"] == "You haven't told me the name of your school, so I don't know it."


@pytest.mark.parametrize(("question", "subject"), [
    ("What's my son's name?", "son"),
    ("What is the name of my restaurant?", "restaurant"),
    ("What's my cat called again?", "cat"),
    ("What's my sister's fiancé called?", "sister's fiancé"),
    ("What did I name my boat?", "boat"),
    ("What's the name of the hospital I work at?", "hospital"),
    ("What was the name of the little cafe we went to?", "little cafe"),
    ("What's the name of the book I should read next?", None),  # advice, not a name
    ("Where is my cat?", None),
    ("Who's the head chef at my restaurant now?", None),  # a person asked, not a name
    ("My cat is called Pixel.", None),                   # not a question
])
def test_what_a_question_asks_the_name_of(question: str, subject: str | None) -> None:
    from nodes.grounding import name_subject

    assert name_subject(question) == subject


@pytest.mark.parametrize(("subject", "text", "named"), [
    ("son", "My son Adam starts school.", True),
    ("son", "My son, Adam, starts school.", True),
    ("son", "Adam, my son, starts school.", True),
    ("son", "Adam is my son.", True),
    ("cat", "My cat's name is Pixel.", True),
    ("cat", "My cat is called Pixel.", True),
    ("cat", "This is Pixel, my cat.", True),
    ("son", "Also, my son starts school.", False),
    ("son", "Today my son starts school.", False),
    ("cat", "My cat is grey and I love her.", False),
    ("restaurant", "I run a seafood restaurant near the port.", False),
    ("cat", "This is Tofu, the grey cat I adopted last month.", True),
    ("restaurant", "I run a seafood restaurant in Alexandria.", False),  # a place
    ("restaurant", "I run a seafood restaurant in Alexandria, near the Corniche.", False),
    ("cat", "My cat Pixel sleeps in the sun.", True),
    ("mum", "My mum called on Sunday.", False),
])
def test_a_name_is_given_beside_the_word_for_it(subject: str, text: str, named: bool) -> None:
    from nodes.grounding import names_given

    assert names_given(subject, [text]) is named


@pytest.mark.parametrize(("subject", "texts", "name"), [
    ("cat", ["Hi! I'm Maya. This is my cat Pixel, she is orange."], "Pixel"),
    ("son", ["My son, Adam, starts school."], "Adam"),
    ("son", ["Adam is my son."], "Adam"),
    ("cat", ["My cat's name is Pixel."], "Pixel"),
    ("cat", ["My cat is called Pixel."], "Pixel"),
    ("cat", ["This is Tofu, the grey cat I adopted last month."], "Tofu"),
    ("cat", ["We adopted a cat named Tofu."], "Tofu"),
    ("cat", ["My cat Pixel sleeps.", "Pixel is my cat, she is orange."], "Pixel"),
    ("cat", ["My cat Pixel sleeps.", "My cat Tofu eats."], None),   # two cats
    ("cat", ["Ask Dr Ruiz, my cat's vet."], None),                  # the vet's name
    ("son", ["Also, my son starts school."], None),
    ("sister's fiancé", ["My sister's fiancé is called Tom."], "Tom"),
    ("cat", ["my cat pixel sleeps."], None),                        # no capital: the model
    ("sister", ["We stayed at my sister Gráinne's place."], "Gráinne"),
    ("collie", ["Our collie, Fiadh, gets bored when we're out."], "Fiadh"),
    ("sister", ["My sister Gráinne\u2019s kids visited."], "Gráinne"),
])
def test_the_one_name_the_user_gave(subject: str, texts: list[str], name: str | None) -> None:
    from nodes.grounding import name_given

    assert name_given(subject, texts) == name


def test_a_name_the_user_gave_is_answered_from_their_words(tmp_path: Path) -> None:
    assistant, _ = replay(tmp_path, ["Hi! I'm Maya. This is my cat Pixel, she is orange."])
    out = assistant.say("What is my cat called?", at="2024-03-09 10:00", update_memory=False)
    assert out["reply"] == "Your cat is called Pixel."
    assert "respond" not in out["cost"]["by_step"]


def test_a_bare_entity_takes_no_memorys_place() -> None:
    from memory_graph.schema import Entity
    from nodes.retrieve import tells_the_reply

    bare = Entity(id="e1", user_id="maya", name="Porto", kind="place")
    described = Entity(id="e2", user_id="maya", name="Lia", kind="person", summary="Maya's sister.")
    liked = Entity(id="e3", user_id="maya", name="tea", kind="food")
    notes = {liked.id: "user liked it from 2024-03-01 on (current)"}
    assert [n for n in (bare, described, liked) if tells_the_reply(n, notes)] == [described, liked]


def test_the_model_written_profile_is_shown_only_when_asked(tmp_path: Path) -> None:
    from nodes.reply_prompt import reply_prefix

    background = {"profile": "a profile the model wrote", "recent": []}
    shown = reply_prefix(background, {}, Context(user_name="Maya", use_profile=True))
    hidden = reply_prefix(background, {}, Context(user_name="Maya"))
    assert "a profile the model wrote" in str(shown[0].content)
    assert "a profile the model wrote" not in str(hidden[0].content)
    assert "Profile" not in str(hidden[0].content)


def test_memories_the_reply_may_not_see_take_no_place_in_the_search(tmp_path: Path) -> None:
    """The assistant's replies restate the user's words and rank beside them; dropped
    after the cut to k, they left the prompt with fewer memories than asked for."""
    from helpers import HashingEmbedder

    from memory_graph.backends.networkx_store import NetworkxStore
    from memory_graph.graph import MemoryGraph, TurnInput
    from memory_graph.search import RECIPES, HybridSearch
    from nodes.retrieve import tells_the_reply

    memory = MemoryGraph(NetworkxStore(tmp_path / "store"), HashingEmbedder())
    memory.ensure_user("maya", "Maya")
    said = "Got the keys to a small studio by the harbour today."
    memory.add_turns("maya", [
        TurnInput(text=said, at="2024-01-01 10:00", session_id="s"),
        *(TurnInput(text=f"So you did move into a studio, {word}! Where did you move?",
                    at=f"2024-01-0{day} 10:00", session_id="s", role="assistant")
          for day, word in enumerate(("great", "lovely", "nice"), 2))])
    search = HybridSearch(memory, RECIPES["hybrid_fast"])
    query = "Where did I move into a studio?"
    assert said not in [h.node.search_text() for h in search.search("maya", query, 2)]
    kept = search.search("maya", query, 2, keep=lambda node: tells_the_reply(node, {}))
    assert [h.node.search_text() for h in kept] == [said]
