"""craftax's achievements as per-episode metrics: 1.0 for each achievement an episode unlocked."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

pytest.importorskip("craftax")
from craftax.craftax_classic.constants import Achievement
from craftax.craftax_env import make_craftax_env_from_name

import fnrec
from fnrec.adapters.craftax import achievement_metrics, recorder

N = 2


def test_an_episode_reports_the_achievements_it_unlocked():
    env = make_craftax_env_from_name("Craftax-Classic-Symbolic-v1", auto_reset=False)
    params = env.default_params.replace(max_timesteps=50)
    metrics = achievement_metrics(env, params)
    assert len(metrics) == len(Achievement) == 22
    assert metrics[Achievement.COLLECT_WOOD.value].name == "achievement_collect_wood"
    statistics = fnrec.stats.episode_statistics(metrics=metrics)
    rec = recorder(env, fnrec.Recording(statistics=statistics), num_envs=N, params=params)
    state, _ = rec.init(jax.random.key(0))
    step = jax.jit(rec.step)
    state = step(state, jnp.zeros(N, jnp.int32), jax.random.key(1)).state
    # Env 0 unlocks wood and a table during its episode, env 1 nothing; both then die.
    unlocked = np.zeros((N, len(Achievement)), bool)
    unlocked[0, [Achievement.COLLECT_WOOD.value, Achievement.PLACE_TABLE.value]] = True
    env_state = state.env_state.replace(achievements=jnp.asarray(unlocked))
    out = step(state._replace(env_state=env_state), jnp.zeros(N, jnp.int32), jax.random.key(2))
    env_state = out.state.env_state.replace(
        player_health=jnp.zeros_like(out.state.env_state.player_health)
    )
    out = step(out.state._replace(env_state=env_state), jnp.zeros(N, jnp.int32), jax.random.key(3))
    assert np.asarray(out.ended.mask).all() and np.asarray(out.terminated).all()
    got = np.stack([np.asarray(out.ended.metrics[m.name]) for m in metrics], axis=1)
    np.testing.assert_array_equal(got, unlocked.astype(np.float32))
    summary = fnrec.stats.summary(out.state.stats)
    assert float(summary["achievement_collect_wood_mean"]) == 0.5
    with pytest.raises(TypeError, match="`env` must be a craftax environment"):
        achievement_metrics(object())
