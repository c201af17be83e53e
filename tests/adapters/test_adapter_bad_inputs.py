"""Generated bad inputs to an adapter's step and initial, and to capture's settings and reader.

Every call gives what the wrapped env computes from the same values, or raises TypeError /
ValueError naming the argument; never an internal JAX/numpy error text. x64 on and off.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from bad_inputs import SETTINGS, N, assert_clear, correct, numeric_array, traced, values
from gymnasium.envs.phys2d.cartpole import CartPoleFunctional
from hypothesis import given
from hypothesis import strategies as st

import fnrec
from fnrec.adapters import FuncEnvAdapter

FUNC = CartPoleFunctional()
# obs: the stepped state's
NEXT_STEP = fnrec.Recording(fnrec.stats.episode_statistics(autoreset_mode="next_step"))


def _adapter(num_envs: int | None = N) -> FuncEnvAdapter:
    return FuncEnvAdapter(FUNC, NEXT_STEP, num_envs=num_envs)


def _accepted_action(value: object) -> np.ndarray | None:
    """The action array fnrec must pass to the env, or None if it must raise."""
    array = numeric_array(value)
    if array is None:
        return None
    if array.dtype.kind in "iu" and not isinstance(value, jax.Array):
        info = np.iinfo(jax.dtypes.canonicalize_dtype(array.dtype))
        if array.size and (array.min() < info.min or array.max() > info.max):
            return None
    return array


def _same(got: np.ndarray, want: np.ndarray) -> None:
    """Equal up to float32 rounding (jit fuses differently from eager); NaN equals NaN."""
    got, want = np.asarray(got), np.asarray(want)
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7, equal_nan=True)
    else:
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("jit", [False, True], ids=["eager", "jit"])
@given(action=st.one_of(values(), st.tuples(st.integers(0, 1), st.integers(0, 1), st.booleans())))
@SETTINGS
def test_action_reaches_the_env_or_is_named(action, jit, x64):
    env = _adapter()
    state = env.initial(jax.random.key(0))
    accepted = _accepted_action(action)

    def step(state):  # the action reaches fnrec as given (closed over), checked while tracing
        return env.step(state, action, jax.random.key(1))

    try:
        out = (traced(step) if jit else step)(state)
    except (TypeError, ValueError, OverflowError) as error:
        assert accepted is None, f"{action!r} must be accepted, raised {error!r}"
        assert_clear(error, "action")
        return
    except Exception as error:  # anything else is an internal error reaching the user
        pytest.fail(f"action={action!r} raised {type(error).__name__}: {error}")
    assert accepted is not None, f"action={action!r} must raise, was accepted"
    moved = jax.vmap(lambda s, a: FUNC.transition(s, a, None))(state.env_state, accepted)
    _same(out.obs, jax.vmap(lambda s: FUNC.observation(s, None))(moved))
    _same(out.reward, jax.vmap(lambda s, a, n: FUNC.reward(s, a, n, None))(
        state.env_state, accepted, moved))  # fmt: skip
    assert int(out.state.stats.env_steps.lo) == N
    correct()


def _keys(draw: st.DrawFn) -> object:
    seed = draw(st.integers(0, 2**32 - 1))
    kind = draw(st.sampled_from(["typed", "raw", "numpy", "typed batch", "raw batch", "other"]))
    if kind == "typed":
        return jax.random.key(seed)
    if kind == "raw":
        return jax.random.PRNGKey(seed)
    if kind == "numpy":
        return np.asarray(jax.random.PRNGKey(seed))
    if kind == "typed batch":
        return jax.random.split(jax.random.key(seed), N)
    if kind == "raw batch":
        return jax.random.split(jax.random.PRNGKey(seed), N)
    return draw(values())


@pytest.mark.parametrize("call", ["step", "initial"])
@given(key=st.composite(_keys)())
@SETTINGS
def test_key_is_one_prng_key_or_is_named(key, call):
    env = _adapter()
    state = env.initial(jax.random.key(0))
    dtype = getattr(key, "dtype", None)
    typed = dtype is not None and jnp.issubdtype(dtype, jax.dtypes.prng_key)
    one_raw = isinstance(key, (jax.Array, np.ndarray)) and key.dtype == np.uint32
    accepted = (typed and key.shape == ()) or (one_raw and key.shape == (2,))

    def run(key):
        if call == "initial":
            return env.initial(key)
        return env.step(state, jnp.zeros(N, jnp.int32), key).state

    try:
        result = run(key)
    except (TypeError, ValueError) as error:
        assert not accepted, f"{key!r} must be accepted, raised {error!r}"
        assert_clear(error, "rng")
        return
    assert accepted, f"rng={key!r} must raise, was accepted"
    want = run(key if typed else jax.random.wrap_key_data(jnp.asarray(key)))
    for got, expected in zip(jax.tree.leaves(result), jax.tree.leaves(want), strict=True):
        if not jnp.issubdtype(got.dtype, jax.dtypes.prng_key):
            _same(got, expected)
    correct()


OTHER_STATES = st.sampled_from(["stats", "other batch", "one env", "capture"])


@given(state=st.one_of(values(), OTHER_STATES))
@SETTINGS
def test_state_is_this_adapters_or_is_named(state):
    env = _adapter()
    made = {
        "stats": lambda: env.initial(jax.random.key(0)).stats,
        "other batch": lambda: _adapter(N + 1).initial(jax.random.key(0)),
        "one env": lambda: _adapter(None).initial(jax.random.key(0)),
        "capture": lambda: fnrec.capture.episode_capture(5).init(jnp.zeros((N, 4)), N),
    }
    if isinstance(state, str) and state in made:
        state = made[state]()
    with pytest.raises((TypeError, ValueError)) as info:
        traced(lambda: env.step(state, jnp.zeros(N, jnp.int32), jax.random.key(1)))()
    assert_clear(info.value, "state")


SETTING = st.one_of(
    st.integers(-3, 2**40), st.floats(), st.booleans(), st.none(), st.text(max_size=2),
    st.just(np.int64(3)), st.just(np.float32(2.0)), st.lists(st.integers(-1, 3), max_size=3),
    st.tuples(st.integers(0, 3), st.integers(0, 3)),
)  # fmt: skip


def _is_int(x: object, low: int, high: int) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, bool) and low <= x <= high


@given(max_length=SETTING, max_episodes=SETTING, watch=SETTING)
@SETTINGS
def test_capture_settings_are_valid_or_named(max_length, max_episodes, watch):
    def valid_watch(w):
        if w is None:
            return True
        items = (w,) if isinstance(w, (int, np.integer)) and not isinstance(w, bool) else w
        if not isinstance(items, (tuple, list)) or not items or len(set(items)) != len(items):
            return False
        return all(_is_int(i, 0, 2**62) for i in items)

    valid = {
        "max_length": _is_int(max_length, 1, 2**31 - 2),
        "max_episodes": _is_int(max_episodes, 1, 2**31 - 1),
        "watch": valid_watch(watch),
    }
    try:
        capture = fnrec.capture.episode_capture(max_length, max_episodes, watch)
    except (TypeError, ValueError) as error:
        named = [name for name in valid if f"`{name}`" in str(error)]
        assert named and not valid[named[0]], error
        assert_clear(error, named[0])
        return
    assert all(valid.values()), valid
    assert capture.max_length == max_length
    correct()


@given(state=st.one_of(values(), st.just("stats")))
@SETTINGS
def test_read_capture_given_something_else_names_the_state(state):
    if isinstance(state, str) and state == "stats":
        state = fnrec.stats.init(N)
    with pytest.raises(TypeError) as info:
        fnrec.read_capture(state)
    assert_clear(info.value, "state")
