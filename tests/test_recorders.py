"""fnrec.recorder: a family written from the README's template becomes a Recorder that jit, vmap,
scan, the host envs and check_env all take."""

from __future__ import annotations

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from conformance.families import walk_reset, walk_step

import fnrec
from fnrec.adapters.core import EnvFns

pytestmark = pytest.mark.gymnasium_api  # the host envs over a recorder run on Gymnasium 1.3 too

OBSERVATION_SPACE = gym.spaces.Box(-10.0, 10.0, (1,), np.float32)
ACTION_SPACE = gym.spaces.Discrete(2)


WALK = EnvFns(walk_step, walk_reset)  # the README's template family (the conformance kit's)


def make(num_envs=None, mode="same_step", **spec):
    recording = fnrec.Recording(fnrec.stats.episode_statistics(8, mode), max_episode_steps=6)
    return fnrec.recorder(WALK, recording, num_envs, name="walk", **spec)


def actions(steps, num_envs, seed=0):
    return jnp.asarray(np.random.default_rng(seed).integers(0, 2, (steps, num_envs)), jnp.int32)


def test_shared_and_per_env_layouts_see_the_same_episodes():
    """num_envs=N (one queue) and jax.vmap of one env (a queue each), in a jitted scan."""
    n, steps = 4, 40
    shared, single = make(n), make()
    keys = jax.random.split(jax.random.key(1), steps)

    def run_shared(key):
        state, _ = shared.init(key)

        def body(state, xs):
            out = shared.step(state, *xs)
            return out.state, out.ended.mask

        return jax.lax.scan(body, state, (actions(steps, n), keys))

    def run_per_env(key):
        state, _ = jax.vmap(single.init)(jax.random.split(key, n))

        def body(state, xs):
            action, key = xs
            out = jax.vmap(single.step)(state, action, jax.random.split(key, n))
            return out.state, out.ended.mask

        return jax.lax.scan(body, state, (actions(steps, n), keys))

    (a, mask_a), (b, mask_b) = (
        jax.jit(run_shared)(jax.random.key(0)),
        jax.jit(run_per_env)(jax.random.key(0)),
    )
    np.testing.assert_array_equal(mask_a, mask_b)
    assert mask_a.sum() >= 8
    assert fnrec.stats.episode_count(a.stats) == int(mask_a.sum())
    np.testing.assert_array_equal(fnrec.stats.episode_count(b.stats), mask_b.sum(axis=0))
    assert make(n).spec == fnrec.RecorderSpec(n, "same_step", 8, True, "walk")


@pytest.mark.parametrize("mode", ["same_step", "next_step", "disabled"])
def test_functional_vector_env_over_a_recorder(mode):
    env = fnrec.FunctionalVectorEnv(
        make(3, mode), observation_space=OBSERVATION_SPACE, action_space=ACTION_SPACE
    )
    assert env.num_envs == 3 and env.single_action_space == ACTION_SPACE
    assert env.metadata["autoreset_mode"] == gym.vector.AutoresetMode[mode.upper()]
    obs, _ = env.reset(seed=0)
    assert obs.shape == (3, 1)
    finished = 0
    for t in range(30):
        _, _, terminated, truncated, info = env.step(np.full(3, t % 3 != 0))
        finished += int(info["_episode"].sum()) if "episode" in info else 0
        if mode == "disabled" and (terminated | truncated).any():
            env.reset(options={"reset_mask": terminated | truncated})
    assert finished >= 3 and env.episode_count == finished
    assert len(env.return_queue) == min(finished, 8) == len(env.time_queue)


def test_functional_env_over_an_unbatched_recorder_with_spaces_in_its_spec():
    env = fnrec.FunctionalEnv(
        make(None, "disabled", observation_space=OBSERVATION_SPACE, action_space=ACTION_SPACE)
    )
    env.reset(seed=3)
    for _ in range(3):
        *_, terminated, truncated, info = env.step(1)
        if terminated or truncated:
            break
    assert "episode" in info and env.episode_count == 1


def test_a_step_without_a_key_draws_from_the_key_the_state_carries():
    rec, action = make(2), jnp.ones(2, jnp.int32)
    state, _ = rec.init(jax.random.key(0))
    out = rec.step(state, action)
    key, carried = jax.random.split(state.key)  # the key used, and the one carried on
    want = rec.step(state._replace(key=carried), action, key)
    data = jax.random.key_data
    np.testing.assert_array_equal(data(out.state.key), data(carried))
    for got, expected in zip(jax.tree.leaves(out), jax.tree.leaves(want), strict=True):
        if jnp.issubdtype(got.dtype, jax.dtypes.prng_key):
            got, expected = data(got), data(expected)
        np.testing.assert_array_equal(got, expected)
    with pytest.raises(ValueError, match="`key` is None and `state` carries no key"):
        rec.step(state._replace(key=None), action)


def test_check_env_checks_a_recorder():
    fnrec.utils.check_env(
        make(2, observation_space=OBSERVATION_SPACE, action_space=ACTION_SPACE), steps=5
    )
    with pytest.raises(TypeError, match="observation_space= and action_space="):
        fnrec.utils.check_env(make(2), steps=5)


def test_bad_arguments_name_the_argument():
    with pytest.raises(TypeError, match=r"`fns` must be an EnvFns\(step, reset\).*got tuple"):
        fnrec.recorder((walk_step, walk_reset))
    with pytest.raises(TypeError, match=r"`recording` must be a fnrec\.Recording, got str"):
        fnrec.recorder(WALK, "statistics")
    with pytest.raises(ValueError, match=r"`num_envs` must be the batch `fns` already holds \(2\)"):
        fnrec.recorder(fnrec.adapters.core.vmapped(WALK, 2), num_envs=3)
    with pytest.raises(ValueError, match="pass observation_space= and action_space="):
        fnrec.FunctionalVectorEnv(make(2))
    with pytest.raises(
        ValueError, match=r"`num_envs` must match the recorder's batch \(2\), got 3"
    ):
        fnrec.FunctionalVectorEnv(make(2), 3, observation_space=OBSERVATION_SPACE,
                                  action_space=ACTION_SPACE)  # fmt: skip
    with pytest.raises(ValueError, match="bound in the recorder"):
        fnrec.FunctionalVectorEnv(make(2), recording=fnrec.Recording(max_episode_steps=3),
                                  observation_space=OBSERVATION_SPACE,
                                  action_space=ACTION_SPACE)  # fmt: skip
    with pytest.raises(TypeError, match=r"`action_space` must be None or a gymnasium\.Space"):
        fnrec.FunctionalVectorEnv(make(2), observation_space=OBSERVATION_SPACE, action_space=2)
    with pytest.raises(ValueError, match="FunctionalEnv needs an unbatched"):
        fnrec.FunctionalEnv(make(2), observation_space=OBSERVATION_SPACE, action_space=ACTION_SPACE)
    rec = make(2)
    state, _ = rec.init(jax.random.key(0))
    with pytest.raises(TypeError, match="`key`"):
        rec.step(state, jnp.zeros(2, jnp.int32), 0)
