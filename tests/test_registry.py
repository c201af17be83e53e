"""fnrec.registry: ids to recorders (make_recorder, register, spec), errors that name the fix."""

from __future__ import annotations

import importlib.util

import jax
import numpy as np
import pytest

import fnrec
from fnrec import registry
from fnrec.envs import CartPole


def test_make_recorder_runs_under_jit_with_the_time_limit():
    rec = fnrec.make_recorder("CartPole-v1", num_envs=3, max_episode_steps=5)
    state, obs = rec.init(jax.random.key(0))
    step = jax.jit(rec.step)
    for _ in range(12):
        state = step(state, np.zeros(3, np.int32)).state
    assert obs.shape == (3, 4)
    queues = fnrec.stats.queues(state.stats)
    assert len(queues["length_queue"]) > 0 and queues["length_queue"].max() <= 5


def test_register_a_users_env_callable_and_string():
    fnrec.register("TestCartPole-v0", lambda: CartPole(), max_episode_steps=7)
    fnrec.register("TestCartPole-v1", "fnrec.envs:CartPole", kwargs={})
    assert registry.spec("TestCartPole-v0").max_episode_steps == 7
    env = fnrec.make("TestCartPole-v1", max_episode_steps=3)
    env.reset(seed=0)
    for _ in range(3):
        _, _, terminated, truncated, _ = env.step(0)
    assert truncated or terminated
    assert env.spec.id == "TestCartPole-v1" and env.spec.max_episode_steps == 3


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        (("a/b", CartPole), {}, ValueError, "without '/'"),
        (("X-v0", CartPole), {"family": "nope"}, ValueError, "`family` must be one of"),
        (("X-v0", 3), {}, TypeError, "`entry_point` must be callable"),
        (("X-v0", "fnrec.envs"), {}, ValueError, "'module:attr'"),
        (("X-v0", CartPole), {"max_episode_steps": 0}, ValueError, "max_episode_steps"),
    ],
)
def test_register_refuses_bad_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        fnrec.register(*args, **kwargs)


def test_unknown_id_names_the_near_ones():
    with pytest.raises(ValueError, match="did you mean 'CartPole-v1'"):
        fnrec.make_recorder("CartPol-v1")
    with pytest.raises(ValueError, match="is not registered"):
        fnrec.make_recorder("Nothing-v9")
    with pytest.raises(TypeError, match="`id` must be a string"):
        fnrec.make_recorder(3)


@pytest.mark.skipif(importlib.util.find_spec("gymnax") is not None, reason="gymnax installed")
def test_missing_family_names_its_extra():
    with pytest.raises(ImportError, match=r'pip install "fnrec\[gymnax\]"'):
        fnrec.make_recorder("gymnax/CartPole-v1")


def test_recording_and_its_settings_are_not_both_given():
    recording = fnrec.Recording()
    with pytest.raises(ValueError, match="`max_episode_steps` is part of `recording`"):
        fnrec.make_recorder("CartPole-v1", recording=recording, max_episode_steps=3)
    with pytest.raises(ValueError, match="autoreset_mode"):
        fnrec.make_recorder("CartPole-v1", autoreset_mode="sometimes")
