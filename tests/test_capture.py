"""Tests of fnrec.capture: the pure core against a plain-Python reference, under jit/vmap/scan."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from capture_reference import ReferenceCapture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fnrec
from fnrec.host.captured import read_capture

MODES = ["same_step", "next_step", "disabled"]
TRIGGERS = {
    "all": lambda i: i >= 0,
    "even": lambda i: i % 2 == 0,
    "cubic": fnrec.capped_cubic_video_schedule,
    "every3": fnrec.schedules.every(3),
}


def env_states(num_envs: int, t: int, sign: float = 1.0) -> dict:
    """A pytree env state whose values identify (env, step): x = sign * (100 * env + t)."""
    x = sign * (100.0 * np.arange(num_envs) + t)
    return {"x": np.float32(x), "pair": np.stack([np.int32(x), np.int32(-x)], axis=-1)}


def frame_ids(items) -> list[float]:
    return np.asarray(items["x"]).tolist()


# The property test's shape families: (num_envs, watch, max_episode_steps, max_episodes, trigger).
# Each compiles once per autoreset mode; hypothesis varies the streams within them (which envs
# end, how, when they are reset, how long the stream runs). Together they cover one env and a
# batch, global ids and watched subsets (in and out of order, all envs), rows of 1, 3 and 6
# steps (episodes too long for a row), stores of 1 and 3 (a full store), and every trigger.
FAMILIES = [
    (1, (0,), 3, 1, "all"),
    (1, None, 6, 3, "cubic"),
    (3, None, 1, 3, "all"),
    (3, None, 3, 1, "even"),
    (3, (1,), 6, 3, "every3"),
    (4, (2, 0), 3, 3, "even"),
    (4, None, 6, 3, "every3"),
    (4, (3, 1, 0, 2), 1, 1, "cubic"),
]


@st.composite
def streams(draw, num_envs):
    """Steps (terminated, truncated, reset mask or None) for `num_envs` envs."""
    length = draw(st.integers(1, 30))
    rate = draw(st.sampled_from([0.1, 0.3, 0.7]))
    steps = []
    for _ in range(length):
        term = [draw(st.floats(0, 1)) < rate for _ in range(num_envs)]
        trunc = [draw(st.floats(0, 1)) < rate / 3 for _ in range(num_envs)]
        reset = None
        if draw(st.floats(0, 1)) < 0.1:
            reset = draw(st.lists(st.booleans(), min_size=num_envs, max_size=num_envs))
        steps.append((term, trunc, reset))
    return steps


@functools.cache
def cached_capture(max_length, max_episodes, watch, trigger):
    """One capture object per setting, so that its jitted functions compile once per shape."""
    return fnrec.capture.episode_capture(
        max_length, max_episodes, watch=watch, trigger=TRIGGERS[trigger]
    )


STATS_STEP = jax.jit(fnrec.stats.step, static_argnames="autoreset_mode")


@functools.cache
def jitted(capture, mode):
    capture = capture.following(mode)  # the capture follows the statistics' autoreset mode
    return capture, jax.jit(capture.step), jax.jit(capture.reset)


def run_stream(capture, num_envs, steps, mode, reference):
    """Steps a bare statistics loop with capture, jitted, and the reference beside it."""
    capture, capture_step, capture_reset = jitted(capture, mode)
    stats = fnrec.stats.init(num_envs, 8)
    state = capture.init(env_states(num_envs, 0, -1.0), num_envs)
    reference.init(frame_ids(env_states(num_envs, 0, -1.0)))
    prev_done = np.zeros(num_envs, bool)
    for t, (term, trunc, reset) in enumerate(steps, start=1):
        if reset is not None and mode == "disabled":
            states = env_states(num_envs, t, -1.0)
            state = capture_reset(state, states, np.array(reset))
            stats = fnrec.stats.reset(stats, np.array(reset))
            reference.reset(frame_ids(states), reset)
            prev_done &= ~np.array(reset)
        term, trunc = np.array(term), np.array(trunc)
        if mode == "next_step":  # a reset step never ends an episode
            term, trunc = term & ~prev_done, trunc & ~prev_done
        stats, ended = STATS_STEP(stats, 1.0, term, trunc, autoreset_mode=mode)
        final = env_states(num_envs, t)
        if mode == "same_step":
            after = jax.tree.map(
                lambda a, b, d=term | trunc: np.where(
                    np.reshape(d, (-1,) + (1,) * (a.ndim - 1)), a, b
                ),
                env_states(num_envs, t, -1.0),
                final,
            )
        elif mode == "next_step":
            after = jax.tree.map(
                lambda a, b, d=prev_done: np.where(
                    np.reshape(d, (-1,) + (1,) * (a.ndim - 1)), a, b
                ),
                env_states(num_envs, t, -1.0),
                final,
            )
            final = after
        else:
            after = final
        state = capture_step(state, ended, final, after)
        host_ended = jax.device_get(ended)
        reference.step(
            [tuple(np.asarray(f)[e].item() for f in host_ended) for e in range(num_envs)],
            frame_ids(final),
            frame_ids(after),
            mode,
        )
        prev_done = np.array(host_ended.mask)
    return state


def check_against_reference(state, reference):
    summary = read_capture(state)
    assert summary.dropped_full == reference.dropped_full
    assert summary.dropped_too_long == reference.dropped_too_long
    assert len(summary.episodes) == len(reference.stored)
    for got, want in zip(summary.episodes, reference.stored, strict=True):
        assert got.episode_id == want["episode_id"]
        assert got.env == want["env"]
        assert got.length == want["length"]
        assert frame_ids(got.items) == want["frames"]
        np.testing.assert_array_equal(got.items["pair"][:, 0], np.int32(want["frames"]))
        assert got.episode_return == pytest.approx(want["episode_return"])
        assert got.terminated == want["terminated"]
        assert got.truncated == want["truncated"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(family=st.sampled_from(FAMILIES), mode=st.sampled_from(MODES), data=st.data())
def test_batched_matches_reference(family, mode, data):
    num_envs, watch, max_episode_steps, max_episodes, trigger = family
    steps = data.draw(streams(num_envs))
    capture = cached_capture(max_episode_steps, max_episodes, watch, trigger)
    reference = ReferenceCapture(
        num_envs, max_episode_steps, max_episodes, watch, TRIGGERS[trigger]
    )
    state = run_stream(capture, num_envs, steps, mode, reference)
    check_against_reference(state, reference)


def test_global_ids_follow_the_shared_queue_order():
    """Two envs ending on one step get consecutive ids in env-index order."""
    capture = fnrec.capture.episode_capture(5, 8, watch=None, trigger=lambda i: i >= 0)
    reference = ReferenceCapture(3, 5, 8, None, lambda i: True)
    steps = [([False, True, True], [False] * 3, None), ([True, False, True], [False] * 3, None)]
    state = run_stream(capture, 3, steps, "same_step", reference)
    episodes = read_capture(state).episodes
    assert [(e.episode_id, e.env) for e in episodes] == [(0, 1), (1, 2), (2, 0), (3, 2)]
    check_against_reference(state, reference)


def test_clear_frees_the_store_and_rows_are_not_shared():
    capture = fnrec.capture.episode_capture(4, 2, watch=None, trigger=lambda i: i >= 0)
    reference = ReferenceCapture(2, 4, 2, None, lambda i: True)
    steps = [([True, True], [False, False], None)] * 3
    state = run_stream(capture, 2, steps, "same_step", reference)
    check_against_reference(state, reference)
    assert read_capture(state).dropped_full == 4
    state = jax.jit(capture.clear)(state)
    reference.clear()
    assert read_capture(state) == ([], 0, 0)
    # Continue: new episodes land in the freed rows and never overwrite a current episode.
    stats = fnrec.stats.init(2, 4)
    for t in range(10, 13):
        stats, ended = fnrec.stats.step(stats, 1.0, np.array([t == 12, True]), False)
        state = capture.step(state, ended, env_states(2, t), env_states(2, t, -1.0))
    episodes = read_capture(state).episodes
    assert [(e.env, frame_ids(e.items)) for e in episodes] == [
        (1, [-103.0, 110.0]),
        (1, [-110.0, 111.0]),
    ]


def test_episode_longer_than_a_row_is_dropped_and_counted():
    capture = fnrec.capture.episode_capture(3, 4, trigger=lambda i: i >= 0)
    reference = ReferenceCapture(1, 3, 4, (0,), lambda i: True)
    steps = [([t in (3, 7)], [False], None) for t in range(1, 9)]
    state = run_stream(capture, 1, steps, "same_step", reference)
    summary = read_capture(state)
    assert summary.dropped_too_long == 1
    assert [e.length for e in summary.episodes] == [3]
    check_against_reference(state, reference)


@pytest.mark.parametrize("mode", MODES)
def test_single_env_vmap_and_scan_agree(mode, x64):
    """One env (num_envs=None) vmapped over 3 envs, in one lax.scan, equals three references."""
    num_envs, num_steps = 3, 25
    capture = fnrec.capture.episode_capture(6, 3, trigger=lambda i: i % 2 == 0, autoreset_mode=mode)
    rng = np.random.default_rng(1)
    term = rng.random((num_steps, num_envs)) < 0.3
    prev = np.zeros(num_envs, bool)
    if mode == "next_step":  # a reset step never ends an episode
        for t in range(num_steps):
            term[t] &= ~prev
            prev = term[t]

    def one_env(first, term_e, finals, afters):
        stats = fnrec.stats.init(None, 4)
        state = capture.init(first)

        def body(carry, xs):
            stats, state = carry
            done, final, after = xs
            stats, ended = fnrec.stats.step(stats, 1.0, done, False, autoreset_mode=mode)
            return (stats, capture.step(state, ended, final, after)), None

        (_, state), _ = jax.lax.scan(body, (stats, state), (term_e, finals, afters))
        return state

    finals = [env_states(num_envs, t) for t in range(1, num_steps + 1)]
    afters = []
    references = [ReferenceCapture(1, 6, 3, (0,), lambda i: i % 2 == 0) for _ in range(num_envs)]
    prev = np.zeros(num_envs, bool)
    for t in range(num_steps):
        reset_state = env_states(num_envs, t + 1, -1.0)
        flag = (
            term[t] if mode == "same_step" else prev if mode == "next_step" else np.zeros_like(prev)
        )
        after = jax.tree.map(
            lambda a, b, f=flag: np.where(np.reshape(f, (-1,) + (1,) * (a.ndim - 1)), a, b),
            reset_state,
            finals[t],
        )
        if mode == "next_step":
            finals[t] = after
        afters.append(after)
        prev = term[t]
    stack = lambda trees: jax.tree.map(lambda *x: np.stack(x, axis=1), *trees)  # noqa: E731
    first = env_states(num_envs, 0, -1.0)
    state = jax.jit(jax.vmap(one_env, in_axes=(0, 1, 0, 0)))(
        first, term, stack(finals), stack(afters)
    )
    assert state.position.dtype == jnp.int32 and state.stored.episode_return.dtype == jnp.float32
    for e, ref in enumerate(references):
        pick = lambda tree, e=e: float(tree["x"][e])  # noqa: E731
        ref.init([frame_ids(first)[e]])
        for t in range(num_steps):
            ended = [(bool(term[t, e]), float("nan"), 0, bool(term[t, e]), False)]
            ref.step(ended, [pick(finals[t])], [pick(afters[t])], mode)
    episodes = read_capture(state).episodes
    expected = [(e, s) for e, ref in enumerate(references) for s in ref.stored]
    assert len(episodes) == len(expected)
    for got, (env, want) in zip(episodes, expected, strict=True):
        assert (got.env, got.episode_id, got.length) == (env, want["episode_id"], want["length"])
        assert frame_ids(got.items) == want["frames"]


def test_content_keeps_what_it_returns():
    capture = fnrec.capture.episode_capture(
        4, 2, trigger=lambda i: i >= 0, content=lambda s: {"double": s["x"] * 2}
    )
    state = capture.init(env_states(2, 0, -1.0), num_envs=2)
    stats = fnrec.stats.init(2)
    stats, ended = fnrec.stats.step(stats, 1.0, np.array([True, False]), False)
    state = capture.step(state, ended, env_states(2, 1), env_states(2, 1, -1.0))
    (episode,) = read_capture(state).episodes
    np.testing.assert_array_equal(episode.items["double"], [-0.0, 2.0])


def test_streaming_sends_each_chosen_episode_once():
    received = []
    capture = fnrec.capture.episode_capture(
        5, watch=None, trigger=lambda i: i % 2 == 0, stream=received.append
    )
    reference = ReferenceCapture(3, 5, 1_000, None, lambda i: i % 2 == 0)
    rng = np.random.default_rng(0)
    steps = [(list(rng.random(3) < 0.4), [False] * 3, None) for _ in range(30)]
    state = run_stream(capture, 3, steps, "same_step", reference)
    jax.effects_barrier()
    assert len(reference.stored) >= 3
    assert read_capture(state).episodes == []
    assert [(e.episode_id, e.env, e.length) for e in received] == [
        (s["episode_id"], s["env"], s["length"]) for s in reference.stored
    ]
    for got, want in zip(received, reference.stored, strict=True):
        assert frame_ids(got.items) == want["frames"]


def test_streaming_calls_nothing_when_nothing_ends():
    calls = []
    capture = fnrec.capture.episode_capture(5, trigger=lambda i: i >= 0, stream=calls.append)
    stats, state = fnrec.stats.init(2), capture.init(env_states(2, 0), num_envs=2)

    @jax.jit
    def run(stats, state):
        def body(carry, _):
            stats, state = carry
            stats, ended = fnrec.stats.step(stats, 1.0, False, False)
            return (stats, capture.step(state, ended, env_states(2, 1), env_states(2, 1))), None

        return jax.lax.scan(body, (stats, state), None, length=20)[0]

    jax.block_until_ready(run(stats, state))
    jax.effects_barrier()
    assert calls == []


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(
        ValueError, match=r"`max_length` must be an int from 1 to 2147483646 .*, got 0"
    ):
        fnrec.capture.episode_capture(0)
    with pytest.raises(ValueError, match=r"`watch` must be None .* got -1"):
        fnrec.capture.episode_capture(5, watch=-1)
    with pytest.raises(TypeError, match="`trigger` must be None or a callable"):
        fnrec.capture.episode_capture(5, trigger=3)
    capture = fnrec.capture.episode_capture(5, watch=(2,))
    with pytest.raises(ValueError, match=r"`watch` must name envs below num_envs=2"):
        capture.init(env_states(2, 0), num_envs=2)
    capture = fnrec.capture.episode_capture(5, trigger=lambda i: i.astype(jnp.float32) * 1j)
    state = capture.init(env_states(2, 0), num_envs=2)
    stats, ended = fnrec.stats.step(fnrec.stats.init(2), 1.0, True, False)
    with pytest.raises(TypeError, match="`trigger` must map int32 episode ids elementwise"):
        capture.step(state, ended, env_states(2, 1), env_states(2, 1))
    capture = fnrec.capture.episode_capture(5)
    state = capture.init(env_states(2, 0), num_envs=2)
    _, ended3 = fnrec.stats.step(fnrec.stats.init(3), 1.0, True, False)
    with pytest.raises(ValueError, match=r"`ended.mask` must have shape \(2,\)"):
        capture.step(state, ended3, env_states(2, 1), env_states(2, 1))
    with pytest.raises(ValueError, match=r"`final_env_state` must have leaves that start with"):
        capture.step(state, ended, env_states(3, 1), env_states(2, 1))
    with pytest.raises(ValueError, match="must keep the pytree structure it had at init"):
        capture.step(state, ended, {"x": np.zeros(2, np.float32)}, env_states(2, 1))
    with pytest.raises(TypeError, match="`state` must be a CaptureState"):
        capture.step(fnrec.stats.init(2), ended, env_states(2, 1), env_states(2, 1))
    with pytest.raises(TypeError, match="`state` must be a CaptureState"):
        read_capture(stats)


@pytest.mark.xla_optimized  # the copies XLA's optimizations insert
@pytest.mark.parametrize("watch", [None, (0,)], ids=["global_ids", "watched"])
def test_a_step_in_a_scan_never_copies_the_rows(watch):
    """The starts overwrite rows that the store's copies read (global ids); XLA must order the
    reads first rather than copy every row each step (a 1.8-6.7x slower rollout when it did).
    """
    capture = fnrec.capture.episode_capture(50, 8, watch=watch, trigger=lambda i: i % 3 == 0)
    num_envs = 64
    state = capture.init(jnp.zeros((num_envs, 4)), num_envs)

    def body(carry, t):
        stats, cap = carry
        done = (jnp.arange(num_envs) + t) % 7 == 0
        stats, ended = fnrec.stats.step(stats, 1.0, done, False)
        frame = jnp.full((num_envs, 4), t, jnp.float32)
        return (stats, capture.step(cap, ended, frame, jnp.where(done[:, None], 0.0, frame))), None

    run = jax.jit(lambda carry: jax.lax.scan(body, carry, jnp.arange(30))[0])
    hlo = run.lower((fnrec.stats.init(num_envs), state)).compile().as_text()
    rows = jax.tree.leaves(state.items)[0].shape
    shape = f"f32[{','.join(map(str, rows))}]"
    copies = [line for line in hlo.splitlines() if f"= {shape}" in line and " copy(" in line]
    assert len(copies) <= 1, copies  # at most the one into the loop's carry, before it starts
    _, final = run((fnrec.stats.init(num_envs), state))
    assert int(final.num_stored) == (8 if watch is None else 2)  # env 0: episodes 0 and 3


@pytest.mark.parametrize(
    ("other", "setting"),
    [
        ({"max_length": 6}, r"max_length 6, this capture has 5"),
        ({"max_episodes": 3}, r"max_episodes 3, this capture has 16"),
        (
            {"autoreset_mode": "next_step"},
            r"autoreset_mode 'next_step', this capture has 'same_step'",
        ),
        ({"watch": (1,)}, r"watch \(1,\), this capture has \(0,\)"),
        ({"watch": None}, r"watch None, this capture has \(0,\)"),
    ],
)
def test_a_state_made_with_other_settings_is_refused_naming_the_setting(other, setting):
    settings = {"max_length": 5, "max_episodes": 16, "watch": (0,), "autoreset_mode": None}
    capture = fnrec.capture.episode_capture(**settings)
    made_by = fnrec.capture.episode_capture(**{**settings, **other})
    state = made_by.init(env_states(2, 0), 2)
    _, ended = fnrec.stats.step(fnrec.stats.init(2), 1.0, np.array([True, False]), False)
    match = rf"`state` was made by a capture with other settings: {setting}"
    with pytest.raises(ValueError, match=match):
        jax.jit(capture.step)(state, ended, env_states(2, 1), env_states(2, 1))
    with pytest.raises(ValueError, match=match):
        capture.clear(state)
    with pytest.raises(ValueError, match=match):
        capture.reset(state, env_states(2, 1))
    # vmapped states carry the settings too (the batch axis is skipped)
    one = fnrec.capture.episode_capture(5, 4, watch=(0,))
    per_env = jax.vmap(one.init)(env_states(2, 0))
    assert fnrec.capture.decoded_settings(per_env) == (6, 4, "same_step", (0,), None)


def test_a_capture_follows_the_statistics_and_refuses_another_mode():
    capture = fnrec.capture.episode_capture(5)
    assert capture.autoreset_mode is None
    recording = fnrec.Recording(fnrec.stats.episode_statistics(autoreset_mode="next_step"), capture)
    assert recording.check().capture.autoreset_mode == "next_step"
    explicit = fnrec.capture.episode_capture(5, autoreset_mode="same_step")
    with pytest.raises(ValueError, match="made with autoreset_mode='same_step' but the statistics"):
        fnrec.Recording(
            fnrec.stats.episode_statistics(autoreset_mode="next_step"), explicit
        ).check()


@pytest.mark.fault
def test_reading_a_state_assembled_from_two_captures_is_refused():
    small = fnrec.capture.episode_capture(5, 4, watch=None, trigger=lambda i: i >= 0)
    large = fnrec.capture.episode_capture(9, 4, watch=None, trigger=lambda i: i >= 0)
    state = small.init(env_states(2, 0), num_envs=2)
    mixed = state._replace(items=large.init(env_states(2, 0), num_envs=2).items)
    with pytest.raises(ValueError, match=r"max_length says 5, but its buffers hold 9"):
        read_capture(mixed)
    with pytest.raises(ValueError, match=r"max_length says 5, but its buffers hold 9"):
        fnrec.export_videos(mixed, "unused-folder")


@pytest.mark.parametrize(("first", "later"), [(0, 0.7), (np.float16(0), 1e6)])
@pytest.mark.fault
def test_items_of_another_dtype_are_refused_not_cast(first, later):
    """0.7 into an int32 capture is not stored as 0, nor 1e6 into float16 as inf."""
    capture = fnrec.capture.episode_capture(5, 2, trigger=lambda i: i >= 0)
    stats = fnrec.stats.init()
    state = capture.init({"x": jnp.asarray(first)})
    stats, ended = fnrec.stats.step(stats, 1.0, False, False)
    step = jax.jit(capture.step)
    with pytest.raises(TypeError, match=r"captured item \['x'\] must keep the dtype and shape"):
        step(state, ended, {"x": jnp.asarray(later)}, {"x": jnp.asarray(later)})


@pytest.mark.fault
@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda s: s._replace(num_stored=jnp.int32(-1)), r"stored count \[-1\] outside \[0, 4\]"),
        (lambda s: s._replace(stored=s.stored._replace(row=s.stored.row.at[0].set(99))),
         r"stored row index outside \[0, 5\)"),
        (lambda s: s._replace(stored=s.stored._replace(length=s.stored.length.at[0].set(7))),
         r"stored length outside \[0, 5\]"),
    ],
)  # fmt: skip
def test_reading_a_damaged_store_is_refused(edit, message):
    capture = fnrec.capture.episode_capture(5, 4, trigger=lambda i: i >= 0)
    stats, state = fnrec.stats.init(2), capture.init(env_states(2, 0), num_envs=2)
    stats, ended = fnrec.stats.step(stats, 1.0, np.array([True, False]), False)
    state = capture.step(state, ended, env_states(2, 1), env_states(2, 1))
    assert len(read_capture(state).episodes) == 1
    with pytest.raises(ValueError, match=message):
        read_capture(edit(state))


def test_a_capture_vmapped_over_groups_labels_episodes_with_the_batch_env():
    """vmap over 3 groups of 2 envs, both watched: env g*2+i, and no two videos share a name."""
    capture = fnrec.capture.episode_capture(5, 4, watch=(0, 1), trigger=lambda i: i >= 0)
    init = jax.vmap(lambda s: capture.init(s, num_envs=2))
    state = init(jnp.zeros((3, 2)))
    stats = jax.vmap(lambda _: fnrec.stats.init(2))(jnp.arange(3))
    step = jax.vmap(fnrec.stats.step, in_axes=(0, None, None, None))
    stats, ended = step(stats, 1.0, np.array([True, True]), False)
    state = jax.vmap(capture.step)(state, ended, jnp.ones((3, 2)), jnp.ones((3, 2)))
    episodes = read_capture(state).episodes
    assert sorted(e.env for e in episodes) == list(range(6))
    assert len({(e.env, e.episode_id) for e in episodes}) == 6


@pytest.mark.parametrize(
    "trigger", [lambda i: i % 250 == 0 and i > 0, lambda i: i in {3, 7}], ids=["and", "in-set"]
)
def test_gymnasium_style_triggers_are_told_how_to_write_one(trigger):
    capture = fnrec.capture.episode_capture(5, 2, trigger=trigger)
    one = jax.tree.map(lambda x: x[0], env_states(1, 1))
    stats, state = fnrec.stats.init(), capture.init(one)
    stats, ended = fnrec.stats.step(stats, 1.0, True, False)
    with pytest.raises(TypeError, match=r"a trigger receives an int32 ARRAY of episode ids"):
        jax.jit(capture.step)(state, ended, one, one)


@pytest.mark.fault
def test_a_stream_that_raises_warns_and_the_run_goes_on():
    def broken(episode):
        raise RuntimeError("VideoStream is closed")

    capture = fnrec.capture.episode_capture(5, watch=None, trigger=lambda i: i >= 0, stream=broken)
    stats, state = fnrec.stats.init(2), capture.init(env_states(2, 0), num_envs=2)

    @jax.jit
    def run(stats, state):
        for t in range(3):
            stats, ended = fnrec.stats.step(stats, 1.0, jnp.array([True, t > 0]), False)
            state = capture.step(state, ended, env_states(2, t + 1), env_states(2, t + 1))
        return stats, state

    with pytest.warns(RuntimeWarning, match=r"raised RuntimeError: VideoStream is closed"):
        stats, state = run(stats, state)
        jax.effects_barrier()
    assert fnrec.stats.episode_count(stats) == 5
