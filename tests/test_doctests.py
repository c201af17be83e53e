"""The docstring examples of the main entry points run (doctest), as users would copy them."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = {  # module -> what its examples need
    "fnrec.stats": None,
    "fnrec.capture": None,
    "fnrec.history": None,
    "fnrec.adapters.core": None,
    "fnrec.recorders": None,
    "fnrec.adapters.funcenv": "gymnasium.envs.phys2d.cartpole",
    "fnrec.adapters.gymnax": "gymnax",
    "fnrec.utils.step_api": None,
    "fnrec.utils.seeding": None,
    "fnrec.host.env_checker": None,
    "fnrec.host.checkpoint": None,
    "fnrec.host.progress": None,
    "fnrec.registry": None,
    "fnrec.host.make": None,
    "fnrec.host.record_episode_statistics": None,
}


@pytest.mark.parametrize("name", sorted(MODULES))
def test_examples_in_docstrings(name):
    if MODULES[name] is not None:
        pytest.importorskip(MODULES[name])
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
