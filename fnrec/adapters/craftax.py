"""Statistics and capture over craftax (gymnax's API), with its time limit read as truncation.

craftax envs have gymnax 0.0.x's signatures (``reset(key, params)``, ``step(key, state, action,
params) -> (obs, state, reward, done, info)``, and ``step_env``/``reset_env``), so they go
through ``GymnaxAdapter`` and the core. Their ``done`` merges the time limit with the end of
the game (death, lava, the final boss), and their ``info["discount"]`` is 0 for both, so
neither tells a truncation from a termination. ``CraftaxAdapter`` reads it off craftax's own
fields: an episode is truncated when it is done, ``state.timestep >= params.max_timesteps``,
and the env's own ``is_terminal`` with the time limit lifted says the game did not end; every
other done is a termination (so one that dies on its last allowed step reads as terminated).

``GymnaxAdapter`` then does the rest: the adapter calls ``step_env``/``reset_env`` (both
craftax's auto-reset and no-auto-reset classes have them) and does gymnax's same-step autoreset
with gymnax's keys, as craftax's own auto-reset ``step`` does; capture keeps craftax's
``EnvState``; ``num_envs=N`` gives one shared queue, ``jax.vmap`` one queue per env. craftax is
not imported: the adapter duck-types the env.

Example (craftax classic with a 20-step limit: every episode is truncated)::

    >>> import jax, jax.numpy as jnp, fnrec
    >>> from craftax.craftax_env import make_craftax_env_from_name
    >>> env = make_craftax_env_from_name("Craftax-Classic-Symbolic-v1", auto_reset=False)
    >>> params = env.default_params.replace(max_timesteps=20)
    >>> env = fnrec.adapters.CraftaxAdapter(env, num_envs=2)
    >>> obs, state = env.reset(jax.random.key(0), params)
    >>> step = jax.jit(env.step)
    >>> for t in range(20):
    ...     obs, state, reward, done, info = step(jax.random.key(t), state, jnp.zeros(2, int),
    ...                                           params)
    >>> info["truncated"].tolist(), info["terminated"].tolist()
    ([True, True], [False, False])
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax import Array

from fnrec.adapters.gymnax import GymnaxAdapter
from fnrec.capture import EpisodeCapture
from fnrec.history import EpisodeHistory
from fnrec.stats import EpisodeStatistics

NO_LIMIT = 2**31 - 1  # max_timesteps for craftax's is_terminal without its time limit


class _ReadsTruncation:
    """A craftax env whose ``step_env`` adds ``info["truncated"]`` (read from craftax's fields)."""

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


class CraftaxAdapter(GymnaxAdapter):
    """``GymnaxAdapter`` over a craftax env, with its time limit reported as truncation.

    Args:
      env: a craftax env (``make_craftax_env_from_name(name, auto_reset=...)``).
      statistics, capture, history, num_envs, log_wrapper_info: as ``GymnaxAdapter``'s.
    """

    kind = "craftax environment"

    def __init__(
        self,
        env: Any,
        statistics: EpisodeStatistics | None = None,
        capture: EpisodeCapture | None = None,
        history: EpisodeHistory | None = None,
        num_envs: int | None = None,
        log_wrapper_info: bool = False,
    ) -> None:
        methods = ("step_env", "reset_env", "is_terminal")
        has_methods = all(callable(getattr(type(env), name, None)) for name in methods)
        if not has_methods or not hasattr(getattr(env, "default_params", None), "max_timesteps"):
            raise TypeError(
                "`env` must be a craftax environment (with step_env, reset_env, is_terminal and "
                f"params.max_timesteps), got {type(env).__name__}"
            )
        super().__init__(
            _ReadsTruncation(env), statistics, capture, history, "done", num_envs,
            log_wrapper_info,
        )  # fmt: skip
