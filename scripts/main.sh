#!/usr/bin/env bash
# The main job on the embedded default store: set up, then run the retrieval benchmark
# (on $PERSONA_DATA_DIR/locomo/locomo_dev.json when set, else the bundled sample).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
.venv/bin/personavlm bench retrieval --out results/retrieval.json "$@"
