"""The purejaxrl swap: GymnaxAdapter(env, log_wrapper_info=True) gives LogWrapper's info keys."""

from __future__ import annotations

import jax
import numpy as np
import pytest

gymnax = pytest.importorskip("gymnax")
from gymnax.wrappers.purerl import FlattenObservationWrapper, LogWrapper  # noqa: E402

import fnrec  # noqa: E402

KEYS = ("returned_episode_returns", "returned_episode_lengths", "returned_episode",
        "returned_episode_valid")  # fmt: skip


def rollout(env, params, num_envs=8, steps=300):
    """purejaxrl's loop: vmapped reset/step, info stacked by lax.scan."""
    _, state = jax.vmap(env.reset, in_axes=(0, None))(
        jax.random.split(jax.random.key(0), num_envs), params
    )

    def body(state, key):
        action_key, step_key = jax.random.split(key)
        action = jax.random.randint(action_key, (num_envs,), 0, 2)
        out = jax.vmap(env.step, in_axes=(0, 0, 0, None))(
            jax.random.split(step_key, num_envs), state, action, params
        )
        return out[1], out[-1]

    keys = jax.random.split(jax.random.key(1), steps)
    return jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)[1]


@pytest.mark.parametrize("flatten", [False, True], ids=["bare", "flattened"])
def test_info_keys_equal_gymnax_log_wrapper(flatten):
    env, params = gymnax.make("CartPole-v1")
    params = params.replace(max_steps_in_episode=40)
    inner = FlattenObservationWrapper(env) if flatten else env
    theirs = rollout(LogWrapper(inner), params)
    ours = rollout(
        fnrec.adapters.GymnaxAdapter(inner, fnrec.Recording(log_wrapper_info=True)), params
    )
    assert np.asarray(theirs["returned_episode"]).sum() > 20
    for key in KEYS:
        np.testing.assert_array_equal(ours[key], theirs[key], err_msg=key)
    # purejaxrl's own LogWrapper adds `timestep`: steps taken by the env, counting this one.
    np.testing.assert_array_equal(ours["timestep"], np.arange(1, 301)[:, None] + np.zeros(8, int))
    # The logged curve purejaxrl computes is the same.
    mask = np.asarray(theirs["returned_episode"])
    np.testing.assert_array_equal(
        np.asarray(ours["returned_episode_returns"])[mask],
        np.asarray(theirs["returned_episode_returns"])[mask],
    )


def test_without_the_option_the_keys_are_absent():
    env, params = gymnax.make("CartPole-v1")
    info = rollout(fnrec.adapters.GymnaxAdapter(env), params, steps=5)
    assert not set(KEYS) & set(info)
