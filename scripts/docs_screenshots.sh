#!/usr/bin/env bash
# Builds the documentation site and screenshots a few pages with headless Chromium (Debian's
# `chromium` package), to look at the site as a reader would. Not run by CI.
#   bash scripts/docs_screenshots.sh [OUT]     (default OUT: docs-screenshots/)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs-screenshots}"
site="$(mktemp -d)"
NO_MKDOCS_2_WARNING=1 .venv/bin/python -m mkdocs build --strict -q -d "$site"
mkdir -p "$out"
shoot() {  # shoot PAGE NAME: PAGE relative to the site root
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,2000 \
    --screenshot="$out/$2.png" "file://$site/$1" > /dev/null 2>&1
  echo "$out/$2.png"
}
shoot index.html home
shoot getting-started/index.html getting-started
shoot concepts/statistics/index.html concept-statistics
shoot families/index.html families
shoot reference/stats/index.html reference-stats
shoot benchmarks/index.html benchmarks
