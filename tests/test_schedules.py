"""capped_cubic_video_schedule against Gymnasium's, for Python ints and jnp arrays in jit/vmap."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from gymnasium.utils.save_video import capped_cubic_video_schedule as gym_schedule

import fnrec

pytestmark = pytest.mark.gymnasium_api  # CI runs these again on Gymnasium 1.3

IDS = 1_000_001


@pytest.fixture(scope="module")
def gym_reference() -> np.ndarray:
    return np.array([gym_schedule(i) for i in range(IDS)])


def test_python_ints_match_gymnasium_for_all_ids(gym_reference):
    ours = np.array([fnrec.capped_cubic_video_schedule(i) for i in range(IDS)])
    np.testing.assert_array_equal(ours, gym_reference)


def test_python_int_returns_python_bool():
    assert fnrec.capped_cubic_video_schedule(8) is True
    assert fnrec.capped_cubic_video_schedule(9) is False
    assert fnrec.capped_cubic_video_schedule(np.int64(2000)) is True


def test_first_recorded_ids():
    recorded = [i for i in range(5001) if fnrec.capped_cubic_video_schedule(i)]
    assert recorded == [0, 1, 8, 27, 64, 125, 216, 343, 512, 729, 1000, 2000, 3000, 4000, 5000]


def test_negative_ids_are_never_recorded():
    assert fnrec.capped_cubic_video_schedule(-1) is False
    assert not bool(fnrec.capped_cubic_video_schedule(jnp.array(-1000)))


def test_jit_on_array_matches_gymnasium_for_all_ids(gym_reference):
    ours = jax.jit(fnrec.capped_cubic_video_schedule)(jnp.arange(IDS, dtype=jnp.int32))
    assert ours.dtype == jnp.bool_ and ours.shape == (IDS,)
    np.testing.assert_array_equal(np.asarray(ours), gym_reference)


def test_vmap_and_jit_on_scalars(gym_reference):
    ids = jnp.array([0, 1, 2, 8, 26, 27, 729, 730, 999, 1000, 1001, 54000, 999_999], jnp.int32)
    ours = jax.jit(jax.vmap(fnrec.capped_cubic_video_schedule))(ids)
    np.testing.assert_array_equal(np.asarray(ours), gym_reference[np.asarray(ids)])


def test_shapes_and_small_dtypes_are_kept():
    ids = jnp.arange(12, dtype=jnp.uint8).reshape(3, 4)
    ours = fnrec.capped_cubic_video_schedule(ids)
    assert ours.shape == (3, 4)
    np.testing.assert_array_equal(np.asarray(ours).ravel(), [gym_schedule(i) for i in range(12)])
    big = fnrec.capped_cubic_video_schedule(jnp.array([729, 1000], dtype=jnp.int16))
    np.testing.assert_array_equal(np.asarray(big), [True, True])


def test_float_arrays_are_rejected():
    with pytest.raises(TypeError, match="integer"):
        fnrec.capped_cubic_video_schedule(jnp.array([1.0]))
