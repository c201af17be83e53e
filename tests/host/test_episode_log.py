"""episode_log: stacked steps read along the right axis, or an error (never a wrong log)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fnrec

# Shape families (steps, envs); the two layouts compile once per family.
FAMILIES = [(30, 1), (30, 3), (12, 5)]


@functools.cache
def layouts(steps: int, num_envs: int):
    """(shared [T, N] scan, vmap of per-env scans [N, T]) over the same dones and rewards."""

    def scan(stats, dones, rewards):
        def body(stats, x):
            stats, ended = fnrec.stats.step(stats, x[1], x[0], False)
            return stats, ended

        return jax.lax.scan(body, stats, (dones, rewards))[1]

    shared = jax.jit(lambda d, r: scan(fnrec.stats.init(num_envs), d, r))
    per_env = jax.jit(jax.vmap(lambda d, r: scan(fnrec.stats.init(), d, r), in_axes=1))
    return shared, per_env


def reference(dones: np.ndarray, rewards: np.ndarray) -> list[tuple[int, int, int, float]]:
    """(step, env, length, return) per finished episode, step order then env order."""
    rows, length, total = [], np.zeros(dones.shape[1], int), np.zeros(dones.shape[1])
    for t in range(dones.shape[0]):
        for n in range(dones.shape[1]):
            length[n] += 1
            total[n] += rewards[t, n]
            if dones[t, n]:
                rows.append((t, n, int(length[n]), float(total[n])))
                length[n], total[n] = 0, 0.0
    return rows


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.sampled_from(FAMILIES),
    rate=st.sampled_from([0.1, 0.4, 0.8]),
    seed=st.integers(0, 1000),
)
def test_both_layouts_give_the_reference_log(family, rate, seed):
    steps, num_envs = family
    rng = np.random.default_rng(seed)
    dones = rng.random((steps, num_envs)) < rate
    rewards = rng.integers(0, 4, (steps, num_envs)).astype(np.float32)
    shared, per_env = layouts(steps, num_envs)
    expected = reference(dones, rewards)
    for log in (
        fnrec.episode_log(shared(dones, rewards)),
        fnrec.episode_log(per_env(dones, rewards), time_axis=1),
    ):
        columns = (log.step.tolist(), log.env.tolist(), log.length.tolist(), log.episode_return)
        got = list(zip(*columns, strict=True))
        assert [g[:3] for g in got] == [e[:3] for e in expected]
        np.testing.assert_allclose([g[3] for g in got], [e[3] for e in expected])
        np.testing.assert_array_equal(log.episode_id, np.arange(len(expected)))


@pytest.mark.fault
def test_a_stack_read_along_the_wrong_axis_is_refused():
    """A vmapped scan's [N, T] read as [T, N], and one step's [N] read as N steps of env 0."""
    dones = np.zeros((12, 5), bool)
    dones[[2, 5, 9], :] = True  # every env ends on steps 2, 5, 9: lengths 3, 3, 4
    rewards = np.ones((12, 5), np.float32)
    shared, per_env = layouts(12, 5)
    stacked = per_env(dones, rewards)
    with pytest.raises(ValueError, match=r"not a stack of steps.*pass time_axis=1"):
        fnrec.episode_log(stacked)
    one_step = jax.tree.map(lambda x: x[2], shared(dones, rewards))  # [N]: every env ended
    with pytest.raises(ValueError, match=r"One step of a batch \(\[N\]\) needs its time axis"):
        fnrec.episode_log(one_step)
    log = fnrec.episode_log(jax.tree.map(lambda x: x[None], one_step))
    assert log.env.tolist() == [0, 1, 2, 3, 4] and log.length.tolist() == [3] * 5
    with pytest.raises(ValueError, match=r"`time_axis` must be an axis of `ended`'s leaves"):
        fnrec.episode_log(stacked, time_axis=2)
    with pytest.raises(TypeError, match=r"`time_axis` must be an int, got 1.0"):
        fnrec.episode_log(stacked, time_axis=1.0)


def test_episodes_cut_short_by_a_reset_are_not_refused():
    """A hand reset between two scans only shortens the next episode: still a valid stack."""
    outputs = []
    for _ in range(2):
        stats = fnrec.stats.init(1)  # a reset: the running episode is abandoned
        for done in (False, False, True, False):
            stats, ended = fnrec.stats.step(stats, 1.0, jnp.array([done]), False)
            outputs.append(ended)
    ended = jax.tree.map(lambda *x: jnp.stack(x), *outputs)
    log = fnrec.episode_log(ended)
    assert log.step.tolist() == [2, 6] and log.length.tolist() == [3, 3]
