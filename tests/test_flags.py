"""fnrec._flags: done flags made whole on every device and counted in env order."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fnrec import _flags

sizes = st.sampled_from([1, 2, 3, 5, 12, 31, 32, 33, 64, 96, 100, 1000, 1024, 4096])


@pytest.mark.parametrize("x64_on", [False, True], ids=["x64off", "x64on"])
@settings(max_examples=40, deadline=None)
@given(num_envs=sizes, seed=st.integers(0, 2**31 - 1), rate=st.sampled_from([0.0, 0.1, 0.5, 1.0]))
def test_flags_and_counts_match_numpy(x64_on, num_envs, seed, rate):
    previous = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", x64_on)
    try:
        mask = np.random.default_rng(seed).random(num_envs) < rate
        whole = jax.jit(_flags.replicated)(mask)
        counts = jax.jit(_flags.count_through)(mask)
        np.testing.assert_array_equal(np.asarray(whole), mask)
        assert counts.dtype == np.int32 and counts.shape == (num_envs,)
        np.testing.assert_array_equal(np.asarray(counts), np.cumsum(mask))
    finally:
        jax.config.update("jax_enable_x64", previous)


def test_counts_under_vmap_and_scan_match_numpy():
    masks = np.random.default_rng(0).random((5, 48)) < 0.3
    np.testing.assert_array_equal(jax.vmap(_flags.count_through)(masks), np.cumsum(masks, 1))

    def body(carry, mask):
        return carry + _flags.count_through(mask)[-1], _flags.count_through(mask)

    total, counts = jax.lax.scan(body, 0, masks)
    assert int(total) == masks.sum()
    np.testing.assert_array_equal(counts, np.cumsum(masks, 1))
