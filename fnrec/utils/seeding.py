"""Gymnasium-style seeds to JAX keys, the same way everywhere in fnrec."""

from __future__ import annotations

import numbers

import jax
import numpy as np
from jax import Array

_MAX_SEED = 2**64 - 1


def key_from_seed(seed: int | np.integer | None) -> Array:
    """A JAX PRNG key (raw ``uint32[2]``, as ``jax.random.PRNGKey``) from a Gymnasium seed.

    The key's words are the seed's high and low 32 bits, so for every seed that
    ``jax.random.PRNGKey`` takes it gives the same key, with ``jax_enable_x64`` on or off, and
    seeds up to ``2**64 - 1`` (all that Gymnasium's ``np_random`` takes) work too.

    Args:
      seed: a Python or numpy integer in ``[0, 2**64 - 1]``, or None for a fresh random seed
        (drawn from the operating system, as ``numpy.random.SeedSequence`` does).

    Returns:
      A ``uint32[2]`` key.

    Raises:
      gymnasium.error.Error: `seed` is not an integer, or is negative, as Gymnasium's seeding
        raises; ValueError: `seed` is above ``2**64 - 1``.

    Example::

        >>> import jax
        >>> from fnrec.utils import key_from_seed
        >>> bool((key_from_seed(7) == jax.random.PRNGKey(7)).all())
        True
    """
    import gymnasium as gym  # Gymnasium's error type, as the host envs raise

    if seed is None:
        seed = int(np.random.SeedSequence().generate_state(2, np.uint32).view(np.uint64)[0])
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise gym.error.Error(f"Seed must be a python integer, actual type: {type(seed)}")
    seed = int(seed)
    if seed < 0:
        raise gym.error.Error(f"Seed must be greater or equal to zero, actual value: {seed}")
    if seed > _MAX_SEED:
        raise ValueError(f"`seed` must be at most 2**64 - 1, got {seed}")
    words = np.array([seed >> 32, seed & 0xFFFFFFFF], np.uint32)
    return jax.numpy.asarray(words)
