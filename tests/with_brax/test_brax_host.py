"""Gymnasium's vector env over the brax adapter: the guide's loop on a brax env."""

from __future__ import annotations

import numpy as np
import pytest

brax_envs = pytest.importorskip("brax.envs")
from brax.envs.wrappers import training  # noqa: E402

import fnrec  # noqa: E402


def test_vector_env_over_brax():
    env = brax_envs.get_environment("inverted_pendulum", backend="generalized")
    adapter = fnrec.adapters.BraxAdapter(training.wrap(env, episode_length=15))
    envs = fnrec.FunctionalVectorEnv(adapter, num_envs=3)
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
    obs, _ = envs.reset()  # brax resets every env; the statistics carry over
    assert envs.episode_count == len(lengths)
    with pytest.raises(ValueError, match="resets every env at once"):
        envs.reset(options={"reset_mask": [True, False, False]})
