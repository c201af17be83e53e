"""The Python snippets of the README and of the docs site (docs/), for the tests that run each
one as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from fnrec._optional import EXTRAS

ROOT = Path(__file__).parent.parent
README = ROOT / "README.md"
PAGES = [README, *sorted((ROOT / "docs").rglob("*.md"))]


def python_blocks(require: str | None = None) -> list[tuple[str, str]]:
    """(where, code) of every ```python block of the README and the docs pages (where:
    ``"docs/concepts/capture.md:12"``); only those importing `require` if given."""
    blocks = []
    for page in PAGES:
        text = page.read_text()
        for match in re.finditer(r"```python\n(.*?)```", text, re.S):
            code = match.group(1)
            line = text[: match.start()].count("\n") + 1
            if require is None or re.search(rf"^\s*(import|from) {require}\b", code, re.M):
                blocks.append((f"{page.relative_to(ROOT)}:{line}", code))
    return blocks


def run_block(code: str, cwd: Path, skip_missing: tuple[str, ...] = ()) -> None:
    """Runs one snippet in a fresh interpreter; skips if it needs a module of `skip_missing`.

    A snippet skipped for a missing module must say which fnrec extra installs it
    (``pip install 'fnrec[<extra>]'``), as a reader without that extra needs to know.
    """
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=900
    )
    if done.returncode != 0:
        missing = re.search(r"ModuleNotFoundError: No module named '([\w.]+)'", done.stderr)
        # Gymnasium's renderers report a missing pygame as DependencyNotInstalled
        missing = missing or re.search(r"DependencyNotInstalled: (pygame) is not", done.stderr)
        module = missing.group(1).split(".")[0] if missing else None
        if module in skip_missing:
            extra = EXTRAS.get(module)
            assert extra and f"fnrec[{extra}]" in code, (
                f"snippet needs {module} but does not say `pip install 'fnrec[{extra}]'`:\n{code}"
            )
            pytest.skip(f"needs {module} (fnrec[{extra}])")
        raise AssertionError(f"snippet failed:\n{code}\n--- stderr ---\n{done.stderr[-3000:]}")
