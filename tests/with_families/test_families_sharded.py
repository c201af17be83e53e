"""The jumanji, navix, XLand-MiniGrid and craftax recorders with capture in a sharded program.

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


def layout(rec, per_env, n, num_actions):
    """A Layout from a recorder (params bound): its init(key) and step(state, action, key)."""
    init_fn, step_fn = rec.init, lambda state, action, key: rec.step(state, action, key).state
    if per_env:
        init_fn, step_fn = jax.vmap(init_fn), jax.vmap(step_fn)

    def init(key):
        return init_fn(jax.random.split(key, n) if per_env else key)[0]

    def random_step(state, key):
        action_key, step_key = jax.random.split(key)
        actions = jax.random.randint(action_key, (n,), 0, num_actions)
        return step_fn(state, actions, jax.random.split(step_key, n) if per_env else step_key)

    return sharding_check.Layout(init, random_step, lambda s: s.stats, lambda s: s.capture)


def recording(mode="same_step", limit=None):
    capture = fnrec.capture.episode_capture(LIMIT, max_episodes=3)
    statistics = fnrec.stats.episode_statistics(autoreset_mode=mode)
    return fnrec.Recording(statistics, capture, max_episode_steps=limit)


def jumanji(per_env: bool, n: int) -> sharding_check.Layout:
    from jumanji.environments import Snake

    rec = fnrec.adapters.jumanji.recorder(
        Snake(num_rows=5, num_cols=5), recording(limit=LIMIT), None if per_env else n
    )
    return layout(rec, per_env, n, 4)


def navix(per_env: bool, n: int) -> sharding_check.Layout:
    import navix

    env = navix.make("Navix-Empty-Random-5x5-v0", max_steps=LIMIT)
    # navix's own convention (its recorder's default without a recording): next-step autoreset
    rec = fnrec.adapters.navix.recorder(env, recording("next_step"), None if per_env else n)
    return layout(rec, per_env, n, 3)


def xminigrid(per_env: bool, n: int) -> sharding_check.Layout:
    import xminigrid

    env, params = xminigrid.make("MiniGrid-Empty-5x5")
    params = params.replace(max_steps=LIMIT)
    rec = fnrec.adapters.xminigrid.recorder(env, recording(), None if per_env else n, params)
    return layout(rec, per_env, n, 3)


def craftax(per_env: bool, n: int) -> sharding_check.Layout:
    from craftax.craftax_env import make_craftax_env_from_name

    env = make_craftax_env_from_name("Craftax-Classic-Symbolic-v1", auto_reset=False)
    params = env.default_params.replace(max_timesteps=LIMIT)
    rec = fnrec.adapters.craftax.recorder(env, recording(), None if per_env else n, params)
    return layout(rec, per_env, n, 17)


@pytest.mark.parametrize("factory", [jumanji, navix, xminigrid], ids=lambda f: f.__name__)
def test_sharded_family_recorder_with_capture_equals_one_device(factory):
    pytest.importorskip(factory.__name__)
    sharding_check.check(factory, n=16, steps=STEPS, compile_step=False)


def test_sharded_craftax_recorder_with_capture_equals_one_device():
    """Per env only, 8 envs: craftax's own vmapped reset draws another world for an env at
    batch position 8 or more than for the same key alone (or in a batch of 4, as on a shard),
    so a 16-env run cannot equal its shards; and a shared queue of 8 envs over 4 devices
    gathers its done mask (fnrec.stats packs it 32 to a word). craftax's recorder is gymnax's
    (its shared layout is checked in tests/with_gymnax/test_gymnax_sharded.py)."""
    pytest.importorskip("craftax")
    sharding_check.check(craftax, n=8, steps=STEPS, compile_step=False, layouts=("per_env",))
