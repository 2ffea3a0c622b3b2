#!/usr/bin/env bash
# The main job: set up, validate the graph, build the site, show the LSTM card.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
.venv/bin/rnnref validate
.venv/bin/rnnref site build --out build/site
.venv/bin/rnnref lookup lstm
