"""Shared fixtures: run tests with jax_enable_x64 off and on."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import jax
import pytest


@pytest.fixture(params=[False, True], ids=["x64off", "x64on"])
def x64(request):
    """Runs the test once with jax_enable_x64 off and once on, restoring the setting after."""
    previous = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", request.param)
    yield request.param
    jax.config.update("jax_enable_x64", previous)
