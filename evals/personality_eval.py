"""``personavlm eval personality``: does the inferred personality follow the evidence?

Scripted dialogues, each a few user messages that clearly show one or two Big Five traits
(or none), are replayed through the agent's own inference (``observe_traits`` over the
last five messages after every message, then the paper's EMA step). After each dialogue a
trait is read at the level the reply prompt would use (high, low, or moderate = neutral).
Reported: accuracy over every (dialogue, trait) pair, over the traits a dialogue shows
(recall of the signals), and over the traits it does not show (no drift without evidence).

``--inference`` picks how traits are observed, as ``Context.personality_inference`` does
(``markers`` needs no model). With ``--assistant-data`` the assistant set's dialogues are
replayed too (every user message in order) and scored as that set's README says: the
listed traits only, and no strong trait at all in a dialogue labelled ``{}``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from tqdm import tqdm

from agent_runtime.context import PersonalityInference
from agent_runtime.cost import CostMeter
from agent_runtime.structured import StructuredOutputError
from evals.assistant_set import load_assistant_set
from evals.harness import model_identity
from evals.report import format_table, write_report
from memory_work.personality import TRAITS, Personality, trait_level
from memory_work.personality_observation import RECENT_USER_TURNS, observe_traits
from memory_work.trait_markers import observe_markers

Level = str  # "high" | "low" | "neutral"


@dataclass(frozen=True)
class PersonalityCase:
    name: str
    messages: tuple[str, ...]
    #: The traits the dialogue shows; every other trait should stay neutral.
    shows: dict[str, Level] = field(default_factory=dict)
    #: Only the traits in ``shows`` are scored (an assistant-set dialogue with labels).
    listed_only: bool = False

    def expected(self, trait: str) -> Level | None:
        """The level the dialogue shows, or None when the trait is not scored."""
        if self.listed_only and trait not in self.shows:
            return None
        return self.shows.get(trait, "neutral")


CASES: tuple[PersonalityCase, ...] = (
    PersonalityCase("outgoing", (
        "Had the best time at the party last night, I talked to like twenty new people!",
        "I can't stay home on weekends, I need to be out with friends.",
        "I organised a karaoke night for the whole office and everyone came!"),
        {"extraversion": "high"}),
    PersonalityCase("reserved", (
        "Skipped the party again, big crowds drain me.",
        "My ideal Saturday is a book and nobody calling me.",
        "I only really talk to two close friends, and that's plenty."),
        {"extraversion": "low"}),
    PersonalityCase("anxious", (
        "I couldn't sleep again, I keep worrying about the presentation.",
        "Every little email from my boss makes my heart race.",
        "I'm so stressed, what if I mess everything up?"),
        {"neuroticism": "high"}),
    PersonalityCase("calm", (
        "The flight got cancelled but whatever, I'll take the next one, no stress.",
        "People ask how I stay so calm before deadlines; things usually work out.",
        "Lost my keys today, laughed it off and called a locksmith."),
        {"neuroticism": "low"}),
    PersonalityCase("organised", (
        "I plan my week every Sunday evening, down to the hour.",
        "Finished the report two days before the deadline, as always.",
        "I keep a spreadsheet of every single expense."),
        {"conscientiousness": "high"}),
    PersonalityCase("disorganised", (
        "Forgot the dentist appointment again, oops.",
        "I never plan trips, I just book whatever the night before.",
        "My desk is a mess and my deadlines are... flexible."),
        {"conscientiousness": "low"}),
    PersonalityCase("curious", (
        "Just signed up for a pottery class and a beginners' course in Japanese!",
        "I love trying strange food, last week I had fried crickets.",
        "I've been reading about quantum physics for fun."),
        {"openness": "high"}),
    PersonalityCase("conventional", (
        "I order the same thing every time, why change what works?",
        "New restaurants? Nah, I'll stick to my usual place.",
        "I don't get abstract art, give me something practical."),
        {"openness": "low"}),
    PersonalityCase("kind", (
        "I spent the afternoon helping my neighbour move, happy to do it.",
        "I always try to see the other person's side in an argument.",
        "Volunteered at the food bank again, I love helping out."),
        {"agreeableness": "high"}),
    PersonalityCase("blunt", (
        "Honestly, most people are idiots and I tell them so.",
        "I don't care if my feedback hurts, they need to hear it.",
        "Why should I help him? He can figure it out himself."),
        {"agreeableness": "low"}),
    PersonalityCase("curious and anxious", (
        "I booked a solo trip to Mongolia, I want to see something totally new!",
        "But now I can't stop worrying that something will go wrong.",
        "I signed up for a throat-singing workshop there, though I'm nervous about it."),
        {"openness": "high", "neuroticism": "high"}),
    PersonalityCase("errands", (
        "What's the weather like tomorrow?",
        "Can you remind me what time the train leaves?",
        "I had pasta for lunch."),
        {}),
    PersonalityCase("facts", (
        "I need to buy milk and bread.",
        "The meeting is at 3pm on Thursday.",
        "My sister's name is Lia."),
        {}),
    PersonalityCase("biography", (
        "I work as an accountant in Porto.",
        "We moved here in 2019.",
        "My car is a blue Fiat."),
        {}),
)


def final_level(value: float) -> Level:
    level = trait_level(value)
    return "neutral" if level == "moderate" else level.removeprefix("very ")


def assistant_cases(path: Path) -> list[PersonalityCase]:
    """The assistant set's dialogues as cases: every user message in order, the labels."""
    return [PersonalityCase(dialogue.id, tuple(text for session in dialogue.sessions
                                               for text in session.turns),
                            dict(dialogue.traits), listed_only=bool(dialogue.traits))
            for dialogue in load_assistant_set(path)]


def replay(chat: BaseChatModel | None, case: PersonalityCase, inference: PersonalityInference,
           meter: CostMeter, errors: list[str]) -> Personality:
    """The agent's inference after each message, as ``infer_personality`` runs it (the
    model reads the last messages of the case, the agent those of the session)."""
    personality = Personality.neutral()
    at = datetime(2024, 3, 1, 9, 0)
    for number in range(1, len(case.messages) + 1):
        if inference == "markers" or chat is None:
            observed = observe_markers(case.messages[number - 1]).model_dump()
        else:
            try:
                observed = observe_traits(chat, case.messages[:number][-RECENT_USER_TURNS:],
                                          meter)
            except StructuredOutputError as exc:  # the agent keeps the profile unchanged
                errors.append(f"{case.name}: {exc}")
                continue
        personality = personality.updated(observed, at + timedelta(minutes=number))
    return personality


def run(chat: BaseChatModel | None, out: Path, inference: PersonalityInference = "markers",
        assistant_data: Path | None = None) -> dict[str, Any]:
    """``chat`` is needed for the ``model`` inference only."""
    rows: list[dict[str, Any]] = []
    meter = CostMeter()
    errors: list[str] = []
    started = time.perf_counter()
    cases = list(CASES) + (assistant_cases(assistant_data) if assistant_data else [])
    for case in tqdm(cases, desc="personality dialogues", unit="dialogue"):
        result = replay(chat, case, inference, meter, errors)
        for trait in TRAITS:
            if (expected := case.expected(trait)) is None:
                continue
            rows.append({"case": case.name, "trait": trait, "expected": expected,
                         "inferred": final_level(result.scores[trait]),
                         "score": round(result.scores[trait], 3),
                         "set": "assistant" if case not in CASES else "scripted"})
    scripted = [r for r in rows if r["set"] == "scripted"]
    shown = [r for r in scripted if r["expected"] != "neutral"]
    unshown = [r for r in scripted if r["expected"] == "neutral"]

    def accuracy(subset: list[dict[str, Any]]) -> float:
        return round(sum(bool(r["expected"] == r["inferred"]) for r in subset) / len(subset), 3)

    summary: dict[str, Any] = {
        "accuracy": accuracy(scripted), "shown_traits": accuracy(shown),
        "shown_found": sum(r["expected"] == r["inferred"] for r in shown),
        "unshown_traits_neutral": accuracy(unshown), "pairs": len(scripted),
        "shown": len(shown), "dialogues": len(CASES),
        "model_calls": meter.model_calls, "failed_calls": len(errors),
        "seconds": round(time.perf_counter() - started, 1)}
    if assistant_data is not None:
        labelled = [r for r in rows if r["set"] == "assistant" and r["expected"] != "neutral"]
        unlabelled = {r["case"] for r in rows if r["set"] == "assistant"} - \
            {r["case"] for r in labelled}
        summary["assistant_traits_agree"] = accuracy(labelled) if labelled else None
        summary["assistant_listed"] = len(labelled)
        summary["assistant_no_strong_trait"] = round(sum(
            all(r["inferred"] == "neutral" for r in rows if r["case"] == case)
            for case in unlabelled) / len(unlabelled), 3) if unlabelled else None
        summary["assistant_unlabelled"] = len(unlabelled)
    payload = {"config": {"benchmark": "personality", "inference": inference,
                          "model": model_identity(chat) if chat is not None and
                          inference == "model" else "none",
                          "assistant_data": str(assistant_data) if assistant_data else None},
               "summary": summary, "rows": rows, "errors": errors}
    table = format_table(
        ["dialogue", *TRAITS],
        [[case.name, *(next((_cell(r) for r in rows if r["case"] == case.name
                             and r["trait"] == trait), "-") for trait in TRAITS)]
         for case in cases])
    markdown = (f"{table}\n\ninference: {inference}. Scripted: accuracy "
                f"{summary['accuracy']:.3f} over {len(scripted)} (dialogue, trait) pairs; "
                f"shown traits found {summary['shown_found']} of {len(shown)}; traits not "
                f"shown left neutral {summary['unshown_traits_neutral']:.3f} "
                f"({len(unshown)})\n")
    if assistant_data is not None:
        markdown += (f"Assistant set: listed traits agree {summary['assistant_traits_agree']}"
                     f" ({summary['assistant_listed']}); no strong trait in "
                     f"{summary['assistant_no_strong_trait']} of the "
                     f"{summary['assistant_unlabelled']} dialogues labelled {{}}\n")
    write_report(out, payload, markdown)
    _plot(out.with_suffix(".png"), scripted)
    print(f"wrote {out}, .md and .png")
    return payload


def _cell(row: dict[str, Any]) -> str:
    mark = "ok" if row["expected"] == row["inferred"] else f"want {row['expected']}"
    return f"{row['inferred']} ({mark})"


def _plot(path: Path, rows: list[dict[str, Any]]) -> None:
    """Inferred score of every (dialogue, trait), coloured by the expected level."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = {"high": "#c62828", "low": "#1565c0", "neutral": "#9e9e9e"}
    position = {case.name: number for number, case in enumerate(CASES)}
    fig, ax = plt.subplots(figsize=(7.2, 4.2))
    for index, trait in enumerate(TRAITS):
        for row in (r for r in rows if r["trait"] == trait):
            ax.scatter(index + (position[row["case"]] % 7 - 3) * 0.04, row["score"],
                       color=colours[row["expected"]], alpha=0.8, s=28)
    for level, colour in colours.items():
        ax.scatter([], [], color=colour, label=f"expected {level}")
    ax.axhspan(2.6, 3.4, color="#eeeeee", zorder=0, label="read as neutral")
    ax.set_xticks(range(len(TRAITS)), TRAITS, rotation=15)
    ax.set_ylabel("inferred score after the dialogue (1-5)")
    ax.set_title("Personality inference on scripted dialogues")
    ax.legend(fontsize=8, loc="upper right")
    ax.grid(alpha=0.3, axis="y")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
