"""Generated bad inputs to fnrec.stats and the renderers: a correct result or a clear error.

Every call either gives what a plain-Python reference computes from the same values, or raises
the documented exception type (TypeError for types, ValueError for values) with a message that
names the argument; never an internal JAX/numpy error text. x64 on and off, eager and jit.
"""

from __future__ import annotations

import math

import ml_dtypes
import numpy as np
import pytest
from bad_inputs import SETTINGS, B, N, accepted_numbers, assert_clear, correct, traced, values
from hypothesis import given
from hypothesis import strategies as st
from stats_reference import ReferenceStats

import fnrec


def _same_return(got: float, want: float) -> bool:
    """Whether `got` is `want` as float32 (inf past float32's range, NaN for NaN)."""
    with np.errstate(over="ignore"):
        want = float(np.float32(want))
    if math.isnan(want):
        return math.isnan(got)
    if math.isinf(want):
        return got == want
    return math.isclose(got, want, rel_tol=1e-5, abs_tol=1e-30)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@pytest.mark.parametrize("argument", ["reward", "terminated", "truncated"])
@given(data=st.data())
@SETTINGS
def test_step_gives_the_reference_or_names_the_argument(data, argument, jit, x64):
    value = data.draw(values())
    good = {"reward": np.array([1.5, -2.0, 0.25]), "terminated": np.array([True, False, False]),
            "truncated": np.array([False, True, False])}  # fmt: skip
    args = {**good, argument: value}
    accepted = accepted_numbers(value)
    inputs = (args["reward"], args["terminated"], args["truncated"])

    def step(stats):  # the inputs reach fnrec as given (closed over), checked while tracing
        return fnrec.stats.step(stats, *inputs)

    stats = fnrec.stats.init(N, B)
    try:
        stats, ended = (traced(step) if jit else step)(stats)
    except (TypeError, ValueError, OverflowError) as error:
        assert accepted is None, f"{value!r} must be accepted, raised {error!r}"
        assert_clear(error, argument)
        return
    except Exception as error:  # anything else is an internal error reaching the user
        pytest.fail(f"{argument}={value!r} raised {type(error).__name__}: {error}")
    assert accepted is not None, f"{argument}={value!r} must raise, was accepted"
    numbers = {k: (accepted if k == argument else v) for k, v in good.items()}
    reference = ReferenceStats(N, B)
    expected = reference.step(
        list(numbers["reward"]), [x != 0 for x in numbers["terminated"]],
        [x != 0 for x in numbers["truncated"]], "same_step",
    )  # fmt: skip
    assert np.asarray(ended.mask).tolist() == [e[0] for e in expected]
    for got, want in zip(np.asarray(ended.episode_return), expected, strict=True):
        assert want[0] is False or _same_return(float(got), want[1]), (got, want)
    assert np.asarray(ended.terminated).tolist() == [e[3] for e in expected]
    assert fnrec.stats.episode_count(stats) == reference.episode_count
    correct()


@given(mask=values())
@SETTINGS
def test_reset_mask_gives_the_reference_or_names_the_argument(mask):
    stats, _ = fnrec.stats.step(fnrec.stats.init(N, B), 1.0, False, False)
    accepted = np.ones(N) if mask is None else accepted_numbers(mask)  # None: every env
    try:
        reset = fnrec.stats.reset(stats, mask)
    except (TypeError, ValueError) as error:
        assert accepted is None, f"{mask!r} must be accepted, raised {error!r}"
        assert_clear(error, "mask")
        return
    assert accepted is not None, f"mask={mask!r} must raise, was accepted"
    want = np.where(accepted != 0, 0.0, 1.0)
    np.testing.assert_array_equal(np.asarray(reset.running_return), want)
    correct()


SETTING_VALUES = st.one_of(
    st.integers(-5, 2**40), st.floats(), st.booleans(), st.none(), st.text(max_size=3),
    st.just(np.int64(3)), st.just(np.float32(2.0)), st.lists(st.integers(1, 3), max_size=2),
)  # fmt: skip


@given(num_envs=SETTING_VALUES, buffer_length=SETTING_VALUES)
@SETTINGS
def test_init_settings_are_valid_or_named(num_envs, buffer_length):
    def valid(x, low, none_ok):
        if x is None:
            return none_ok
        return isinstance(x, (int, np.integer)) and not isinstance(x, bool) and low <= x < 2**31

    try:
        fnrec.stats.episode_statistics(buffer_length)  # the factory allocates nothing
        if isinstance(buffer_length, (int, np.integer)) and buffer_length > 10_000:
            buffer_length = 10_000  # valid; a queue of billions of entries is not allocated here
        if valid(num_envs, 1, False) and num_envs > 10_000:
            num_envs = 10_000  # valid too; not allocated here
        stats = fnrec.stats.init(num_envs, buffer_length)
    except (TypeError, ValueError) as error:
        named = [n for n in ("num_envs", "buffer_length") if f"`{n}`" in str(error)]
        assert named, error
        if named[0] == "num_envs":
            assert not valid(num_envs, 1, True)
        else:
            assert not valid(buffer_length, 1, False)
        assert_clear(error, named[0])
        return
    assert valid(num_envs, 1, True) and valid(buffer_length, 1, False)
    assert stats.return_queue.shape == (buffer_length,)
    correct()


NOT_STATES = st.one_of(values(), st.builds(lambda: fnrec.stats.init(N, B)._asdict()))


@given(value=NOT_STATES)
@SETTINGS
def test_readers_given_something_else_name_the_argument(value):
    readers = [fnrec.stats.queues, fnrec.stats.episode_count, fnrec.stats.summary,
               lambda s: fnrec.stats.step(s, 1.0, False, False),
               lambda s: fnrec.stats.reset(s)]  # fmt: skip
    for reader in readers:
        with pytest.raises(TypeError) as info:
            reader(value)
        assert_clear(info.value, "stats")


@pytest.mark.parametrize("render", [fnrec.render.cartpole, fnrec.render.pendulum])
@given(state=values())
@SETTINGS
def test_renderers_give_a_frame_or_name_the_state(render, state):
    size = 4 if render is fnrec.render.cartpole else 2
    try:
        array = np.asarray(state)
        fits = array.dtype.kind in "biuf" or array.dtype == ml_dtypes.bfloat16
        fits = fits and array.shape == (size,)
    except (TypeError, ValueError):
        fits = False
    try:
        frame = np.asarray(traced(lambda: render(state))())  # checked while tracing
    except (TypeError, ValueError) as error:
        assert not fits, f"{state!r} must render, raised {error!r}"
        assert_clear(error, "state")
        return
    assert fits, f"state={state!r} must raise, rendered"
    assert frame.dtype == np.uint8 and frame.ndim == 3
    if not np.isfinite(array.astype(np.float64)).all():
        assert (frame == fnrec.render.raster.INVALID).all()
    correct()
