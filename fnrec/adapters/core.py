"""The one recording step every adapter shares: the extension point for a new env family.

Pure and traceable. A family gives two functions over its environment's own state, an
``EnvStepFn`` ``(env_state, action, key) -> EnvStep`` (the transition, no reset) and an
``EnvResetFn`` ``(key) -> EnvReset`` (a fresh episode), as ``EnvFns``, and a ``Recording`` does
the rest: the time limit, the episode statistics, the same-step / next-step autoreset and the
episode capture. An env that resets itself (brax's ``AutoResetWrapper``) gives its step, with the
state before its reset in ``EnvStep.final_env_state``, and ``EnvFns(resets_itself=True)``.
``fnrec.recorder(fns, recording, num_envs)`` binds them into a ``fnrec.Recorder``.

Batching has one rule. An env written for one instance is batched with ``vmapped(fns, N)``
(one key in, split per env); an env its library already batched (brax's ``VmapWrapper``,
craftax, purejaxrl's ``VecEnv``) is used as it is. Either way, ``num_envs=N`` gives statistics
with one shared queue and per-env flags broadcast over the leading axis of every leaf; with
``num_envs=None`` the recorder is unbatched and ``jax.vmap`` of it gives one queue per env.

A new env family needs about 30 lines: see "Writing an adapter" in the README. Example::

    >>> import jax, jax.numpy as jnp, fnrec
    >>> from fnrec.adapters import core
    >>> def env_step(x, action, key):          # a counter that terminates at 3
    ...     x = x + action
    ...     return core.EnvStep(x, x, 1.0, x >= 3, False, {})
    >>> def env_reset(key):
    ...     return core.EnvReset(jnp.int32(0), jnp.int32(0))
    >>> fns = core.vmapped(core.EnvFns(env_step, env_reset), 2)
    >>> recording = core.Recording(fnrec.stats.episode_statistics())
    >>> state = recording.init(fns.reset(jax.random.key(0)).env_state, num_envs=2)
    >>> for _ in range(3):
    ...     out = recording.step(fns, state, jnp.array([1, 2]), jax.random.key(1))
    ...     state = out.state
    >>> fnrec.stats.queues(state.stats)["length_queue"].tolist()
    [2, 3]
"""

from __future__ import annotations

from typing import Any, NamedTuple, Protocol

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from fnrec import _checks
from fnrec.capture import CaptureState, EpisodeCapture
from fnrec.history import EpisodeHistory, HistoryState
from fnrec.stats import (
    EpisodeEnded,
    EpisodeStatistics,
    EpisodeStats,
    Transition,
    episode_statistics,
)

__all__ = [
    "EnvFns",
    "EnvReset",
    "EnvResetFn",
    "EnvStep",
    "EnvStepFn",
    "LastEpisode",
    "Recorded",
    "Recording",
    "StepResult",
    "check_methods",
    "checked_array_action",
    "no_episode",
    "select",
    "split_done",
    "vmapped",
]


class EnvStep(NamedTuple):
    """One transition of the wrapped environment, before statistics and autoreset.

    Attributes:
      env_state: the next env state.
      obs: the observation of the next state.
      reward: the reward (one per env).
      terminated: whether the next state is terminal.
      truncated: whether the env itself cut the episode off (its own time limit); False if it
        has none. fnrec's ``max_episode_steps`` is added on top.
      info: extra entries (a dict of arrays).
      final_env_state: for an env that resets itself (``EnvFns.resets_itself``): the env state
        before that reset (the done step's own state, what capture keeps as the final frame);
        None where the env cannot give it (capture then raises). Unused otherwise.
    """

    env_state: Any
    obs: Any
    reward: ArrayLike
    terminated: ArrayLike
    truncated: ArrayLike
    info: dict[str, Any]
    final_env_state: Any = None


class EnvReset(NamedTuple):
    """A fresh episode of the wrapped environment.

    Attributes:
      env_state: its first env state.
      obs: its first observation.
    """

    env_state: Any
    obs: Any


class EnvStepFn(Protocol):
    """The env's transition without reset: ``(env_state, action, key) -> EnvStep``."""

    def __call__(self, env_state: Any, action: Any, key: Array) -> EnvStep: ...


class EnvResetFn(Protocol):
    """A fresh episode: ``(key) -> EnvReset``."""

    def __call__(self, key: Array) -> EnvReset: ...


class EnvFns(NamedTuple):
    """An env as the core sees it: the two functions a family gives, and how to read them.

    Attributes:
      step: the transition (no reset); for an env that resets itself, its step (which resets
        finished episodes on the done step) with the state before the reset in
        ``EnvStep.final_env_state``.
      reset: a fresh episode.
      split: how a step's key becomes the transition's and the reset's keys; None: one
        ``jax.random.split`` in two (``vmapped`` sets it so that a batch of N steps exactly as
        ``jax.vmap`` of the unbatched adapter over ``jax.random.split(key, N)``).
      num_envs: the batch ``vmapped`` made (the state's batch is then checked); None for one
        env, or for an env its library batched itself.
      resets_itself: the env resets finished episodes inside `step` (same-step autoreset: brax's
        and jumanji's autoreset wrappers, gymnax's wrapped envs); fnrec then records its steps as
        they come and cannot add a time limit.
      uses_key: whether `step` draws from its key (brax's and jumanji's steps take none: the
        recorder then steps with ``key=None``).
      view: what capture and renderers see of one env state (brax: its physics state); None
        for the env state itself.
    """

    step: EnvStepFn
    reset: EnvResetFn
    split: Any = None
    num_envs: int | None = None
    resets_itself: bool = False
    uses_key: bool = True
    view: Any = None


class LastEpisode(NamedTuple):
    """LogWrapper's per-env record (gymnax's and purejaxrl's), for code written against it.

    Attributes:
      returned_episode_returns: f32[*E], the env's last finished episode's return (0 before).
      returned_episode_lengths: int32[*E], its length.
      returned_episode_valid: bool[*E], whether the env has finished an episode yet.
      timestep: int32[*E], steps the env has taken (purejaxrl's ``timestep``).
    """

    returned_episode_returns: Array
    returned_episode_lengths: Array
    returned_episode_valid: Array
    timestep: Array


class Recorded(NamedTuple):
    """An environment's state with what is recorded about it.

    Attributes:
      env_state: the wrapped environment's own state (any pytree).
      stats: the episode statistics.
      steps: int32[*E], steps taken in the current episodes; drives the time limit.
      capture: the episode capture's state, or None without capture.
      history: every finished episode's statistics (``fnrec.history``), or None.
      last_episode: LogWrapper's record (``log_wrapper_info=True``), or None.
      key: the PRNG key a recorder's ``step(state, action)`` draws from when it is given no key
        (as Gymnasium's ``FunctionalJaxEnv`` carries its rng), or None.
    """

    env_state: Any
    stats: EpisodeStats
    steps: Array
    capture: CaptureState | None = None
    history: HistoryState | None = None
    last_episode: LastEpisode | None = None
    key: Array | None = None


class StepResult(NamedTuple):
    """The result of one recorded step: the new state and Gymnasium's five values.

    Attributes:
      state: the new Recorded state.
      obs: the observation (after an autoreset, the new episode's first observation).
      reward: float32 reward (0 on a next-step reset step).
      terminated: bool, the episode reached a terminal state.
      truncated: bool, the episode was cut off (the env's own limit or ``max_episode_steps``).
      info: ``{"episode": {"r", "l"}, "_episode": mask}`` (see ``EpisodeEnded.to_info``) plus the
        env's own info; with same-step autoreset also ``"final_obs"`` and ``"final_state"`` (the
        done step's own observation and env state, before the reset; equal to ``obs`` and the
        new env state where nothing finished).
      ended: the episodes that finished on this step (for ``fnrec.stats.host_info`` on the host).
    """

    state: Recorded
    obs: Any
    reward: Array
    terminated: Array
    truncated: Array
    info: dict[str, Any]
    ended: EpisodeEnded


def vmapped(fns: EnvFns, num_envs: int) -> EnvFns:
    """The env functions of one instance over a batch of `num_envs`: the one batching rule.

    Args:
      fns: the unbatched functions.
      num_envs: the batch size.

    Returns:
      EnvFns over batched states/actions that take one key (split into `num_envs`, one per env)
      or a batch of `num_envs` keys. A recorded step of them is the same, env for env, as
      ``jax.vmap`` of a recorded step of `fns` over ``jax.random.split(key, num_envs)``: the
      shared-queue and the per-env layouts see the same trajectories for the same key.
    """
    _checks.check_num_envs(num_envs)

    def per_env(fn: Any) -> Any:
        mapped = jax.vmap(fn)
        return lambda *args: mapped(*args[:-1], env_keys(args[-1], num_envs))

    def split(key: Array) -> tuple[Array, Array]:
        return jax.vmap(lambda k: split_key(fns, k))(jax.random.split(key, num_envs))

    step = per_env(fns.step) if fns.uses_key else _without_key(fns.step)
    return fns._replace(step=step, reset=per_env(fns.reset), split=split, num_envs=num_envs)


def _without_key(step: Any) -> Any:
    """The vmapped step of an env whose step takes no key (brax's, jumanji's)."""
    mapped = jax.vmap(lambda env_state, action: step(env_state, action, None))
    return lambda env_state, action, key: mapped(env_state, action)


def split_key(fns: EnvFns, key: Array) -> tuple[Array, Array]:
    """The transition's and the reset's keys of one step, as `fns` split them."""
    if fns.split is not None:
        return fns.split(key)
    keys = jax.random.split(key)
    return keys[0], keys[1]


def env_keys(key: Array, num_envs: int) -> Array:
    """`key` if it is already a batch of keys, else `key` split into `num_envs`."""
    key = jnp.asarray(key) if not hasattr(key, "dtype") else key
    typed = jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
    return key if key.ndim > (0 if typed else 1) else jax.random.split(key, num_envs)


def keyed_vmap(fn: Any, num_envs: int) -> Any:
    """`fn` vmapped over its arguments, its last argument one key split into `num_envs`.

    A key of None stays None (Gymnasium's FuncEnvs mostly ignore their rng).
    """
    mapped = jax.vmap(fn)
    mapped_without_key = jax.vmap(lambda *batched: fn(*batched, None))

    def call(*args: Any) -> Any:
        *batched, key = args
        if key is None:
            return mapped_without_key(*batched)
        return mapped(*batched, jax.random.split(key, num_envs))

    return call


class Recording(NamedTuple):
    """What an adapter records and how, bound once: statistics, capture, time limit, history.

    Attributes:
      statistics: an ``fnrec.stats.EpisodeStatistics`` (buffer length and autoreset mode).
      capture: an ``fnrec.capture.EpisodeCapture``, or None.
      max_episode_steps: None, or truncate episodes after this many steps.
      history: an ``fnrec.history.EpisodeHistory`` (every episode's statistics), or None.
      log_wrapper_info: also put LogWrapper's info keys in every step's info
        (``returned_episode_returns``, ``returned_episode_lengths``, ``returned_episode``,
        ``returned_episode_valid``, ``timestep``, with LogWrapper's meaning: each env's last
        finished episode), so code written against gymnax's or purejaxrl's LogWrapper runs as is.
    """

    statistics: EpisodeStatistics = episode_statistics()
    capture: EpisodeCapture | None = None
    max_episode_steps: int | None = None
    history: EpisodeHistory | None = None
    log_wrapper_info: bool = False

    @property
    def autoreset_mode(self) -> str:
        """The statistics' autoreset mode (the one the whole recording follows)."""
        return self.statistics.autoreset_mode

    def check(self) -> Recording:
        """Checks the settings; returns self."""
        if not isinstance(self.statistics, EpisodeStatistics):
            raise TypeError(
                "`statistics` must be an EpisodeStatistics from fnrec.stats.episode_statistics("
                f"...), got {type(self.statistics).__name__}"
            )
        if self.capture is not None and not isinstance(self.capture, EpisodeCapture):
            raise TypeError(
                "`capture` must be None or an EpisodeCapture from fnrec.capture.episode_capture("
                f"...), got {type(self.capture).__name__}"
            )
        if self.history is not None and not isinstance(self.history, EpisodeHistory):
            raise TypeError(
                "`history` must be None or an EpisodeHistory from fnrec.history.episode_history("
                f"...), got {type(self.history).__name__}"
            )
        _checks.check_max_episode_steps(self.max_episode_steps)
        if self.capture is not None:  # the capture follows the statistics' autoreset mode
            return self._replace(capture=self.capture.following(self.autoreset_mode))
        return self

    def init(
        self,
        env_state: Any,
        num_envs: int | None = None,
        *,
        view: Any = None,
        key: Array | None = None,
    ) -> Recorded:
        """A Recorded state around fresh env states: nothing finished, counters at zero.

        Args:
          env_state: the env's initial state (batched over N envs when `num_envs` is N).
          num_envs: None for one environment, or N for a batch with one shared queue.
          view: what capture sees of an env state (``EnvFns.view``), or None.
          key: the key the state carries for steps given none (``Recorded.key``), or None.

        Returns:
          The Recorded state.
        """
        stats = self.statistics.init(num_envs)
        capture = None
        if self.capture is not None:
            bound = self.capture.following(self.autoreset_mode)
            capture = bound.init(_viewed(view, env_state), num_envs)
        history = None
        if self.history is not None:
            history = self.history.init(num_envs, metrics=self.statistics.metrics)
        shape = stats.running_length.shape
        steps = jnp.zeros(shape, jnp.int32)
        last = None
        if self.log_wrapper_info:
            zero = jnp.zeros(shape, jnp.int32)
            last = LastEpisode(jnp.zeros(shape, jnp.float32), zero, jnp.zeros(shape, bool), zero)
        return Recorded(env_state, stats, steps, capture, history, last, key)

    def step(self, fns: EnvFns, state: Recorded, action: Any, key: Array) -> StepResult:
        """One environment step with time limit, statistics, autoreset and capture.

        Args:
          fns: the env's functions (batched to match `state` when it holds a batch).
          state: the Recorded state before the step.
          action: the action(s).
          key: a PRNG key for this step (split into the step's and the reset's).

        Returns:
          A StepResult. With ``"same_step"`` a finished env starts its next episode in this step
          (the done step's observation goes to ``info["final_obs"]``); with ``"next_step"`` the
          step after a done resets, returns the first observation, reward 0 and is not counted;
          with ``"disabled"`` nothing resets (call ``reset``).
        """
        _check_recorded(state, fns)
        if fns.resets_itself:
            out = fns.step(state.env_state, action, key)
            _check_env_step(out)
            return self._record(fns, state, out)
        mode = self.autoreset_mode
        step_key, reset_key = split_key(fns, key)
        out = fns.step(state.env_state, action, step_key)
        _check_env_step(out)
        env_state = _keep_types(out.env_state, state.env_state)
        obs, reward, terminated, truncated = out.obs, out.reward, out.terminated, out.truncated
        steps = state.steps
        if mode == "next_step":
            resetting = state.stats.prev_done
            fresh = fns.reset(reset_key)
            env_state = select(resetting, fresh.env_state, env_state)
            obs = select(resetting, fresh.obs, obs)
            reward = jnp.where(resetting, 0.0, reward)
            terminated = jnp.where(resetting, False, terminated)
            truncated = jnp.where(resetting, False, truncated)
            steps = jnp.where(resetting, -1, steps)  # the reset step does not count
        stats, steps, terminated, truncated, ended = self._count(
            state.stats, reward, terminated, truncated, steps,
            Transition(reward, terminated, truncated, out.info, env_state, obs),
        )  # fmt: skip
        final_env_state = env_state
        info = {**out.info, **ended.to_info()}
        if mode == "same_step":
            fresh = fns.reset(reset_key)
            info["final_obs"] = obs
            info["final_state"] = env_state  # for renderers; unused outputs cost nothing in jit
            obs = select(ended.mask, fresh.obs, obs)
            env_state = select(ended.mask, fresh.env_state, env_state)
        capture = self._capture(fns, state.capture, ended, final_env_state, env_state)
        reward = jnp.broadcast_to(jnp.asarray(reward, jnp.float32), terminated.shape)
        history, last = self._history(state.history, ended), self._last(state, ended, info)
        new_state = Recorded(env_state, stats, steps, capture, history, last, state.key)
        return StepResult(new_state, obs, reward, terminated, truncated, info, ended)

    def _record(self, fns: EnvFns, state: Recorded, transition: EnvStep) -> StepResult:
        """Records one step of an env that reset itself (same-step autoreset, e.g. brax)."""
        self.check_resets_itself()
        stats, steps, terminated, truncated, ended = self._count(
            state.stats, transition.reward, transition.terminated, transition.truncated,
            state.steps,
            Transition(transition.reward, transition.terminated, transition.truncated,
                       transition.info, transition.final_env_state, transition.obs),
        )  # fmt: skip
        final_env_state = transition.final_env_state
        if self.capture is not None and final_env_state is None:
            raise ValueError(
                "`capture` needs the env state before the env's own reset, which this env's "
                "step does not give (EnvStep.final_env_state is None)"
            )
        capture = self._capture(fns, state.capture, ended, final_env_state, transition.env_state)
        reward = jnp.broadcast_to(jnp.asarray(transition.reward, jnp.float32), terminated.shape)
        info = {**transition.info, **ended.to_info()}
        history, last = self._history(state.history, ended), self._last(state, ended, info)
        new_state = Recorded(transition.env_state, stats, steps, capture, history, last, state.key)
        return StepResult(new_state, transition.obs, reward, terminated, truncated, info, ended)

    def check_resets_itself(self) -> None:
        """Raises unless this recording fits an env that resets itself (same step, no limit)."""
        if self.autoreset_mode != "same_step":
            raise ValueError(
                "an env that resets itself resets on the done step: `statistics` must use "
                f"autoreset_mode='same_step', got {self.autoreset_mode!r}"
            )
        if self.max_episode_steps is not None:
            raise ValueError(
                "`max_episode_steps` needs fnrec to reset the env, but the env resets itself: "
                "set the env's own time limit, or give the env without its autoreset wrapper"
            )

    def reset(
        self, fns: EnvFns, state: Recorded, key: Array, mask: ArrayLike | None = None
    ) -> tuple[Recorded, Any]:
        """Starts new episodes in the masked envs, dropping their partial episodes (not queued).

        Args:
          fns: the env's functions.
          state: the Recorded state.
          key: a PRNG key.
          mask: None for every env, else one flag per env.

        Returns:
          ``(state, obs)``: fresh env states, zero step counters, and statistics and capture
          reset where masked; `obs` is the fresh episodes' observation (meaningless where not
          masked: keep the one you had there).
        """
        _check_recorded(state, fns)
        shape = state.steps.shape
        mask = (
            jnp.ones(shape, jnp.bool_) if mask is None else _checks.flag_array("mask", mask, shape)
        )
        fresh = fns.reset(key)
        env_state = select(mask, fresh.env_state, state.env_state)
        capture = state.capture
        if self.capture is not None:
            bound = self.capture.following(self.autoreset_mode)
            capture = bound.reset(capture, _viewed(fns.view, env_state), mask)
        recorded = state._replace(
            env_state=env_state,
            stats=self.statistics.reset(state.stats, mask),
            steps=jnp.where(mask, 0, state.steps),
            capture=capture,
        )
        return recorded, fresh.obs

    def _count(
        self,
        stats: EpisodeStats,
        reward: ArrayLike,
        terminated: ArrayLike,
        truncated: ArrayLike,
        steps: Array,
        seen: Transition,
    ) -> tuple[EpisodeStats, Array, Array, Array, EpisodeEnded]:
        """Applies the time limit with the step counter, then the statistics (whose metrics
        read `seen`'s info, env state and observation)."""
        shape = stats.running_length.shape
        terminated = _checks.flag_array("terminated", terminated, shape)
        truncated = _checks.flag_array("truncated", truncated, shape)
        steps = steps + 1
        if self.max_episode_steps is not None:
            truncated = truncated | (steps >= self.max_episode_steps)
        stats, ended = self.statistics.step(
            stats, reward, terminated, truncated,
            info=seen.info, env_state=seen.env_state, obs=seen.obs,
        )  # fmt: skip
        if self.autoreset_mode != "disabled":
            steps = jnp.where(ended.mask, 0, steps)
        return stats, steps, terminated, truncated, ended

    def _last(
        self, state: Recorded, ended: EpisodeEnded, info: dict[str, Any]
    ) -> LastEpisode | None:
        """LogWrapper's record after this step; its keys go into `info` (in place)."""
        if not self.log_wrapper_info:
            return state.last_episode
        last = state.last_episode
        if last is None:
            raise ValueError(
                "`state` was made without log_wrapper_info: init it with this recording"
            )
        mask = ended.mask
        last = LastEpisode(
            jnp.where(mask, ended.episode_return, last.returned_episode_returns),
            jnp.where(mask, ended.length, last.returned_episode_lengths),
            last.returned_episode_valid | mask,
            last.timestep + 1,
        )
        info.update(last._asdict(), returned_episode=mask)
        return last

    def _history(self, history: HistoryState | None, ended: EpisodeEnded) -> HistoryState | None:
        return history if self.history is None else self.history.step(history, ended)

    def _capture(
        self,
        fns: EnvFns,
        capture: CaptureState | None,
        ended: EpisodeEnded,
        final_env_state: Any,
        env_state: Any,
    ) -> CaptureState | None:
        if self.capture is None:
            return capture
        final_env_state, env_state = (_viewed(fns.view, x) for x in (final_env_state, env_state))
        bound = self.capture.following(self.autoreset_mode)
        return bound.step(capture, ended, final_env_state, env_state)


def _viewed(view: Any, env_state: Any) -> Any:
    """What capture sees of `env_state` (``EnvFns.view``)."""
    return env_state if view is None else view(env_state)


def _check_env_step(out: Any) -> None:
    if not isinstance(out, EnvStep):
        raise TypeError(f"`fns.step` must return an EnvStep, got {type(out).__name__}")


def _check_recorded(state: Any, fns: EnvFns | None = None) -> None:
    """Raises unless `state` is a Recorded state, of the batch `fns` steps (when it knows it)."""
    if not isinstance(state, Recorded):
        raise TypeError(
            f"`state` must be the Recorded state from this wrapper, got {type(state).__name__}"
        )
    num_envs = None if fns is None else fns.num_envs
    if num_envs is not None and tuple(state.steps.shape) != (num_envs,):
        made = "one env" if state.steps.ndim == 0 else f"num_envs={state.steps.shape[0]}"
        raise ValueError(
            f"`state` must hold num_envs={num_envs} envs (this adapter's batch), got a state "
            f"made for {made} (steps of shape {tuple(state.steps.shape)}): step it with the "
            "adapter that made it"
        )


def _keep_types(new: Any, old: Any) -> Any:
    """`new` cast leaf by leaf to `old`'s dtypes (a scan carry keeps its types).

    PRNG key leaves (``jax.random.key``) are kept as they are; a leaf that changes between a
    typed key and raw key data (``jax.random.PRNGKey``) raises, naming the fix.
    """

    def cast(n: Any, o: Any) -> Any:
        n, o_dtype = jnp.asarray(n), jnp.asarray(o).dtype
        n_key, o_key = (jnp.issubdtype(d, jax.dtypes.prng_key) for d in (n.dtype, o_dtype))
        if n_key or o_key:
            if n.dtype != o_dtype:
                raise TypeError(
                    f"the env state holds a PRNG key of dtype {n.dtype} after the step where it "
                    f"held {o_dtype} before: use one kind of key for reset and step (all "
                    "jax.random.key, or all jax.random.PRNGKey)"
                )
            return n
        return n.astype(o_dtype)

    try:
        return jax.tree.map(cast, new, old)
    except ValueError as error:
        raise ValueError(
            f"the env's step must return a state with the structure of the one it got: {error}"
        ) from None


def check_methods(env: Any, methods: tuple[str, ...], kind: str) -> None:
    """Raises a TypeError naming `kind` unless `env` has every method in `methods`."""
    if not all(callable(getattr(env, name, None)) for name in methods):
        raise TypeError(
            f"`env` must be a {kind} (with {', '.join(methods)}), got {type(env).__name__}"
        )


def checked_action(
    kind: str,
    num_envs: int | None,
    state: Any,
    action: Any,
    key: Any,
    key_optional: bool = False,
) -> Any:
    """Checks a step's state, action and key for a layout of `num_envs`; returns the action.

    Args:
      kind: what is stepped, for the messages.
      num_envs: None for one env, else the batch size.
      state: the Recorded state.
      action: the action(s).
      key: the step's PRNG key.
      key_optional: whether None is accepted as the key.

    Returns:
      The action to step with: host numbers (lists too) as a numpy array of a dtype JAX keeps exact.
    """
    _check_recorded(state)
    _checks.check_batch_driver(
        kind, num_envs, key, jax.tree.leaves(action), key_optional=key_optional
    )
    action = _checks.host_action("action", action)
    _checks.check_leading_axis("action", action, num_envs)
    return action


def checked_array_action(num_envs: int | None, action: Any, space: Any) -> Any:
    """`action` checked against ONE env's array `space`, with the batch's axis; returns it.

    Args:
      num_envs: None for one env, else the batch size.
      action: the action(s).
      space: ONE env's action space (a Gymnasium space), or None (nothing to check).

    Returns:
      The action (host values as arrays of a real dtype JAX keeps exact, for an array space).
    """
    if space is None or getattr(space, "dtype", None) is None:  # no space, or Tuple/Dict
        return action
    action = _checks.action_array("action", action)
    expected = (() if num_envs is None else (num_envs,)) + tuple(space.shape or ())
    shape = tuple(jnp.shape(action))
    if shape != expected:
        raise ValueError(
            f"`action` must have shape {expected} (num_envs={num_envs}, action_space="
            f"{space}), got shape {shape}"
        )
    return action


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


def no_episode(shape: tuple[int, ...], metrics: tuple[str, ...] = ()) -> EpisodeEnded:
    """An EpisodeEnded in which no env finished (for a reset's info, so pytrees keep one form:
    the step's, with the `metrics` named)."""
    zero = jnp.zeros(shape, jnp.bool_)
    values = jnp.zeros(shape, jnp.float32)
    return EpisodeEnded(
        zero, values, jnp.zeros(shape, jnp.int32), zero, zero,
        metrics={name: values for name in metrics},
    )  # fmt: skip
