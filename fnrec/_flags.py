"""Per-env flags over a possibly sharded env axis: made whole on every device, then counted.

A cumulative sum over a sharded env axis compiles to an all-gather of the flags; these helpers
pack them so that XLA all-reduces a few words instead (``fnrec.stats`` and ``fnrec.capture``).
"""

from __future__ import annotations

import jax.numpy as jnp
from jax import Array, lax


def replicated(mask: Array) -> Array:
    """The same flags, computed so that a sharded env axis is all-reduced, never all-gathered.

    The flags are packed along a strided grid [R, N/R] (R the largest power of two <= 32
    dividing N; flag i at row i // (N/R)), and the rows summed into N/R words: a device count
    along the env axis that divides R holds whole rows, so the sum is per device, then an
    all-reduce of N/R words, and the unpacked flags are whole everywhere. (Packing 32
    consecutive flags instead gathers the mask when a device's share is not whole words.) On
    one device XLA fuses the unpacking into what consumes it: one more pass.

    Args:
      mask: bool[N].

    Returns:
      bool[N], equal to `mask`.
    """
    return _grid(*_words(mask)).astype(jnp.bool_).reshape(mask.shape[0])


def count_through(mask: Array) -> Array:
    """How many flags are set at or before each index (an inclusive prefix count).

    Computed from the all-reduced words of ``replicated``, row by row of its grid: the count of
    a row's flags is a popcount of the words' lower bits (the rows before) plus a cumulative
    sum along the row. Every device computes its own envs' counts; a cumulative sum along the
    env axis would all-gather it where XLA splits it.

    Args:
      mask: bool[N].

    Returns:
      int32[N].
    """
    words, shifts = _words(mask)
    bits = _grid(words, shifts).astype(jnp.int32)
    below = jnp.left_shift(jnp.uint32(1), shifts) - 1  # the bits of the rows before
    rows_before = jnp.sum(lax.population_count(words[None, :] & below), axis=1, dtype=jnp.int32)
    within_row = jnp.cumsum(bits, axis=1, dtype=jnp.int32)
    return (within_row + rows_before[:, None]).reshape(mask.shape[0])


def _words(mask: Array) -> tuple[Array, Array]:
    """The flags packed on the grid of ``replicated``: uint32[N/R] words and the row shifts."""
    num_envs = mask.shape[0]
    rows = min(32, num_envs & -num_envs)
    shifts = jnp.arange(rows, dtype=jnp.uint32)[:, None]
    grid = mask.reshape(rows, num_envs // rows).astype(jnp.uint32)
    return jnp.sum(grid << shifts, axis=0, dtype=jnp.uint32), shifts


def _grid(words: Array, shifts: Array) -> Array:
    """The flags unpacked from the words onto the grid [R, N/R] (0/1, uint32)."""
    return (words[None, :] >> shifts) & 1
