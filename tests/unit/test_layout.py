"""The layout the code keeps (docs/architecture.md): the agent's nodes are plain functions
of ``(state, runtime)`` with the resource provider bound by keyword, none over 50 lines;
``nodes/`` holds the graph's nodes and what only they use; the command line is a registry
of commands, a module each, imports at module level."""

from __future__ import annotations

import argparse
import ast
import importlib
import inspect
from functools import partial
from pathlib import Path

from agent_runtime.resources import ResourceProvider
from graphs.agent import build_agent
from personavlm.cli import chosen_command
from personavlm.commands import COMMANDS

ROOT = Path(__file__).resolve().parents[2]
MAX_FUNCTION_LINES = 50


def test_every_node_is_a_function_of_state_and_runtime() -> None:
    agent = build_agent(provider=ResourceProvider())
    nodes = {name: node for name, node in agent.builder.nodes.items()}
    assert set(nodes) == {"perceive", "extract_memory", "retrieve", "infer_personality",
                          "respond"}
    for name, spec in nodes.items():
        action = spec.runnable.func if hasattr(spec.runnable, "func") else spec.runnable
        assert isinstance(action, partial), name
        assert action.func.__module__ == f"nodes.{name}" and action.func.__name__ == name
        parameters = list(inspect.signature(action.func).parameters)
        assert parameters[:2] == ["state", "runtime"], (name, parameters)


def test_no_function_in_nodes_is_over_50_lines() -> None:
    long = []
    for path in sorted((ROOT / "nodes").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.name}:{node.name} {lines}")
    assert not long, long


def test_nodes_holds_only_what_the_graph_uses() -> None:
    """Every module of ``nodes/`` is imported by another module of ``nodes/`` or by the
    agent graph: nothing there is a library for other layers only."""
    modules = {p.stem for p in (ROOT / "nodes").glob("*.py")} - {"__init__"}
    users: dict[str, set[str]] = {m: set() for m in modules}
    for path in [*(ROOT / "nodes").glob("*.py"), ROOT / "graphs" / "agent.py"]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nodes."):
                name = (node.module or "").split(".")[1]
                if name != path.stem:
                    users[name].add(path.stem)
    assert not [m for m, used in users.items() if not used], users


def test_every_command_of_the_registry_builds_its_parser() -> None:
    for command in COMMANDS:
        module = importlib.import_module(f"personavlm.commands.{command.module}")
        parser = argparse.ArgumentParser(prog=f"personavlm {command.name}")
        module.add_arguments(parser)
        assert callable(module.run), command.name
        assert chosen_command([*command.name.split(), "--help"]) == command


def test_the_command_line_imports_at_module_level() -> None:
    inside = []
    for path in [ROOT / "personavlm" / "cli.py",
                 *sorted((ROOT / "personavlm" / "commands").glob("*.py"))]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                inside += [f"{path.name}:{node.name}" for child in ast.walk(node)
                           if isinstance(child, ast.Import | ast.ImportFrom)]
    assert not inside, inside


def test_outside_the_agent_graph_only_the_state_of_nodes_is_used() -> None:
    """The command line, the Memory API, the middleware and the graphs other than the agent
    read ``nodes.state`` (the agent's input and output types) and nothing else of
    ``nodes/``; the evaluations may use a node's helper to measure it."""
    found = []
    for package in ("personavlm", "graphs", "agent_memory", "agent_runtime", "memory_work"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == ROOT / "graphs" / "agent.py":
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                        "nodes.") and node.module != "nodes.state":
                    found.append(f"{path.relative_to(ROOT)}: {node.module}")
    assert not found, found
