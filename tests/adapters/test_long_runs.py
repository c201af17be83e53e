"""Long runs through the adapters: counters past 2**32 and a million-step episode's return."""

from __future__ import annotations

import math

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium.experimental.functional import FuncEnv

import fnrec
from fnrec.adapters import FuncEnvAdapter
from fnrec.counter import Counter64

# Compensated sums over millions of steps, as users compile them.
pytestmark = pytest.mark.xla_optimized


class Ticker(FuncEnv):
    """A FuncEnv whose episodes end every `period` steps (never with period 0); reward r(t)."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, period: int = 0) -> None:
        super().__init__()
        self.period = period

    def initial(self, rng, params=None):
        return jnp.zeros((), jnp.int32)

    def transition(self, state, action, rng, params=None):
        return state + 1

    def observation(self, state, rng, params=None):
        return state.astype(jnp.float32)

    def reward(self, state, action, next_state, rng, params=None):
        return reward_at(next_state)

    def terminal(self, state, rng, params=None):
        return (state % self.period == 0) if self.period else jnp.bool_(False)


def reward_at(t):
    """A reward stream with varied magnitudes, so that a plain float32 sum drifts."""
    return 0.1 + 1e-3 * jnp.sin(t.astype(jnp.float32))


def near_limit(stats, below: int):
    """`stats` with episode_count and env_steps `below` short of 2**32."""
    near = Counter64(jnp.uint32(0), jnp.uint32(2**32 - below))
    return stats._replace(episode_count=near, env_steps=near)


@pytest.mark.parametrize("per_env", [False, True], ids=["shared", "per_env"])
def test_counters_pass_2_to_the_32_exactly(per_env, x64):
    n, warm, steps = 4, 300, 30  # 300 steps fill every queue (100 episodes of 3 steps per env)
    if per_env:
        env = FuncEnvAdapter(Ticker(period=3))
        state = jax.vmap(env.initial)(jax.random.split(jax.random.key(0), n))
        step = jax.vmap(env.step)

        def keys(seed, count):
            split = jax.random.split(jax.random.key(seed), count)
            return jax.vmap(lambda k: jax.random.split(k, n))(split)

        def limit(stats):
            return jax.vmap(lambda s: near_limit(s, 5))(stats)
    else:
        env = FuncEnvAdapter(Ticker(period=3), num_envs=n)
        state = env.initial(jax.random.key(0))
        step = env.step

        def keys(seed, count):
            return jax.random.split(jax.random.key(seed), count)

        def limit(stats):
            return near_limit(stats, 5)

    def body(state, key):
        return step(state, jnp.zeros(n, jnp.int32), key).state, None

    run = jax.jit(lambda s, k: jax.lax.scan(body, s, k)[0])
    state = run(state, keys(1, warm))
    state = run(state._replace(stats=limit(state.stats)), keys(2, steps))
    per_env_count = steps // 3  # every env ends an episode every 3 steps
    if per_env:
        assert fnrec.stats.episode_count(state.stats).tolist() == [2**32 - 5 + per_env_count] * n
        queues = fnrec.stats.queues(state.stats)
        assert all(q["length_queue"].tolist() == [3] * 100 for q in queues)
        done = state.stats.env_steps
        totals = [(int(h) << 32) + int(lo) for h, lo in zip(done.hi, done.lo, strict=True)]
        assert totals == [2**32 - 5 + steps] * n
    else:
        assert fnrec.stats.episode_count(state.stats) == 2**32 - 5 + n * per_env_count
        assert fnrec.counter.to_int(state.stats.env_steps) == 2**32 - 5 + n * steps
        assert fnrec.stats.queues(state.stats)["length_queue"].tolist() == [3] * 100
    summary = fnrec.stats.summary(state.stats)
    assert float(summary["length_mean"]) == 3.0


def test_a_million_step_episode_keeps_its_return_within_1e_6(x64):
    steps = 1_000_000
    env = FuncEnvAdapter(Ticker(period=steps), fnrec.Recording(max_episode_steps=None))
    state = env.initial(jax.random.key(0))

    def body(state, key):
        out = env.step(state, jnp.int32(0), key)
        return out.state, out.reward

    keys = jax.random.split(jax.random.key(1), steps)
    state, rewards = jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)
    exact = math.fsum(
        np.asarray(rewards, np.float64).tolist()
    )  # the float32 rewards, summed exactly
    (episode_return,) = fnrec.stats.queues(state.stats)["return_queue"].tolist()
    assert fnrec.stats.queues(state.stats)["length_queue"].tolist() == [steps]
    assert abs(episode_return - exact) <= 1e-6 * abs(exact), (episode_return, exact)
    naive = np.cumsum(np.asarray(rewards, np.float32), dtype=np.float32)[-1]
    assert abs(naive - exact) > 1e-6 * abs(exact)  # what a plain float32 sum would give
