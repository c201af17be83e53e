"""fnrec.make and fnrec.make_vec: Gymnasium's make for fnrec's envs (CartPole-v1 as Gymnasium's)."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import fnrec


def test_cartpole_is_gymnasiums_classic_cartpole_step_by_step():
    ours, theirs = fnrec.make("CartPole-v1"), gym.make("CartPole-v1")
    assert ours.observation_space == theirs.observation_space
    assert ours.action_space == theirs.action_space
    obs, _ = ours.reset(seed=3)
    theirs.reset(seed=0)
    theirs.unwrapped.state = np.asarray(obs, np.float64)
    for action in np.random.default_rng(0).integers(0, 2, 400).tolist():
        obs, reward, terminated, truncated, _ = ours.step(action)
        their_obs, their_reward, their_terminated, _their_truncated, _ = theirs.step(action)
        np.testing.assert_allclose(obs, their_obs, rtol=1e-4, atol=1e-5)
        assert (reward, terminated) == (their_reward, their_terminated)
        if terminated or truncated:
            obs, _ = ours.reset()
            theirs.reset()
        theirs.unwrapped.state = np.asarray(obs, np.float64)


def test_make_renders_gymnasiums_frame_size():
    env = fnrec.make("CartPole-v1", render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.shape == (400, 600, 3) and frame.dtype == np.uint8
    assert env.metadata["render_fps"] == 50


def test_make_vec_takes_gymnasiums_vector_kwargs():
    envs = fnrec.make_vec(
        "CartPole-v1", 4, vector_kwargs={"autoreset_mode": AutoresetMode.SAME_STEP}
    )
    assert envs.metadata["autoreset_mode"] == AutoresetMode.SAME_STEP
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (4, 4) and envs.single_action_space == gym.spaces.Discrete(2)
    assert fnrec.make_vec("CartPole-v1", 2).metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"vectorization_mode": "async"}, "`vectorization_mode`"),
        ({"vector_kwargs": {"copy": False}}, "`vector_kwargs` may only hold"),
        ({"num_envs": 0}, "`num_envs` must be an int >= 1"),
        ({"autoreset_mode": "next_step", "vector_kwargs": {"autoreset_mode": "next_step"}},
         "given twice"),
    ],
)  # fmt: skip
def test_make_vec_refuses_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        fnrec.make_vec("CartPole-v1", **{"num_envs": 2, **kwargs})


def test_rgb_array_without_a_renderer_says_to_pass_one():
    fnrec.register("NoPicture-v0", lambda: fnrec.envs.CartPole(), family="funcenv")
    fnrec.register(
        "Walk-v0", lambda: fnrec.envs.CartPole(), family="funcenv", render=lambda e, p: None
    )
    env = fnrec.make("NoPicture-v0", render_mode="rgb_array")  # a FuncEnv renders itself
    env.reset(seed=0)
    assert env.render().shape == (400, 600, 3)
