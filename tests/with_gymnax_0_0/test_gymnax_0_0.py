"""GymnaxAdapter over real gymnax 0.0.x (0.0.9): 5-value step, truncation read off state.time.

Run in its own venv (gymnax==0.0.9); scripts/test.sh sets FNREC_REQUIRE=gymnax there.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

gymnax = pytest.importorskip("gymnax")
from conformance import Rollout, assert_matches_reference  # noqa: E402
from gymnax.wrappers.purerl import LogWrapper  # noqa: E402

import fnrec  # noqa: E402
from fnrec.adapters import GymnaxAdapter  # noqa: E402
from fnrec.host.captured import read_capture  # noqa: E402


def test_this_is_gymnax_0_0():
    env, params = gymnax.make("CartPole-v1")
    _, state = env.reset(jax.random.key(0), params)
    assert len(env.step(jax.random.key(0), state, 0, params)) == 5  # done, no truncated


def run(adapter, params, num_envs=4, steps=200):
    _, state = adapter.reset(jax.random.key(0), params)

    def body(state, key):
        action_key, step_key = jax.random.split(key)
        action = jax.random.randint(action_key, (num_envs,), 0, 2)
        _, state, reward, done, info = adapter.step(step_key, state, action, params)
        ended = fnrec.EpisodeEnded(
            info["_episode"], info["episode"]["r"], info["episode"]["l"],
            info["terminated"] & info["_episode"], info["truncated"] & info["_episode"],
        )  # fmt: skip
        return state, (reward, info["terminated"], info["truncated"], done, ended)

    keys = jax.random.split(jax.random.key(1), steps)
    return jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)


@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "LogWrapper"])
@pytest.mark.parametrize("name", ["CartPole-v1", "Acrobot-v1"])
def test_statistics_and_truncation_on_0_0(name, wrapped):
    env, params = gymnax.make(name)
    params = params.replace(max_steps_in_episode=30)
    inner = LogWrapper(env) if wrapped else env
    adapter = GymnaxAdapter(inner, fnrec.Recording(fnrec.stats.episode_statistics(64)), 4)
    assert adapter.bare == (not wrapped)
    state, (reward, term, trunc, done, ended) = run(adapter, params)
    np.testing.assert_array_equal(np.asarray(term) | np.asarray(trunc), done)
    count = assert_matches_reference(
        Rollout(reward, term, trunc, ended, state.stats), "same_step", 64
    )
    assert count > 4
    lengths = np.asarray(ended.length)[np.asarray(ended.mask)]
    truncated = np.asarray(ended.truncated)[np.asarray(ended.mask)]
    # The 30-step limit reads as truncation, every shorter episode as termination.
    np.testing.assert_array_equal(truncated, lengths == 30)
    if name == "Acrobot-v1":  # random actions never swing up: all cut off by the limit
        assert truncated.all()
    else:
        assert (~truncated).any()


def test_capture_on_a_bare_0_0_env():
    env, params = gymnax.make("CartPole-v1")
    params = params.replace(max_steps_in_episode=30)
    capture = fnrec.capture.episode_capture(30, 8, watch=(0,), trigger=lambda i: i >= 0)
    adapter = GymnaxAdapter(env, fnrec.Recording(capture=capture), 4)
    state, (_, _, _, _, ended) = run(adapter, params, steps=100)
    episodes = read_capture(state.capture).episodes
    lengths = np.asarray(ended.length)[:, 0][np.asarray(ended.mask)[:, 0]]
    assert [e.length for e in episodes] == lengths[: len(episodes)].tolist()
    assert all(len(e.items.time) == e.length + 1 for e in episodes)
    np.testing.assert_array_equal(episodes[0].items.time, np.arange(episodes[0].length + 1))
