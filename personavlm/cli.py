"""personavlm: a long-term personalized assistant that remembers what a user shares in a
temporal knowledge graph. Run `personavlm demo` for the main job, `personavlm chat --user U`
to talk, `personavlm COMMAND --help` for each command."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Protocol

from memory_graph.errors import PersonaVLMError
from personavlm.commands import COMMANDS, GROUPS, Command
from providers.llama_runtime import configure_openmp


class CommandModule(Protocol):
    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


def main(argv: Sequence[str] | None = None) -> int:
    configure_openmp()
    words = list(sys.argv[1:] if argv is None else argv)
    command = chosen_command(words)
    module: CommandModule = importlib.import_module(f"personavlm.commands.{command.module}")
    parser = argparse.ArgumentParser(prog=f"personavlm {command.name}",
                                     description=command.help)
    module.add_arguments(parser)
    args = parser.parse_args(words[len(command.name.split()):])
    try:
        return module.run(args)
    except (PersonaVLMError, FileNotFoundError) as exc:
        print(f"personavlm: error: {exc}", file=sys.stderr)
        return 2


def chosen_command(words: list[str]) -> Command:
    """The command the first words name; the list of commands (``--help``, or an unknown
    command: exit 2) when they name none. Only the registry is read: no command's module
    is imported to list them."""
    parser = argparse.ArgumentParser(prog="personavlm", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    groups: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for command in COMMANDS:
        group, _, name = command.name.rpartition(" ")
        if group and group not in groups:
            groups[group] = commands.add_parser(group, help=GROUPS[group]).add_subparsers(
                dest="name", required=True, metavar="COMMAND")
        (groups[group] if group else commands).add_parser(name, help=command.help,
                                                          add_help=False)
    chosen, _rest = parser.parse_known_args(words)
    name = " ".join(filter(None, (chosen.command, getattr(chosen, "name", None))))
    return next(c for c in COMMANDS if c.name == name)


if __name__ == "__main__":
    raise SystemExit(main())
