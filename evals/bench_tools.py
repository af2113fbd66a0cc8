"""How reliably the offline model calls tools (``ChatLlamaCpp.bind_tools``): messages that
need the memory tools (search what the user said before, keep what they ask to keep) and
messages that need none, each given once to the model bound to both tools. Counted: the
right decision (a call of the right tool, or a plain reply), arguments that name what the
message is about, and seconds per call. The tools are the ones any agent gets from
``agent_memory.tools``, with their real descriptions."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from tqdm import tqdm

from agent_memory.tools import create_remember_tool, create_search_memory_tool
from evals.report import format_table, write_json

SYSTEM = "You are a helpful personal assistant with a long-term memory of the user."
#: (message, the tool it needs or None, a word its arguments should hold).
CASES: list[tuple[str, str | None, str]] = [
    ("What did I tell you my sister's name was?", "search_memory", "sister"),
    ("Do you remember which city I moved to last year?", "search_memory", "city"),
    ("What was the name of the restaurant I liked?", "search_memory", "restaurant"),
    ("Which medication did I say I take in the mornings?", "search_memory", "medication"),
    ("When is my daughter's school play, did I mention it?", "search_memory", "play"),
    ("What breed is my dog again?", "search_memory", "dog"),
    ("Please remember that I am allergic to peanuts.", "remember", "peanut"),
    ("Remember that my passport expires in March.", "remember", "passport"),
    ("Keep in mind that I prefer window seats on flights.", "remember", "window"),
    ("Note for later: my landlord's phone number ends in 42.", "remember", "landlord"),
    ("Don't forget that I started learning the violin.", "remember", "violin"),
    ("Please remember my gym is open until ten on weekdays.", "remember", "gym"),
    ("Hello! How are you today?", None, ""),
    ("What is the capital of France?", None, ""),
    ("Can you explain what a prime number is?", None, ""),
    ("Thanks, that was helpful.", None, ""),
    ("Write a two-line poem about autumn.", None, ""),
    ("How many minutes are there in three hours?", None, ""),
]


@dataclass
class Case:
    message: str
    wanted: str | None
    called: str | None
    arguments: dict[str, Any]
    reply: str
    right_decision: bool
    arguments_on_topic: bool
    seconds: float


def run(model: BaseChatModel) -> list[Case]:
    bound = model.bind_tools([create_search_memory_tool(), create_remember_tool()])
    results = []
    for message, wanted, topic in tqdm(CASES, desc="tool calls", unit="message"):
        started = time.perf_counter()
        answer = bound.invoke([SystemMessage(content=SYSTEM), HumanMessage(content=message)])
        seconds = time.perf_counter() - started
        call = answer.tool_calls[0] if answer.tool_calls else None
        called = call["name"] if call is not None else None
        arguments = call["args"] if call is not None else {}
        results.append(Case(
            message, wanted, called, arguments, str(answer.content)[:200],
            right_decision=called == wanted,
            arguments_on_topic=wanted is None or topic in str(arguments).lower(),
            seconds=round(seconds, 2)))
    return results


def summary(cases: list[Case]) -> dict[str, Any]:
    def share(kept: list[Case], test: str) -> float:
        return round(sum(getattr(c, test) for c in kept) / len(kept), 3) if kept else 0.0
    needing = [c for c in cases if c.wanted is not None]
    plain = [c for c in cases if c.wanted is None]
    return {"cases": len(cases),
            "right decision": share(cases, "right_decision"),
            "right tool when one is needed": share(needing, "right_decision"),
            "plain reply when none is": share(plain, "right_decision"),
            "arguments on topic (right calls)": share(
                [c for c in needing if c.right_decision], "arguments_on_topic"),
            "seconds per call (median)": sorted(c.seconds for c in cases)[len(cases) // 2]}


def main(model: BaseChatModel, out: Path) -> dict[str, Any]:
    cases = run(model)
    measures = summary(cases)
    result = {"summary": measures, "cases": [asdict(c) for c in cases]}
    print(format_table(["measure", "value"], [[k, v] for k, v in measures.items()]))
    print(format_table(["message", "wanted", "called", "arguments"],
                       [[c.message[:48], c.wanted or "-", c.called or "-",
                         str(c.arguments)[:40]] for c in cases]))
    write_json(out, result)
    return result
