"""``personavlm ingest``: replay a history into a user's memory, with a progress bar."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from evals.history import load_history
from graphs.assistant import Assistant
from nodes.state import error_text


def ingest(assistant: Assistant, path: Path, conversation: str | None = None,
           limit: int | None = None) -> dict[str, int]:
    history = load_history(path, conversation)
    if assistant.context.extract_memories:  # replaying alone calls no model
        assistant.warm_up()
    exchanges = history.exchanges[:limit] if limit else history.exchanges
    errors = 0
    # Closed even when a replay raises: a bar left open writes to its stream later.
    with tqdm(exchanges, desc=f"ingest {path.name}", unit="exchange") as progress:
        for exchange in progress:
            out = assistant.replay(exchange.user, exchange.reply, exchange.at,
                                   images=list(exchange.images),
                                   reply_speaker=exchange.reply_speaker)
            for error in out.get("errors", []):
                errors += 1
                tqdm.write(f"warning: {error_text(error)}")
    closing = assistant.finish_sessions() if assistant.context.extract_memories else {}
    errors += len(closing.get("errors", []))
    summary = {"exchanges": len(exchanges), "turns": len(assistant.turns()),
               "errors": errors}
    print(f"ingested {summary['exchanges']} exchanges into {assistant.context.user_id}: "
          f"{summary['turns']} turns stored, {errors} warnings")
    return summary
