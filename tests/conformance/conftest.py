"""FNREC_KIT (comma-separated family names; default all) picks the kit's families for a run:
scripts/test.sh runs each family in the venv that installs its library, and only there."""

from __future__ import annotations

import os


def pytest_collection_modifyitems(config, items):
    wanted = os.environ.get("FNREC_KIT")
    if not wanted:
        return
    families = set(wanted.split(","))
    kept, dropped = [], []
    for item in items:
        family = getattr(item.cls, "family", None)
        (dropped if family is not None and family not in families else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
