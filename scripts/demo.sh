#!/usr/bin/env bash
# Sets up .venv (if needed) and runs the demo.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[demo]"
SDL_VIDEODRIVER=dummy .venv/bin/python -m fnrec demo "$@"
