"""Every Cypher statement of the Neo4j dialect passes Neo4j's own linter.

The linter is ``lintCypherQuery`` from ``@neo4j-cypher/language-support`` (installed into
tools/cypher-lint by the test set-up), with the package's catalogue of Neo4j 5 procedures
and functions, so a procedure Neo4j lacks is an error. The FalkorDB dialect is the
negative control: its ``vecf32`` and ``db.idx.*`` calls must be flagged.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from memory_graph.backends.falkordb_store import FALKORDB
from memory_graph.backends.neo4j_store import neo4j_statements
from memory_graph.schema import SEARCHABLE_LABELS

LINT_DIR = Path(__file__).resolve().parents[2] / "tools" / "cypher-lint"
INSTALLED = (LINT_DIR / "node_modules" / "@neo4j-cypher" / "language-support").exists()

pytestmark = pytest.mark.skipif(
    not (shutil.which("node") and INSTALLED) and not os.environ.get("CI"),
    reason="Cypher linter not installed: run `npm ci --prefix tools/cypher-lint`")


def _lint(statements: list[str]) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(["node", str(LINT_DIR / "lint.cjs")], input=json.dumps(statements),
                            capture_output=True, text=True, check=False, timeout=120)
    return result.returncode, json.loads(result.stdout)


def test_neo4j_dialect_has_no_lint_errors() -> None:
    statements = neo4j_statements()
    code, report = _lint(statements)
    assert report["checked"] == len(statements) > 50
    assert report["failures"] == [], json.dumps(report["failures"], indent=1)
    assert code == 0


def test_linter_rejects_what_neo4j_cannot_run() -> None:
    code, report = _lint([*FALKORDB.statements(), "MATCH (n RETURN n"])
    assert code == 1
    messages = " ".join(m for f in report["failures"] for m in f["diagnostics"])
    assert "db.idx.vector.queryNodes" in messages
    assert "vecf32" in messages
    assert "Invalid input" in messages


def test_neo4j_vector_search_filters_by_user_inside_the_index() -> None:
    """A vector index all users share: the query filters by user inside it (no over-fetch
    and filter after, no exact scan of the user's nodes)."""
    statements = neo4j_statements()
    searches = [s for s in statements if "VECTOR INDEX" in s and "SEARCH" in s]
    assert len(searches) == len(SEARCHABLE_LABELS)
    for statement in searches:
        assert statement.startswith("CYPHER 25 MATCH (node:")
        assert "WHERE node.user_id = $uid AND node.event_ts" in statement
    assert not any("queryNodes" in s and "vector" in s for s in statements)
    assert not any("vector.similarity.cosine" in s for s in statements)
    indexes = [s for s in statements if "CREATE VECTOR INDEX" in s]
    assert indexes and all("WITH [n.user_id, n.event_ts]" in s for s in indexes)
