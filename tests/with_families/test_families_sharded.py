"""The jumanji, navix, XLand-MiniGrid and craftax adapters with capture in a sharded program.

Envs split over 4 (host-platform) devices, both layouts (one shared queue with ``num_envs``; one
per env under ``jax.vmap``): every leaf equals one device's, the statistics stay sharded, and the
compiled step gathers no env-sized array (``sharding_check``). Short time limits, so that every
env ends episodes within the run. XLand-MiniGrid's Empty (not EmptyRandom: its own reset draws
positions with ``jax.random.choice``, whose TopK XLA's partitioner all-gathers over the batch).
"""

from __future__ import annotations

import jax
import pytest
import sharding_check

import fnrec

LIMIT, STEPS = 8, 20


def layout(adapter, per_env, n, reset, step, num_actions):
    """A Layout from an adapter's reset(key) and step(state, action, key), params bound."""
    if per_env:
        reset, step = jax.vmap(reset), jax.vmap(step)

    def init(key):
        return reset(jax.random.split(key, n) if per_env else key)

    def random_step(state, key):
        action_key, step_key = jax.random.split(key)
        actions = jax.random.randint(action_key, (n,), 0, num_actions)
        return step(state, actions, jax.random.split(step_key, n) if per_env else step_key)

    return sharding_check.Layout(init, random_step, lambda s: s.stats, lambda s: s.capture)


def capture():
    return fnrec.capture.episode_capture(LIMIT, max_episodes=3)


def jumanji(per_env: bool, n: int) -> sharding_check.Layout:
    from jumanji.environments import Snake

    adapter = fnrec.adapters.JumanjiAdapter(
        Snake(num_rows=5, num_cols=5), capture=capture(), max_episode_steps=LIMIT,
        num_envs=None if per_env else n,
    )  # fmt: skip
    step = lambda state, action, key: adapter.step(state, action, key).state  # noqa: E731
    return layout(adapter, per_env, n, lambda key: adapter.reset(key)[0], step, 4)


def navix(per_env: bool, n: int) -> sharding_check.Layout:
    import navix

    env = navix.make("Navix-Empty-Random-5x5-v0", max_steps=LIMIT)
    adapter = fnrec.adapters.NavixAdapter(env, capture=capture(), num_envs=None if per_env else n)
    step = lambda state, action, key: adapter.step(state, action, key).state  # noqa: E731
    return layout(adapter, per_env, n, lambda key: adapter.reset(key)[0], step, 3)


def xminigrid(per_env: bool, n: int) -> sharding_check.Layout:
    import xminigrid

    env, params = xminigrid.make("MiniGrid-Empty-5x5")
    params = params.replace(max_steps=LIMIT)
    adapter = fnrec.adapters.XMiniGridAdapter(
        env, capture=capture(), num_envs=None if per_env else n
    )
    step = lambda state, action, key: adapter.step(params, state, action, key).state  # noqa: E731
    return layout(adapter, per_env, n, lambda key: adapter.reset(params, key)[0], step, 3)


def craftax(per_env: bool, n: int) -> sharding_check.Layout:
    from craftax.craftax_env import make_craftax_env_from_name

    env = make_craftax_env_from_name("Craftax-Classic-Symbolic-v1", auto_reset=False)
    params = env.default_params.replace(max_timesteps=LIMIT)
    adapter = fnrec.adapters.CraftaxAdapter(env, capture=capture(), num_envs=None if per_env else n)
    step = lambda state, action, key: adapter.step(key, state, action, params)[1]  # noqa: E731
    return layout(adapter, per_env, n, lambda key: adapter.reset(key, params)[1], step, 17)


@pytest.mark.parametrize("factory", [jumanji, navix, xminigrid], ids=lambda f: f.__name__)
def test_sharded_family_adapter_with_capture_equals_one_device(factory):
    pytest.importorskip(factory.__name__)
    sharding_check.check(factory, n=16, steps=STEPS, compile_step=False)


def test_sharded_craftax_adapter_with_capture_equals_one_device():
    """Per env only, 8 envs: craftax's own vmapped reset draws another world for an env at
    batch position 8 or more than for the same key alone (or in a batch of 4, as on a shard),
    so a 16-env run cannot equal its shards; and a shared queue of 8 envs over 4 devices
    gathers its done mask (fnrec.stats packs it 32 to a word). CraftaxAdapter's shared layout
    is GymnaxAdapter's, checked in tests/with_gymnax/test_gymnax_sharded.py."""
    pytest.importorskip("craftax")
    sharding_check.check(craftax, n=8, steps=STEPS, compile_step=False, layouts=("per_env",))
