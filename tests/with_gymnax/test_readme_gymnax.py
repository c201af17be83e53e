"""The README's gymnax snippets run as written, in the venv with gymnax."""

from __future__ import annotations

import pytest

pytest.importorskip("gymnax")
from readme_blocks import python_blocks, run_block

BLOCKS = [(n, c) for n, c in python_blocks() if "fnrec[gymnax]" in c]


def test_there_are_gymnax_snippets():
    assert len(BLOCKS) >= 2


@pytest.mark.parametrize("code", [c for _, c in BLOCKS], ids=[n for n, _ in BLOCKS])
def test_readme_gymnax_snippet_runs(code, tmp_path):
    run_block(code, tmp_path)
