"""``personavlm eval persona-mme-fixture``: write the small Persona-MME-format fixture."""

from __future__ import annotations

import argparse
from pathlib import Path

from evals.persona_mme_fixture import write_fixture
from memory_graph.errors import ConfigurationError
from personavlm.commands.options import data_dir


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--images", type=Path, default=None,
                        help="yollava_bo folder (default $PERSONA_DATA_DIR/yollava_bo)")
    parser.add_argument("--out", type=Path, default=Path("results/persona-mme-fixture"))


def run(args: argparse.Namespace) -> int:
    root = data_dir()
    images = args.images or (root / "yollava_bo" if root else None)
    if images is None:
        raise ConfigurationError("give --images or set PERSONA_DATA_DIR")
    questions = write_fixture(args.out, images)
    print(f"wrote {questions} (root {args.out})")
    return 0
