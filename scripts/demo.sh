#!/usr/bin/env bash
# Sets up .venv (if needed) with fnrec and its `demo` extra (matplotlib, for the learning curve),
# then runs the demo: `fnrec demo` (arguments are passed on; see `fnrec demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[demo]"
.venv/bin/fnrec demo "$@"
