"""Loader of LoCoMo conversations (the public ``locomo10.json`` schema)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals.json_file import read_json
from memory_graph.errors import InvalidInputError
from memory_graph.graph import TurnInput

_SESSION_KEY = re.compile(r"^session_(\d+)$")


@dataclass(frozen=True)
class QAItem:
    question: str
    answer: str
    evidence: tuple[str, ...]
    category: int


@dataclass(frozen=True)
class Conversation:
    sample_id: str
    turns: tuple[TurnInput, ...]
    qa: tuple[QAItem, ...]
    speakers: tuple[str, str] = ("", "")

    def session_ids(self) -> list[str]:
        return list(dict.fromkeys(t.session_id for t in self.turns))


def _turns(conversation: dict[str, Any]) -> list[TurnInput]:
    sessions = sorted((int(m.group(1)), key) for key in conversation
                      if (m := _SESSION_KEY.match(key)))
    turns: list[TurnInput] = []
    for number, key in sessions:
        date = conversation.get(f"{key}_date_time")
        if not date:
            raise InvalidInputError(f"{key} has no {key}_date_time")
        for seq, turn in enumerate(conversation[key]):
            caption = turn.get("blip_caption")
            turns.append(TurnInput(text=turn.get("text", ""), at=date, session_id=f"S{number}",
                                   speaker=turn.get("speaker", ""), turn_id=turn["dia_id"],
                                   seq=seq, image_captions=(caption,) if caption else ()))
    return turns


def load_locomo(path: str | Path) -> list[Conversation]:
    """Every conversation in the file, turns in chronological order."""
    return parse_locomo(read_json(Path(path)))

#: One dialogue id inside an evidence entry.
_DIA_ID = re.compile(r"D:?(\d+):(\d+)")


def evidence_ids(raw: list[str]) -> tuple[str, ...]:
    """The dialogue ids of a question's evidence. A few entries of the published file are
    malformed ("D8:6; D9:17", "D:11:26"); they are read as the ids they clearly name, and
    an entry naming none ("D") is dropped."""
    found = [f"D{a}:{b}" for entry in raw for a, b in _DIA_ID.findall(entry)]
    return tuple(dict.fromkeys(found))


def parse_locomo(raw: list[dict[str, Any]]) -> list[Conversation]:
    """The one reading of the LoCoMo schema, for evaluation and for ``personavlm ingest``."""
    conversations = []
    for sample in raw:
        qa = tuple(
            QAItem(question=item["question"],
                   answer=str(item.get("answer", item.get("adversarial_answer", ""))),
                   evidence=evidence_ids(item.get("evidence", [])),
                   category=int(item["category"]))
            for item in sample["qa"]
        )
        conv = sample["conversation"]
        conversations.append(Conversation(
            sample_id=sample["sample_id"], turns=tuple(_turns(conv)), qa=qa,
            speakers=(str(conv.get("speaker_a", "")), str(conv.get("speaker_b", "")))))
    return conversations
