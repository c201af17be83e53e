"""craftax envs as a recorder (gymnax's API), with craftax's time limit read as truncation.

craftax envs have gymnax 0.0.x's signatures and ``step_env``/``reset_env``, so they go through
the gymnax family. Their ``done`` merges the time limit with the end of the game (death, lava,
the final boss), and their ``info["discount"]`` is 0 for both, so neither tells a truncation
from a termination. This module reads it off craftax's own fields: an episode is truncated when
it is done, ``state.timestep >= params.max_timesteps``, and the env's own ``is_terminal`` with
the time limit lifted says the game did not end; every other done is a termination (so one
that dies on its last allowed step reads as terminated).

``recorder(env, recording, num_envs, params)`` is the family's entry: gymnax's same-step
autoreset with gymnax's keys (as craftax's own auto-reset ``step`` does), capture of craftax's
``EnvState``. For gymnax's signatures (craftax_baselines' LogWrapper swap), use
``fnrec.adapters.GymnaxAdapter(with_truncation(env), ...)``. craftax is not imported (only by
``achievement_metrics``, for the achievements' names): the family duck-types the env.

Example (craftax classic with a 20-step limit: every episode is truncated)::

    >>> import jax, jax.numpy as jnp, fnrec
    >>> from craftax.craftax_env import make_craftax_env_from_name
    >>> env = make_craftax_env_from_name("Craftax-Classic-Symbolic-v1", auto_reset=False)
    >>> params = env.default_params.replace(max_timesteps=20)
    >>> rec = fnrec.adapters.craftax.recorder(env, num_envs=2, params=params)
    >>> state, obs = rec.init(jax.random.key(0))
    >>> step = jax.jit(rec.step)
    >>> for t in range(20):
    ...     out = step(state, jnp.zeros(2, int))
    ...     state = out.state
    >>> out.truncated.tolist(), out.terminated.tolist()
    ([True, True], [False, False])
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import Array

from fnrec.adapters import gymnax
from fnrec.adapters.core import Recording
from fnrec.recorders import Recorder
from fnrec.stats import Metric, metric

NO_LIMIT = 2**31 - 1  # max_timesteps for craftax's is_terminal without its time limit


class _ReadsTruncation:
    """A craftax env whose ``step_env`` adds ``info["truncated"]`` (read from craftax's fields).

    A class of its own (not an instance attribute) so gymnax's duck-typing sees ``step_env``.
    """

    def __init__(self, env: Any) -> None:
        self.env = env

    def step_env(self, key: Array, state: Any, action: Any, params: Any) -> tuple:
        obs, state, reward, done, info = self.env.step_env(key, state, action, params)
        return obs, state, reward, done, {**info, "truncated": truncated(self.env, state, params)}

    def reset_env(self, key: Array, params: Any) -> tuple:
        return self.env.reset_env(key, params)

    def __getattr__(self, name: str) -> Any:
        if name == "env":
            raise AttributeError(name)
        return getattr(self.env, name)


def truncated(env: Any, state: Any, params: Any) -> Array:
    """Whether craftax ended this episode by its time limit only.

    Args:
      env: the craftax env (with ``is_terminal(state, params)``).
      state: the state after the step.
      params: the env params (with ``max_timesteps``).

    Returns:
      bool: ``state.timestep >= params.max_timesteps`` and not terminal without that limit.
    """
    timed_out = jnp.asarray(state.timestep) >= params.max_timesteps
    game_over = env.is_terminal(state, params.replace(max_timesteps=NO_LIMIT))
    return timed_out & ~jnp.asarray(game_over, bool)


def recorder(
    env: Any, recording: Recording | None = None, num_envs: int | None = None, params: Any = None
) -> Recorder:
    """A craftax env as a ``fnrec.Recorder`` (the family's entry), its time limit as truncation.

    Args:
      env: a craftax env (``make_craftax_env_from_name(name, auto_reset=...)``).
      recording: what is recorded (default ``fnrec.Recording()``; ``"same_step"`` statistics).
      num_envs: None for one env, or N for a batch with one shared queue.
      params: the env params (None: ``env.default_params``).

    Returns:
      The Recorder (gymnax's, over craftax's transition with truncation read).
    """
    rec = gymnax.recorder(with_truncation(env), recording, num_envs, params)
    return rec._replace(spec=rec.spec._replace(name=f"craftax({type(env).__name__})"))


def achievement_metrics(env: Any, params: Any = None) -> tuple[Metric, ...]:
    """craftax's achievements per episode: one metric per achievement, 1.0 when the episode
    unlocked it, else 0.0 (``"achievement_collect_wood"``, ...; for
    ``fnrec.stats.episode_statistics(metrics=...)``).

    Each finished episode then carries them in ``info["episode"]``, the queues (their means in
    ``summary`` are the unlock rates craftax papers report), histories and the episode log.

    Args:
      env: a craftax env (classic's 22 achievements or Craftax's 67, read off its state).
      params: the env params (None: ``env.default_params``).

    Returns:
      One ``fnrec.stats.Metric`` per achievement, in craftax's order.
    """
    with_truncation(env)  # the same check: a craftax env
    params = env.default_params if params is None else params
    _, state = jax.eval_shape(env.reset_env, jax.random.PRNGKey(0), params)
    count = state.achievements.shape[-1]
    from craftax.craftax.constants import Achievement as Full
    from craftax.craftax_classic.constants import Achievement as Classic

    names = {len(kind): {a.value: a.name.lower() for a in kind} for kind in (Classic, Full)}
    named = names.get(count, {})
    return tuple(
        metric(
            f"achievement_{named.get(i, i)}",
            lambda t, i=i: t.env_state.achievements[..., i],
            "any",
        )
        for i in range(count)
    )


def with_truncation(env: Any) -> Any:
    """`env` with its ``step_env`` reporting ``info["truncated"]`` (for gymnax's signatures:
    ``fnrec.adapters.GymnaxAdapter(with_truncation(env), ...)`` is the LogWrapper swap)."""
    methods = ("step_env", "reset_env", "is_terminal")
    has_methods = all(callable(getattr(type(env), name, None)) for name in methods)
    if not has_methods or not hasattr(getattr(env, "default_params", None), "max_timesteps"):
        raise TypeError(
            "`env` must be a craftax environment (with step_env, reset_env, is_terminal and "
            f"params.max_timesteps), got {type(env).__name__}"
        )
    return _ReadsTruncation(env)
