"""check_env on gymnax envs, through their adapter (both layouts)."""

from __future__ import annotations

import pytest

import fnrec

gymnax = pytest.importorskip("gymnax")


@pytest.mark.parametrize("name", ["CartPole-v1", "Pendulum-v1", "Acrobot-v1", "MountainCar-v0"])
def test_gymnax_envs_pass_through_the_adapter(name):
    env, params = gymnax.make(name)
    fnrec.utils.check_env(fnrec.adapters.gymnax.recorder(env, params=params), steps=8)


def test_the_batched_adapter_passes():
    env, params = gymnax.make("CartPole-v1")
    fnrec.utils.check_env(fnrec.adapters.gymnax.recorder(env, num_envs=4, params=params), steps=8)
