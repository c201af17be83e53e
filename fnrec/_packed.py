"""One transfer for a pytree of small arrays: packed in-graph into ONE uint8 array, read back
on the host leaf by leaf.

A host loop fetches a step's results every step; ``jax.device_get`` of a tree pays per leaf
(about 20-30 µs each on a CPU, more than a small env's step), one array of their bytes once.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax


class Layout(NamedTuple):
    """Where each leaf lies in the packed bytes: the tree's structure, shapes and dtypes."""

    treedef: Any
    shapes: tuple[tuple[int, ...], ...]
    dtypes: tuple[np.dtype, ...]


def layout(tree: Any) -> Layout | None:
    """The layout of `tree` (arrays or ``jax.ShapeDtypeStruct`` leaves), or None when a leaf
    cannot be packed (a PRNG key, a complex number): fetch the tree as it is then."""
    leaves, treedef = jax.tree.flatten(tree)
    if not all(_packable(x.dtype) for x in leaves):
        return None
    dtypes = tuple(np.dtype(x.dtype) for x in leaves)
    return Layout(treedef, tuple(tuple(x.shape) for x in leaves), dtypes)


def _packable(dtype: Any) -> bool:
    return any(jnp.issubdtype(dtype, kind) for kind in (jnp.bool_, jnp.integer, jnp.floating))


def pack(tree: Any) -> Array:
    """Traced: every leaf's bytes, flattened and concatenated, in one uint8 array."""
    parts = []
    for x in jax.tree.leaves(tree):
        x = jnp.asarray(x)
        if x.dtype == jnp.bool_:
            x = x.astype(jnp.uint8)
        elif x.dtype != jnp.uint8:
            x = lax.bitcast_convert_type(x, jnp.uint8)  # [..., itemsize] (none for 1 byte)
        parts.append(x.reshape(-1))
    if not parts:
        return jnp.zeros(0, jnp.uint8)
    return jnp.concatenate(parts)


def unpack(packed: Any, where: Layout) -> Any:
    """Host: the tree `pack` packed, as numpy arrays (writable views of one copy)."""
    # One copy of the whole buffer (np.asarray of a CPU array may alias the device's), then
    # a view per leaf: jax.device_get and a copy per leaf cost more than a small env's step.
    data = np.array(packed, copy=True)
    leaves, offset = [], 0
    for shape, dtype in zip(where.shapes, where.dtypes, strict=True):
        size = math.prod(shape) * dtype.itemsize
        leaves.append(data[offset : offset + size].view(dtype).reshape(shape))
        offset += size
    return jax.tree.unflatten(where.treedef, leaves)
