"""FuncEnvAdapter with capture in a sharded program: envs split over 4 (host-platform) devices.

Results equal one device's, leaf for leaf, in both layouts (one shared queue and capture; one
per env under jax.vmap); the compiled step gathers no env-sized array (``sharding_check``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
import sharding_check

import fnrec
from fnrec.envs import CartPole

# The collectives of the sharded step, as users compile it.
pytestmark = pytest.mark.xla_optimized


def cartpole(per_env: bool, n: int, watch=(0,)) -> sharding_check.Layout:
    capture = fnrec.capture.episode_capture(60, max_episodes=4, watch=watch)
    recording = fnrec.Recording(capture=capture, max_episode_steps=40)
    if per_env:
        env = fnrec.adapters.FuncEnvAdapter(CartPole(), recording)

        def init(key):
            return jax.vmap(env.initial)(jax.random.split(key, n))

        def step(state, key):
            actions = jnp.zeros(n, jnp.int32)
            return jax.vmap(env.step)(state, actions, jax.random.split(key, n)).state
    else:
        env = fnrec.adapters.FuncEnvAdapter(CartPole(), recording, num_envs=n)
        init = env.initial

        def step(state, key):
            return env.step(state, jnp.zeros(n, jnp.int32), key).state

    return sharding_check.Layout(init, step, lambda s: s.stats, lambda s: s.capture)


def test_sharded_adapter_with_capture_equals_one_device_and_gathers_nothing_env_sized():
    # 12 envs: 3 per device, so no device holds a whole 32-env word of done flags.
    kept = sharding_check.check(cartpole, n=12, steps=120)
    assert kept["per_env"] == [], kept
    # Shared queue and capture: a few small all-reduces (the done flags as words, the ring's
    # slots, the watched env's values by dtype), no collective-permute or all-to-all. 4 with
    # jax 0.10; a static slice of the watched env made XLA all-reduce it at each use (10).
    assert kept["shared"] and all(op.startswith("all-reduce") for op in kept["shared"]), kept
    assert len(kept["shared"]) <= 5, kept


def cartpole_global_ids(per_env: bool, n: int) -> sharding_check.Layout:
    return cartpole(per_env, n, watch=None)


def test_sharded_global_id_capture_equals_one_device_and_gathers_nothing_env_sized():
    """Global ids keep each env's rows in env order (split with the env axis) and copy stored
    episodes out: what crosses devices is one stored episode at a time (its fields and row)."""
    kept = sharding_check.check(cartpole_global_ids, n=12, steps=120, compile_step=False)
    assert kept["shared"] and all(op.startswith("all-reduce") for op in kept["shared"]), kept
    assert kept["per_env"] == [], kept
