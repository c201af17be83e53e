"""The README's brax snippets run as written, in the brax venv."""

from __future__ import annotations

import pytest

pytest.importorskip("brax.envs")
from readme_blocks import python_blocks, run_block

# The ppo.train snippet is run by test_brax_capture.py, which checks what it streamed.
BLOCKS = [(where, code) for where, code in python_blocks("brax") if "ppo.train(" not in code]


def test_there_are_brax_snippets():
    assert len(BLOCKS) >= 1  # and the ppo.train one, run by test_brax_capture.py


@pytest.mark.parametrize("code", [c for _, c in BLOCKS], ids=[n for n, _ in BLOCKS])
def test_readme_brax_snippet_runs(code, tmp_path):
    run_block(code, tmp_path)
