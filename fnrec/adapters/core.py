"""The one step every adapter shares: statistics, time limit and autoreset over a functional env.

Pure and traceable. An adapter supplies two small functions over its environment's own state,
``env_step(env_state, action, key) -> EnvStep`` and ``env_reset(key) -> (env_state, obs)``, and
``step`` does the rest: the time limit, ``fnrec.stats.step``, and the same-step / next-step
reset. Environments that reset themselves (gymnax, brax) only need ``record``.

Works on one environment (``stats`` from ``fnrec.stats.init(None)``) and on a batch with one
shared queue (``fnrec.stats.init(N)``, env functions already batched): per-env flags are
broadcast over the leading axes of every leaf of the env state and observation.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from fnrec import _checks
from fnrec import stats as stats_lib
from fnrec.stats import EpisodeEnded, EpisodeStats


class Recorded(NamedTuple):
    """An environment's state with its episode statistics.

    Attributes:
      env_state: the wrapped environment's own state (any pytree).
      stats: the episode statistics.
      steps: int32[*E], steps taken since the env state was last (re)initialised; drives the
        time limit.
    """

    env_state: Any
    stats: EpisodeStats
    steps: Array


class EnvStep(NamedTuple):
    """What one transition of the wrapped environment gives, before statistics.

    Attributes:
      env_state: the next env state.
      obs: the observation of the next state.
      reward: the reward, shaped like the statistics' running fields.
      terminated: whether the next state is terminal.
      info: extra entries (a dict of arrays).
    """

    env_state: Any
    obs: Any
    reward: Array
    terminated: Array
    info: dict[str, Any]


class StepResult(NamedTuple):
    """The result of one recorded step, Gymnasium's five values plus the new state.

    Attributes:
      state: the new Recorded state.
      obs: the observation (after an autoreset, the new episode's first observation).
      reward: float32 reward (0 on a next-step reset step).
      terminated: bool, the episode reached a terminal state.
      truncated: bool, the episode was cut off (time limit).
      info: ``{"episode": {"r", "l"}, "_episode": mask}`` (see ``EpisodeEnded.to_info``) plus the
        env's own info; with same-step autoreset also ``"final_obs"`` and ``"final_state"`` (the
        done step's own observation and env state, before the reset; equal to ``obs`` and the
        new env state where nothing finished).
      ended: the episodes that finished on this step (for ``fnrec.stats.to_info`` on the host).
    """

    state: Recorded
    obs: Any
    reward: Array
    terminated: Array
    truncated: Array
    info: dict[str, Any]
    ended: EpisodeEnded


def check_env(env: Any, methods: tuple[str, ...], kind: str) -> None:
    """Raises a TypeError naming `kind` unless `env` has every method in `methods`."""
    if not all(callable(getattr(env, name, None)) for name in methods):
        raise TypeError(
            f"`env` must be a {kind} (with {', '.join(methods)}), got {type(env).__name__}"
        )


class Wrapper:
    """Base of the duck-typed wrappers (gymnax, brax): checks the env, passes attributes through.

    Args:
      env: the wrapped environment, with ``reset`` and ``step`` methods.
      buffer_length: how many finished episodes the statistics keep.
    """

    kind = "environment"

    def __init__(self, env: Any, buffer_length: int = 100) -> None:
        check_env(env, ("reset", "step"), self.kind)
        _checks.check_buffer_length(buffer_length)
        self.env = env
        self.buffer_length = buffer_length

    def __getattr__(self, name: str) -> Any:
        if name == "env":  # not set yet (e.g. while unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.env, name)


def init(env_state: Any, num_envs: int | None = None, buffer_length: int = 100) -> Recorded:
    """A Recorded state around a fresh env state: no episode finished, step counters at zero.

    Args:
      env_state: the env's initial state (batched over N envs when `num_envs` is N).
      num_envs: None for one environment, or N for a batch with one shared queue.
      buffer_length: how many finished episodes the queue keeps.

    Returns:
      The Recorded state.
    """
    stats = stats_lib.init(num_envs, buffer_length)
    return Recorded(env_state, stats, jnp.zeros(stats.episode_length.shape, jnp.int32))


def select(mask: Array, on_true: Any, on_false: Any) -> Any:
    """Per-env choice between two pytrees of the same structure, keeping `on_false`'s dtypes.

    Args:
      mask: bool[*E], one flag per environment.
      on_true: pytree whose leaves start with the axes ``E``.
      on_false: pytree like `on_true`; its dtypes win (so a scan carry keeps its type).

    Returns:
      The pytree with each env's leaves from `on_true` where `mask`, else from `on_false`.
    """

    def pick(a: ArrayLike, b: ArrayLike) -> Array:
        b = jnp.asarray(b)
        m = jnp.reshape(mask, mask.shape + (1,) * (b.ndim - mask.ndim))
        return jnp.where(m, jnp.asarray(a, b.dtype), b)

    return jax.tree.map(pick, on_true, on_false)


def split_done(done: ArrayLike, truncation: ArrayLike) -> tuple[Array, Array]:
    """Terminated and truncated from a merged done flag and a truncation flag (gymnax 0.0.x, brax).

    Args:
      done: the env's done flag (bool, or a number read as != 0).
      truncation: whether the episode was cut off (bool, or a number read as != 0).

    Returns:
      ``(terminated, truncated)``: done but not cut off, and cut off.
    """
    truncated = jnp.asarray(truncation) != 0
    return (jnp.asarray(done) != 0) & ~truncated, truncated


def no_episode(shape: tuple[int, ...]) -> EpisodeEnded:
    """An EpisodeEnded in which no env finished (for a reset's info, so pytrees keep one form)."""
    zero = jnp.zeros(shape, jnp.bool_)
    return EpisodeEnded(
        zero, jnp.zeros(shape, jnp.float32), jnp.zeros(shape, jnp.int32), zero, zero
    )


def record(
    stats: EpisodeStats,
    reward: ArrayLike,
    terminated: ArrayLike,
    truncated: ArrayLike,
    steps: Array | None = None,
    max_episode_steps: int | None = None,
    autoreset_mode: str = "same_step",
) -> tuple[EpisodeStats, Array | None, Array, Array, EpisodeEnded]:
    """Records one step: applies the time limit (with a step counter) and updates statistics.

    Args:
      stats: the statistics before the step.
      reward: the step's reward.
      terminated: whether the episode reached a terminal state.
      truncated: whether the env itself cut the episode off.
      steps: None (no time limit), or int32 steps taken before this step in the current episode.
      max_episode_steps: None, or the step count at which an episode is truncated.
      autoreset_mode: as in ``fnrec.stats.step``.

    Returns:
      ``(stats, steps, terminated, truncated, ended)`` with bool flags; `truncated` includes the
      time limit, and `steps` (None if given None) restarts at 0 where an episode ended (with
      ``"disabled"`` autoreset it keeps counting until the caller's reset).
    """
    shape = stats.episode_length.shape
    terminated = _checks.flag_array("terminated", terminated, shape)
    truncated = _checks.flag_array("truncated", truncated, shape)
    if steps is not None:
        steps = steps + 1
        if max_episode_steps is not None:
            truncated = truncated | (steps >= max_episode_steps)
    stats, ended = stats_lib.step(stats, reward, terminated, truncated, autoreset_mode)
    if steps is not None and autoreset_mode != "disabled":
        steps = jnp.where(ended.mask, 0, steps)
    return stats, steps, terminated, truncated, ended


def step(
    env_step: Any,
    env_reset: Any,
    state: Recorded,
    action: Any,
    key: Array,
    max_episode_steps: int | None = None,
    autoreset_mode: str = "same_step",
) -> StepResult:
    """One environment step with statistics, time limit and autoreset.

    Args:
      env_step: ``(env_state, action, key) -> EnvStep``, the env's transition (no reset).
      env_reset: ``(key) -> (env_state, obs)``, a fresh episode.
      state: the Recorded state before the step.
      action: the action(s).
      key: a PRNG key for this step.
      max_episode_steps: None, or the step count at which an episode is truncated.
      autoreset_mode: ``"same_step"`` (a finished env starts its next episode in this step; the
        done step's observation goes to ``info["final_obs"]``), ``"next_step"`` (Gymnasium's
        vector default: the step after a done resets, returns the first observation, reward 0
        and is not counted) or ``"disabled"`` (no reset; the caller resets).

    Returns:
      A StepResult.
    """
    _checks.check_max_episode_steps(max_episode_steps)
    _checks.check_autoreset_mode(autoreset_mode)
    if not isinstance(state, Recorded):
        raise TypeError(
            f"`state` must be the Recorded state from this wrapper, got {type(state).__name__}"
        )
    step_key, reset_key = jax.random.split(key)
    out = env_step(state.env_state, action, step_key)
    # Keep the state's dtypes (a scan carry), e.g. an int64 action stored in an int32 field.
    env_state = jax.tree.map(
        lambda new, old: jnp.asarray(new).astype(jnp.asarray(old).dtype),
        out.env_state,
        state.env_state,
    )
    obs, reward, terminated = out.obs, out.reward, out.terminated
    steps = state.steps
    if autoreset_mode == "next_step":
        resetting = state.stats.prev_done
        fresh_state, fresh_obs = env_reset(reset_key)
        env_state = select(resetting, fresh_state, env_state)
        obs = select(resetting, fresh_obs, obs)
        reward = jnp.where(resetting, 0.0, reward)
        terminated = jnp.where(resetting, False, terminated)
        steps = jnp.where(resetting, -1, steps)  # the reset step does not count towards the limit
    stats, steps, terminated, truncated, ended = record(
        state.stats, reward, terminated, False, steps, max_episode_steps, autoreset_mode
    )
    state = Recorded(env_state, stats, steps)
    info = {**out.info, **ended.to_info()}
    if autoreset_mode == "same_step":
        fresh_state, fresh_obs = env_reset(reset_key)
        info["final_obs"] = obs
        info["final_state"] = state.env_state  # for renderers; unused outputs cost nothing in jit
        obs = select(ended.mask, fresh_obs, obs)
        state = state._replace(env_state=select(ended.mask, fresh_state, state.env_state))
    reward = jnp.broadcast_to(jnp.asarray(reward, jnp.float32), terminated.shape)
    return StepResult(state, obs, reward, terminated, truncated, info, ended)


def reset(state: Recorded, env_reset: Any, key: Array, mask: ArrayLike | None = None) -> Recorded:
    """Starts new episodes in the masked envs, dropping their partial episodes (nothing queued).

    Args:
      state: the Recorded state.
      env_reset: ``(key) -> (env_state, obs)``, a fresh episode.
      key: a PRNG key.
      mask: None for every env, else one flag per env.

    Returns:
      The state with fresh env states, zero step counters and reset statistics where masked.
    """
    shape = state.steps.shape
    mask = jnp.ones(shape, jnp.bool_) if mask is None else _checks.flag_array("mask", mask, shape)
    fresh_state, _ = env_reset(key)
    return Recorded(
        env_state=select(mask, fresh_state, state.env_state),
        stats=stats_lib.reset(state.stats, mask),
        steps=jnp.where(mask, 0, state.steps),
    )
