"""Statistics and capture over jumanji environments (``reset(key)``, ``step(state, action)``).

``JumanjiAdapter(env)`` reads jumanji's ``TimeStep`` as dm_env defines it: a ``LAST`` step with
discount 0 is a termination, a ``LAST`` step with discount > 0 a truncation (the env's own time
limit, as ``LevelBasedForaging`` reports it; Snake and Maze end their time limit with discount 0,
so their ``TimeStep`` says termination and fnrec reports what it says).

Two paths, chosen from `env`:

- **A bare env** (no ``AutoResetWrapper`` in it) goes through the core (``fnrec.adapters.core``):
  fnrec adds its time limit (``max_episode_steps``), the autoreset in any of the statistics'
  modes (new episodes from fnrec's key, ``jax.random.split`` per step as for every adapter) and
  capture. ``num_envs=N`` batches it with ``core.vmapped`` (one shared queue); without it,
  ``jax.vmap`` the adapter for one queue per env. Wrappers that do not reset
  (``MultiToSingleWrapper``) may sit in between.
- **An env that resets itself** (``AutoResetWrapper``, ``VmapAutoResetWrapper``,
  ``VmapWrapper(AutoResetWrapper(env))``) is recorded as it steps (``Recording.record``), with
  jumanji's same-step autoreset: statistics only, since jumanji replaces the final state before
  returning it (capture and ``max_episode_steps`` raise). A vmapped one needs ``num_envs``.

Every step returns a ``core.StepResult``; ``info["timestep"]`` is the env's own ``TimeStep`` of
the transition (before fnrec's reset, for a bare env). jumanji is not imported: the adapter
duck-types the env and its ``TimeStep``.

Example (Snake with a 20-step time limit, fnrec's autoreset, 4 envs in one queue)::

    >>> import jax, jax.numpy as jnp, fnrec
    >>> from jumanji.environments import Snake
    >>> env = fnrec.adapters.JumanjiAdapter(Snake(num_rows=6, num_cols=6), num_envs=4,
    ...                                     max_episode_steps=20)
    >>> state, obs = env.reset(jax.random.key(0))
    >>> step = jax.jit(env.step)
    >>> for t in range(20):
    ...     out = step(state, jnp.zeros(4, jnp.int32), jax.random.key(t))
    ...     state = out.state
    >>> int(fnrec.stats.episode_count(state.stats)) >= 4
    True
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from fnrec import _checks
from fnrec.adapters import core
from fnrec.adapters.core import EnvFns, EnvReset, EnvStep, Recorded, Recording, StepResult
from fnrec.capture import EpisodeCapture
from fnrec.history import EpisodeHistory
from fnrec.stats import EpisodeStatistics, episode_statistics

LAST = 2  # dm_env's StepType.LAST (jumanji's and XLand-MiniGrid's)


def dm_env_flags(step_type: ArrayLike, discount: ArrayLike) -> tuple[Array, Array]:
    """Terminated and truncated from a dm_env-style TimeStep (jumanji, XLand-MiniGrid).

    Args:
      step_type: the TimeStep's step type (``LAST`` = 2 ends an episode).
      discount: its discount: 0 on a terminal step, > 0 where the episode was cut off.

    Returns:
      ``(terminated, truncated)``: last with discount 0, and last with discount > 0.
    """
    last = jnp.asarray(step_type) == LAST
    ends_value = jnp.asarray(discount) == 0
    return last & ends_value, last & ~ends_value


def wrappers(env: Any) -> list[str]:
    """The class names of `env` and of every env it wraps (jumanji's ``Wrapper._env`` chain)."""
    names = []
    while env is not None:
        names.append(type(env).__name__)
        env = getattr(env, "_env", None)
    return names


class JumanjiAdapter(core.Wrapper):
    """Records episode statistics (and captures episodes) of a jumanji environment.

    Args:
      env: a jumanji ``Environment``, bare or behind wrappers (see the module docstring).
      statistics: an ``fnrec.stats.episode_statistics(...)``; default 100 episodes,
        ``"same_step"`` (jumanji's ``AutoResetWrapper`` convention; an env that resets itself
        needs it). A bare env takes any mode.
      capture: None, or an ``fnrec.capture.episode_capture(...)`` over jumanji's State (bare env
        only). Its ``key`` is kept too: reset with ``jax.random.PRNGKey`` (uint32 keys) or pass
        ``content=`` to the capture if the export must turn states into numpy.
      history: None, or an ``fnrec.history.episode_history(...)``.
      max_episode_steps: None, or fnrec's time limit on top of the env's own (bare env only).
      num_envs: None for one env; N for a batch of N with one shared queue (a bare env is
        vmapped here; a vmapped jumanji env must have batch N).
    """

    kind = "jumanji Environment"
    step_key_optional = True  # an env that resets itself steps without a key

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
        if getattr(type(env), "action_spec", None) is None:
            raise TypeError(
                f"`env` must be a jumanji Environment (with reset, step, action_spec), got "
                f"{type(env).__name__}"
            )
        _checks.check_num_envs(num_envs)
        names = wrappers(env)
        self.resets_itself = any("AutoReset" in name for name in names)
        self.prebatched = any(name.startswith("Vmap") for name in names)
        self.num_envs = num_envs
        if self.prebatched and not self.resets_itself:
            raise ValueError(
                "`env` is vmapped but does not reset itself: pass the env without VmapWrapper "
                "and num_envs=N (fnrec batches and resets it), or wrap it in "
                "VmapAutoResetWrapper"
            )
        if self.prebatched and num_envs is None:
            raise ValueError(
                f"`num_envs` must be the batch size of the vmapped env {type(env).__name__}, "
                "got None"
            )
        if self.resets_itself:
            where = f"`env` ({type(env).__name__}) resets itself"
            if statistics.autoreset_mode != "same_step":
                raise ValueError(
                    f"{where} on the done step: `statistics` must use autoreset_mode="
                    f"'same_step', got {statistics.autoreset_mode!r}"
                )
            if capture is not None:
                raise ValueError(
                    f"`capture` needs the state before jumanji's autoreset, which {where} "
                    "replaces: pass the env without AutoResetWrapper (fnrec resets it)"
                )
            if max_episode_steps is not None:
                raise ValueError(
                    f"`max_episode_steps` needs fnrec to reset the env, but {where}: pass the "
                    "env without AutoResetWrapper, or set the env's own time limit"
                )
        fns = EnvFns(self._env_step, self._env_reset)
        self.fns = fns if num_envs is None else core.vmapped(fns, num_envs)

    def _env_step(self, env_state: Any, action: Any, key: Array) -> EnvStep:
        """jumanji's step (it takes no key) as the core's transition."""
        del key
        return _transition(*self.env.step(env_state, action))

    def _env_reset(self, key: Array) -> EnvReset:
        env_state, timestep = self.env.reset(key)
        return EnvReset(env_state, timestep.observation)

    def reset(self, key: Array) -> tuple[Recorded, Any]:
        """Fresh episodes and statistics.

        Args:
          key: one PRNG key (split per env with ``num_envs``).

        Returns:
          ``(state, obs)``: the Recorded state and the first observation(s).
        """
        self.checked_reset(key)
        if not self.resets_itself:
            return self.init_from(self.fns.reset(key))
        if self.prebatched:
            env_state, timestep = self.env.reset(jax.random.split(key, self.num_envs))
        elif self.num_envs is not None:
            env_state, timestep = jax.vmap(self.env.reset)(jax.random.split(key, self.num_envs))
        else:
            env_state, timestep = self.env.reset(key)
        return self.recording.init(env_state, self.num_envs), timestep.observation

    def step(self, state: Recorded, action: Any, key: Array | None = None) -> StepResult:
        """One recorded step.

        Args:
          state: the Recorded state.
          action: the action(s) (a leading [N] axis with ``num_envs``).
          key: one PRNG key for fnrec's resets of a bare env (required there); unused by an env
            that resets itself.

        Returns:
          A ``core.StepResult``; ``info["timestep"]`` is the env's own TimeStep.
        """
        action = self.checked_step(state, action, key)
        if not self.resets_itself:
            if key is None:
                raise ValueError(
                    "`key` is needed over a bare jumanji env (fnrec starts the new episodes "
                    "with it), got None"
                )
            return self.recording.step(self.fns, state, action, key)
        step = self.env.step
        if self.num_envs is not None and not self.prebatched:
            step = jax.vmap(step)
        return self.recording.record(state, _transition(*step(state.env_state, action)))


def _transition(env_state: Any, timestep: Any) -> EnvStep:
    """A jumanji step's ``(state, TimeStep)`` as the core's EnvStep (the TimeStep in info)."""
    terminated, truncated = dm_env_flags(timestep.step_type, timestep.discount)
    return EnvStep(
        env_state, timestep.observation, timestep.reward, terminated, truncated,
        {"timestep": timestep},
    )  # fmt: skip
