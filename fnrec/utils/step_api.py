"""Step-API conversion for functional step results: Gymnasium's functions, pure and jittable.

Gymnasium's ``gymnasium.utils.step_api_compatibility`` converts between the done step API
``(obs, reward, done, info)`` and the terminated/truncated one ``(obs, reward, terminated,
truncated, info)``, reading and writing ``info["TimeLimit.truncated"]``. These do the same with
``jnp`` logic, so they work inside ``jit``/``vmap``/``scan`` and on batches (the flags are
elementwise), and they never change the given ``info`` (a new dict is returned). With
``has_state=True`` they take gymnax's layouts, the env state second: ``(obs, state, reward, done,
info)`` (gymnax 0.0.x) and ``(obs, state, reward, terminated, truncated, info)`` (gymnax 1.x).

A done step with no ``"TimeLimit.truncated"`` in its info reads as terminated, as in Gymnasium.
gymnax 0.0.x puts its time limit inside ``done`` and says nothing in ``info``: use
``fnrec.adapters.GymnaxAdapter``, which reads it back off the env state.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
import numpy as np

TRUNCATED_KEY = "TimeLimit.truncated"


def _split(step_returns: Any, has_state: bool) -> tuple[tuple, tuple, Any]:
    """(head, flags, info): head is obs (and state), then reward; flags are the done flag(s)."""
    if not isinstance(step_returns, tuple):
        raise TypeError(f"`step_returns` must be a tuple, got {type(step_returns).__name__}")
    head = 3 if has_state else 2
    if len(step_returns) not in (head + 2, head + 3):
        layouts = (
            "(obs, state, reward, done, info) or (obs, state, reward, terminated, truncated, info)"
            if has_state
            else "(obs, reward, done, info) or (obs, reward, terminated, truncated, info)"
        )
        raise ValueError(
            f"`step_returns` must be {layouts} (has_state={has_state}), got a tuple of "
            f"{len(step_returns)}"
        )
    info = step_returns[-1]
    if not isinstance(info, (dict, list)):
        raise TypeError(
            f"`step_returns`' info (its last item) must be a dict or a list of dicts, got "
            f"{type(info).__name__}"
        )
    return step_returns[:head], step_returns[head:-1], info


def _bool(x: Any) -> Any:
    return jnp.asarray(x).astype(jnp.bool_)


def convert_to_terminated_truncated_step_api(
    step_returns: tuple, is_vector_env: bool = False, has_state: bool = False
) -> tuple:
    """A step result in the terminated/truncated API, whatever API it came in.

    Args:
      step_returns: a step result, done or terminated/truncated API (see the module docstring).
      is_vector_env: whether it is a batch's (flags [N]); info may then be a list of dicts.
      has_state: gymnax's layouts, with the env state second.

    Returns:
      ``(obs, reward, terminated, truncated, info)`` (gymnax: ``(obs, state, reward,
      terminated, truncated, info)``); ``info`` without ``"TimeLimit.truncated"``.

    Example::

        >>> import jax, jax.numpy as jnp
        >>> from fnrec.utils import convert_to_terminated_truncated_step_api as convert
        >>> step = (jnp.zeros(2), 1.0, jnp.array([True, True]),
        ...         {"TimeLimit.truncated": jnp.array([False, True])})
        >>> _, _, terminated, truncated, info = jax.jit(lambda s: convert(s, True))(step)
        >>> terminated.tolist(), truncated.tolist(), info
        ([True, False], [False, True], {})
    """
    head, flags, info = _split(step_returns, has_state)
    if len(flags) == 2:
        return step_returns
    (done,) = flags
    done = _bool(done)
    if isinstance(info, list):  # a host vector env's list of dicts
        truncated = np.array([bool(i.get(TRUNCATED_KEY, False)) for i in info])
        info = [{k: v for k, v in i.items() if k != TRUNCATED_KEY} for i in info]
    else:
        truncated = _bool(info.get(TRUNCATED_KEY, jnp.zeros_like(done)))
        info = {k: v for k, v in info.items() if k != TRUNCATED_KEY}
    del is_vector_env  # the flags are elementwise either way
    return (*head, done & ~truncated, done & truncated, info)


def convert_to_done_step_api(
    step_returns: tuple, is_vector_env: bool = False, has_state: bool = False
) -> tuple:
    """A step result in the done API, whatever API it came in.

    ``info["TimeLimit.truncated"]`` is set to ``truncated & ~terminated``; unlike Gymnasium,
    always (inside jit whether an episode ended is not known while tracing), so it is False
    where nothing ended.

    Args:
      step_returns: a step result, done or terminated/truncated API.
      is_vector_env: whether it is a batch's; info may then be a list of dicts.
      has_state: gymnax's layouts, with the env state second.

    Returns:
      ``(obs, reward, done, info)`` (gymnax: ``(obs, state, reward, done, info)``).
    """
    head, flags, info = _split(step_returns, has_state)
    if len(flags) == 1:
        return step_returns
    terminated, truncated = (_bool(f) for f in flags)
    cut = truncated & ~terminated
    if isinstance(info, list):
        cuts = np.asarray(cut)
        info = [{**i, TRUNCATED_KEY: bool(c)} for i, c in zip(info, cuts, strict=True)]
    else:
        info = {**info, TRUNCATED_KEY: cut}
    del is_vector_env
    return (*head, terminated | truncated, info)


def step_api_compatibility(
    step_returns: tuple,
    output_truncation_bool: bool = True,
    is_vector_env: bool = False,
    has_state: bool = False,
) -> tuple:
    """A step result in the API that `output_truncation_bool` names (Gymnasium's function).

    Args:
      step_returns: a step result, done or terminated/truncated API.
      output_truncation_bool: True: terminated/truncated API; False: done API.
      is_vector_env: whether it is a batch's.
      has_state: gymnax's layouts, with the env state second.

    Returns:
      The converted step result.
    """
    if output_truncation_bool:
        return convert_to_terminated_truncated_step_api(step_returns, is_vector_env, has_state)
    return convert_to_done_step_api(step_returns, is_vector_env, has_state)
