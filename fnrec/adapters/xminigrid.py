"""Statistics and capture over XLand-MiniGrid (``xminigrid``) environments.

XLand-MiniGrid has ``reset(params, key) -> TimeStep`` and ``step(params, timestep, action) ->
TimeStep``; its ``TimeStep`` (``state``, ``step_type``, ``reward``, ``discount``,
``observation``) follows dm_env: a ``LAST`` step with discount 0 is a termination (the goal), a
``LAST`` step with discount 1 a truncation (``params.max_steps``; a goal reached on the last
allowed step has discount 0 and reads as termination), as ``fnrec.adapters.jumanji.dm_env_flags``
reads it.

``XMiniGridAdapter(env)`` keeps those signatures (``params`` first) and goes through the core
(``fnrec.adapters.core``): the env's step without reset, then fnrec's time limit, the autoreset
in any of the statistics' modes (new episodes from fnrec's key) and capture. Pass the env
without xminigrid's ``GymAutoResetWrapper``/``DmEnvAutoResetWrapper`` (fnrec resets it);
observation wrappers are fine. ``num_envs=N`` batches it with ``core.vmapped`` (one shared
queue); ``jax.vmap`` the adapter for one queue per env. The env state the core and the capture
see is xminigrid's ``TimeStep``; xminigrid renders on the host
(``export_videos(..., render=lambda ts: env.render(params, ts), on_device=False)``).

xminigrid is not imported: the adapter duck-types the env. Example::

    >>> import jax, jax.numpy as jnp, xminigrid, fnrec
    >>> env, params = xminigrid.make("MiniGrid-Empty-5x5")
    >>> params = params.replace(max_steps=10)
    >>> env = fnrec.adapters.XMiniGridAdapter(env, num_envs=4)
    >>> state, obs = env.reset(params, jax.random.key(0))
    >>> step = jax.jit(env.step)
    >>> for t in range(10):
    ...     out = step(params, state, jnp.full(4, 1), jax.random.key(t))   # 1: turn
    ...     state = out.state
    >>> fnrec.stats.queues(state.stats)["terminated_queue"].tolist()
    [False, False, False, False]
"""

from __future__ import annotations

from typing import Any

from jax import Array

from fnrec import _checks
from fnrec.adapters import core
from fnrec.adapters.core import EnvFns, EnvReset, EnvStep, Recorded, Recording, StepResult
from fnrec.adapters.jumanji import dm_env_flags, wrappers
from fnrec.capture import EpisodeCapture
from fnrec.history import EpisodeHistory
from fnrec.stats import EpisodeStatistics, episode_statistics


class XMiniGridAdapter(core.Wrapper):
    """Records episode statistics (and captures episodes) of an XLand-MiniGrid environment.

    Args:
      env: an xminigrid ``Environment`` (``xminigrid.make(...)[0]``), without an autoreset
        wrapper.
      statistics: an ``fnrec.stats.episode_statistics(...)`` in any mode; default 100 episodes,
        ``"same_step"``.
      capture: None, or an ``fnrec.capture.episode_capture(...)`` (it keeps xminigrid's
        TimeStep, whose state holds the env's key: use ``jax.random.PRNGKey`` keys to export it).
      history: None, or an ``fnrec.history.episode_history(...)``.
      max_episode_steps: None, or fnrec's time limit on top of ``params.max_steps``.
      num_envs: None for one env; N for a batch of N with one shared queue.
    """

    kind = "xminigrid Environment"

    def __init__(
        self,
        env: Any,
        statistics: EpisodeStatistics | None = None,
        capture: EpisodeCapture | None = None,
        history: EpisodeHistory | None = None,
        max_episode_steps: int | None = None,
        num_envs: int | None = None,
    ) -> None:
        statistics = episode_statistics() if statistics is None else statistics
        super().__init__(env, Recording(statistics, capture, max_episode_steps, history))
        core.check_env(env, ("reset", "step", "default_params"), self.kind)
        resetting = [name for name in wrappers(env) if "AutoReset" in name]
        if resetting:
            raise ValueError(
                f"`env` must not reset itself, got {resetting[0]} in it: pass the env without "
                "it (fnrec resets finished episodes, in the statistics' autoreset mode)"
            )
        _checks.check_num_envs(num_envs)
        self.num_envs = num_envs

    def _fns(self, params: Any) -> EnvFns:
        """The env's step and reset with `params` bound, batched with ``num_envs``."""
        env = self.env

        def env_step(timestep: Any, action: Any, key: Array) -> EnvStep:
            del key  # xminigrid's step draws from the key in its state
            new = env.step(params, timestep, action)
            terminated, truncated = dm_env_flags(new.step_type, new.discount)
            return EnvStep(new, new.observation, new.reward, terminated, truncated, {})

        def env_reset(key: Array) -> EnvReset:
            timestep = env.reset(params, key)
            return EnvReset(timestep, timestep.observation)

        fns = EnvFns(env_step, env_reset)
        return fns if self.num_envs is None else core.vmapped(fns, self.num_envs)

    def reset(self, params: Any, key: Array) -> tuple[Recorded, Any]:
        """Fresh episodes and statistics.

        Args:
          params: the env params (``xminigrid.make(...)[1]``).
          key: one PRNG key (split per env with ``num_envs``).

        Returns:
          ``(state, obs)``: the Recorded state (its ``env_state`` is xminigrid's TimeStep) and
          the first observation(s).
        """
        return self.init_from(self._fns(params).reset(self.checked_reset(key)))

    def step(self, params: Any, state: Recorded, action: Any, key: Array) -> StepResult:
        """One recorded step.

        Args:
          params: the env params.
          state: the Recorded state.
          action: the action(s) (a leading [N] axis with ``num_envs``).
          key: one PRNG key (for the new episodes).

        Returns:
          A ``core.StepResult``.
        """
        action = self.checked_step(state, action, key)
        return self.recording.step(self._fns(params), state, action, key)
