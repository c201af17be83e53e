"""Capture chosen by outcome (fnrec.capture.on_outcome) against the run's own episode log."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fnrec

NUM_ENVS, STEPS, MAX_LENGTH, SLOTS = 5, 60, 16, 6
METRICS = (fnrec.stats.success("hit", "any"), fnrec.stats.discounted_return(0.9))
STATISTICS = fnrec.stats.episode_statistics(100, "same_step", METRICS)
TRIGGERS = {
    "failures": lambda e: e.terminated & (e.episode_return < 2.0),
    "truncated": lambda e: e.truncated,
    "misses": lambda e: e.metrics["success"] == 0.0,
    "late_ids": lambda e: (e.episode_id >= 5) & (e.env != 3),
}
PREDICATES = {  # the same choices, written over episode-log rows
    "failures": lambda row: row.terminated and row.episode_return < 2.0,
    "truncated": lambda row: row.truncated,
    "misses": lambda row: row.metrics["success"] == 0.0,
    "late_ids": lambda row: row.episode_id >= 5 and row.env != 3,
}


@functools.cache
def rollout(trigger_name, watch, vmapped):
    """A jitted scan: statistics with metrics, and a capture chosen by outcome."""
    capture = fnrec.capture.episode_capture(
        MAX_LENGTH, SLOTS, watch=watch, trigger=fnrec.capture.on_outcome(TRIGGERS[trigger_name])
    )
    return _capture_run(capture, vmapped)


def _capture_run(capture, vmapped):
    """A jitted scan of statistics (with METRICS) and `capture` over a stream; the env state is
    the step count of its episode, so every kept frame says which step it shows."""

    def step(stats, cap, state, reward, terminated, truncated):
        stats, ended = STATISTICS.step(
            stats, reward, terminated, truncated, info={"hit": reward > 0.8}
        )
        following = state + 1.0
        reset = jnp.where(ended.mask, 0.0, following)  # same-step autoreset
        return stats, capture.step(cap, ended, following, reset), reset, ended

    if vmapped:
        step = jax.vmap(step)

    def run(xs):
        def body(carry, x):
            stats, cap, state, ended = step(*carry, *x)
            return (stats, cap, state), ended

        if vmapped:
            stats = jax.vmap(lambda _: STATISTICS.init())(jnp.arange(NUM_ENVS))
            cap = jax.vmap(lambda s: capture.init(s))(jnp.zeros(NUM_ENVS))
        else:
            stats, cap = STATISTICS.init(NUM_ENVS), capture.init(jnp.zeros(NUM_ENVS), NUM_ENVS)
        (_, cap, _), ended = jax.lax.scan(body, (stats, cap, jnp.zeros(NUM_ENVS)), xs)
        return cap, ended

    return jax.jit(run)


def _stream(seed):
    rng = np.random.default_rng(seed)
    reward = rng.random((STEPS, NUM_ENVS)).astype(np.float32)
    terminated = rng.random((STEPS, NUM_ENVS)) < 0.15
    truncated = ~terminated & (rng.random((STEPS, NUM_ENVS)) < 0.05)
    return reward, terminated, truncated


@pytest.mark.parametrize("trigger_name", sorted(TRIGGERS))
@pytest.mark.parametrize("seed", [0])
def test_global_ids_keep_the_chosen_episodes_in_id_order(trigger_name, seed):
    cap, ended = rollout(trigger_name, None, False)(_stream(seed))
    wanted = [r for r in fnrec.episode_log(ended).episodes() if PREDICATES[trigger_name](r)]
    rows = [r for r in wanted if r.length <= MAX_LENGTH]  # longer ones do not fit a row
    kept = rows[:SLOTS]
    count = int(cap.num_stored)
    assert count == len(kept) and int(cap.dropped_full) == len(rows) - len(kept)
    assert int(cap.dropped_too_long) == len(wanted) - len(rows)
    assert cap.stored.episode_id[:count].tolist() == [r.episode_id for r in kept]
    assert cap.stored.env[:count].tolist() == [r.env for r in kept]
    np.testing.assert_allclose(cap.stored.episode_return[:count], [r.episode_return for r in kept])
    for episode, row in zip(fnrec.read_capture(cap).episodes, kept, strict=True):
        # The frames are the episode's own: the env state counts 0, 1, ..., length.
        np.testing.assert_array_equal(episode.items, np.arange(row.length + 1, dtype=np.float32))


@pytest.mark.parametrize("vmapped", [False, True], ids=["watched", "vmapped"])
def test_watched_envs_and_per_env_captures_choose_by_outcome(vmapped):
    watch = (0,) if vmapped else (1, 3)
    cap, ended = rollout("failures", watch, vmapped)(_stream(2))
    log = fnrec.episode_log(ended, time_axis=0)
    envs = range(NUM_ENVS) if vmapped else watch
    total = 0
    for k, env in enumerate(envs):
        own = [r for r in log.episodes() if r.env == env]
        chosen = [
            i for i, r in enumerate(own) if PREDICATES["failures"](r) and r.length <= MAX_LENGTH
        ]
        if vmapped:
            one = jax.tree.map(lambda x, k=k: x[k], cap)
            count = int(one.num_stored)
            assert one.stored.episode_id[:count].tolist() == chosen[:SLOTS]
        else:  # one store for the watched envs, filled in the order their episodes end
            count = int(cap.num_stored)
            ids = np.asarray(cap.stored.episode_id)[:count]
            env_of = np.asarray(cap.stored.env)[:count]
            assert ids[env_of == env].tolist() == chosen[: int(np.sum(env_of == env))]
            total += len(chosen)
    if not vmapped:
        assert int(cap.num_stored) == min(SLOTS, total)
        assert int(cap.dropped_full) == total - int(cap.num_stored)


def test_a_trigger_that_is_not_elementwise_names_the_fix():
    ended = fnrec.stats.EpisodeEnded(
        jnp.ones(2, bool),
        jnp.ones(2),
        jnp.ones(2, jnp.int32),
        jnp.ones(2, bool),
        jnp.zeros(2, bool),
    )

    def traced(choose):
        capture = fnrec.capture.episode_capture(
            4, watch=None, trigger=fnrec.capture.on_outcome(choose)
        )
        step = lambda s: capture.step(capture.init(s, 2), ended, s + 1.0, s)  # noqa: E731
        return jax.jit(step).lower(jnp.zeros(2))

    with pytest.raises(TypeError, match=r"on_outcome.*Finished of ARRAYS"):
        traced(lambda e: bool(e.terminated[0]))
    with pytest.raises(ValueError, match=r"one bool per tracked env.*\(2,\).*\(3,\)"):
        traced(lambda e: jnp.ones(3, bool))
    with pytest.raises(TypeError, match="`choose` must be a callable"):
        fnrec.capture.on_outcome(3)


KEEPS = {
    "best_return": (lambda: fnrec.capture.best(), lambda r: r.episode_return, True),
    "worst_return": (lambda: fnrec.capture.worst(), lambda r: r.episode_return, False),
    "best_discounted": (
        lambda: fnrec.capture.best("discounted_return"),
        lambda r: r.metrics["discounted_return"],
        True,
    ),
    "longest": (lambda: fnrec.capture.best("length"), lambda r: r.length, True),
    "most_recent": (lambda: fnrec.capture.most_recent(), lambda r: r.episode_id, True),
}


@functools.cache
def ranked_rollout(keep_name, watch, vmapped):
    """A jitted scan with a ranked store (compiled once per store, layout and watch)."""
    capture = fnrec.capture.episode_capture(MAX_LENGTH, 4, watch=watch, keep=KEEPS[keep_name][0]())
    return _capture_run(capture, vmapped)


def _expected_kept(rows, key, largest, k):
    """The k top-ranked rows that fit a row, ties to the earlier episode: a sort of the log."""
    fits = [r for r in rows if r.length <= MAX_LENGTH]
    ordered = sorted(fits, key=lambda r: (-key(r) if largest else key(r), r.episode_id))
    return ordered[:k]


@pytest.mark.parametrize(
    ("keep_name", "watch"),
    [(name, None) for name in sorted(KEEPS)] + [("worst_return", (2,)), ("longest", (2,))],
)  # global ids copy rows out of the envs' rows; a watched env hands its row over
def test_a_ranked_store_keeps_the_top_k_of_the_whole_log(keep_name, watch):
    cap, ended = ranked_rollout(keep_name, watch, False)(_stream(3))
    rows = fnrec.episode_log(ended).episodes()
    if watch is not None:  # watched ids count the env's own episodes
        rows = [r._replace(episode_id=i) for i, r in enumerate(x for x in rows if x.env == 2)]
    _, key, largest = KEEPS[keep_name]
    want = _expected_kept(rows, key, largest, 4)
    summary = fnrec.read_capture(cap)
    got = sorted(summary.episodes, key=lambda e: e.episode_id)
    assert [e.episode_id for e in got] == sorted(r.episode_id for r in want)
    # read_capture ranks them as the sort does (1: the best kept), with their scores.
    by_rank = sorted(summary.episodes, key=lambda e: e.rank)
    assert [e.episode_id for e in by_rank] == [r.episode_id for r in want]
    assert [e.rank for e in by_rank] == list(range(1, len(want) + 1))
    np.testing.assert_allclose([e.score for e in by_rank], [float(key(r)) for r in want], 1e-6)
    by_id = {r.episode_id: r for r in want}
    for episode in got:  # the frames are the kept episode's own, whichever row they are in
        assert episode.length == by_id[episode.episode_id].length
        np.testing.assert_array_equal(
            episode.items, np.arange(episode.length + 1, dtype=np.float32)
        )
    assert summary.dropped_full == 0


def test_a_ranked_store_under_vmap_keeps_each_envs_top_k():
    cap, ended = ranked_rollout("worst_return", (0,), True)(_stream(4))
    rows = fnrec.episode_log(ended).episodes()
    for env in range(NUM_ENVS):
        own = [r._replace(episode_id=i) for i, r in enumerate(x for x in rows if x.env == env)]
        want = _expected_kept(own, lambda r: r.episode_return, False, 4)
        one = jax.tree.map(lambda x, env=env: x[env], cap)
        count = int(one.num_stored)
        assert sorted(one.stored.episode_id[:count].tolist()) == sorted(r.episode_id for r in want)


def test_ranked_store_arguments_are_checked():
    with pytest.raises(TypeError, match="`keep` must be None or a ranked store"):
        fnrec.capture.episode_capture(4, keep="best")
    with pytest.raises(ValueError, match="needs no `stream`"):
        fnrec.capture.episode_capture(4, keep=fnrec.capture.best(), stream=print)
    with pytest.raises(ValueError, match=r"most_recent\(\) ranks by episode id.*watch=\(0, 1\)"):
        fnrec.capture.episode_capture(4, watch=(0, 1), keep=fnrec.capture.most_recent())
    with pytest.raises(TypeError, match="`by` must be"):
        fnrec.capture.best(3)
    unranked = fnrec.capture.episode_capture(4, 2, watch=None)
    ranked = fnrec.capture.episode_capture(4, 2, watch=None, keep=fnrec.capture.worst())
    with pytest.raises(ValueError, match=r"keep \(a ranked store's order\) None"):
        ranked.clear(unranked.init(jnp.zeros(2), 2))


def _near_the_limit(capture, first_id, num_envs):
    """A fresh global-id capture whose batch has already ended `first_id` episodes."""
    state = capture.init(jnp.zeros(num_envs), num_envs=num_envs)
    return state._replace(episodes_ended=jnp.asarray(first_id, jnp.int32))


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
def test_ids_never_wrap_past_int32(jit, x64):
    # Two ids are left: the step's first two episodes take them; the rest (and every later
    # episode) are not numbered, not offered to the trigger, and reading the state warns.
    limit = fnrec.capture.ID_LIMIT
    seen = []
    capture = fnrec.capture.episode_capture(3, 8, watch=None, trigger=lambda ids: ids >= 0)
    state = _near_the_limit(capture, limit - 2, 4)
    stats = fnrec.stats.init(4)
    step = jax.jit(capture.step) if jit else capture.step
    for _ in range(2):
        stats, ended = fnrec.stats.step(stats, [1.0, 2.0, 3.0, 4.0], True, False)
        state = step(state, ended, jnp.ones(4), jnp.zeros(4))
        seen.append(int(state.episodes_ended))
    assert seen == [limit, limit]
    with pytest.warns(RuntimeWarning, match="2,147,483,647 episodes"):
        captured = fnrec.read_capture(state)
    assert [(e.episode_id, e.env) for e in captured.episodes] == [(limit - 2, 0), (limit - 1, 1)]
    assert int(state.stored.episode_id.min()) >= 0  # no negative (wrapped) id anywhere


def test_watched_ids_stop_at_the_limit():
    limit = fnrec.capture.ID_LIMIT
    capture = fnrec.capture.episode_capture(3, 4, watch=(1,), trigger=lambda ids: ids >= 0)
    state = capture.init(jnp.zeros(2), num_envs=2)
    state = state._replace(own_episodes=jnp.full_like(state.own_episodes, limit - 1))
    stats = fnrec.stats.init(2)
    for _ in range(3):
        stats, ended = fnrec.stats.step(stats, [1.0, 2.0], True, False)
        state = capture.step(state, ended, jnp.ones(2), jnp.zeros(2))
    assert state.own_episodes.tolist() == [limit]
    with pytest.warns(RuntimeWarning, match="of one watched env"):
        captured = fnrec.read_capture(state)
    assert [e.episode_id for e in captured.episodes] == [limit - 1]


@pytest.mark.parametrize(
    "keep", [fnrec.capture.most_recent(), fnrec.capture.best("episode_id")], ids=["recent", "id"]
)
def test_most_recent_stays_exact_past_float32_ids(keep):
    # 2**24 and 2**24 + 1 are one float32: the store compares the ids, keeping the later one.
    capture = fnrec.capture.episode_capture(3, 2, watch=None, keep=keep)
    state = _near_the_limit(capture, 2**24, 3)
    stats = fnrec.stats.init(3)
    kept = []
    for _ in range(3):
        stats, ended = fnrec.stats.step(stats, [1.0, 2.0, 3.0], True, False)
        state = capture.step(state, ended, jnp.ones(3), jnp.zeros(3))
        kept.append(sorted(e.episode_id for e in fnrec.read_capture(state).episodes))
    base = 2**24
    assert kept == [[base + 1, base + 2], [base + 4, base + 5], [base + 7, base + 8]]
    ranks = {e.episode_id: e.rank for e in fnrec.read_capture(state).episodes}
    assert ranks == {base + 8: 1, base + 7: 2}
