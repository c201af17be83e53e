"""fnrec.make / make_vec over brax ids ("brax/<name>", brax's own env names)."""

from __future__ import annotations

import numpy as np
import pytest

import fnrec

pytest.importorskip("brax.envs")


def test_make_vec_brax_steps_with_brax_time_limit():
    envs = fnrec.make_vec("brax/inverted_pendulum", 2, backend="generalized", episode_length=5)
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (2, envs.single_observation_space.shape[0])
    lengths = []
    for _ in range(12):
        *_, info = envs.step(np.zeros((2, 1), np.float32))
        if "episode" in info:
            lengths += info["episode"]["l"][info["_episode"]].tolist()
    assert lengths and max(lengths) <= 5


def test_brax_has_no_renderer_here():
    with pytest.raises(ValueError, match="pass `render=`"):
        fnrec.make("brax/inverted_pendulum", render_mode="rgb_array", backend="generalized")


def test_unknown_brax_name():
    with pytest.raises(ValueError, match="did you mean 'inverted_pendulum'"):
        fnrec.make("brax/inverted_pendulun")
