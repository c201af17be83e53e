"""Gymnasium spaces of one env, read off a family's own space or spec objects (duck-typed).

Traced-side helper of the family modules: it imports Gymnasium (a runtime dependency) but no
env library, and only when a family's ``recorder`` asks for the spaces it knows.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


def to_gymnasium(space: Any) -> gym.Space:
    """A family's space or spec (gymnax, navix, jumanji; duck-typed) as the Gymnasium space.

    Args:
      space: a Gymnasium space (returned as is), a gymnax space (``Discrete``, ``Box``,
        ``Dict``, ``Tuple``), a navix space (``Discrete`` with a shape, ``Continuous``) or a
        jumanji spec (``DiscreteArray``, ``MultiDiscreteArray``, ``BoundedArray``, ``Array``,
        and its nested ``Spec`` as a ``Dict`` of its fields).

    Returns:
      The equivalent ``gymnasium.spaces`` space.

    Raises:
      TypeError: the space has no Gymnasium equivalent fnrec knows.
    """
    if isinstance(space, gym.Space):
        return space
    kind = type(space).__name__
    if kind in ("Discrete", "DiscreteArray") and not tuple(getattr(space, "shape", ()) or ()):
        return gym.spaces.Discrete(int(getattr(space, "n", getattr(space, "num_values", 0))))
    if kind == "MultiDiscreteArray":
        return gym.spaces.MultiDiscrete(np.asarray(space.num_values))
    if kind == "Discrete":  # navix: a grid of values in [0, n)
        shape = tuple(space.shape)
        return gym.spaces.Box(0, int(space.n) - 1, shape, np.dtype(space.dtype))
    if kind in ("Box", "Continuous", "BoundedArray", "Array"):
        dtype = np.dtype(getattr(space, "dtype", np.float32))
        shape = tuple(space.shape)
        low = _bound(space, ("low", "minimum"), dtype, -np.inf, shape)
        high = _bound(space, ("high", "maximum"), dtype, np.inf, shape)
        return gym.spaces.Box(low, high, shape, dtype)
    if kind == "Dict":
        return gym.spaces.Dict({k: to_gymnasium(v) for k, v in space.spaces.items()})
    if kind == "Tuple":
        return gym.spaces.Tuple([to_gymnasium(v) for v in space.spaces])
    if kind == "Spec" and isinstance(getattr(space, "_specs", None), dict):  # jumanji, nested
        return gym.spaces.Dict({k: to_gymnasium(v) for k, v in space._specs.items()})
    raise TypeError(f"cannot convert a {kind} space to Gymnasium's")


def known_spaces(observation: Any, action: Any) -> tuple[Any, Any]:
    """Both spaces converted where they convert, None where they do not (or are None)."""

    def convert(space: Any) -> Any:
        try:
            return None if space is None else to_gymnasium(space)
        except (TypeError, ValueError, AttributeError):
            return None

    return convert(observation), convert(action)


def box_spaces(observation_size: Any, action_size: Any) -> tuple[Any, Any]:
    """brax's sizes as spaces: unbounded observations, actions in [-1, 1]; None where unknown."""
    observation = action = None
    if observation_size is not None and not isinstance(observation_size, dict):
        shape = tuple(int(n) for n in np.atleast_1d(observation_size))
        observation = gym.spaces.Box(-np.inf, np.inf, shape, np.float32)
    if action_size is not None:
        action = gym.spaces.Box(-1.0, 1.0, (int(action_size),), np.float32)
    return observation, action


def _bound(space: Any, names: tuple[str, ...], dtype: np.dtype, default: float, shape: tuple):
    value = next((getattr(space, n) for n in names if getattr(space, n, None) is not None), None)
    if value is None:
        if np.issubdtype(dtype, np.integer):
            info = np.iinfo(dtype)
            value = info.min if default < 0 else info.max
        else:
            value = default
    return np.broadcast_to(np.asarray(value, dtype), shape)
