"""Generated bad inputs to the host envs: Gymnasium's result or a clear error naming the argument.

Actions follow Gymnasium: an action is refused exactly where the action space refuses it (one
env's space, for every env of a vector env), and a refused action leaves the env where it was.
Seeds and reset masks give the result of a valid equivalent, or an error naming them.
"""

from __future__ import annotations

import ml_dtypes
import numpy as np
import pytest
from bad_inputs import SETTINGS, N, assert_clear, correct, numeric_array, values
from gymnasium.envs.phys2d.cartpole import CartPoleFunctional
from hypothesis import given
from hypothesis import strategies as st

from fnrec import FunctionalEnv, FunctionalVectorEnv

pytestmark = pytest.mark.gymnasium_api  # CI runs these again on Gymnasium 1.3


@pytest.fixture(scope="module")
def envs():
    """A vector env under test and its twin, which only ever gets valid actions (compiled once)."""
    env, twin = (
        FunctionalVectorEnv(CartPoleFunctional(), N),
        FunctionalVectorEnv(CartPoleFunctional(), N),
    )
    yield env, twin
    env.close()
    twin.close()


def _gymnasium_accepts(actions: object, env: FunctionalVectorEnv) -> np.ndarray | None:
    """The actions as ints if Gymnasium's spaces take them (shape (N,), each in one env's
    space, as SyncVectorEnv's CartPoles check), else None."""
    array = numeric_array(actions)
    if array is None or array.dtype == ml_dtypes.bfloat16:
        return None
    if array.dtype.kind == "b":
        array = array.astype(np.int64)  # Python bools are ints to Discrete.contains
    if not all(env.single_action_space.contains(a) for a in array):
        return None
    return array.astype(np.int64)


@given(actions=st.one_of(values(), st.lists(st.integers(-1, 2), min_size=N, max_size=N)))
@SETTINGS
def test_vector_actions_are_refused_exactly_where_gymnasium_refuses_them(envs, actions):
    env, twin = envs
    env.reset(seed=1)
    twin.reset(seed=1)
    accepted = _gymnasium_accepts(actions, env)
    try:
        obs, reward, *_ = env.step(actions)
    except (TypeError, ValueError) as error:
        assert accepted is None, f"{actions!r} must be accepted, raised {error!r}"
        assert_clear(error, "action")
        np.testing.assert_array_equal(env.step([1] * N)[0], twin.step([1] * N)[0])  # unmoved
        return
    assert accepted is not None, f"actions={actions!r} must raise, were accepted"
    want = twin.step(accepted)
    np.testing.assert_array_equal(obs, want[0])
    np.testing.assert_array_equal(reward, want[1])
    correct()


SEEDS = st.one_of(
    st.integers(-(2**70), 2**70), st.integers(0, 2**64 - 1), st.none(), st.floats(),
    st.booleans(), st.text(max_size=2), st.just(np.int64(-1)), st.just(np.uint64(2**64 - 1)),
)  # fmt: skip


@pytest.fixture(scope="module")
def single():
    """One env under test and its twin (compiled once)."""
    env, twin = FunctionalEnv(CartPoleFunctional()), FunctionalEnv(CartPoleFunctional())
    yield env, twin
    env.close()
    twin.close()


@given(seed=SEEDS)
@SETTINGS
def test_seeds_are_gymnasiums_or_named(single, seed):
    env, twin = single
    valid = seed is None or (
        isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) and 0 <= seed < 2**64
    )
    try:
        obs, _ = env.reset(seed=seed)
    except (TypeError, ValueError) as error:
        assert not valid, f"seed={seed!r} must be accepted, raised {error!r}"
        assert_clear(error, "seed")
        return
    assert valid, f"seed={seed!r} must raise, was accepted"
    if seed is not None:
        np.testing.assert_array_equal(obs, twin.reset(seed=int(seed))[0])
    correct()


@given(mask=st.one_of(values(), st.none()))
@SETTINGS
def test_reset_mask_is_flags_or_named(envs, mask):
    env, _ = envs
    env.reset(seed=0)
    before = env.step([1] * N)[0]
    try:
        flags = np.asarray(mask)
        numeric = flags.dtype.kind in "biuf" or flags.dtype == ml_dtypes.bfloat16
        if flags.dtype == object:
            numeric = all(isinstance(x, (bool, int, float)) for x in flags.reshape(-1))
        valid = mask is None or (numeric and flags.shape in ((), (N,)))
    except (TypeError, ValueError):
        valid = False
    if isinstance(mask, (str, bytes)):
        valid = False
    try:
        obs, _ = env.reset(options={"reset_mask": mask})
    except (TypeError, ValueError) as error:
        assert not valid, f"reset_mask={mask!r} must be accepted, raised {error!r}"
        assert_clear(error, "reset_mask")
        return
    assert valid, f"reset_mask={mask!r} must raise, was accepted"
    if mask is None:
        reset = np.ones(N, bool)
    else:
        numbers = flags.astype(np.float32) if flags.dtype == ml_dtypes.bfloat16 else flags
        reset = np.broadcast_to(np.asarray(numbers, np.float64) != 0, (N,))
    np.testing.assert_array_equal(obs[~reset], before[~reset])  # envs not in the mask: untouched
    correct()
