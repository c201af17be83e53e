"""fnrec.adapters.GymnaxAdapter (the shell over gymnax's recorder) with real gymnax 1.0.1.

Run in the gymnax environment (gymnax==1.0.1, six, gymnasium<1.4).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

gymnax = pytest.importorskip("gymnax")
from conformance import Rollout, assert_matches_reference  # noqa: E402
from gymnax.wrappers.purerl import LogWrapper  # noqa: E402

import fnrec  # noqa: E402
from fnrec.adapters import GymnaxAdapter  # noqa: E402

ENVS = ["CartPole-v1", "Acrobot-v1", "Breakout-MinAtar"]


def make(name):
    env, params = gymnax.make(name)
    if name == "CartPole-v1":  # short time limit: both terminations and truncations happen
        params = params.replace(max_steps_in_episode=20)
    if name == "Acrobot-v1":
        params = params.replace(max_steps_in_episode=40)
    return env, params


def rollout(wrapper, env, params, num_envs, num_steps, seed=0):
    """A vmapped rollout in one jitted lax.scan."""
    num_actions = env.action_space(params).n
    _, state = jax.vmap(wrapper.reset, in_axes=(0, None))(
        jax.random.split(jax.random.key(seed), num_envs), params
    )

    def body(state, key):
        action_key, step_key = jax.random.split(key)
        action = jax.random.randint(action_key, (num_envs,), 0, num_actions)
        out = jax.vmap(wrapper.step, in_axes=(0, 0, 0, None))(
            jax.random.split(step_key, num_envs), state, action, params
        )
        return out[1], out

    keys = jax.random.split(jax.random.key(seed + 1), num_steps)
    return jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)


@pytest.mark.parametrize("name", ENVS)
def test_matches_reference_and_log_wrapper(name, x64):
    env, params = make(name)
    wrapper = GymnaxAdapter(LogWrapper(env), fnrec.Recording(fnrec.stats.episode_statistics(16)))
    num_envs, num_steps = 4, 150
    state, (_, _, reward, term, trunc, info) = rollout(wrapper, env, params, num_envs, num_steps)
    reward, term, trunc = np.asarray(reward), np.asarray(term), np.asarray(trunc)
    mask = np.asarray(info["_episode"])
    assert mask.any()
    np.testing.assert_array_equal(mask, term | trunc)
    np.testing.assert_array_equal(info["terminated"], term)
    np.testing.assert_array_equal(info["truncated"], trunc)
    # gymnax's own LogWrapper agrees on every finished episode.
    np.testing.assert_allclose(
        np.asarray(info["episode"]["r"])[mask], np.asarray(info["returned_episode_returns"])[mask]
    )
    np.testing.assert_array_equal(
        np.asarray(info["episode"]["l"])[mask], np.asarray(info["returned_episode_lengths"])[mask]
    )
    ended = fnrec.EpisodeEnded(
        mask, info["episode"]["r"], info["episode"]["l"], term & mask, trunc & mask
    )
    assert_matches_reference(Rollout(reward, term, trunc, ended, state.stats), "same_step", 16)
    if name == "Acrobot-v1":  # random actions never swing up: every episode is truncated
        assert trunc[mask].all() and not term.any()


class OldStepAPI:
    """A real gymnax env behind gymnax 0.0.x's ``(obs, state, reward, done, info)`` step."""

    def __init__(self, env, report_truncation):
        self.env, self.report_truncation = env, report_truncation

    def reset(self, key, params=None):
        return self.env.reset(key, params)

    def step(self, key, state, action, params=None):
        obs, state, reward, term, trunc, info = self.env.step(key, state, action, params)
        info = {"discount": info["discount"]}
        if self.report_truncation:
            info["truncated"] = trunc
        return obs, state, reward, term | trunc, info


@pytest.mark.parametrize("step_api", ["auto", "done"])
@pytest.mark.parametrize("report_truncation", [False, True])
def test_old_step_api(step_api, report_truncation):
    env, params = make("CartPole-v1")
    new = rollout(GymnaxAdapter(env), env, params, 3, 100)
    old = rollout(
        GymnaxAdapter(OldStepAPI(env, report_truncation), step_api=step_api),
        env,
        params,
        3,
        100,
    )
    assert len(old[1]) == 5
    _, (_, _, _, done, info) = old
    _, (_, _, _, term, trunc, new_info) = new
    np.testing.assert_array_equal(done, term | trunc)
    np.testing.assert_array_equal(info["_episode"], new_info["_episode"])
    np.testing.assert_array_equal(info["episode"]["r"], new_info["episode"]["r"])
    np.testing.assert_array_equal(info["episode"]["l"], new_info["episode"]["l"])
    assert np.asarray(trunc).any()
    # With a truncation flag, done with it reads as truncated; without one, the time limit is
    # read off gymnax's state.time and params.max_steps_in_episode. gymnax 1.x can report both
    # at once; 0.0.x's done cannot, so a last-step termination reads as truncated.
    np.testing.assert_array_equal(info["truncated"], trunc)
    np.testing.assert_array_equal(info["terminated"], np.asarray(term) & ~np.asarray(trunc))


def test_old_step_api_without_a_readable_time_limit_reads_done_as_termination():
    env, params = make("CartPole-v1")

    class NoTime(OldStepAPI):  # a 0.0.x-style env whose state has no `time` field
        def reset(self, key, params=None):
            obs, state = self.env.reset(key, params)
            return obs, (state,)

        def step(self, key, state, action, params=None):
            obs, state, reward, done, info = super().step(key, state[0], action, params)
            return obs, (state,), reward, done, info

    _, (_, _, _, done, info) = rollout(
        GymnaxAdapter(NoTime(env, False), step_api="done"), env, params, 3, 100
    )
    np.testing.assert_array_equal(info["terminated"], done)
    assert not np.asarray(info["truncated"]).any()


def test_errors():
    env, params = make("CartPole-v1")
    with pytest.raises(ValueError, match="step_api"):
        GymnaxAdapter(env, step_api="v2")
    with pytest.raises(TypeError, match="gymnax environment"):
        GymnaxAdapter(object())
    # The output step API is the caller's choice, whatever the env's own is.
    wrapper = GymnaxAdapter(OldStepAPI(env, True), step_api="terminated_truncated")
    _, state = wrapper.reset(jax.random.key(0), params)
    assert len(wrapper.step(jax.random.key(1), state, 0, params)) == 6
    with pytest.raises(TypeError, match="Recorded state"):
        wrapper.step(jax.random.key(1), state.env_state, 0, params)
    assert GymnaxAdapter(env).num_actions == env.num_actions  # passed through
    assert jnp.shape(wrapper.reset(jax.random.key(0), params)[0]) == (4,)


def test_num_envs_gives_one_shared_queue_in_env_order(x64):
    """With num_envs=N the wrapper vmaps gymnax itself and keeps one Gymnasium-style queue."""
    env, params = make("CartPole-v1")
    num_envs, num_steps, buffer_length = 6, 200, 10
    recording = fnrec.Recording(fnrec.stats.episode_statistics(buffer_length))
    wrapper = GymnaxAdapter(env, recording, num_envs=num_envs)
    _, state = wrapper.reset(jax.random.key(0), params)

    def body(state, key):
        action_key, step_key = jax.random.split(key)
        action = jax.random.randint(action_key, (num_envs,), 0, 2)
        _, state, reward, term, trunc, info = wrapper.step(step_key, state, action, params)
        mask = info["_episode"]
        ended = fnrec.EpisodeEnded(
            mask, info["episode"]["r"], info["episode"]["l"], term & mask, trunc & mask
        )
        return state, (reward, term, trunc, ended)

    keys = jax.random.split(jax.random.key(1), num_steps)
    state, (reward, term, trunc, ended) = jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)
    assert isinstance(fnrec.stats.queues(state.stats), dict)  # one shared queue, not one per env
    rollout_ = Rollout(reward, term, trunc, ended, state.stats)
    assert assert_matches_reference(rollout_, "same_step", buffer_length) > buffer_length


def test_layout_mistakes_name_the_fix():
    env, params = make("CartPole-v1")
    shared = GymnaxAdapter(env, num_envs=4)
    with pytest.raises(ValueError, match="ONE PRNG key"):
        shared.reset(jax.random.split(jax.random.key(0), 4), params)
    _, state = shared.reset(jax.random.key(0), params)
    with pytest.raises(ValueError, match=r"`action` must have one entry per env, shape \(4, ...\)"):
        shared.step(jax.random.key(1), state, 0, params)
    with pytest.raises(TypeError, match=r"`key` must be a PRNG key .*got int: 5"):
        shared.step(5, state, jnp.zeros(4, jnp.int32), params)
    listed = shared.step(jax.random.key(1), state, [0, 1, 1, 0], params)  # lists are arrays
    arrayed = shared.step(jax.random.key(1), state, jnp.array([0, 1, 1, 0]), params)
    np.testing.assert_array_equal(listed[0], arrayed[0])
    if not jax.config.jax_enable_x64:
        with pytest.raises(ValueError, match=r"`action` must fit int32"):
            shared.step(jax.random.key(1), state, np.array([2**40, 0, 0, 0]), params)
    with pytest.raises(ValueError, match=r"do not jax\.vmap it"):
        jax.vmap(lambda k: shared.step(k, state, jnp.zeros(4, jnp.int32), params))(
            jax.random.split(jax.random.key(1), 2)
        )
    _, one = GymnaxAdapter(env).reset(jax.random.key(0), params)
    with pytest.raises(ValueError, match=r"`state` must hold num_envs=4 envs .* made for one env"):
        shared.step(jax.random.key(1), one, jnp.zeros(4, jnp.int32), params)
