"""The Big Five trajectory of a user as a PNG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from nodes.personality import TRAITS, Personality


def plot_personality(trajectory: list[Personality], path: Path, title: str) -> None:
    fig, ax = plt.subplots(figsize=(7, 4))
    steps = [p.interactions for p in trajectory]
    for trait in TRAITS:
        ax.plot(steps, [p.scores[trait] for p in trajectory], marker="o", label=trait)
    ax.set_ylim(1, 5)
    ax.set_xlabel("user turns (interactions)")
    ax.set_ylabel("score (1-5)")
    ax.set_title(title)
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
