#!/usr/bin/env bash
# Sets up and runs every check: ruff, mypy (strict), the Cypher linter's install, and the
# whole pytest suite including the slow integration tests (FalkorDB server, SIGKILL, models).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/chromium.sh
npm ci --prefix tools/cypher-lint --no-audit --no-fund --loglevel=error
if [ -z "${PERSONA_DATA_DIR:-}" ] && [ -d ../shared/data ]; then
  export PERSONA_DATA_DIR="$(cd ../shared/data && pwd)"
fi
.venv/bin/ruff check .
.venv/bin/lint-imports
.venv/bin/mypy
.venv/bin/python -m pytest -p no:cacheprovider "$@"
