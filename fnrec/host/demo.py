"""The demo: a jitted, vmapped CartPole rollout with episode statistics recorded in-graph."""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

import fnrec


def run_demo(
    num_envs: int = 256, num_steps: int = 1000, buffer_length: int = 100, seed: int = 0
) -> dict:
    """Rolls out Gymnasium's functional CartPole in one jitted lax.scan and prints statistics.

    Args:
      num_envs: environments stepped in parallel with jax.vmap.
      num_steps: steps per environment.
      buffer_length: finished episodes kept in the shared queue.
      seed: PRNG seed.

    Returns:
      The host-side queues and counts that were printed.
    """
    from gymnasium.envs.phys2d.cartpole import CartPoleFunctional

    env = CartPoleFunctional()
    params = env.get_default_params() if hasattr(env, "get_default_params") else None

    def env_step(state, action, key):
        next_state = env.transition(state, action, None, params)
        reward = env.reward(state, action, next_state, None, params)
        terminated = env.terminal(next_state, None, params)
        reset_state = env.initial(key, params)
        return jnp.where(terminated, reset_state, next_state), reward, terminated

    @jax.jit
    def rollout(key):
        init_key, key = jax.random.split(key)
        state = jax.vmap(env.initial, in_axes=(0, None))(
            jax.random.split(init_key, num_envs), params
        )
        stats = fnrec.stats.init(num_envs, buffer_length)

        def body(carry, key):
            state, stats = carry
            action_key, reset_key = jax.random.split(key)
            action = jax.random.randint(action_key, (num_envs,), 0, 2)
            state, reward, terminated = jax.vmap(env_step)(
                state, action, jax.random.split(reset_key, num_envs)
            )
            stats, _ = fnrec.stats.step(stats, reward, terminated, jnp.zeros_like(terminated))
            return (state, stats), None

        (_, stats), _ = jax.lax.scan(body, (state, stats), jax.random.split(key, num_steps))
        return stats

    key = jax.random.key(seed)
    jax.block_until_ready(rollout(key))  # compile
    start = time.perf_counter()
    stats = jax.block_until_ready(rollout(key))
    elapsed = time.perf_counter() - start

    queues = fnrec.stats.queues(stats)
    count = fnrec.stats.episode_count(stats)
    print(f"CartPole (Gymnasium FuncEnv), {num_envs} envs x {num_steps} steps, random actions")
    print(f"  {num_envs * num_steps / elapsed / 1e6:.2f} M env-steps/s (jitted, after compile)")
    print(f"  episodes finished: {count}")
    print(
        f"  last {len(queues['return_queue'])} episodes: "
        f"mean return {np.mean(queues['return_queue']):.2f}, "
        f"mean length {np.mean(queues['length_queue']):.2f}, "
        f"terminated {int(np.sum(queues['terminated_queue']))}"
    )
    return {"queues": queues, "episode_count": count}
