"""Long runs through the gymnax adapter: counters past 2**32, a million-step Pendulum episode."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

gymnax = pytest.importorskip("gymnax")
import fnrec  # noqa: E402
from fnrec.adapters import GymnaxAdapter  # noqa: E402
from fnrec.counter import Counter64  # noqa: E402


def test_counters_pass_2_to_the_32_exactly_in_a_cartpole_run(x64):
    env, params = gymnax.make("CartPole-v1")
    n, buffer_length = 8, 16
    adapter = GymnaxAdapter(env, fnrec.Recording(fnrec.stats.episode_statistics(buffer_length)), n)
    _, state = adapter.reset(jax.random.key(0), params)

    def run(state, seed, steps):
        def body(state, key):
            out = adapter.step(key, state, jnp.zeros(n, jnp.int32), params)
            return out[1], out[-1]["_episode"].sum()  # (obs, state, ..., info)

        keys = jax.random.split(jax.random.key(seed), steps)
        return jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)

    state, _ = run(state, 1, 200)  # the queue is full (always-left CartPole ends in ~10 steps)
    near = Counter64(jnp.uint32(0), jnp.uint32(2**32 - 3))
    state = state._replace(stats=state.stats._replace(episode_count=near, env_steps=near))
    state, finished = run(state, 2, 100)
    assert int(finished.sum()) > 3  # it crossed 2**32
    assert fnrec.stats.episode_count(state.stats) == 2**32 - 3 + int(finished.sum())
    assert fnrec.counter.to_int(state.stats.env_steps) == 2**32 - 3 + 100 * n
    assert len(fnrec.stats.queues(state.stats)["return_queue"]) == buffer_length


def test_a_million_step_pendulum_episode_keeps_its_return_within_1e_6(x64):
    env, params = gymnax.make("Pendulum-v1")
    steps = 1_000_000
    params = params.replace(max_steps_in_episode=steps)
    adapter = GymnaxAdapter(env)
    _, state = adapter.reset(jax.random.key(0), params)

    def body(state, key):
        out = adapter.step(key, state, jnp.array([0.5]), params)
        return out[1], out[2]  # the state and the reward

    keys = jax.random.split(jax.random.key(1), steps)
    state, rewards = jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)
    queues = fnrec.stats.queues(state.stats)
    assert queues["length_queue"].tolist() == [steps]
    assert queues["terminated_queue"].tolist() == [False]  # the time limit: truncated
    exact = math.fsum(np.asarray(rewards, np.float64).tolist())
    (episode_return,) = queues["return_queue"].tolist()
    assert abs(episode_return - exact) <= 1e-6 * abs(exact), (episode_return, exact)
