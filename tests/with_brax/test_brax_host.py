"""Gymnasium's vector env over brax's recorder: the guide's loop on a brax env."""

from __future__ import annotations

import numpy as np
import pytest

brax_envs = pytest.importorskip("brax.envs")
from brax.envs.wrappers import training  # noqa: E402

import fnrec  # noqa: E402


def test_vector_env_over_brax():
    env = brax_envs.get_environment("inverted_pendulum", backend="generalized")
    recorder = fnrec.adapters.brax.recorder(training.wrap(env, episode_length=15), num_envs=3)
    envs = fnrec.FunctionalVectorEnv(recorder)
    assert envs.single_action_space.shape == (1,) and envs.single_observation_space.shape == (4,)
    obs, _ = envs.reset(seed=1)
    assert obs.shape == (3, 4)
    lengths = []
    for _ in range(40):
        obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
        assert reward.shape == (3,)
        if "episode" in info:
            mask = info["_episode"]
            np.testing.assert_array_equal(mask, terminated | truncated)
            lengths.extend(info["episode"]["l"][mask].tolist())
    assert 0 < len(lengths) == envs.episode_count
    assert max(lengths) <= 15
    obs, _ = envs.reset()  # new episodes; the statistics carry over
    assert envs.episode_count == len(lengths)
    envs.step(np.zeros((3, 1), np.float32))
    before = envs.state.env_state.pipeline_state.q
    envs.reset(options={"reset_mask": [True, False, False]})  # env 0 only
    after = envs.state.env_state.pipeline_state.q
    np.testing.assert_array_equal(np.asarray(after)[1:], np.asarray(before)[1:])
    assert not np.array_equal(np.asarray(after)[0], np.asarray(before)[0])
    assert int(envs.state.steps[0]) == 0 and (np.asarray(envs.state.steps)[1:] == 1).all()
