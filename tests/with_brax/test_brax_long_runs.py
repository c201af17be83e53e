"""Long runs through the brax adapter: counters past 2**32, a million-step reacher episode."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

brax_envs = pytest.importorskip("brax.envs")
from brax.envs.wrappers import training  # noqa: E402

import fnrec  # noqa: E402
from fnrec.adapters import BraxAdapter  # noqa: E402
from fnrec.counter import Counter64  # noqa: E402

# Compensated sums over millions of steps, as users compile them.
pytestmark = pytest.mark.xla_optimized


def near_limit(stats, below: int):
    """`stats` with episode_count and env_steps `below` short of 2**32."""
    near = Counter64(jnp.uint32(0), jnp.uint32(2**32 - below))
    return stats._replace(episode_count=near, env_steps=near)


@pytest.mark.parametrize("x64", [True], ids=["x64on"], indirect=True)
def test_counters_pass_2_to_the_32_exactly_in_a_vmapped_pendulum_run(x64):
    """The layout brax's trainers use (VmapWrapper: one shared queue), x64 on (uint32 words
    among 64-bit defaults); brax's compile dominates, so the per-env layout and x64 off are left
    to the cheaper adapters' tests."""
    n, length, steps, buffer_length = 4, 3, 30, 8  # every env ends an episode every 3 steps
    env = brax_envs.get_environment("inverted_pendulum", backend="generalized")
    adapter = BraxAdapter(
        training.wrap(env, episode_length=length),
        fnrec.Recording(fnrec.stats.episode_statistics(buffer_length)),
    )
    state = jax.jit(adapter.reset)(jax.random.split(jax.random.PRNGKey(0), n))
    actions = jnp.zeros((steps, n, 1))
    run = jax.jit(lambda s: jax.lax.scan(lambda s, a: (adapter.step(s, a), None), s, actions)[0])
    state = run(state)  # the queue is full
    stats = near_limit(state.info["episode_stats"], 5)
    state = run(state.replace(info={**state.info, "episode_stats": stats}))
    stats = state.info["episode_stats"]
    assert fnrec.stats.episode_count(stats) == 2**32 - 5 + n * (steps // length)
    assert fnrec.counter.to_int(stats.env_steps) == 2**32 - 5 + n * steps
    queue = fnrec.stats.queues(stats)
    assert queue["length_queue"].tolist() == [length] * buffer_length
    assert not queue["terminated_queue"].any()  # brax's time limit: truncated
    assert float(fnrec.stats.summary(stats)["length_mean"]) == length


def test_a_million_step_reacher_episode_keeps_its_return_within_1e_6():
    """reacher never terminates; its time limit raised to a million steps. brax's cheapest
    never-ending env takes about 30 s for this on a 2-core CPU, so it runs once, x64 off (the
    counter test runs both)."""
    steps = 1_000_000
    env = brax_envs.get_environment("reacher", backend="spring")
    adapter = BraxAdapter(training.AutoResetWrapper(training.EpisodeWrapper(env, steps, 1)))
    state = jax.jit(adapter.reset)(jax.random.PRNGKey(0))
    action = jnp.full((env.action_size,), 0.1)

    def body(state, _):
        state = adapter.step(state, action)
        return state, state.reward

    state, rewards = jax.jit(lambda s: jax.lax.scan(body, s, None, length=steps))(state)
    queues = fnrec.stats.queues(state.info["episode_stats"])
    assert queues["length_queue"].tolist() == [steps]
    assert queues["terminated_queue"].tolist() == [False]  # the time limit: truncated
    exact = math.fsum(np.asarray(rewards, np.float32).astype(np.float64).tolist())
    (episode_return,) = queues["return_queue"].tolist()
    assert abs(episode_return - exact) <= 1e-6 * abs(exact), (episode_return, exact)
    naive = np.cumsum(np.asarray(rewards, np.float32), dtype=np.float32)[-1]
    assert abs(naive - exact) > 1e-6 * abs(exact)  # what a plain float32 sum would give
