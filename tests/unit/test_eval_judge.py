"""The LLM-judge pass over an item log, with a scripted FAKE judge (the real offline model
grades answers in the LoCoMo smoke run, tests/test_eval_smoke.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from helpers import ScriptedFakeChatModel
from langchain_core.messages import BaseMessage

from evals.harness import ItemLog
from evals.judge import ADVERSARIAL_GOLD, judge_records


def _record(item_id: str, category: int, answer: str, reply: str) -> dict[str, Any]:
    return {"system": "s", "item_id": item_id, "category": category, "question": "q?",
            "answer": answer, "reply": reply, "f1": 0.0}


def _verdict_by_gold(messages: list[BaseMessage]) -> str:
    """CORRECT when the reply repeats the gold answer, nonsense for gold "broken" (the
    repair call resends the same question, so it stays nonsense)."""
    prompt = str(messages[1].content)
    gold = prompt.split("Gold answer: ")[1].split("\n")[0]
    reply = prompt.split("Generated answer: ")[1]
    if gold == "broken":
        return "no verdict here"
    return '{"verdict":"CORRECT"}' if gold.lower() in reply.lower() else '{"verdict":"WRONG"}'


def test_judge_grades_once_uses_not_mentioned_for_adversarial_and_records_failures(
        tmp_path: Path) -> None:
    log = ItemLog(tmp_path / "run.items.jsonl", {"model": "m"})
    for record in (_record("1", 4, "purple", "She chose purple."),
                   _record("2", 2, "May 2023", "In June."),
                   _record("3", 5, "purple", "(b) Not mentioned in the conversation"),
                   _record("4", 1, "broken", "anything")):
        log.add(record)
    judge = ScriptedFakeChatModel(script=_verdict_by_gold)

    assert judge_records(judge, "judge-a", list(log.records.values()), log) == 4
    graded = ItemLog(tmp_path / "run.items.jsonl", {"model": "m"}).records
    assert [graded[("s", i)]["judge"] for i in "1234"] == [1.0, 0.0, 1.0, None]
    assert "did not produce a valid JudgeVerdict" in graded[("s", "4")]["judge_error"]
    assert any(f"Gold answer: {ADVERSARIAL_GOLD}" in str(m[1].content) for m in judge.calls)
    assert graded[("s", "1")]["f1"] == 0.0 and graded[("s", "1")]["reply"] == "She chose purple."

    calls = len(judge.calls)
    assert judge_records(judge, "judge-a", list(graded.values()), log) == 0
    assert len(judge.calls) == calls
    assert judge_records(judge, "judge-b", list(graded.values()), log) == 4
