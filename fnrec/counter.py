"""Exact 64-bit counters built from two uint32 words, so they never wrap with x64 off.

A counter is a ``(hi, lo)`` pair of uint32 arrays of the same shape; its value is
``hi * 2**32 + lo``. The same dtypes are used with ``jax_enable_x64`` on and off.
"""

from __future__ import annotations

from typing import NamedTuple

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike


class Counter64(NamedTuple):
    """A non-negative integer counter exact up to 2**64 - 1.

    Attributes:
      hi: uint32, the high word.
      lo: uint32, the low word.
    """

    hi: Array
    lo: Array


def zeros(shape: tuple[int, ...] = ()) -> Counter64:
    """A counter (or array of counters) at zero.

    Args:
      shape: the shape of the counter arrays.

    Returns:
      A Counter64 of zeros.
    """
    zero = jnp.zeros(shape, jnp.uint32)
    return Counter64(zero, zero)


def add(counter: Counter64, increment: ArrayLike) -> Counter64:
    """Adds a non-negative increment below 2**32 to a counter, carrying into the high word.

    Args:
      counter: the counter.
      increment: a non-negative integer (array) below 2**32, broadcastable to the counter.

    Returns:
      The incremented counter.
    """
    lo = counter.lo + jnp.asarray(increment).astype(jnp.uint32)
    carry = (lo < counter.lo).astype(jnp.uint32)  # unsigned overflow wrapped the low word
    return Counter64(counter.hi + carry, lo)


def to_int(counter: Counter64) -> int:
    """Host side: the value of a scalar counter as a Python int.

    Args:
      counter: a counter with scalar words (numpy or jax).

    Returns:
      ``hi * 2**32 + lo`` as a Python int.
    """
    return (int(counter.hi) << 32) + int(counter.lo)
