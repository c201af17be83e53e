"""Tests of fnrec.stats: the pure core against a plain-Python reference, under jit/vmap/scan."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import stats_reference
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stats_reference import ReferenceStats

import fnrec
from fnrec import counter

MODES = ["same_step", "next_step", "disabled"]
jit_step = jax.jit(fnrec.stats.step, static_argnames="autoreset_mode")
jit_reset = jax.jit(fnrec.stats.reset)


# Shape families of the property tests: (num_envs, buffer_length, steps). Every jitted function
# below compiles once per family (and mode); hypothesis varies the values within a family:
# rewards, which envs end and how, resets. The families cover one env and batches (2-6 envs),
# queues shorter than, equal to and longer than the batch, short and long streams.
FAMILIES = [(1, 1, 12), (1, 7, 40), (2, 3, 40), (3, 1, 12), (3, 3, 40), (4, 7, 12), (6, 2, 40)]


@st.composite
def streams(draw, family=None):
    """A shape family, and a stream of (reward, terminated, truncated, reset_mask) steps in it."""
    num_envs, buffer_length, length = family or draw(st.sampled_from(FAMILIES))
    done_rate = draw(st.sampled_from([0.05, 0.3, 0.8]))
    reward = st.one_of(st.floats(-100, 100, width=32), st.sampled_from([0.0, 1.0, -1.0, 0.1]))
    steps = []
    for _ in range(length):
        rewards = draw(st.lists(reward, min_size=num_envs, max_size=num_envs))
        term = [draw(st.floats(0, 1)) < done_rate for _ in range(num_envs)]
        trunc = [draw(st.floats(0, 1)) < done_rate / 2 for _ in range(num_envs)]
        reset = None
        if draw(st.floats(0, 1)) < 0.1:
            reset = draw(st.lists(st.booleans(), min_size=num_envs, max_size=num_envs))
        steps.append((rewards, term, trunc, reset))
    return num_envs, buffer_length, steps


def _check_queue(stats, ref: ReferenceStats):
    queues = fnrec.stats.queues(stats)
    expected = list(ref.queue)
    assert len(queues["return_queue"]) == len(expected)
    np.testing.assert_allclose(
        queues["return_queue"], [e[0] for e in expected], rtol=1e-6, atol=1e-4
    )
    np.testing.assert_array_equal(queues["length_queue"], [e[1] for e in expected])
    np.testing.assert_array_equal(queues["terminated_queue"], [e[2] for e in expected])
    assert fnrec.stats.episode_count(stats) == ref.episode_count


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=streams(), mode=st.sampled_from(MODES))
def test_batched_matches_reference(data, mode):
    num_envs, buffer_length, steps = data
    stats = fnrec.stats.init(num_envs, buffer_length)
    ref = ReferenceStats(num_envs, buffer_length)
    for rewards, term, trunc, reset in steps:
        if reset is not None:
            stats = jit_reset(stats, np.array(reset))
            ref.reset(reset)
        stats, ended = jit_step(
            stats, np.float32(rewards), np.array(term), np.array(trunc), autoreset_mode=mode
        )
        expected = ref.step([float(np.float32(r)) for r in rewards], term, trunc, mode)
        np.testing.assert_array_equal(ended.mask, [e[0] for e in expected])
        np.testing.assert_allclose(
            ended.episode_return, [e[1] for e in expected], rtol=1e-6, atol=1e-4
        )
        np.testing.assert_array_equal(ended.length, [e[2] for e in expected])
        np.testing.assert_array_equal(ended.terminated, [e[3] for e in expected])
        np.testing.assert_array_equal(ended.truncated, [e[4] for e in expected])
    _check_queue(stats, ref)


@pytest.mark.parametrize("x64_on", [False, True], ids=["x64off", "x64on"])
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.sampled_from([(31, 5), (32, 1), (48, 300), (96, 40), (100, 5), (160, 300),
                            (1000, 40), (1024, 1)]),
    seed=st.integers(0, 2**16),
    done_rate=st.sampled_from([0.02, 0.3, 0.9]),
)  # fmt: skip
def test_large_batches_match_reference(x64_on, family, seed, done_rate):
    """Batch sizes that pack the done flags over every grid shape, mixed end reasons.

    (num_envs, buffer_length) families: each compiles once; queues of 1 to 300 entries.
    """
    num_envs, buffer_length = family
    previous = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", x64_on)
    try:
        rng = np.random.default_rng(seed)
        stats = fnrec.stats.init(num_envs, buffer_length)
        ref = ReferenceStats(num_envs, buffer_length)
        for _ in range(6):
            rewards = rng.normal(size=num_envs).astype(np.float32)
            term = rng.random(num_envs) < done_rate
            trunc = ~term & (rng.random(num_envs) < done_rate)
            stats, ended = jit_step(stats, rewards, term, trunc)
            expected = ref.step([float(r) for r in rewards], list(term), list(trunc), "same_step")
            np.testing.assert_array_equal(ended.terminated, [e[3] for e in expected])
        _check_queue(stats, ref)
        assert stats.length_queue.dtype == jnp.int32 and stats.terminated_queue.dtype == bool
    finally:
        jax.config.update("jax_enable_x64", previous)


@functools.cache
def vmapped_rollout(mode, buffer_length, num_envs):
    """A jitted scan of vmapped one-env statistics: compiled once per shape family and mode."""

    def rollout(xs):
        def body(carry, x):
            carry, ended = jax.vmap(
                lambda s, r, te, tr: fnrec.stats.step(s, r, te, tr, autoreset_mode=mode)
            )(carry, *x)
            return carry, ended.mask

        init = jax.vmap(lambda _: fnrec.stats.init(None, buffer_length))(jnp.arange(num_envs))
        return jax.lax.scan(body, init, xs)

    return jax.jit(rollout)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=streams(), mode=st.sampled_from(MODES))
def test_single_env_and_vmap_and_scan_match_reference(data, mode):
    """One state per env, vmapped, rolled out in lax.scan: one queue per env."""
    num_envs, buffer_length, steps = data
    steps = [(*s[:3], None) for s in steps]  # resets are the batched test's
    rewards = np.float32([s[0] for s in steps])
    term = np.array([s[1] for s in steps])
    trunc = np.array([s[2] for s in steps])
    stats, masks = vmapped_rollout(mode, buffer_length, num_envs)((rewards, term, trunc))
    per_env = fnrec.stats.queues(stats)
    counts = fnrec.stats.episode_count(stats)
    assert isinstance(per_env, list) and len(per_env) == num_envs
    np.testing.assert_array_equal(masks, term | trunc)
    for i in range(num_envs):
        ref = ReferenceStats(1, buffer_length)
        for t in range(len(steps)):
            ref.step([float(rewards[t, i])], [term[t, i]], [trunc[t, i]], mode)
        expected = list(ref.queue)
        np.testing.assert_allclose(
            per_env[i]["return_queue"], [e[0] for e in expected], rtol=1e-6, atol=1e-4
        )
        np.testing.assert_array_equal(per_env[i]["length_queue"], [e[1] for e in expected])
        assert counts[i] == ref.episode_count


def test_unbatched_python_loop_matches_reference(x64):
    stats = fnrec.stats.init(buffer_length=3)
    ref = ReferenceStats(1, 3)
    rng = np.random.default_rng(0)
    for _ in range(50):
        r, te, tr = float(rng.normal()), bool(rng.random() < 0.2), bool(rng.random() < 0.1)
        stats, ended = jit_step(stats, r, te, tr, autoreset_mode="next_step")
        (exp,) = ref.step([float(np.float32(r))], [te], [tr], "next_step")
        assert bool(ended.mask) == exp[0]
        assert ended.mask.shape == ()
    _check_queue(stats, ref)


def test_shared_queue_is_filled_in_env_index_order():
    stats = fnrec.stats.init(num_envs=4, buffer_length=10)
    stats, _ = fnrec.stats.step(stats, jnp.array([1.0, 2.0, 3.0, 4.0]), jnp.zeros(4, bool), False)
    stats, _ = fnrec.stats.step(
        stats,
        jnp.array([10.0, 20.0, 30.0, 40.0]),
        jnp.array([False, True, False, True]),
        jnp.array([True, False, False, False]),
    )
    queues = fnrec.stats.queues(stats)
    np.testing.assert_array_equal(queues["return_queue"], [11.0, 22.0, 44.0])
    np.testing.assert_array_equal(queues["length_queue"], [2, 2, 2])
    np.testing.assert_array_equal(queues["terminated_queue"], [False, True, True])


@pytest.mark.parametrize(
    ("num_envs", "buffer_length"),
    [(1, 7), (31, 7), (32, 7), (33, 7), (100, 7), (1000, 7), (4096, 300), (5000, 2000)],
)
def test_many_finishing_at_once_keeps_the_last_in_env_order(num_envs, buffer_length):
    """More episodes finish on one step than the queue holds: the highest env indices stay.

    The last two cases take the binary-search path of the queue update (large B * N / 32).
    """
    stats = fnrec.stats.init(num_envs, buffer_length)
    for step in range(3):
        done = (np.arange(num_envs) + step) % 3 != 0
        stats, _ = jit_step(stats, np.arange(num_envs, dtype=np.float32), done, False)
    ref = ReferenceStats(num_envs, buffer_length)
    for step in range(3):
        done = (np.arange(num_envs) + step) % 3 != 0
        ref.step(
            list(np.arange(num_envs, dtype=float)), list(done), [False] * num_envs, "same_step"
        )
    _check_queue(stats, ref)


def test_zero_return_is_a_real_episode_and_empty_slots_are_not():
    stats = fnrec.stats.init(num_envs=2, buffer_length=5)
    assert fnrec.stats.queues(stats)["return_queue"].shape == (0,)
    stats, _ = fnrec.stats.step(stats, jnp.zeros(2), jnp.array([True, False]), jnp.zeros(2, bool))
    queues = fnrec.stats.queues(stats)
    np.testing.assert_array_equal(queues["return_queue"], [0.0])
    np.testing.assert_array_equal(queues["length_queue"], [1])


def test_reset_mask_drops_only_masked_partial_episodes():
    stats = fnrec.stats.init(num_envs=3, buffer_length=5)
    for _ in range(4):
        stats, _ = fnrec.stats.step(stats, jnp.ones(3), jnp.zeros(3, bool), jnp.zeros(3, bool))
    stats = fnrec.stats.reset(stats, jnp.array([False, True, False]))
    np.testing.assert_array_equal(stats.running_length, [4, 0, 4])
    np.testing.assert_array_equal(stats.running_return, [4.0, 0.0, 4.0])
    assert fnrec.stats.episode_count(stats) == 0
    stats = fnrec.stats.reset(stats)
    np.testing.assert_array_equal(stats.running_length, [0, 0, 0])


def test_next_step_reset_step_is_not_counted_and_reset_clears_it():
    stats = fnrec.stats.init(num_envs=2)
    stats, _ = fnrec.stats.step(
        stats,
        jnp.array([5.0, 5.0]),
        jnp.array([True, True]),
        jnp.zeros(2, bool),
        autoreset_mode="next_step",
    )
    # Env 1 is reset by the caller, so its next step is a real step.
    stats = fnrec.stats.reset(stats, jnp.array([False, True]))
    stats, _ = fnrec.stats.step(
        stats,
        jnp.array([7.0, 7.0]),
        jnp.zeros(2, bool),
        jnp.zeros(2, bool),
        autoreset_mode="next_step",
    )
    np.testing.assert_array_equal(stats.running_length, [0, 1])
    np.testing.assert_array_equal(stats.running_return, [0.0, 7.0])


def test_compensated_sum_of_a_million_steps(x64):
    def body(stats, _):
        stats, _ = fnrec.stats.step(stats, 0.1, False, False)
        return stats, None

    stats, _ = jax.jit(lambda s: jax.lax.scan(body, s, None, length=1_000_000))(fnrec.stats.init())
    _, ended = fnrec.stats.step(stats, 0.0, True, False)
    exact = 1_000_000 * float(np.float32(0.1))
    assert abs(float(ended.episode_return) - exact) / exact < 1e-6
    assert int(ended.length) == 1_000_001


def test_counters_are_exact_past_two_to_the_32():
    near = jnp.uint32(2**32 - 3)
    stats = fnrec.stats.init(num_envs=5)
    stats = stats._replace(
        episode_count=counter.Counter64(jnp.uint32(0), near),
        env_steps=counter.Counter64(jnp.uint32(1), near),
    )
    for _ in range(2):
        stats, _ = jit_step(stats, jnp.ones(5), jnp.ones(5, bool), jnp.zeros(5, bool))
    assert fnrec.stats.episode_count(stats) == 2**32 - 3 + 10
    assert counter.to_int(stats.env_steps) == 2**32 + 2**32 - 3 + 10
    assert stats.episode_count.lo.dtype == jnp.uint32


def test_counter_add_carries_at_two_to_the_31_and_32():
    c = counter.Counter64(jnp.uint32(0), jnp.uint32(2**31 - 1))
    c = counter.add(c, 1)
    assert counter.to_int(c) == 2**31
    c = counter.add(counter.Counter64(jnp.uint32(7), jnp.uint32(2**32 - 1)), 2)
    assert counter.to_int(c) == 8 * 2**32 + 1


def test_dtypes_and_structure_do_not_depend_on_x64(x64):
    stats = fnrec.stats.init(num_envs=3, buffer_length=4)
    stats, ended = jit_step(stats, np.ones(3), np.zeros(3), np.ones(3))
    expected = {
        "running_return": jnp.float32,
        "running_compensation": jnp.float32,
        "running_length": jnp.int32,
        "prev_done": jnp.bool_,
        "return_queue": jnp.float32,
        "length_queue": jnp.int32,
        "terminated_queue": jnp.bool_,
        "end_queue": jnp.uint32,
        "queue_head": jnp.int32,
    }
    for name, dtype in expected.items():
        assert getattr(stats, name).dtype == dtype, name
    assert stats.episode_count.hi.dtype == jnp.uint32
    assert ended.episode_return.dtype == jnp.float32 and ended.length.dtype == jnp.int32
    assert jax.tree.structure(stats) == jax.tree.structure(fnrec.stats.init(3, 4))


def test_no_retracing_for_same_shapes():
    traces = []

    @jax.jit
    def f(stats, reward, done):
        traces.append(1)
        return fnrec.stats.step(stats, reward, done, jnp.zeros_like(done))

    stats = fnrec.stats.init(num_envs=4, buffer_length=9)
    for i in range(5):
        stats, _ = f(stats, jnp.full(4, float(i)), jnp.array([i % 2 == 0] * 4))
    assert len(traces) == 1


def test_statistics_do_not_break_grad():
    def rollout(theta, with_stats):
        def body(carry, t):
            stats, total = carry
            reward = theta * jnp.sin(t + jnp.arange(3.0))
            if with_stats:
                stats, _ = fnrec.stats.step(stats, reward, t % 4 == 3, jnp.zeros(3, bool))
            return (stats, total + reward.sum()), None

        (stats, total), _ = jax.lax.scan(body, (fnrec.stats.init(3), 0.0), jnp.arange(10.0))
        return total + 0.0 * stats.running_return.sum()

    g_with = jax.grad(rollout)(1.5, True)
    g_without = jax.grad(rollout)(1.5, False)
    assert np.isfinite(g_with) and np.isclose(g_with, g_without)


def test_nan_reward_spoils_only_its_own_episode():
    stats = fnrec.stats.init(num_envs=2, buffer_length=5)
    stats, _ = fnrec.stats.step(stats, jnp.array([jnp.nan, 1.0]), jnp.zeros(2, bool), False)
    stats, e1 = fnrec.stats.step(stats, jnp.array([1.0, 1.0]), jnp.ones(2, bool), False)
    stats, e2 = fnrec.stats.step(stats, jnp.array([2.0, 2.0]), jnp.ones(2, bool), False)
    assert math.isnan(float(e1.episode_return[0])) and float(e1.episode_return[1]) == 2.0
    np.testing.assert_array_equal(e2.episode_return, [2.0, 2.0])


def test_infinite_reward_gives_infinite_return_then_recovers():
    stats = fnrec.stats.init()
    stats, _ = fnrec.stats.step(stats, jnp.inf, False, False)
    stats, e1 = fnrec.stats.step(stats, 1.0, True, False)
    stats, e2 = fnrec.stats.step(stats, 3.0, True, False)
    assert float(e1.episode_return) == math.inf and float(e2.episode_return) == 3.0


def test_flags_accept_ints_and_floats_like_brax():
    stats = fnrec.stats.init(num_envs=3)
    _, ended = fnrec.stats.step(
        stats, jnp.ones(3), jnp.array([0.0, 1.0, 0.0]), jnp.array([0, 0, 2])
    )
    np.testing.assert_array_equal(ended.mask, [False, True, True])
    np.testing.assert_array_equal(ended.truncated, [False, False, True])


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"reward": jnp.ones(3)}, ValueError, ["`reward`", "(4,)", "(3,)"]),
        ({"terminated": jnp.zeros((4, 1), bool)}, ValueError, ["`terminated`", "(4,)", "(4, 1)"]),
        ({"truncated": jnp.zeros(4, jnp.complex64)}, TypeError, ["`truncated`", "complex64"]),
        ({"reward": "a"}, TypeError, ["`reward`"]),
        ({"autoreset_mode": "sometimes"}, ValueError, ["`autoreset_mode`", "sometimes"]),
    ],
)
def test_bad_input_fails_at_trace_time_with_a_clear_message(kwargs, error, words):
    args = {
        "reward": jnp.ones(4),
        "terminated": jnp.zeros(4, bool),
        "truncated": jnp.zeros(4, bool),
        "autoreset_mode": "same_step",
    }
    args.update(kwargs)
    mode = args.pop("autoreset_mode")
    traced = jax.jit(lambda s: fnrec.stats.step(s, autoreset_mode=mode, **args))
    with pytest.raises(error) as info:
        traced.lower(fnrec.stats.init(num_envs=4))
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"buffer_length": 0}, ValueError, ["`buffer_length`", "from 1 to", "got 0"]),
        ({"buffer_length": 2.5}, TypeError, ["`buffer_length`", "got float: 2.5"]),
        ({"num_envs": 0}, ValueError, ["`num_envs`", "0"]),
        ({"num_envs": True}, TypeError, ["`num_envs`", "got bool: True"]),
    ],
)
def test_bad_init_arguments(kwargs, error, words):
    with pytest.raises(error) as info:
        fnrec.stats.init(**kwargs)
    for word in words:
        assert word in str(info.value)


def test_reset_mask_shape_is_checked():
    with pytest.raises(ValueError, match=r"`mask`.*\(3,\).*\(2,\)"):
        fnrec.stats.reset(fnrec.stats.init(3), jnp.ones(2, bool))


def test_to_info_layouts():
    stats = fnrec.stats.init(num_envs=3)
    stats, ended = fnrec.stats.step(stats, jnp.array([1.0, 2.0, 3.0]), jnp.array([1, 0, 1]), 0)
    info = fnrec.stats.host_info(ended, elapsed=np.array([0.1234567, 9.0, 2.0]))
    np.testing.assert_array_equal(info["_episode"], [True, False, True])
    np.testing.assert_array_equal(info["episode"]["r"], [1.0, 0.0, 3.0])
    np.testing.assert_array_equal(info["episode"]["l"], [1, 0, 1])
    np.testing.assert_array_equal(info["episode"]["t"], [0.123457, 0.0, 2.0])
    traced = jax.jit(lambda e: e.to_info())(ended)
    np.testing.assert_array_equal(traced["episode"]["r"], info["episode"]["r"])

    single = fnrec.stats.init()
    single, ended = fnrec.stats.step(single, 2.0, False, False)
    assert fnrec.stats.host_info(ended) == {}
    single, ended = fnrec.stats.step(single, 2.0, True, False)
    assert fnrec.stats.host_info(ended, elapsed=1.5) == {"episode": {"r": 4.0, "l": 2, "t": 1.5}}


def _host_summary(queues) -> dict:
    """The summary computed from queues() on the host (pooled over a list of queues)."""
    queues = queues if isinstance(queues, list) else [queues]
    r = np.concatenate([q["return_queue"] for q in queues])
    n = np.concatenate([q["length_queue"] for q in queues])
    t = np.concatenate([q["terminated_queue"] for q in queues])
    if len(r) == 0:
        return {"count": 0}
    return {
        "count": len(r),
        "return_mean": r.mean(),
        "return_min": r.min(),
        "return_max": r.max(),
        "length_mean": n.mean(),
        "length_min": n.min(),
        "length_max": n.max(),
        "terminated_fraction": t.mean(),
    }


SHARED_STEP = jax.jit(lambda s, r, a, b: fnrec.stats.step(s, r, a, b)[0])
PER_ENV_STEP = jax.jit(jax.vmap(lambda s, r, a, b: fnrec.stats.step(s, r, a, b)[0]))
SUMMARY = jax.jit(fnrec.stats.summary)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=streams(), vmapped=st.booleans())
def test_summary_equals_the_host_numbers_from_queues(data, vmapped):
    num_envs, buffer_length, steps = data
    if vmapped:
        stats = jax.vmap(lambda _: fnrec.stats.init(None, buffer_length))(jnp.arange(num_envs))
        step = PER_ENV_STEP
    else:
        stats = fnrec.stats.init(num_envs, buffer_length)
        step = SHARED_STEP
    summary = SUMMARY
    for rewards, term, trunc, _ in steps:
        stats = step(stats, np.float32(rewards), np.array(term), np.array(trunc))
        got = summary(stats)
        want = _host_summary(fnrec.stats.queues(stats))
        assert int(got["count"]) == want["count"]
        assert set(got) == set(fnrec.stats.SUMMARY_KEYS)
        for key in fnrec.stats.SUMMARY_KEYS[1:]:
            if want["count"] == 0:
                assert np.isnan(got[key]), key  # never a mean over empty slots
            else:
                np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-5, err_msg=key)


PERCENTILES = (0, 12.5, 50, 90, 100)
LASTS = ((None, PERCENTILES), (1, ()), (3, PERCENTILES), (10, ()))  # (last, percentiles)
LAST_FAMILIES = [(1, 7, 40), (3, 3, 40), (6, 2, 40)]


@functools.cache
def shared_rollout(mode, buffer_length, num_envs):
    """A jitted scan of one shared-queue state: compiled once per shape family and mode."""

    def rollout(xs):
        def body(stats, x):
            return fnrec.stats.step(stats, *x, autoreset_mode=mode)[0], None

        return jax.lax.scan(body, fnrec.stats.init(num_envs, buffer_length), xs)[0]

    return jax.jit(rollout)


@jax.jit
def summaries_of_last(stats):
    """The summaries of the last N for every N in LASTS, in one program per shape family."""
    return [fnrec.stats.summary(stats, last=last, percentiles=q) for last, q in LASTS]


def _check_summary(got, want):
    assert int(got["count"]) == want["count"]
    for key, value in got.items():
        if key == "count":
            continue
        if want["count"] == 0:
            assert np.isnan(value), key
        else:
            np.testing.assert_allclose(value, want[key], rtol=1e-5, atol=1e-4, err_msg=key)


def _last_n_matches_reference(data, mode):
    num_envs, buffer_length, steps = data
    rewards = np.float32([s[0] for s in steps])
    term = np.array([s[1] for s in steps])
    trunc = np.array([s[2] for s in steps])
    shared = shared_rollout(mode, buffer_length, num_envs)((rewards, term, trunc))
    per_env, _ = vmapped_rollout(mode, buffer_length, num_envs)((rewards, term, trunc))
    ref_shared = ReferenceStats(num_envs, buffer_length)
    ref_per_env = [ReferenceStats(1, buffer_length) for _ in range(num_envs)]
    for t in range(len(steps)):
        ref_shared.step([float(r) for r in rewards[t]], term[t], trunc[t], mode)
        for i, ref in enumerate(ref_per_env):
            ref.step([float(rewards[t, i])], [term[t, i]], [trunc[t, i]], mode)
    pooled = [(*e[:4], i) for i, ref in enumerate(ref_per_env) for e in ref.queue]
    got_per_env, got_shared = summaries_of_last(per_env), summaries_of_last(shared)
    for (last, q), per_env_summary, shared_summary in zip(
        LASTS, got_per_env, got_shared, strict=True
    ):
        _check_summary(per_env_summary, stats_reference.summary(pooled, last, q))
        _check_summary(shared_summary, stats_reference.summary(ref_shared.queue, last, q))
        if (
            last is not None and last <= buffer_length
        ):  # then per-env queues hold the run's last `last` episodes
            for key in per_env_summary:
                np.testing.assert_array_equal(
                    per_env_summary[key], shared_summary[key], err_msg=key
                )


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.sampled_from(LAST_FAMILIES).flatmap(streams), mode=st.sampled_from(MODES))
def test_summary_of_the_last_n_matches_reference_in_both_layouts(data, mode):
    """`last=N` pools per-env queues by when episodes ended: the shared queue's last N."""
    _last_n_matches_reference(data, mode)


@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=streams(LAST_FAMILIES[1]), mode=st.sampled_from(MODES))
def test_summary_of_the_last_n_with_x64(x64, data, mode):
    _last_n_matches_reference(data, mode)


def test_summary_last_n_survives_the_step_counter_wrapping():
    """Ages are taken modulo 2**32: entries that ended on both sides of a wrap keep their order."""
    per_env = jax.vmap(lambda _: fnrec.stats.init(None, 4))(jnp.arange(3))
    near = counter.Counter64(jnp.zeros(3, jnp.uint32), jnp.full(3, 2**32 - 2, jnp.uint32))
    per_env = per_env._replace(env_steps=near)
    step = PER_ENV_STEP
    ends = [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 0, 0]]  # returns 1, 3, 6, 9 by end order
    for t, done in enumerate(ends):
        per_env = step(per_env, np.full(3, t + 1.0, np.float32), np.array(done, bool), np.zeros(3))
    assert per_env.env_steps.lo.tolist() == [2, 2, 2]
    s = fnrec.stats.summary(per_env, last=2)
    assert int(s["count"]) == 2 and float(s["return_min"]) == 6.0


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"last": 0}, ValueError, "`last` must be None .* or an int >= 1, got 0"),
        ({"last": 2.0}, TypeError, "`last` must be None .*got float"),
        ({"percentiles": (50, 101)}, ValueError, r"`percentiles` must be .* 0 to 100, got \(50"),
        ({"percentiles": 50}, ValueError, "`percentiles` must be a sequence"),
    ],
)
def test_summary_bad_arguments_name_them(kwargs, error, words):
    with pytest.raises(error, match=words):
        fnrec.stats.summary(fnrec.stats.init(2), **kwargs)


def test_summary_in_a_scan_and_x64(x64):
    stats = fnrec.stats.init(3, 4)

    def body(stats, done):
        stats, _ = fnrec.stats.step(stats, 2.0, done, False)
        return stats, fnrec.stats.summary(stats)

    dones = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 1], [0, 0, 0]], bool)
    _, summaries = jax.jit(lambda s: jax.lax.scan(body, s, dones))(stats)
    np.testing.assert_array_equal(summaries["count"], [0, 1, 4, 4])
    assert np.isnan(summaries["return_mean"][0])
    np.testing.assert_allclose(summaries["return_mean"][1:], [4.0, 4.5, 4.5])  # [4], [4, 2, 6, 6]
    assert summaries["return_mean"].dtype == np.float32 and summaries["count"].dtype == np.int32
    with pytest.raises(TypeError, match="`stats` must be an EpisodeStats"):
        fnrec.stats.summary({"return_queue": np.zeros(3)})


def test_per_env_statistics_given_to_an_unvmapped_step_raise_with_the_fix():
    for buffer_length in (1, 4):  # B == N used to give a silently wrong shared queue
        stats = jax.vmap(lambda _, b=buffer_length: fnrec.stats.init(None, b))(jnp.arange(4))
        with pytest.raises(ValueError, match=r"one queue per env .*jax.vmap\(fnrec.stats.step\)"):
            fnrec.stats.step(stats, jnp.ones(4), False, False)
        with pytest.raises(ValueError, match=r"jax.vmap\(fnrec.stats.reset\)"):
            fnrec.stats.reset(stats)
        stepped, _ = jax.vmap(fnrec.stats.step)(stats, jnp.ones(4), jnp.ones(4, bool), jnp.zeros(4))
        assert fnrec.stats.episode_count(stepped).tolist() == [1, 1, 1, 1]


def test_a_batched_env_under_one_env_statistics_names_the_fix():
    with pytest.raises(ValueError, match=r"got shape \(5,\) \(a batched env .* num_envs=5"):
        fnrec.stats.step(fnrec.stats.init(None), jnp.ones(5), False, False)


@pytest.mark.parametrize("vmapped", [False, True])
def test_per_env_statistics_under_a_batch_of_the_same_size_raise(vmapped):
    # B == N: the [N, B] queues look like a shared batch of N envs; B == 1 would widen silently.
    num_envs = 3
    for buffer_length in (1, num_envs):
        stats = jax.vmap(lambda _, b=buffer_length: fnrec.stats.init(None, b))(jnp.arange(3))
        step = jax.jit(fnrec.stats.step) if vmapped else fnrec.stats.step
        with pytest.raises(ValueError, match=r"queues of shape \(3, \d\).*jax.vmap\("):
            step(stats, jnp.ones(num_envs), jnp.ones(num_envs, bool), False)
        statistics = fnrec.stats.episode_statistics(buffer_length)
        with pytest.raises(ValueError, match=r"one queue per env"):
            statistics.step(stats, jnp.ones(num_envs), jnp.ones(num_envs, bool), False)


def test_64_bit_host_rewards_and_flags_keep_their_value(x64):
    stats = fnrec.stats.init(num_envs=3, buffer_length=4)
    rewards = np.array([2**40, -(2**35), 3], np.int64)
    flags = np.array([2**32, 0, 2**40], np.int64)
    stats, ended = fnrec.stats.step(stats, rewards, flags, np.uint64([0, 2**33, 0]))
    assert ended.mask.tolist() == [True, True, True]
    assert ended.terminated.tolist() == [True, False, True]
    assert ended.episode_return.tolist() == [2.0**40, -(2.0**35), 3.0]
    # Python ints past int32 (a bare OverflowError before), and past int64.
    one = fnrec.stats.init(None, 4)
    one, ended = fnrec.stats.step(one, 2**40, 2**32, False)
    assert bool(ended.mask) and float(ended.episode_return) == 2.0**40
    one, ended = fnrec.stats.step(one, 2**70, False, 2**64)
    assert bool(ended.truncated) and float(ended.episode_return) == float(np.float32(2.0**70))
    _, ended = fnrec.stats.step(stats, [2**33, 1, 2], [2**32, 0, 0], [0, 0, 0])  # lists
    assert ended.mask.tolist() == [True, False, False]
    assert ended.episode_return.tolist() == [2.0**33, 0.0, 0.0]
    mask = np.array([2**32, 0, 0], np.int64)
    reset = fnrec.stats.reset(fnrec.stats.step(stats, 1.0, False, False)[0], mask)
    assert reset.running_length.tolist() == [0, 1, 1]


@pytest.mark.parametrize(
    ("value", "error", "words"),
    [
        (np.array(["a", "b", "c"]), TypeError, "`terminated` must be a boolean flag"),
        (np.complex128(1j), TypeError, "`terminated` must be a boolean flag"),
        (np.zeros(4, np.int64), ValueError, r"`terminated` must have shape \(3,\)"),
    ],
)
def test_bad_64_bit_host_flags_name_the_argument(value, error, words):
    with pytest.raises(error, match=words):
        fnrec.stats.step(fnrec.stats.init(3, 4), 1.0, value, False)


@pytest.mark.parametrize("value", [None, {"return_queue": np.zeros(3)}, [1, 2], 3])
def test_host_readers_given_something_else_name_the_argument(value):
    for reader in (fnrec.stats.queues, fnrec.stats.episode_count):
        with pytest.raises(TypeError, match=rf"fnrec.stats.{reader.__name__}: `stats` must be an "
                           rf"EpisodeStats, got {type(value).__name__}$"):  # fmt: skip
            reader(value)
    with pytest.raises(TypeError, match=r"fnrec.stats.host_info: `ended` must be an EpisodeEnded"):
        fnrec.stats.host_info(value)


def test_host_readers_inside_jit_say_what_to_use_there():
    for reader, inside in [
        (fnrec.stats.queues, "summary"),
        (fnrec.stats.episode_count, "Counter64"),
    ]:
        with pytest.raises(TypeError, match=rf"{reader.__name__} is host side .*use .*{inside}"):
            jax.jit(reader)(fnrec.stats.init(2))
    _, ended = fnrec.stats.step(fnrec.stats.init(2), 1.0, True, False)
    with pytest.raises(TypeError, match=r"host_info is host side .*ended.to_info\(\)"):
        jax.jit(fnrec.stats.host_info)(ended)


def test_an_adapter_state_given_to_a_reader_names_the_field_to_pass():
    from fnrec.adapters import core

    recording = core.Recording(fnrec.stats.episode_statistics())
    state = recording.init(jnp.zeros(()))
    with pytest.raises(TypeError, match=r"got Recorded; pass its `.stats`"):
        fnrec.stats.queues(state)
    fns = core.EnvFns(
        lambda s, a, k: core.EnvStep(s, s, 1.0, True, False, {}),
        lambda k: core.EnvReset(jnp.zeros(()), jnp.zeros(())),
    )
    result = recording.step(fns, state, 0, jax.random.key(0))
    with pytest.raises(TypeError, match=r"got StepResult; pass its `.ended`"):
        fnrec.stats.host_info(result)
    assert fnrec.stats.host_info(result.ended) == {"episode": {"r": 1.0, "l": 1}}


@pytest.mark.parametrize("buffer_length", [0, -1, 2**31, 2**40, 1.5, True, "4"])
def test_buffer_length_past_the_int32_ring_index_or_not_an_int_is_refused(buffer_length):
    error = (
        ValueError
        if isinstance(buffer_length, int) and not isinstance(buffer_length, bool)
        else TypeError
    )
    with pytest.raises(error, match=r"`buffer_length` must be an int from 1 to 2147483647"):
        fnrec.stats.episode_statistics(buffer_length=buffer_length)
    with pytest.raises(error, match=r"`buffer_length` must be an int from 1 to 2147483647"):
        fnrec.stats.init(2, buffer_length)


# (num_envs, buffer_length, steps, shards): the shared queue kept in one ring per shard.
SHARDED = [(2, 3, 40, 2), (3, 3, 40, 3), (4, 7, 12, 2), (4, 7, 12, 4), (6, 2, 40, 3)]


def _assert_same_leaves(a, b):
    for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.sampled_from(SHARDED).flatmap(
        lambda f: st.tuples(streams(f[:3]), st.just(f[3]))
    ),
    mode=st.sampled_from(MODES),
)  # fmt: skip
def test_rings_kept_per_shard_read_as_the_one_ring(data, mode):
    """``shards=S``: every step ends the same episodes, and ``merged`` gives the one ring's
    state leaf for leaf (so queues, counts and summaries are the one ring's, bit for bit)."""
    (num_envs, buffer_length, steps), shards = data
    one = fnrec.stats.init(num_envs, buffer_length)
    rings = fnrec.stats.init(num_envs, buffer_length, shards=shards)
    assert rings.return_queue.shape == (shards, buffer_length)
    for rewards, term, trunc, reset in steps:
        if reset is not None:
            one, rings = (jit_reset(s, np.array(reset)) for s in (one, rings))
        args = (np.float32(rewards), np.array(term), np.array(trunc))
        one, ended = jit_step(one, *args, autoreset_mode=mode)
        rings, ended_rings = jit_step(rings, *args, autoreset_mode=mode)
        _assert_same_leaves(ended_rings, ended)
    _assert_same_leaves(jax.jit(fnrec.stats.merged)(rings), one)
    assert fnrec.stats.episode_count(rings) == fnrec.stats.episode_count(one)
    for name, values in fnrec.stats.queues(one).items():
        np.testing.assert_array_equal(fnrec.stats.queues(rings)[name], values)
    for last in (None, 2):
        _assert_same_leaves(fnrec.stats.summary(rings, last), fnrec.stats.summary(one, last))


def test_rings_under_vmap_and_scan_equal_the_one_ring(x64):
    """Three independent runs (``jax.vmap`` over them) of 8 envs in 4 rings, in a jitted
    ``lax.scan`` with metrics: each merged run is its one-ring run."""
    statistics = [
        fnrec.stats.episode_statistics(5, metrics=[fnrec.stats.discounted_return(0.9)], shards=s)
        for s in (None, 4)
    ]

    def run(statistics, key):
        def body(stats, key):
            reward = jax.random.normal(key, (8,))
            done = jax.random.uniform(jax.random.fold_in(key, 1), (8,)) < 0.3
            return statistics.step(stats, reward, done, ~done & (reward > 1.5))[0], None

        keys = jax.random.split(key, 30)
        return jax.lax.scan(body, statistics.init(8), keys)[0]

    keys = jax.random.split(jax.random.key(0), 3)
    one, rings = (jax.jit(jax.vmap(functools.partial(run, s)))(keys) for s in statistics)
    assert rings.return_queue.shape == (3, 4, 5) and rings.env_steps.lo.shape == (3,)
    _assert_same_leaves(jax.jit(fnrec.stats.merged)(rings), one)
    np.testing.assert_array_equal(fnrec.stats.episode_count(rings), fnrec.stats.episode_count(one))
    assert fnrec.stats.queues(rings)[2].keys() == fnrec.stats.queues(one)[2].keys()
    _assert_same_leaves(fnrec.stats.summary(rings, 4), fnrec.stats.summary(one, 4))
    assert fnrec.stats.merged(one) is one  # one ring: nothing to merge


@pytest.mark.parametrize(
    ("kwargs", "error", "words"),
    [
        ({"num_envs": 6, "shards": 4}, ValueError, ["`shards` must divide `num_envs`", "6"]),
        ({"num_envs": None, "shards": 2}, ValueError, ["`shards`", "num_envs=N", "one env"]),
        ({"num_envs": 4, "shards": 0}, ValueError, ["`shards`", "int >= 1", "got 0"]),
        ({"num_envs": 4, "shards": 2.0}, TypeError, ["`shards`", "got float: 2.0"]),
    ],
)
def test_bad_shards_are_named(kwargs, error, words):
    with pytest.raises(error) as info:
        fnrec.stats.init(buffer_length=3, **kwargs)
    for word in words:
        assert word in str(info.value)
    if "`num_envs`" not in str(info.value) and kwargs["num_envs"] is not None:
        with pytest.raises(error, match="`shards`"):  # wrong whatever the batch
            fnrec.stats.episode_statistics(shards=kwargs["shards"])


def test_rings_that_do_not_divide_the_batch_are_named():
    rings = fnrec.stats.init(6, 3, shards=3)
    wrong = rings._replace(
        **{f: getattr(rings, f)[:4] for f in ("running_return", "running_compensation",
                                              "running_length", "prev_done")}
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"keeps 3 rings \(shards=3\).*\(4,\)"):
        fnrec.stats.step(wrong, 1.0, True, False)
