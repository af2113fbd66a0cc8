#!/usr/bin/env bash
# The main job on the embedded default store, offline: set up, then replay the bundled
# multimodal conversation through the offline model (personavlm demo). Writes
# results/demo/{memory_graph.html,personality.png,demo.json}.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/personavlm demo --out results/demo "$@"
