"""fnrec._packed: a pytree of arrays through one uint8 array and back, exactly."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fnrec import _packed

DTYPES = ["bool", "uint8", "int8", "int16", "int32", "uint32", "float16", "bfloat16", "float32"]
X64_DTYPES = ["int64", "uint64", "float64"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_round_trip_is_exact(x64, data):
    names = DTYPES + (X64_DTYPES if x64 else [])
    leaves = {}
    for k in range(data.draw(st.integers(1, 6))):
        dtype = jnp.dtype(data.draw(st.sampled_from(names)))
        shape = tuple(data.draw(st.lists(st.integers(0, 3), max_size=2)))
        bits = np.random.default_rng(k).integers(0, 256, (*shape, dtype.itemsize), np.uint8)
        leaves[f"leaf{k}"] = (
            np.asarray(bits[..., 0] % 2, bool)
            if dtype == jnp.bool_
            else np.ascontiguousarray(bits).view(dtype).reshape(shape)
        )
    tree = (leaves, [jnp.asarray(v) for v in leaves.values()])
    layout = _packed.layout(tree)
    back = _packed.unpack(jax.jit(_packed.pack)(tree), layout)
    for want, got in zip(jax.tree.leaves(tree), jax.tree.leaves(back), strict=True):
        assert got.dtype == np.asarray(want).dtype and got.shape == np.shape(want)
        assert np.asarray(want).tobytes() == got.tobytes()  # bit for bit, NaNs included


def test_keys_and_complex_numbers_are_not_packed():
    assert _packed.layout({"key": jax.random.key(0)}) is None
    assert _packed.layout([jnp.complex64(1.0)]) is None
    assert _packed.layout(jax.random.PRNGKey(0)) is not None  # raw key data: uint32 words


@pytest.mark.parametrize("tree", [(), {"a": jnp.zeros((2, 0))}])
def test_empty_trees_and_leaves(tree):
    back = _packed.unpack(_packed.pack(tree), _packed.layout(tree))
    assert jax.tree.structure(back) == jax.tree.structure(tree)
