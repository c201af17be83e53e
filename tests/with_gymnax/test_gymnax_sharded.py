"""GymnaxAdapter with capture in a sharded program: envs split over 4 (host-platform) devices.

gymnax's CartPole, both layouts (one shared queue with ``num_envs``; one per env under
``jax.vmap``): every leaf equals one device's, the statistics stay sharded, and the compiled step
gathers no env-sized array (``sharding_check``).
"""

from __future__ import annotations

import jax
import pytest
import sharding_check

gymnax = pytest.importorskip("gymnax")
import fnrec  # noqa: E402
from fnrec.adapters import GymnaxAdapter  # noqa: E402

LIMIT = 12


def cartpole(per_env: bool, n: int) -> sharding_check.Layout:
    env, params = gymnax.make("CartPole-v1")
    params = params.replace(max_steps_in_episode=LIMIT)
    capture = fnrec.capture.episode_capture(LIMIT, max_episodes=3)
    adapter = GymnaxAdapter(env, fnrec.Recording(capture=capture), None if per_env else n)

    def actions(key):
        return jax.random.randint(key, (n,), 0, 2)

    if per_env:
        reset = jax.vmap(adapter.reset, in_axes=(0, None))
        vmapped = jax.vmap(adapter.step, in_axes=(0, 0, 0, None))

        def init(key):
            return reset(jax.random.split(key, n), params)[1]

        def step(state, key):
            action_key, step_key = jax.random.split(key)
            return vmapped(jax.random.split(step_key, n), state, actions(action_key), params)[1]
    else:

        def init(key):
            return adapter.reset(key, params)[1]

        def step(state, key):
            action_key, step_key = jax.random.split(key)
            return adapter.step(step_key, state, actions(action_key), params)[1]

    return sharding_check.Layout(init, step, lambda s: s.stats, lambda s: s.capture)


def test_sharded_gymnax_adapter_with_capture_equals_one_device():
    sharding_check.check(cartpole, n=12, steps=30)
