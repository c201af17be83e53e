"""Host side: Gymnasium spaces of one env of any adapter (FuncEnv, gymnax, brax, or your own)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np


def single_spaces(adapter: Any, params: Any = None) -> tuple[gym.Space, gym.Space]:
    """The observation and action spaces of ONE env of `adapter`, as Gymnasium spaces.

    Read from, in this order: Gymnasium spaces on the adapter (``observation_space`` /
    ``action_space``, a FuncEnv's), gymnax's ``observation_space(params)`` /
    ``action_space(params)`` (converted), brax's ``observation_size`` / ``action_size``
    (unbounded observations, actions in [-1, 1]).

    Args:
      adapter: an fnrec adapter.
      params: the env params (gymnax), or None.

    Returns:
      ``(observation_space, action_space)``.
    """
    obs, act = getattr(adapter, "observation_space", None), getattr(adapter, "action_space", None)
    if isinstance(obs, gym.Space) and isinstance(act, gym.Space):
        return obs, act
    if callable(obs) and callable(act):  # gymnax
        params = getattr(adapter, "default_params", None) if params is None else params
        return to_gymnasium(obs(params)), to_gymnasium(act(params))
    obs_size, act_size = (
        getattr(adapter, "observation_size", None),
        getattr(adapter, "action_size", None),
    )
    if obs_size is not None and act_size is not None:  # brax / MuJoCo Playground
        obs_shape = tuple(np.atleast_1d(obs_size)) if not isinstance(obs_size, dict) else None
        if obs_shape is None:
            raise TypeError("dict observations (brax observation_size as a dict) need spaces given")
        observation = gym.spaces.Box(-np.inf, np.inf, obs_shape, np.float32)
        return observation, gym.spaces.Box(-1.0, 1.0, (int(act_size),), np.float32)
    raise TypeError(
        f"cannot read the spaces of {type(adapter).__name__}: give it Gymnasium "
        "`observation_space` and `action_space` attributes"
    )


def to_gymnasium(space: Any) -> gym.Space:
    """A gymnax space (Discrete, Box, Dict, Tuple; duck-typed) as the Gymnasium space.

    Args:
      space: the gymnax space.

    Returns:
      The equivalent ``gymnasium.spaces`` space.
    """
    if isinstance(space, gym.Space):
        return space
    kind = type(space).__name__
    if kind == "Discrete":
        return gym.spaces.Discrete(int(space.n))
    if kind == "Box":
        dtype = np.dtype(getattr(space, "dtype", np.float32))
        shape = tuple(space.shape)
        low = np.broadcast_to(np.asarray(space.low, dtype), shape)
        high = np.broadcast_to(np.asarray(space.high, dtype), shape)
        return gym.spaces.Box(low, high, shape, dtype)
    if kind == "Dict":
        return gym.spaces.Dict({k: to_gymnasium(v) for k, v in space.spaces.items()})
    if kind == "Tuple":
        return gym.spaces.Tuple([to_gymnasium(v) for v in space.spaces])
    raise TypeError(f"cannot convert a {kind} space to Gymnasium's")


def check_action(action: np.ndarray, space: gym.Space, num_envs: int | None) -> None:
    """Raises unless every env's action is in the discrete action `space`, as Gymnasium's envs do.

    Discrete, MultiDiscrete and MultiBinary actions must be integers (or bools) within the
    space; Box actions are left to the env, which clips them as Gymnasium's Box envs do. The
    shape is checked by the adapter.

    Args:
      action: the action (one env) or actions (a leading axis of `num_envs`), as numpy.
      space: ONE env's action space.
      num_envs: None for one env, else the batch size.

    Raises:
      TypeError: a float (or other non-integer) action for a discrete space.
      ValueError: an action outside the space, naming the env.
    """
    if isinstance(space, gym.spaces.Discrete):
        low, high = np.int64(space.start), np.int64(space.start) + np.int64(space.n)
        expected = f"an integer in [{low}, {high})"
    elif isinstance(space, gym.spaces.MultiDiscrete):
        low, high = np.asarray(space.start), np.asarray(space.start) + np.asarray(space.nvec)
        expected = "integers in [start, start + nvec)"
    elif isinstance(space, gym.spaces.MultiBinary):
        low, high = np.int64(0), np.int64(2)
        expected = "0s and 1s"
    else:
        return
    if action.dtype.kind not in "biu":
        raise TypeError(
            f"`action` must be {expected} (action_space={space}), got dtype {action.dtype}: "
            f"{action.tolist()!r}"
        )
    inside = (action >= low) & (action < high)
    if inside.all():
        return
    if num_envs is None:
        raise ValueError(
            f"`action` must be {expected} (action_space={space}), got {action.tolist()!r}"
        )
    env = int(np.flatnonzero(~inside.reshape(num_envs, -1).all(axis=1))[0])
    got = action[env].tolist()
    raise ValueError(
        f"`action` of env {env} must be {expected} (action_space={space}), got {got!r}"
    )
