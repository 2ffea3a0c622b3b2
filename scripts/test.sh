#!/usr/bin/env bash
# The whole test suite, after setting up. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
# Headless Chromium for the site's browser test (Debian packages; a no-op once there).
bash scripts/browser-setup.sh .venv/bin/python || echo "browser setup failed: the browser test will skip" >&2
exec .venv/bin/python -m pytest "$@"
