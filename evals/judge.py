"""Optional LLM-judge accuracy for LoCoMo: a configured judge model labels each logged
answer CORRECT or WRONG against the gold answer (the generous grading of the LoCoMo
LLM-judge protocol used by Mem0 and successors: same topic and same fact counts, wording
and length do not).

The judge reads only what the item log holds (question, gold answer, reply), so it can
grade a finished or resumed run without asking any system again; a graded record is
appended to the log again with its verdict, and the later line wins when the log is read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel
from tqdm import tqdm

from agent_runtime.cost import CostMeter
from agent_runtime.structured import StructuredOutputError, call_structured
from evals.harness import ItemLog

JUDGE_SYSTEM = """You grade answers to questions about a long conversation. You get a \
question, the gold answer and a generated answer. Label the generated answer CORRECT if \
it states the same fact as the gold answer, even if it is longer or worded differently; \
for a date, the same date or period in another format counts. Label it WRONG if it \
states another fact, misses the point, or says the information is unknown while the \
gold answer gives it. Reply with JSON only: {"verdict":"CORRECT"} or {"verdict":"WRONG"}."""

JUDGE_USER = """Question: {question}
Gold answer: {gold}
Generated answer: {reply}"""

#: What the judge grades a category-5 (adversarial) reply against: the right choice is
#: always that the conversation does not say it.
ADVERSARIAL_GOLD = "Not mentioned in the conversation"


class JudgeVerdict(BaseModel):
    verdict: Literal["CORRECT", "WRONG"]


def judge_reply(judge: BaseChatModel, question: str, gold: str, reply: str,
                meter: CostMeter) -> float:
    """1.0 when the judge labels ``reply`` correct, 0.0 when wrong."""
    messages = [SystemMessage(JUDGE_SYSTEM),
                HumanMessage(JUDGE_USER.format(question=question, gold=gold, reply=reply))]
    verdict = call_structured(judge, messages, JudgeVerdict, meter, "judge", max_tokens=16)
    return 1.0 if verdict.verdict == "CORRECT" else 0.0


def judge_records(judge: BaseChatModel, judge_name: str, records: Iterable[dict[str, Any]],
                  log: ItemLog) -> int:
    """Grade every record the judge has not graded yet; returns how many it graded. A
    judge that fails twice on one record leaves ``judge`` null there, with the error."""
    todo = [r for r in records if r.get("judge_model") != judge_name]
    for record in tqdm(todo, desc="judge", unit="answer"):
        gold = ADVERSARIAL_GOLD if record["category"] == 5 else str(record["answer"])
        meter = CostMeter()
        graded: dict[str, Any] = {"judge_model": judge_name}
        try:
            graded["judge"] = judge_reply(judge, record["question"], gold, record["reply"],
                                          meter)
        except StructuredOutputError as exc:
            graded["judge"] = None
            graded["judge_error"] = str(exc)
        log.add({**record, **graded})
    return len(todo)
