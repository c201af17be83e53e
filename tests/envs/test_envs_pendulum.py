"""fnrec.envs.Pendulum: Gymnasium's classic Pendulum-v1, step for step (float32 against float64)."""

from __future__ import annotations

import gymnasium as gym
import jax
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import fnrec
from fnrec.envs import Pendulum, PendulumState


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**31 - 1),
    torques=st.lists(st.floats(-3.0, 3.0, width=32), min_size=1, max_size=60),
)
def test_same_as_gymnasium_pendulum(seed, torques):
    ours = Pendulum()
    theirs = gym.make("Pendulum-v1").unwrapped
    theirs.reset(seed=0)
    state = ours.initial(jax.random.key(seed))
    theirs.state = np.array([state.theta, state.theta_dot], np.float64)
    for torque in torques:
        action = np.array([torque], np.float32)
        reward = ours.reward(state, action, None)
        state = ours.transition(state, action)
        obs, their_reward, terminated, truncated, _ = theirs.step(action)
        np.testing.assert_allclose(ours.observation(state), obs, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(reward, their_reward, rtol=1e-4, atol=1e-4)
        assert not ours.terminal(state) and not terminated and not truncated
        theirs.state = np.array([state.theta, state.theta_dot], np.float64)  # no drift


def test_start_state_within_gymnasium_bounds():
    states = jax.vmap(Pendulum().initial)(jax.random.split(jax.random.key(0), 1000))
    assert np.abs(states.theta).max() <= np.pi and np.abs(states.theta_dot).max() <= 1.0
    assert np.all(states.last_u == 0.0)


def test_frames_show_the_torque_arrow():
    env = Pendulum()
    still = PendulumState(np.float32(0.5), np.float32(0.0), np.float32(0.0))
    pushed = still._replace(last_u=np.float32(2.0))
    _, a = env.render_image(still, None)
    _, b = env.render_image(pushed, None)
    assert a.shape == (500, 500, 3) and a.dtype == np.uint8
    assert (a != b).any()  # the arrow is drawn only with a torque


def test_make_pendulum_has_gymnasium_time_limit_and_spaces():
    env = fnrec.make("Pendulum-v1")
    reference = gym.make("Pendulum-v1")
    assert env.observation_space == reference.observation_space
    assert env.action_space == reference.action_space
    env.reset(seed=1)
    steps, done = 0, False
    while not done:
        _, _, terminated, truncated, info = env.step(env.action_space.sample())
        steps, done = steps + 1, terminated or truncated
    assert (steps, terminated, truncated, info["episode"]["l"]) == (200, False, True, 200)
