"""Statistics and capture over navix environments (``reset(key)``, ``step(timestep, action)``).

navix's ``Timestep`` carries the whole env (``t``, ``observation``, ``reward``, ``step_type``,
``state``); its ``step_type`` is mapped exactly: ``TRANSITION`` (0) continues, ``TRUNCATION`` (1,
``t >= env.max_steps``) is truncated, ``TERMINATION`` (2, the env's termination function; navix
gives 2 when both hold) is terminated.

navix's own ``step`` resets one step after a done (next-step autoreset, from the done state's
key). ``NavixAdapter`` calls the transition without that reset (``env._step``, navix's hook, as
gymnax's ``step_env``) and lets the core (``fnrec.adapters.core``) do the rest: fnrec's time
limit, the autoreset in the statistics' mode (default ``"next_step"``, navix's convention; new
episodes from fnrec's key) and capture. ``num_envs=N`` batches the env with ``core.vmapped`` (one
shared queue); ``jax.vmap`` the adapter for one queue per env. The env state the core (and the
capture) sees is navix's ``Timestep``; ``fnrec.adapters.navix.render`` draws it as navix's
``observations.rgb`` does, jittable (``export_videos(..., render)`` on the device, or
``episode_capture(content=render)`` to keep frames instead of states).

navix is not imported by the adapter: it duck-types the env. Example::

    >>> import jax, jax.numpy as jnp, navix, fnrec
    >>> env = fnrec.adapters.NavixAdapter(navix.make("Navix-Empty-5x5-v0", max_steps=10),
    ...                                   num_envs=4)
    >>> state, obs = env.reset(jax.random.key(0))
    >>> step = jax.jit(env.step)
    >>> for t in range(10):
    ...     out = step(state, jnp.full(4, 2), jax.random.key(t))   # 2: forward
    ...     state = out.state
    >>> fnrec.stats.queues(state.stats)["terminated_queue"].tolist()
    [False, False, False, False]
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax import Array

from fnrec import _checks
from fnrec.adapters import core
from fnrec.adapters.core import EnvFns, EnvReset, EnvStep, Recorded, Recording, StepResult
from fnrec.capture import EpisodeCapture
from fnrec.history import EpisodeHistory
from fnrec.stats import EpisodeStatistics, episode_statistics

TRUNCATION, TERMINATION = 1, 2  # navix's StepType


def render(timestep: Any) -> Array:
    """One navix Timestep as an RGB frame (navix's ``observations.rgb`` of its state; jittable).

    Args:
      timestep: a navix ``Timestep`` (what the capture keeps).

    Returns:
      uint8[H * S, W * S, 3]: navix's sprites, S pixels a tile.
    """
    import navix  # the renderer is navix's own

    return navix.observations.rgb(timestep.state)


class NavixAdapter(core.Wrapper):
    """Records episode statistics (and captures episodes) of a navix environment.

    Args:
      env: a navix ``Environment`` (``navix.make(...)``), with ``reset`` and ``_step``.
      statistics: an ``fnrec.stats.episode_statistics(...)`` in any mode; default 100 episodes,
        ``"next_step"`` (navix's own autoreset convention).
      capture: None, or an ``fnrec.capture.episode_capture(...)``; the env state it keeps is
        navix's Timestep (``content=render`` keeps frames). Its state holds navix's key: use
        ``jax.random.PRNGKey`` keys (uint32) to export the states themselves.
      history: None, or an ``fnrec.history.episode_history(...)``.
      max_episode_steps: None, or fnrec's time limit on top of navix's ``max_steps``.
      num_envs: None for one env; N for a batch of N with one shared queue.
    """

    kind = "navix Environment"

    def __init__(
        self,
        env: Any,
        statistics: EpisodeStatistics | None = None,
        capture: EpisodeCapture | None = None,
        history: EpisodeHistory | None = None,
        max_episode_steps: int | None = None,
        num_envs: int | None = None,
    ) -> None:
        if statistics is None:
            statistics = episode_statistics(autoreset_mode="next_step")
        super().__init__(env, Recording(statistics, capture, max_episode_steps, history))
        core.check_env(env, ("reset", "_step"), "navix Environment")
        _checks.check_num_envs(num_envs)
        self.num_envs = num_envs
        fns = EnvFns(self._env_step, self._env_reset)
        self.fns = fns if num_envs is None else core.vmapped(fns, num_envs)

    def _env_step(self, timestep: Any, action: Any, key: Array) -> EnvStep:
        """navix's transition without its reset; its step type read exactly."""
        del key  # navix draws from the key in its state
        new = self.env._step(timestep, jnp.asarray(action))
        step_type = jnp.asarray(new.step_type)
        terminated, truncated = step_type == TERMINATION, step_type == TRUNCATION
        return EnvStep(new, new.observation, new.reward, terminated, truncated, {})

    def _env_reset(self, key: Array) -> EnvReset:
        timestep = self.env.reset(key)
        return EnvReset(timestep, timestep.observation)

    def reset(self, key: Array) -> tuple[Recorded, Any]:
        """Fresh episodes and statistics.

        Args:
          key: one PRNG key (split per env with ``num_envs``).

        Returns:
          ``(state, obs)``: the Recorded state (its ``env_state`` is navix's Timestep) and the
          first observation(s).
        """
        return self.init_from(self.fns.reset(self.checked_reset(key)))

    def step(self, state: Recorded, action: Any, key: Array) -> StepResult:
        """One recorded step (navix's transition, fnrec's time limit, autoreset and capture).

        Args:
          state: the Recorded state.
          action: the action(s) (a leading [N] axis with ``num_envs``).
          key: one PRNG key (for the new episodes).

        Returns:
          A ``core.StepResult``.
        """
        action = self.checked_step(state, action, key)
        return self.recording.step(self.fns, state, action, key)
