"""fnrec.stats in a real gymnax rollout (jit + vmap + lax.scan), checked against its trajectory."""

from __future__ import annotations

import gymnax
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from stats_reference import ReferenceStats

import fnrec


@pytest.mark.parametrize("env_name", ["CartPole-v1", "Acrobot-v1"])
def test_shared_queue_matches_the_recorded_trajectory(env_name, x64):
    env, params = gymnax.make(env_name)
    num_envs, steps, buffer_length = 8, 1100, 6
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    @jax.jit
    def rollout(key):
        _, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, num_envs), params)

        def body(carry, key):
            state, stats = carry
            action_key, step_key = jax.random.split(key)
            action = jax.random.randint(action_key, (num_envs,), 0, env.num_actions)
            _, state, reward, terminated, truncated, _ = step(
                jax.random.split(step_key, num_envs), state, action, params
            )
            stats, ended = fnrec.stats.step(stats, reward, terminated, truncated)
            return (state, stats), (reward, terminated, truncated, ended.mask)

        init = (state, fnrec.stats.init(num_envs, buffer_length))
        return jax.lax.scan(body, init, jax.random.split(key, steps))

    (_, stats), (reward, terminated, truncated, mask) = rollout(jax.random.key(3))
    ref = ReferenceStats(num_envs, buffer_length)
    for t in range(steps):
        ref.step(list(map(float, reward[t])), list(terminated[t]), list(truncated[t]), "same_step")
    assert ref.episode_count > buffer_length, (
        "the rollout should finish more episodes than the queue holds"
    )
    np.testing.assert_array_equal(mask, np.asarray(terminated) | np.asarray(truncated))
    queues = fnrec.stats.queues(stats)
    np.testing.assert_allclose(queues["return_queue"], [e[0] for e in ref.queue], rtol=1e-6)
    np.testing.assert_array_equal(queues["length_queue"], [e[1] for e in ref.queue])
    np.testing.assert_array_equal(queues["terminated_queue"], [e[2] for e in ref.queue])
    assert fnrec.stats.episode_count(stats) == ref.episode_count
    assert stats.running_return.dtype == jnp.float32
