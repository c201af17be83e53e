"""Statistics and capture over brax environments (and MuJoCo Playground's: same State protocol).

``BraxAdapter(env)`` has brax's ``reset(rng) -> State`` and ``step(state, action) -> State``;
it keeps the statistics in ``state.info["episode_stats"]`` (and the capture state in
``state.info["episode_capture"]``, the history in ``state.info["episode_history"]``, the step
counter in ``state.info["episode_steps"]``) and the
episodes that finished on the step in ``state.info["episode"]`` / ``["_episode"]``.

Truncation is read from ``state.info["truncation"]`` (set by brax's ``EpisodeWrapper``);
termination is ``done`` without truncation. Wrap it outermost, over an autoreset wrapper
(brax's ``AutoResetWrapper``, Playground's ``BraxAutoResetWrapper``: the done step's reward
counts and the next step starts a new episode, i.e. same-step autoreset), as
``brax.envs.training.wrap`` and Playground's ``wrap_for_brax_training`` build it. A batched env
(``VmapWrapper``, reward of shape [N]) gets one queue for all N envs, filled in env-index order.

Capture keeps ``state.pipeline_state`` (brax) or ``state.data`` (Playground) per frame, or what
``content`` makes of it. The autoreset wrapper replaces it by the first state on the done step,
so the adapter steps a copy of that wrapper whose inner env is tapped for the state before the
reset: the final frame is kept and the user's wrapper objects are not changed.

brax is not imported: the adapter duck-types ``State.replace`` and ``info``.

Example (two inverted pendulums, episodes cut at 10 steps)::

    >>> import jax, jax.numpy as jnp, brax.envs, fnrec
    >>> env = brax.envs.get_environment("inverted_pendulum", backend="generalized")
    >>> env = fnrec.adapters.BraxAdapter(brax.envs.training.wrap(env, episode_length=10))
    >>> state = jax.jit(env.reset)(jax.random.split(jax.random.PRNGKey(0), 2))
    >>> step = jax.jit(env.step)
    >>> for _ in range(10):
    ...     state = step(state, jnp.zeros((2, env.action_size)))
    >>> fnrec.stats.queues(state.info["episode_stats"])["length_queue"].tolist()
    [10, 10]
"""

from __future__ import annotations

import copy
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array

from fnrec import _checks
from fnrec.adapters import core
from fnrec.adapters.core import EnvStep, Recorded, Recording
from fnrec.capture import EpisodeCapture
from fnrec.history import EpisodeHistory
from fnrec.stats import EpisodeEnded, EpisodeStatistics, episode_statistics

STATS_KEY = "episode_stats"
CAPTURE_KEY = "episode_capture"
STEPS_KEY = "episode_steps"
HISTORY_KEY = "episode_history"
_FINAL_KEY = "fnrec_final_state"
_OWN_KEYS = (STATS_KEY, CAPTURE_KEY, STEPS_KEY, HISTORY_KEY, "episode", "_episode")


def physics_state(state: Any) -> Any:
    """What capture keeps of a brax State: ``pipeline_state`` (brax) or ``data`` (Playground)."""
    if hasattr(state, "pipeline_state"):
        return state.pipeline_state
    if hasattr(state, "data"):
        return state.data
    raise TypeError(
        "`state` must be a brax State (with pipeline_state) or a MuJoCo Playground State (with "
        f"data), got {type(state).__name__}"
    )


class _FinalStateTap:
    """Puts the physics state after the step (before the autoreset above) into ``info``."""

    def __init__(self, env: Any) -> None:
        self.env = env

    def reset(self, rng: Array) -> Any:
        return _stash(self.env.reset(rng))

    def step(self, state: Any, action: Array) -> Any:
        return _stash(self.env.step(state, action))

    def __getattr__(self, name: str) -> Any:
        if name == "env":
            raise AttributeError(name)
        return getattr(self.env, name)


def _stash(state: Any) -> Any:
    return state.replace(info={**state.info, _FINAL_KEY: physics_state(state)})


def _is_autoreset(env: Any) -> bool:
    return "AutoReset" in type(env).__name__ and hasattr(env, "env")


class BraxAdapter(core.Wrapper):
    """Records episode statistics (and captures episodes) of a brax or Playground env.

    Args:
      env: a ``brax.envs.Env`` (usually ``EpisodeWrapper`` + ``AutoResetWrapper``, vmapped or
        not) or a MuJoCo Playground env with the same ``reset``/``step``/``State``.
      statistics: an ``fnrec.stats.episode_statistics(...)`` in ``"same_step"`` mode (brax's
        autoreset); default 100 episodes.
      capture: None, or an ``fnrec.capture.episode_capture(...)``; needs an autoreset wrapper
        outermost in `env`.
      history: None, or an ``fnrec.history.episode_history(...)`` (every episode's statistics;
        with ``stream=`` the way to get them out of brax's trainers).
    """

    kind = "brax Env"

    def __init__(
        self,
        env: Any,
        statistics: EpisodeStatistics | None = None,
        capture: EpisodeCapture | None = None,
        history: EpisodeHistory | None = None,
    ) -> None:
        statistics = episode_statistics() if statistics is None else statistics
        super().__init__(env, Recording(statistics, capture, history=history))
        if statistics.autoreset_mode != "same_step":
            raise ValueError(
                "brax resets on the done step: `statistics` must use autoreset_mode='same_step', "
                f"got {statistics.autoreset_mode!r}"
            )
        self._stepped = env
        if capture is not None:
            if not _is_autoreset(env):
                raise ValueError(
                    "`capture` needs an autoreset wrapper outermost in `env` (brax.envs.training."
                    f"wrap or Playground's wrap_for_brax_training), got {type(env).__name__}"
                )
            self._stepped = copy.copy(env)
            self._stepped.env = _FinalStateTap(env.env)

    def reset(self, rng: Array) -> Any:
        """The env's reset, with fresh statistics (and capture) in ``state.info``."""
        _checks.check_key("rng", rng)
        state = self._stepped.reset(rng)
        shape = jnp.shape(state.reward)
        if len(shape) > 1:
            raise ValueError(f"`state.reward` must be a scalar or [N], got shape {shape}")
        state, _ = _pop_final(state)
        recorded = self.recording.init(physics_state(state), shape[0] if shape else None)
        return _with_info(state, recorded, core.no_episode(shape))

    def step(self, state: Any, action: Array) -> Any:
        """The env's step, recorded; the finished episodes are in ``state.info["episode"]``."""
        info = getattr(state, "info", None)
        if not isinstance(info, dict) or STATS_KEY not in info:
            raise ValueError(
                f"`state` must come from this wrapper's reset (no state.info[{STATS_KEY!r}] found)"
            )
        recorded = Recorded(
            None, info[STATS_KEY], info[STEPS_KEY], info.get(CAPTURE_KEY), info.get(HISTORY_KEY)
        )
        action = _checks.action_array("action", action)
        # The inner wrappers must not see our entries (VmapWrapper would map the shared queue).
        inner = {k: v for k, v in info.items() if k not in _OWN_KEYS}
        state = self._stepped.step(state.replace(info=inner), action)
        state, final = _pop_final(state)
        terminated, truncated = core.split_done(state.done, state.info.get("truncation", 0.0))
        transition = EnvStep(physics_state(state), None, state.reward, terminated, truncated, {})
        out = self.recording.record(recorded, transition, final)
        return _with_info(state, out.state, out.ended)

    def functions(self, params: Any = None, num_envs: int | None = None) -> core.AdapterFns:
        """This adapter's ``core.AdapterFns`` (what fnrec's host envs drive).

        Args:
          params: unused (brax envs have none).
          num_envs: the batch size of a batched env (``VmapWrapper``: its reset takes N keys);
            None for an unbatched one.
        """
        del params

        def init(key: Array) -> tuple[Any, Any]:
            state = self.reset(key if num_envs is None else jax.random.split(key, num_envs))
            return state, state.obs

        def step(state: Any, action: Any, key: Array) -> core.StepResult:
            del key  # brax steps take none
            state = self.step(state, action)
            info = {k: v for k, v in state.info.items() if k not in _OWN_KEYS}
            terminated, truncated = core.split_done(state.done, state.info.get("truncation", 0.0))
            ended = EpisodeEnded(
                state.info["_episode"], state.info["episode"]["r"], state.info["episode"]["l"],
                terminated & state.info["_episode"], truncated & state.info["_episode"],
            )  # fmt: skip
            reward = jnp.asarray(state.reward, jnp.float32)
            return core.StepResult(state, state.obs, reward, terminated, truncated, info, ended)

        def reset(state: Any, key: Array, mask: Any) -> tuple[Any, Any]:
            """Resets every env (brax has no per-env reset); the statistics carry over."""
            del mask
            fresh, obs = init(key)
            stats = self.statistics.reset(state.info[STATS_KEY])
            info = {**fresh.info, STATS_KEY: stats}
            for name in (HISTORY_KEY,):
                if name in state.info:
                    info[name] = state.info[name]
            return fresh.replace(info=info), obs

        return core.AdapterFns(
            init=init,
            step=step,
            reset=reset,
            stats=lambda state: state.info[STATS_KEY],
            env_state=physics_state,
            num_envs=num_envs,
            autoreset_mode="same_step",
            masked_reset=False,
            name=f"BraxAdapter({type(self.env).__name__})",
        )


def _pop_final(state: Any) -> tuple[Any, Any]:
    """The state without the tap's entry, and that entry (None without a tap)."""
    if _FINAL_KEY not in state.info:
        return state, None
    info = dict(state.info)
    final = info.pop(_FINAL_KEY)
    return state.replace(info=info), final


def _with_info(state: Any, recorded: Recorded, ended: Any) -> Any:
    info = {**state.info, STATS_KEY: recorded.stats, STEPS_KEY: recorded.steps, **ended.to_info()}
    if recorded.capture is not None:
        info[CAPTURE_KEY] = recorded.capture
    if recorded.history is not None:
        info[HISTORY_KEY] = recorded.history
    return state.replace(info=info)


def BraxRecordEpisodeStatistics(env: Any, buffer_length: int = 100) -> BraxAdapter:
    """Deprecated: use ``BraxAdapter(env, statistics=episode_statistics(buffer_length))``."""
    import warnings

    warnings.warn(
        "fnrec.adapters.BraxRecordEpisodeStatistics is deprecated; use fnrec.adapters.BraxAdapter("
        "env, statistics=fnrec.stats.episode_statistics(buffer_length))",
        DeprecationWarning,
        stacklevel=2,
    )
    return BraxAdapter(env, episode_statistics(buffer_length))
