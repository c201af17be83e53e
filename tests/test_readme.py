"""Every Python snippet of the README and the docs pages runs as written (gymnax/brax ones in
their own venvs).

A snippet that needs no extra is marked ``plain``: CI runs it once, on a plain install
(.venv-plain); one that needs an extra names it (``pip install 'fnrec[...]'``) and runs where that
extra is installed.
"""

from __future__ import annotations

import pytest
from readme_blocks import python_blocks, run_block

# Several snippets train (the training workflow, the utils): their time is running, not compiling.
pytestmark = pytest.mark.xla_optimized

BLOCKS = python_blocks()
# What a plain `pip install fnrec` lacks; the main venv has all but gymnax (own venv).
SKIP_MISSING = (
    "gymnax",
    "pygame",
    "flax",
    "matplotlib",
    "tensorboardX",
    "jumanji",
    "navix",
    "xminigrid",
    "craftax",
)


@pytest.mark.parametrize(
    "code",
    [pytest.param(c, marks=() if "fnrec[" in c else pytest.mark.plain) for _, c in BLOCKS],
    ids=[n for n, _ in BLOCKS],
)
def test_readme_snippet_runs(code, tmp_path):
    if "import brax" in code:
        pytest.skip("brax snippets run in the brax venv (tests/with_brax/test_readme_brax.py)")
    run_block(code, tmp_path, skip_missing=SKIP_MISSING)
