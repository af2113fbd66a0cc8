"""Reading a JSON file someone hands over (a history to ingest, a LoCoMo file): every way
the file can be bad is an ``InvalidInputError`` that names the file, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from memory_graph.errors import InvalidInputError


def read_json(path: Path) -> Any:
    """The file's JSON value. Not UTF-8, not JSON, nested deeper than the decoder can go
    (it recurses: 100,000 ``[`` are a RecursionError) or unreadable: InvalidInputError."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidInputError(f"{path} is not UTF-8 text (byte {exc.start}: "
                                f"{exc.reason})") from exc
    except RecursionError as exc:
        raise InvalidInputError(f"{path} nests JSON arrays or objects too deeply to be "
                                "read") from exc
    except (OSError, json.JSONDecodeError) as exc:
        raise InvalidInputError(f"cannot read {path}: {exc}") from exc
