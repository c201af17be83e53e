"""fnrec.history: every finished episode in id order, kept or streamed, under jit/scan/while."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stats_reference import ReferenceStats

import fnrec


def reference_log(dones, num_envs, rewards=None, truncs=None):
    """(env, length) of every episode in the order Gymnasium's vector wrapper reports them;
    with `rewards` and `truncs` (truncated where done), (env, length, return, terminated,
    truncated)."""
    ref = ReferenceStats(num_envs, 10_000)
    log = []
    for t, done in enumerate(dones):
        reward = [1.0] * num_envs if rewards is None else rewards[t].tolist()
        trunc = [False] * num_envs if truncs is None else (truncs[t] & done).tolist()
        term = [bool(d and not u) for d, u in zip(done, trunc, strict=True)]
        for env, (mask, ret, length, terminated, truncated) in enumerate(
            ref.step(reward, term, trunc, "same_step")
        ):
            if mask:
                full = (env, length, ret, terminated, truncated)
                log.append(full if rewards is not None else full[:2])
    return log


# Shape families (num_envs, steps, capacity): the rollout compiles once per family; hypothesis
# varies which envs end when. Capacities below, at and far above the episode count, one env and
# batches, chunks that fill several times per run.
FAMILIES = [(1, 40, 5), (2, 40, 8), (3, 12, 5), (4, 40, 64), (5, 40, 8), (5, 12, 64)]


@functools.cache
def rollout(num_envs, steps, capacity):
    """(jitted rollout of a kept history and two streamed ones, flush "ended" and "full";
    the two streams' chunk lists)."""
    chunks = {"ended": [], "full": []}
    kept = fnrec.history.episode_history(capacity)
    streamed = {
        flush: fnrec.history.episode_history(
            max(capacity, num_envs), stream=chunks[flush].append, flush=flush
        )
        for flush in chunks
    }

    @jax.jit
    def run(dones, rewards, truncs):
        def body(carry, x):
            stats, a, b, c = carry
            done, reward, trunc = x
            stats, ended = fnrec.stats.step(stats, reward, done & ~trunc, done & trunc)
            b, c = streamed["ended"].step(b, ended), streamed["full"].step(c, ended)
            return (stats, kept.step(a, ended), b, c), None

        init = (fnrec.stats.init(num_envs), kept.init(num_envs))
        init += tuple(history.init(num_envs) for history in streamed.values())
        return jax.lax.scan(body, init, (dones, rewards, truncs))[0]

    return run, chunks


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.sampled_from(FAMILIES),
    rate=st.sampled_from([0.1, 0.5, 0.9]),
    seed=st.integers(0, 1000),
)
def test_kept_and_streamed_match_reference(family, rate, seed):
    num_envs, steps, capacity = family
    rng = np.random.default_rng(seed)
    dones = rng.random((steps, num_envs)) < rate
    rewards = rng.normal(size=(steps, num_envs)).astype(np.float32)
    truncs = rng.random((steps, num_envs)) < 0.3
    detailed = reference_log(dones, num_envs, rewards, truncs)
    expected = [row[:2] for row in detailed]
    run, chunks = rollout(num_envs, steps, capacity)
    for kept in chunks.values():
        kept.clear()
    _, a, ended, full = run(jnp.asarray(dones), rewards, jnp.asarray(truncs))
    jax.effects_barrier()
    log = fnrec.episode_log(a)
    assert list(zip(log.env.tolist(), log.length.tolist(), strict=True)) == expected[:capacity]
    assert int(a.dropped) == max(len(expected) - capacity, 0)
    # "ended": everything has left by the end (a trainer returning no state loses nothing), one
    # callback per step that ended an episode.
    assert int(ended.count) == 0
    assert len(chunks["ended"]) == int(dones.any(axis=1).sum())
    # "full": the rest is staged in the final state; one callback per full chunk at most.
    assert len(chunks["full"]) <= len(expected) // max(capacity - num_envs + 1, 1) + 1
    for state, streamed in ((ended, chunks["ended"]), (full, chunks["full"])):
        log = fnrec.episode_log([*streamed, fnrec.history_chunk(state)])
        np.testing.assert_array_equal(log.episode_id, np.arange(len(expected)))
        assert list(zip(log.env.tolist(), log.length.tolist(), strict=True)) == expected
        assert log.terminated.tolist() == [row[3] for row in detailed]
        assert log.truncated.tolist() == [row[4] for row in detailed]
        np.testing.assert_allclose(log.episode_return, [row[2] for row in detailed], rtol=1e-5)
        assert int(state.dropped) == 0


def test_until_n_episodes_in_a_while_loop():
    """Nothing is stacked per step in a while_loop: the history is the episode log."""
    history = fnrec.history.episode_history(30)
    env = fnrec.adapters.FuncEnvAdapter(
        pytest.importorskip("gymnasium.envs.phys2d.cartpole").CartPoleFunctional(),
        fnrec.Recording(max_episode_steps=50, history=history),
        num_envs=4,
    )

    @jax.jit
    def run(key):
        def cond(carry):
            return carry[0].history.count < 25

        def body(carry):
            state, key = carry
            key, action_key, step_key = jax.random.split(key, 3)
            action = jax.random.randint(action_key, (4,), 0, 2)
            return env.step(state, action, step_key).state, key

        return jax.lax.while_loop(cond, body, (env.initial(key), key))[0]

    state = run(jax.random.key(0))
    log = fnrec.episode_log(state.history)
    count = fnrec.stats.episode_count(state.stats)
    assert 25 <= len(log.episode_id) == count <= 28
    queues = fnrec.stats.queues(state.stats)  # the last 100: every episode here
    np.testing.assert_array_equal(log.length, queues["length_queue"])
    np.testing.assert_array_equal(log.terminated, queues["terminated_queue"])


def test_errors():
    with pytest.raises(
        ValueError, match=r"`capacity` must be an int from 1 to 2147483647 .*, got 0"
    ):
        fnrec.history.episode_history(0)
    with pytest.raises(ValueError, match=r"`flush` must be one of \('ended', 'full'\), got 'x'"):
        fnrec.history.episode_history(4, stream=print, flush="x")
    with pytest.raises(ValueError, match="`capacity` must be at least num_envs=8 when streaming"):
        fnrec.history.episode_history(4, stream=print).init(8)
    history = fnrec.history.episode_history(4)
    with pytest.raises(TypeError, match="`ended` must be the EpisodeEnded"):
        history.step(history.init(2), fnrec.stats.init(2))


@pytest.mark.fault
def test_streaming_without_num_envs_loses_nothing_or_is_refused():
    """A history made without num_envs, stepped with a batch: every episode is streamed (a
    capacity below the batch is refused at trace time, never a silent drop)."""
    chunks = []
    history = fnrec.history.episode_history(4, stream=chunks.append)
    stats, state = fnrec.stats.init(4), history.init()
    for _ in range(6):
        stats, ended = fnrec.stats.step(stats, 1.0, np.ones(4, bool), False)
        state = history.step(state, ended)
    jax.effects_barrier()
    log = fnrec.episode_log([*chunks, fnrec.history_chunk(state)])
    assert len(log.episode_id) == 24 and log.episode_id.tolist() == list(range(24))
    small = fnrec.history.episode_history(3, stream=chunks.append)
    with pytest.raises(ValueError, match=r"`capacity` must be at least the number of envs stepped"):
        small.step(small.init(), ended)


def test_a_streamed_history_under_vmap_is_refused():
    history = fnrec.history.episode_history(4, stream=print)
    stats = jax.vmap(lambda _: fnrec.stats.init())(jnp.arange(3))
    stats, ended = jax.vmap(fnrec.stats.step, in_axes=(0, None, None, None))(
        stats, 1.0, True, False
    )
    states = jax.vmap(lambda _: history.init())(jnp.arange(3))
    with pytest.raises(ValueError, match=r"`stream` needs one history over the whole batch"):
        jax.vmap(history.step)(states, ended)


@pytest.mark.fault
def test_a_stream_that_raises_warns_and_the_run_goes_on():
    def broken(chunk):
        raise OSError("disk full")

    history = fnrec.history.episode_history(2, stream=broken)
    stats, state = fnrec.stats.init(2), history.init(2)

    @jax.jit
    def run(stats, state):
        for _ in range(3):
            stats, ended = fnrec.stats.step(stats, 1.0, jnp.ones(2, bool), False)
            state = history.step(state, ended)
        return stats, state

    with pytest.warns(RuntimeWarning, match=r"raised OSError: disk full; the run goes on"):
        stats, state = run(stats, state)
        jax.effects_barrier()
    assert fnrec.stats.episode_count(stats) == 6


def test_streamed_ids_do_not_wrap_past_2_to_the_31():
    chunks = []
    history = fnrec.history.episode_history(2, stream=chunks.append)
    stats = fnrec.stats.init(2)
    start = fnrec.counter.add(fnrec.counter.zeros(), 2**31 - 1)
    state = history.init(2)._replace(first_id=start)
    step = jax.jit(history.step)
    for _ in range(3):
        stats, ended = fnrec.stats.step(stats, 1.0, jnp.ones(2, bool), False)
        state = step(state, ended)
    jax.effects_barrier()
    log = fnrec.episode_log([*chunks, fnrec.history_chunk(state)])
    assert log.episode_id.tolist() == [2**31 - 1 + k for k in range(6)]
