"""Video triggers that work on Python ints and, unchanged, on jnp arrays inside jit and vmap.

Both capture (``fnrec.capture``, on int32 ids inside jit) and the host wrappers (``RecordVideo``,
on Python ints) take them.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import overload

import jax
import jax.numpy as jnp

# Cubes below 1000: the ids Gymnasium's schedule records before it switches to every 1000th.
_CUBES = tuple(k**3 for k in range(10))


@overload
def capped_cubic_video_schedule(episode_id: int) -> bool: ...
@overload
def capped_cubic_video_schedule(episode_id: jax.Array) -> jax.Array: ...


def capped_cubic_video_schedule(episode_id: int | jax.Array) -> bool | jax.Array:
    """Gymnasium's default episode trigger: ids 0, 1, 8, 27, ..., 729, then every multiple of 1000.

    Args:
      episode_id: a Python or numpy integer, or an integer array of any shape, traced or not.

    Returns:
      A Python bool for an integer input (negative ids give False), else a boolean jnp array of the
      same shape as `episode_id`.
    """
    if isinstance(episode_id, numbers.Integral):
        episode_id = int(episode_id)
        if episode_id < 0:
            return False
        return episode_id in _CUBES if episode_id < 1000 else episode_id % 1000 == 0
    ids = jnp.asarray(episode_id)
    if not jnp.issubdtype(ids.dtype, jnp.integer):
        raise TypeError(f"episode_id must be an integer or integer array, got dtype {ids.dtype}")
    if ids.dtype.itemsize < 4:  # int8/uint8/int16 cannot hold 729 or 1000
        ids = ids.astype(jnp.int32)
    is_cube = jnp.any(ids[..., None] == jnp.asarray(_CUBES, dtype=ids.dtype), axis=-1)
    return jnp.where(ids < 1000, is_cube, ids % 1000 == 0)


def every(k: int) -> Callable[[int | jax.Array], bool | jax.Array]:
    """A trigger that fires on ids 0, k, 2k, ... (every k-th episode), in and out of jit.

    Args:
      k: the period, an int >= 1.

    Returns:
      A function of an episode id (a Python int, giving a bool, or an integer array, giving a
      bool array of its shape); negative ids give False.
    """
    if isinstance(k, bool) or not isinstance(k, numbers.Integral) or k < 1:
        raise ValueError(f"`k` must be an int >= 1, got {k!r}")
    k = int(k)

    def trigger(episode_id: int | jax.Array) -> bool | jax.Array:
        if isinstance(episode_id, numbers.Integral):
            return int(episode_id) >= 0 and int(episode_id) % k == 0
        ids = jnp.asarray(episode_id)
        if not jnp.issubdtype(ids.dtype, jnp.integer):
            raise TypeError(
                f"episode_id must be an integer or integer array, got dtype {ids.dtype}"
            )
        return (
            (ids >= 0) & (ids % jnp.asarray(k, ids.dtype) == 0)
            if k <= jnp.iinfo(ids.dtype).max
            else ids == 0
        )

    trigger.__name__ = trigger.__qualname__ = f"every_{k}"
    return trigger
