"""Reading environment states given as flat arrays or as objects with named fields (duck typing)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np


def state_fields(state: Any, fields: tuple[str, ...], where: str) -> jax.Array:
    """The named fields of one environment state as a float32 vector.

    Args:
      state: a flat array of shape (len(fields),), or an object (gymnax EnvState, NamedTuple,
        dataclass) with these fields as scalar attributes.
      fields: the field names, in the flat array's order.
      where: the calling function's name, for error messages.

    Returns:
      float32[len(fields)].

    Raises:
      ValueError: at trace time, when the shape is not the expected one.
    """
    if all(hasattr(state, f) for f in fields):
        values = [jnp.asarray(getattr(state, f)) for f in fields]
        for f, v in zip(fields, values, strict=True):
            if v.shape != ():
                raise ValueError(
                    f"{where}: `state.{f}` must be a scalar (shape ()), got shape {v.shape}; "
                    f"use jax.vmap({where}) for a batch of states"
                )
        return jnp.stack([v.astype(jnp.float32) for v in values])
    message = (
        f"{where}: `state` must be an array of shape ({len(fields)},) ({', '.join(fields)}) or "
        f"an object with those attributes, got {type(state).__name__}"
    )
    if state is None or isinstance(state, (str, bytes)):
        raise TypeError(message)
    try:  # host data (lists, numpy) through numpy: JAX would overflow on big Python ints
        arr = state if isinstance(state, jax.Array) else np.asarray(state)
    except (TypeError, ValueError, OverflowError) as error:
        raise TypeError(message) from error
    if not (arr.dtype == jnp.bool_ or jnp.issubdtype(arr.dtype, jnp.integer)
            or jnp.issubdtype(arr.dtype, jnp.floating)):  # fmt: skip
        raise TypeError(f"{message} of dtype {arr.dtype}")
    expected = (len(fields),)
    if arr.shape != expected:
        raise ValueError(
            f"{where}: `state` must have shape {expected} ({', '.join(fields)}) or be an object "
            f"with those attributes, got shape {arr.shape}; use jax.vmap({where}) for a batch"
        )
    if isinstance(arr, np.ndarray):
        with np.errstate(over="ignore"):  # beyond float32's range is +-inf, as in JAX
            arr = arr.astype(np.float32)
    return jnp.asarray(arr).astype(jnp.float32)
