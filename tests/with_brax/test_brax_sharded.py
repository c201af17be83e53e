"""BraxAdapter with capture in a sharded program: envs split over 4 (host-platform) devices.

brax's inverted pendulum behind ``EpisodeWrapper`` + ``AutoResetWrapper``, both layouts (batched
by ``VmapWrapper``: one shared queue; unbatched under ``jax.vmap``: one queue per env): every
leaf equals one device's, the statistics stay sharded, and the compiled step gathers no
env-sized array (``sharding_check``).
"""

from __future__ import annotations

import jax
import pytest
import sharding_check

brax_envs = pytest.importorskip("brax.envs")
from brax.envs.wrappers import training  # noqa: E402

import fnrec  # noqa: E402
from fnrec.adapters import BraxAdapter  # noqa: E402

LIMIT = 10


def pendulum(per_env: bool, n: int) -> sharding_check.Layout:
    env = brax_envs.get_environment("inverted_pendulum", backend="generalized")
    if per_env:
        env = training.AutoResetWrapper(training.EpisodeWrapper(env, LIMIT, 1))
    else:
        env = training.wrap(env, episode_length=LIMIT)
    adapter = BraxAdapter(
        env, fnrec.Recording(capture=fnrec.capture.episode_capture(LIMIT, max_episodes=3))
    )
    reset, step = adapter.reset, adapter.step
    if per_env:
        reset, step = jax.vmap(reset), jax.vmap(step)

    def init(key):  # brax's wrappers take uint32 keys (EpisodeWrapper reads rng.shape[:-1])
        return reset(jax.random.split(jax.random.key_data(key), n))

    def random_step(state, key):
        return step(state, jax.random.uniform(key, (n, 1), minval=-1, maxval=1))

    return sharding_check.Layout(
        init,
        random_step,
        lambda s: s.info["episode_stats"],
        lambda s: s.info["episode_capture"],
        rounding=physics,
    )


def physics(path: str) -> bool:
    """brax's physics state (also as captured) and the obs drawn from it: XLA rounds the
    generalized pipeline's float math differently for a shard of 4 envs than for 16."""
    return path.startswith(
        (
            ".pipeline_state",
            ".obs",
            ".info['episode_capture'].items",
            ".info['episode_capture'].stored_items",
        )
    )


def test_sharded_brax_adapter_with_capture_equals_one_device():
    sharding_check.check(pendulum, n=16, steps=25, compile_step=False)
