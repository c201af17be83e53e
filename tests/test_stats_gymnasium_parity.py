"""fnrec.stats against Gymnasium's own vector RecordEpisodeStatistics on replayed streams.

Gymnasium < 1.4 mis-counts same-step autoreset, so this needs Gymnasium >= 1.4 (the main test
environment); the gymnax environment (Gymnasium 1.3) skips it unless told to require it.
"""

from __future__ import annotations

import os

import gymnasium as gym
import jax
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.wrappers.vector import RecordEpisodeStatistics
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fnrec

_VERSION = tuple(int(p) for p in gym.__version__.split(".")[:2])
if _VERSION < (1, 4):
    if os.environ.get("FNREC_REQUIRE_GYMNASIUM_PARITY"):
        raise RuntimeError(f"the parity tests need gymnasium >= 1.4, found {gym.__version__}")
    pytest.skip("Gymnasium < 1.4 mis-counts same-step autoreset", allow_module_level=True)

MODES = {
    "same_step": AutoresetMode.SAME_STEP,
    "next_step": AutoresetMode.NEXT_STEP,
    "disabled": AutoresetMode.DISABLED,
}


class ReplayVectorEnv(VectorEnv):
    """A VectorEnv that replays a scripted reward/terminated/truncated stream."""

    def __init__(self, num_envs, steps, mode):
        self.num_envs = num_envs
        self.metadata = {"autoreset_mode": mode}
        self.single_observation_space = gym.spaces.Box(-1, 1, (1,))
        self.single_action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.vector.utils.batch_space(
            self.single_observation_space, num_envs
        )
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self._steps = iter(steps)

    def reset(self, *, seed=None, options=None):
        return np.zeros((self.num_envs, 1), np.float32), {}

    def step(self, actions):
        reward, term, trunc = next(self._steps)
        return np.zeros((self.num_envs, 1), np.float32), reward, term, trunc, {}


@st.composite
def streams(draw):
    num_envs = draw(st.integers(1, 5))
    steps, resets = [], []
    for _ in range(draw(st.integers(1, 30))):
        steps.append(
            (
                np.array(
                    draw(st.lists(st.integers(-5, 5), min_size=num_envs, max_size=num_envs)),
                    np.float64,
                ),
                np.array(draw(st.lists(st.booleans(), min_size=num_envs, max_size=num_envs)))
                & (draw(st.integers(0, 2)) == 0),
                np.array(draw(st.lists(st.booleans(), min_size=num_envs, max_size=num_envs)))
                & (draw(st.integers(0, 3)) == 0),
            )
        )
        mask = np.array(draw(st.lists(st.booleans(), min_size=num_envs, max_size=num_envs)))
        resets.append(mask if (mask.any() and draw(st.integers(0, 5)) == 0) else None)
    return num_envs, steps, resets


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=streams(), mode=st.sampled_from(sorted(MODES)), buffer_length=st.integers(1, 6))
def test_matches_gymnasium_vector_record_episode_statistics(data, mode, buffer_length):
    num_envs, steps, resets = data
    env = RecordEpisodeStatistics(ReplayVectorEnv(num_envs, steps, MODES[mode]), buffer_length)
    env.reset()
    stats = fnrec.stats.init(num_envs, buffer_length)
    step = jax.jit(fnrec.stats.step, static_argnames="autoreset_mode")
    for (reward, term, trunc), reset_mask in zip(steps, resets, strict=True):
        if reset_mask is not None:
            # Gymnasium pops reset_mask from the options, so pass a fresh dict.
            env.reset(options={"reset_mask": reset_mask.copy()})
            stats = fnrec.stats.reset(stats, reset_mask)
        *_, info = env.step(np.zeros(num_envs, int))
        stats, ended = step(stats, reward, term, trunc, autoreset_mode=mode)
        ours = fnrec.stats.host_info(ended)
        if "episode" in info:
            np.testing.assert_array_equal(ours["_episode"], info["_episode"])
            np.testing.assert_allclose(ours["episode"]["r"], info["episode"]["r"])
            np.testing.assert_array_equal(ours["episode"]["l"], info["episode"]["l"])
        else:
            assert not ours["_episode"].any()
    queues = fnrec.stats.queues(stats)
    np.testing.assert_allclose(queues["return_queue"], np.array(env.return_queue))
    np.testing.assert_array_equal(queues["length_queue"], np.array(env.length_queue))
    assert fnrec.stats.episode_count(stats) == env.episode_count
