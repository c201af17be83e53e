"""Host side: a host action checked against ONE env's Gymnasium action space."""

from __future__ import annotations

import gymnasium as gym
import numpy as np


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
