"""The README's jumanji, navix, XLand-MiniGrid and craftax snippets run as written."""

from __future__ import annotations

import pytest
from readme_blocks import python_blocks, run_block

FAMILIES = ("jumanji", "navix", "xminigrid", "craftax")
BLOCKS = [(family, *block) for family in FAMILIES for block in python_blocks(family)]


def test_every_family_has_a_snippet():
    assert sorted({family for family, _, _ in BLOCKS}) == sorted(FAMILIES)


@pytest.mark.parametrize(
    ("family", "code"), [(f, c) for f, _, c in BLOCKS], ids=[f"{f}-{n}" for f, n, _ in BLOCKS]
)
def test_readme_family_snippet_runs(family, code, tmp_path):
    pytest.importorskip(family)
    run_block(code, tmp_path)
