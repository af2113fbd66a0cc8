"""The Big Five trajectory of a user as a PNG: one panel per trait (so no line hides
another), the date of each estimate on the shared axis, and in each panel the turn that
moved that trait most, marked and quoted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.axes import Axes

from memory_graph.graph import MemoryGraph
from memory_work.personality import NEUTRAL, TRAITS, Personality

COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd")
QUOTE_CHARS = 48


@dataclass(frozen=True)
class PersonalityStep:
    """One estimate and what the user said in the turn it was inferred from."""

    personality: Personality
    said: str = ""


def personality_steps(memory: MemoryGraph, user_id: str) -> list[PersonalityStep]:
    """The user's stored estimates in order, each with the text of its turn."""
    steps = []
    turns = {t.id: t for t in memory.turns(user_id)}
    for snapshot in memory.personality_history(user_id):
        sources = [turns[i] for i in memory.source_turns(user_id, snapshot.id) if i in turns]
        said = sources[0].text if sources else ""
        steps.append(PersonalityStep(Personality.from_snapshot(snapshot), said))
    return steps


def plot_personality(steps: Sequence[PersonalityStep], path: Path, title: str) -> None:
    figure, axes = plt.subplots(len(TRAITS), 1, figsize=(9, 8.5), sharex=True)
    positions = list(range(len(steps)))
    for axis, trait, colour in zip(axes, TRAITS, COLOURS, strict=True):
        values = [step.personality.scores[trait] for step in steps]
        axis.axhline(NEUTRAL, color="#bbbbbb", linewidth=0.8, linestyle="--")
        axis.plot(positions, values, marker="o", color=colour, linewidth=2)
        axis.set_ylim(1, 5)
        axis.set_yticks([1, 3, 5])
        axis.set_ylabel(trait, rotation=0, ha="right", va="center", color=colour,
                        fontweight="bold")
        axis.grid(alpha=0.25)
        if values:
            axis.text(positions[-1] + 0.15, values[-1], f"{values[-1]:.2f}", va="center",
                      color=colour, fontsize=9)
        _mark_biggest_move(axis, steps, values, colour)
    axes[-1].set_xticks(positions, [_date_label(steps, i) for i in positions], fontsize=8)
    axes[-1].set_xlabel("date of each estimate (one per user turn; EMA over turns)")
    if steps:
        axes[-1].set_xlim(-0.3, len(steps) - 0.2)
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _mark_biggest_move(axis: Axes, steps: Sequence[PersonalityStep],
                       values: Sequence[float], colour: str) -> None:
    """A star on the estimate whose turn moved this trait most, with that turn quoted."""
    moves = [(abs(values[i] - values[i - 1]), i) for i in range(1, len(values))]
    if not moves or max(moves)[0] < 0.01:
        return
    _, index = max(moves)
    delta = values[index] - values[index - 1]
    axis.plot([index], [values[index]], marker="*", markersize=16, color=colour,
              markeredgecolor="black")
    said = steps[index].said
    quote = said if len(said) <= QUOTE_CHARS else said[:QUOTE_CHARS - 1].rstrip() + "…"
    above = (delta >= 0 and values[index] < 4.2) or values[index] < 1.8
    axis.annotate(f"{delta:+.2f}: \u201c{quote}\u201d" if quote else f"{delta:+.2f}",
                  (index, values[index]), textcoords="offset points",
                  xytext=(8, 10 if above else -14), fontsize=8,
                  ha="left" if index < len(values) / 2 else "right")


def _date_label(steps: Sequence[PersonalityStep], index: int) -> str:
    moment = steps[index].personality.at
    if moment is None:
        return str(index + 1)
    same_day = sum(s.personality.at is not None and s.personality.at.date() == moment.date()
                   for s in steps) > 1
    return moment.strftime("%Y-%m-%d\n%H:%M") if same_day else moment.strftime("%Y-%m-%d")
