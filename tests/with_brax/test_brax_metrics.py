"""brax's per-step ``state.metrics`` as fnrec metrics: each episode's sums equal what brax's
own ``EpisodeWrapper`` sums into ``info["episode_metrics"]``."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

brax_envs = pytest.importorskip("brax.envs")
from brax.envs.wrappers import training  # noqa: E402

import fnrec  # noqa: E402
from fnrec.adapters.brax import episode_metrics  # noqa: E402

N, LENGTH, STEPS = 2, 6, 20


def test_summed_metrics_equal_brax_episode_metrics():
    wrapped = training.wrap(
        brax_envs.get_environment("reacher", backend="generalized"), episode_length=LENGTH
    )
    metrics = episode_metrics(wrapped)
    assert [m.name for m in metrics] == ["reward_ctrl", "reward_dist"]
    statistics = fnrec.stats.episode_statistics(metrics=metrics)
    env = fnrec.adapters.BraxAdapter(wrapped, fnrec.Recording(statistics=statistics))

    def body(state, key):
        action = jax.random.uniform(key, (N, env.action_size), minval=-1, maxval=1)
        state = env.step(state, action)
        info = state.info
        return state, (info["_episode"], info["episode"], info["episode_metrics"])

    state = jax.jit(env.reset)(jax.random.split(jax.random.PRNGKey(0), N))
    keys = jax.random.split(jax.random.PRNGKey(1), STEPS)
    state, (done, ours, brax_own) = jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)
    done = np.asarray(done)
    assert done.sum() == N * (STEPS // LENGTH)
    for name in ("reward_ctrl", "reward_dist"):
        expected = np.asarray(brax_own[name])[done]
        assert np.abs(expected).min() > 0  # real values, not zeros on both sides
        np.testing.assert_allclose(np.asarray(ours[name])[done], expected, rtol=1e-5, atol=1e-6)
    queues = fnrec.stats.queues(state.info["episode_stats"])
    assert len(queues["reward_dist_queue"]) == N * (STEPS // LENGTH)
    with pytest.raises(ValueError, match="`reduce` must be one of"):
        episode_metrics(wrapped, reduce="median")
    assert jnp.size(queues["reward_ctrl_queue"]) == len(queues["return_queue"])
