"""Per-episode metrics (fnrec.stats.metric and the built-ins) against a plain-Python reference.

Every reducer, both autoreset modes that count steps differently, both layouts (one shared
queue, and per-env queues under jax.vmap), x64 off and on. One jitted program per shape family
and mode runs both layouts (compile once per shape family).
"""

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
from hypothesis.extra import numpy as hnp
from stats_reference import ReferenceStats

import fnrec

GAMMA = 0.9
METRICS = (
    fnrec.stats.metric("v_sum", lambda t: t.info["v"]),
    fnrec.stats.discounted_return(GAMMA),
    fnrec.stats.metric("v_mean", lambda t: t.info["v"], "mean"),
    fnrec.stats.metric("v_last", lambda t: t.info["v"], "last"),
    fnrec.stats.metric("v_max", lambda t: t.info["v"], "max"),
    fnrec.stats.metric("v_min", lambda t: t.info["v"], "min"),
    fnrec.stats.metric("f_any", lambda t: t.info["f"], "any"),
    fnrec.stats.metric("f_first", lambda t: t.info["f"], "first"),
    fnrec.stats.success("f", "last", name="f_last_success"),
    fnrec.stats.metric("state_sum", lambda t: t.env_state["s"]),
)
# (name, reduce, discount) for the reference; what each metric reads from the step.
SPECS = tuple((m.name, m.reduce, m.discount) for m in METRICS)
READS = {
    "v_sum": "v",
    "discounted_return": "r",
    "v_mean": "v",
    "v_last": "v",
    "v_max": "v",
    "v_min": "v",
    "f_any": "f",
    "f_first": "f",
    "f_last_success": "f",
    "state_sum": "s",
}
MODES = ["same_step", "next_step"]
FAMILIES = [(3, 3, 40), (6, 2, 24)]  # (num_envs, buffer_length, steps); one env: per-env
PERCENTILES = (25, 50)


@st.composite
def streams(draw, family=None):
    """A family and its steps: rewards, terminated, truncated, a value and a flag per env."""
    num_envs, buffer_length, length = family or draw(st.sampled_from(FAMILIES))
    number = st.one_of(st.floats(-100, 100, width=32), st.sampled_from([0.0, 1.0, -1.0]))
    rewards, values = (
        draw(hnp.arrays(np.float32, (length, num_envs), elements=number)) for _ in range(2)
    )
    done_rate = draw(st.sampled_from([0.1, 0.4]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    flags = rng.random((length, num_envs)) < 0.2
    term = rng.random((length, num_envs)) < done_rate
    trunc = rng.random((length, num_envs)) < done_rate / 2
    return num_envs, buffer_length, [rewards, term, trunc, values, flags]


@functools.cache
def both_layouts(mode, num_envs, buffer_length):
    """One jitted program: the stream through a shared queue and through per-env queues."""
    statistics = fnrec.stats.episode_statistics(buffer_length, mode, METRICS)

    def one_step(stats, x):
        reward, term, trunc, v, f = x
        return statistics.step(
            stats, reward, term, trunc, info={"v": v, "f": f}, env_state={"s": v * 2.0}
        )

    def run(xs):
        def body(carry, x):
            shared, per_env = carry
            shared, ended_shared = one_step(shared, x)
            per_env, ended_per_env = jax.vmap(one_step)(per_env, x)
            return (shared, per_env), (ended_shared, ended_per_env)

        per_env = jax.vmap(lambda _: statistics.init())(jnp.arange(num_envs))
        (shared, per_env), ended = jax.lax.scan(body, (statistics.init(num_envs), per_env), xs)
        summaries = [
            fnrec.stats.summary(s, last=last, percentiles=PERCENTILES)
            for s in (shared, per_env)
            for last in (None, 3)
        ]
        return shared, per_env, ended, summaries

    return jax.jit(run)


def _close(got, want, what):
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2e-4, err_msg=what)


def _check_summary(got, want):
    assert int(got["count"]) == want["count"]
    for key, value in got.items():
        if key in want and want["count"]:
            _close(value, want[key], key)
        elif key != "count":
            assert np.isnan(value), key


def _run_against_reference(data, mode):
    num_envs, buffer_length, (rewards, term, trunc, v, f) = data
    shared, per_env, (ended_shared, ended_per_env), summaries = both_layouts(
        mode, num_envs, buffer_length
    )((rewards, term, trunc, v, f))
    ref = ReferenceStats(num_envs, buffer_length, metrics=SPECS)
    refs = [ReferenceStats(1, buffer_length, metrics=SPECS) for _ in range(num_envs)]
    for t in range(len(rewards)):
        seen = {"r": rewards[t], "v": v[t], "f": f[t], "s": v[t] * 2.0}
        values = {name: [float(x) for x in seen[READS[name]]] for name in READS}
        expected = ref.step([float(r) for r in rewards[t]], term[t], trunc[t], mode, values)
        for i, one in enumerate(refs):
            one.step(
                [float(rewards[t, i])], [term[t, i]], [trunc[t, i]], mode,
                {name: [column[i]] for name, column in values.items()},
            )  # fmt: skip
        for ended in (ended_shared, ended_per_env):
            np.testing.assert_array_equal(ended.mask[t], [e[0] for e in expected])
            for name in READS:
                _close(ended.metrics[name][t], [e[5][name] for e in expected], f"{name}@{t}")
    # The queues hold each episode's metrics beside its return, in both layouts.
    queue = fnrec.stats.queues(shared)
    for name in READS:
        _close(queue[f"{name}_queue"], [e[5][name] for e in ref.queue], name)
    for i, per_queue in enumerate(fnrec.stats.queues(per_env)):
        for name in READS:
            _close(per_queue[f"{name}_queue"], [e[5][name] for e in refs[i].queue], name)
    pooled = [(*e[:4], i, e[5]) for i, one in enumerate(refs) for e in one.queue]
    wants = [
        stats_reference.summary(episodes, last, PERCENTILES)
        for episodes in (list(ref.queue), pooled)
        for last in (None, 3)
    ]
    for got, want in zip(summaries, wants, strict=True):
        _check_summary(got, want)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.large_base_example],
)
@given(data=streams(), mode=st.sampled_from(MODES))
def test_every_reducer_matches_the_reference_in_both_layouts(data, mode):
    _run_against_reference(data, mode)


@settings(
    max_examples=2,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.function_scoped_fixture,
        HealthCheck.large_base_example,
    ],
)
@given(data=streams(FAMILIES[0]))
@pytest.mark.parametrize("x64", [True], indirect=True, ids=["x64on"])  # off: the test above
def test_every_reducer_with_x64(x64, data):
    _run_against_reference(data, "next_step")


def test_metric_sums_keep_the_compensated_precision_of_returns():
    statistics = fnrec.stats.episode_statistics(
        metrics=[
            fnrec.stats.metric("tenth", lambda t: t.reward),
            fnrec.stats.discounted_return(1.0),
        ]
    )

    def body(stats, _):
        return statistics.step(stats, 0.1, False, False)[0], None

    stats, _ = jax.jit(lambda s: jax.lax.scan(body, s, None, length=1_000_000))(statistics.init())
    _, ended = statistics.step(stats, 0.0, True, False)
    exact = 1_000_000 * float(np.float32(0.1))
    for value in (ended.episode_return, *ended.metrics.values()):
        assert abs(float(value) - exact) / exact < 1e-6


def test_reset_and_nan_start_the_next_episode_fresh():
    statistics = fnrec.stats.episode_statistics(
        metrics=[
            fnrec.stats.metric("peak", lambda t: t.reward, "max"),
            fnrec.stats.metric("low", lambda t: t.reward, "min"),
            fnrec.stats.metric("at", lambda t: t.reward > 1, "first"),
        ]
    )
    step, reset = jax.jit(statistics.step), jax.jit(statistics.reset)
    stats = statistics.init(2)
    stats, _ = step(stats, jnp.array([jnp.nan, 5.0]), False, False)
    stats = reset(stats, jnp.array([False, True]))  # env 1's 5.0 is dropped
    stats, ended = step(stats, jnp.array([1.0, 0.5]), True, False)
    assert math.isnan(float(ended.metrics["peak"][0]))
    assert ended.metrics["peak"][1] == 0.5 and ended.metrics["low"][1] == 0.5
    assert math.isnan(float(ended.metrics["at"][1]))
    stats, ended = step(stats, jnp.array([2.0, 3.0]), True, False)
    assert ended.metrics["peak"].tolist() == [2.0, 3.0]
    assert ended.metrics["at"].tolist() == [1.0, 1.0]


def test_metrics_reach_info_and_the_host_info():
    statistics = fnrec.stats.episode_statistics(metrics=[fnrec.stats.success("ok")])
    stats = statistics.init(2)
    _, ended = jax.jit(lambda s: statistics.step(s, 1.0, True, False, info={"ok": [1, 0]}))(stats)
    assert ended.to_info()["episode"]["success"].tolist() == [1.0, 0.0]
    assert fnrec.stats.host_info(ended)["episode"]["success"].tolist() == [1.0, 0.0]


def test_a_recorder_gives_the_metrics_its_info_and_env_state():
    from fnrec.adapters import core

    metrics = [
        fnrec.stats.success("hit", "last"),
        fnrec.stats.metric("reached", lambda t: t.env_state > 1.5, "first"),
        fnrec.stats.discounted_return(0.5),
    ]
    for mode in ("same_step", "next_step"):
        recording = fnrec.Recording(fnrec.stats.episode_statistics(10, mode, metrics))
        fns = core.EnvFns(
            lambda s, a, k: core.EnvStep(s + 1.0, s + 1.0, 1.0, s >= 2.0, False, {"hit": s > 1}),
            lambda k: core.EnvReset(jnp.zeros(()), jnp.zeros(())),
        )
        recorder = fnrec.recorder(fns, recording, num_envs=2)
        state, _ = recorder.init(jax.random.key(0))
        step = jax.jit(recorder.step)
        for i in range(4):
            result = step(state, jnp.zeros(2), jax.random.key(i))
            state = result.state
        episode = fnrec.stats.queues(state.stats)
        assert episode["length_queue"].tolist() == [3, 3]
        assert episode["success_queue"].tolist() == [1.0, 1.0]
        assert episode["reached_queue"].tolist() == [2.0, 2.0]
        assert episode["discounted_return_queue"].tolist() == [1.75, 1.75]


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: fnrec.stats.metric("return", lambda t: 0), ValueError, "`name` must be an id"),
        (lambda: fnrec.stats.metric("x y", lambda t: 0), ValueError, "got 'x y'"),
        (lambda: fnrec.stats.metric("x", 3), TypeError, "`value` must be a callable"),
        (lambda: fnrec.stats.metric("x", abs, "median"), ValueError, "`reduce` must be one of"),
        (lambda: fnrec.stats.metric("x", abs, "max", 0.9), ValueError, "reduce='sum' only"),
        (lambda: fnrec.stats.discounted_return(1.5), ValueError, r"`gamma` .* \[0, 1\], got 1.5"),
        (lambda: fnrec.stats.success("ok", "all"), ValueError, "`how` must be 'any' or 'last'"),
        (lambda: fnrec.stats.success(3), TypeError, "`flag` must be an info key"),
        (
            lambda: fnrec.stats.episode_statistics(metrics=[fnrec.stats.success("a")] * 2),
            ValueError,
            "distinct names",
        ),
        (lambda: fnrec.stats.episode_statistics(metrics=["x"]), TypeError, "`metrics` must be"),
    ],
)
def test_bad_metrics_name_the_argument(call, error, words):
    with pytest.raises(error, match=words):
        call()


def test_bad_metric_values_fail_at_trace_time_naming_the_metric():
    statistics = fnrec.stats.episode_statistics(
        metrics=[fnrec.stats.metric("wide", lambda t: jnp.ones(5))]
    )
    with pytest.raises(ValueError, match=r"metric 'wide'.*\(3,\).*\(5,\)"):
        jax.jit(lambda s: statistics.step(s, 1.0, False, False)).lower(statistics.init(3))
    missing = fnrec.stats.episode_statistics(metrics=[fnrec.stats.success("goal")])
    with pytest.raises(KeyError, match=r"info\['goal'\].*keys \['other'\]"):
        missing.step(missing.init(), 1.0, False, False, info={"other": 1})
    with pytest.raises(ValueError, match=r"made for the metrics \[\].*\['success'\]"):
        missing.step(fnrec.stats.init(), 1.0, False, False)


def test_metrics_reach_the_history_the_stream_and_the_episode_log(tmp_path):
    """One run: the stacked `ended`, the kept history and both streamed flushes give the same
    log, metric columns included, and the CSV holds them."""
    from fnrec.adapters import core

    metrics = (fnrec.stats.discounted_return(0.5), fnrec.stats.success("hit", "any"))
    statistics = fnrec.stats.episode_statistics(10, "same_step", metrics)
    streamed = {"ended": [], "full": []}
    histories = [fnrec.history.episode_history(64)] + [
        fnrec.history.episode_history(8, stream=streamed[f].append, flush=f) for f in streamed
    ]
    # Env i ends every i + 2 steps: reward 1 each step, hit when the state passes 1.5.
    fns = core.EnvFns(
        lambda s, a, k: core.EnvStep(
            s + 1.0, s + 1.0, 1.0, s + 1.0 >= a, False, {"hit": s + 1.0 > 1.5}
        ),
        lambda k: core.EnvReset(jnp.zeros(()), jnp.zeros(())),
    )
    actions = jnp.arange(3, dtype=jnp.float32) + 2.0
    results = []
    for history in histories:
        recorder = fnrec.recorder(fns, fnrec.Recording(statistics, history=history), num_envs=3)
        state, _ = recorder.init(jax.random.key(0))

        def body(state, key, recorder=recorder):
            result = recorder.step(state, actions, key)
            return result.state, result.ended

        state, ended = jax.jit(lambda s: jax.lax.scan(body, s, jax.random.split(s.key, 12)))(
            state._replace(key=jax.random.key(1))
        )
        results.append((state, ended))
    (state, ended), (last_state, _) = results[0], results[-1]
    log = fnrec.episode_log(ended)
    assert sorted(log.metrics) == ["discounted_return", "success"]
    lengths = log.length.tolist()
    np.testing.assert_allclose(
        log.metrics["discounted_return"], [2 - 0.5 ** (n - 1) for n in lengths]
    )
    np.testing.assert_array_equal(log.metrics["success"], [float(n >= 2) for n in lengths])
    for other in (
        fnrec.episode_log(state.history),
        fnrec.episode_log(streamed["ended"]),
        fnrec.episode_log([*streamed["full"], fnrec.history_chunk(last_state.history)]),
    ):
        np.testing.assert_array_equal(other.episode_id, log.episode_id)
        for name, values in log.metrics.items():
            np.testing.assert_array_equal(other.metrics[name], values, err_msg=name)
    assert log.episodes()[0].metrics == {"discounted_return": 1.5, "success": 1.0}
    path = log.write_csv(tmp_path / "episodes.csv")
    rows = path.read_text().splitlines()
    assert rows[0] == "episode,env,return,length,terminated,discounted_return,success"
    assert rows[1] == "0,0,2,2,1,1.5,1"
    with pytest.raises(ValueError, match=r"history was made for \[\].*metrics=statistics"):
        histories[0].step(histories[0].init(3), fnrec.stats.step(
            statistics.init(3), 1.0, True, False, metrics=metrics, info={"hit": 1}
        )[1])  # fmt: skip


@pytest.mark.gymnasium_api
def test_host_envs_report_the_metrics_in_info():
    from fnrec.envs import CartPole

    recording = fnrec.Recording(
        fnrec.stats.episode_statistics(10, "next_step", [fnrec.stats.discounted_return(0.99)])
    )
    env = fnrec.FunctionalVectorEnv(fnrec.adapters.funcenv.recorder(CartPole(), recording, 2))
    env.reset(seed=0)
    for _ in range(200):
        *_, info = env.step(np.ones(2, np.int64))  # always push right: ends in ~10 steps
        if "episode" in info:
            break
    mask = info["_episode"]
    lengths = info["episode"]["l"][mask]
    np.testing.assert_allclose(
        info["episode"]["discounted_return"][mask], (1 - 0.99**lengths) / 0.01, rtol=1e-5
    )


def test_a_checkpoint_keeps_the_metrics_and_refuses_other_ones(tmp_path):
    metrics = [fnrec.stats.discounted_return(0.5), fnrec.stats.success("ok", "any")]
    statistics = fnrec.stats.episode_statistics(4, metrics=metrics)
    step = jax.jit(statistics.step)
    stats = statistics.init(2)
    for done in ([False, True], [False, False]):  # env 0 is mid-episode when saved
        stats, _ = step(stats, 2.0, jnp.array(done), False, info={"ok": jnp.array(done)})
    path = fnrec.checkpoint.save(tmp_path / "stats.npz", stats)
    restored = fnrec.checkpoint.restore(path, like=statistics.init(2))
    _, resumed = step(restored, 2.0, True, False, info={"ok": [0, 0]})
    _, uninterrupted = step(stats, 2.0, True, False, info={"ok": [0, 0]})
    for name in ("discounted_return", "success"):
        assert resumed.metrics[name].tolist() == uninterrupted.metrics[name].tolist()
    assert resumed.metrics["discounted_return"].tolist() == [3.5, 3.0]  # 2 + 1 + 0.5; 2 + 1
    other = fnrec.stats.episode_statistics(4, metrics=metrics[:1])
    with pytest.raises(fnrec.checkpoint.CheckpointMismatch):
        fnrec.checkpoint.restore(path, like=other.init(2))
