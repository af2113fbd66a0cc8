"""Conversation histories to replay: Persona-MME ``user_data.json`` and LoCoMo files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from evals.json_file import read_json
from evals.locomo import parse_locomo
from memory_graph.errors import InvalidInputError
from memory_graph.text import check_unicode
from memory_graph.timeparse import parse_timestamp
from providers.images import file_named, shown

IMG_MARKER = "<img>"


@dataclass
class Exchange:
    at: str
    user: str
    reply: str
    images: list[str] = field(default_factory=list)
    reply_speaker: str = ""


@dataclass
class History:
    user_name: str
    exchanges: list[Exchange]
    profile: dict[str, Any] = field(default_factory=dict)


class PersonaMMETurn(BaseModel):
    """One exchange of a Persona-MME ``user_data.json`` session."""
    model_config = ConfigDict(extra="ignore")
    time: str
    user: str = ""
    assistant: str = ""


class PersonaMMEHistory(BaseModel):
    """The parts of a Persona-MME ``user_data.json`` that ingestion reads."""
    model_config = ConfigDict(extra="ignore")
    sessions: list[list[PersonaMMETurn]]
    imgs: list[str] = []
    profile: dict[str, Any] | None = None


def load_history(path: Path, conversation: str | None = None) -> History:
    """The exchanges of a history file, every one checked (timestamps, text that is valid
    Unicode, image files that exist) before any is replayed: a malformed file is an
    ``InvalidInputError`` and nothing is stored."""
    data = read_json(path)
    try:
        if isinstance(data, dict) and "sessions" in data:
            history = _persona_mme(PersonaMMEHistory.model_validate(data), path.parent)
        elif (isinstance(data, list) and data and isinstance(data[0], dict)
              and "conversation" in data[0]):
            history = _locomo(data, conversation)
        else:
            raise InvalidInputError(f"{path} is neither Persona-MME user_data.json nor LoCoMo")
    except ValidationError as exc:
        raise InvalidInputError(f"{path} is not a valid Persona-MME history: "
                                f"{_first_error(exc)}") from exc
    except (KeyError, TypeError, AttributeError, IndexError) as exc:
        raise InvalidInputError(f"{path} is not a valid LoCoMo history: {exc!r}") from exc
    for number, exchange in enumerate(history.exchanges, 1):
        try:
            parse_timestamp(exchange.at)
            check_unicode(exchange.user, "the message")
            check_unicode(exchange.reply, "the reply")
            check_unicode(exchange.reply_speaker, "the reply's speaker")
        except InvalidInputError as exc:
            raise InvalidInputError(f"{path}: exchange {number}: {exc}") from exc
    return history


def _first_error(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']} ({len(error.errors())} problem(s) in all)"


def _persona_mme(data: PersonaMMEHistory, root: Path) -> History:
    images = [str(_resolve(root, p)) for p in data.imgs]
    cursor = 0
    exchanges = []
    for session in data.sessions:
        for turn in session:
            count = turn.user.count(IMG_MARKER)
            mine = images[cursor:cursor + count]
            cursor += count
            exchanges.append(Exchange(at=turn.time, user=turn.user.replace(IMG_MARKER, "")
                                      .strip(), reply=turn.assistant, images=mine))
    profile = data.profile or {}
    return History(user_name=str(profile.get("name", "")), exchanges=exchanges,
                   profile=profile)


def _resolve(root: Path, image: str) -> Path:
    """The file an image path of the history names: as given when absolute, else under the
    history's folder or the nearest folder above it that has it."""
    candidate = Path(image)
    for base in ([Path()] if candidate.is_absolute() else [root, *root.parents]):
        if (found := file_named(base / candidate)) is not None:
            return found
    raise InvalidInputError(f"the image {shown(image)} names no file (a relative path is "
                            f"read from {root} or a folder above it)")


def _locomo(data: list[dict[str, Any]], conversation: str | None) -> History:
    """A LoCoMo conversation as exchanges of its first speaker (the user) with the second
    (whose turns become the replies), from the same reading of the file as the eval."""
    conversations = parse_locomo(data)
    sample = conversations[0] if conversation is None else next(
        (c for c in conversations if c.sample_id == conversation), None)
    if sample is None:
        raise InvalidInputError(f"no LoCoMo conversation {conversation!r}")
    user = sample.speakers[0]
    exchanges: list[Exchange] = []
    pending: Exchange | None = None
    for turn in sample.turns:
        if turn.seq == 0 and pending is not None:  # a new session
            exchanges.append(pending)
            pending = None
        # Turns of a session share its date; keep their order with 2-second steps.
        at = (parse_timestamp(turn.at) + timedelta(seconds=2 * turn.seq)).isoformat()
        text = turn.text + "".join(f" [shares a photo: {c}]" for c in turn.image_captions)
        if turn.speaker == user:
            if pending is not None:
                exchanges.append(pending)
            pending = Exchange(at=at, user=text, reply="")
        elif pending is not None:
            pending.reply = f"{pending.reply} {text}".strip()
            pending.reply_speaker = turn.speaker
        else:
            exchanges.append(Exchange(at=at, user="(listens)", reply=text,
                                      reply_speaker=turn.speaker))
    if pending is not None:
        exchanges.append(pending)
    return History(user_name=user, exchanges=exchanges)
