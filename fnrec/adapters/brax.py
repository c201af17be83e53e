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
from fnrec.adapters.core import EnvFns, EnvReset, EnvStep, Recording
from fnrec.recorders import Recorder
from fnrec.recorders import recorder as make_recorder
from fnrec.stats import Metric, Reducer, metric

STATS_KEY = "episode_stats"
CAPTURE_KEY = "episode_capture"
STEPS_KEY = "episode_steps"
HISTORY_KEY = "episode_history"
_FINAL_KEY = "fnrec_final_state"
_OWN_KEYS = (
    STATS_KEY, CAPTURE_KEY, STEPS_KEY, HISTORY_KEY, "log_wrapper_episode", "episode", "_episode"
)  # fmt: skip


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


def is_batched(env: Any) -> bool:
    """Whether a ``VmapWrapper`` sits in `env`'s wrapper chain (brax's and Playground's)."""
    while env is not None:
        if "Vmap" in type(env).__name__:
            return True
        env = getattr(env, "env", None)
    return False


def env_fns(env: Any, num_envs: int | None = None) -> EnvFns:
    """A brax env that resets itself as the core's ``EnvFns``, the final state tapped.

    Args:
      env: a brax ``Env`` with an autoreset wrapper outermost (``brax.envs.training.wrap``,
        Playground's ``wrap_for_brax_training``), batched (``VmapWrapper``: `num_envs` is its
        batch) or not.
      num_envs: the batch of a batched env, else None.

    Returns:
      The EnvFns (``resets_itself``, no key used; ``view`` reads the physics state).
    """
    core.check_methods(env, ("reset", "step"), "brax Env")
    if not _is_autoreset(env):
        raise ValueError(
            "`env` must reset itself: wrap it with brax.envs.training.wrap (or Playground's "
            f"wrap_for_brax_training), which puts the autoreset wrapper outermost; got "
            f"{type(env).__name__}"
        )
    batched = is_batched(env)
    if batched and num_envs is None:
        raise ValueError(
            f"`num_envs` must be the batch of the vmapped env {type(env).__name__}, got None"
        )
    stepped = copy.copy(env)  # the user's wrapper objects are not changed
    stepped.env = _FinalStateTap(env.env)

    def env_step(state: Any, action: Any, key: Any) -> EnvStep:
        del key  # brax steps take none
        action = _checks.action_array("action", action)
        new, final = _pop_final(stepped.step(state, action))
        terminated, truncated = core.split_done(new.done, new.info.get("truncation", 0.0))
        final_state = new.replace(**{_physics_field(new): final})
        return EnvStep(new, new.obs, new.reward, terminated, truncated, {}, final_state)

    def env_reset(key: Array) -> EnvReset:
        if batched:
            key = core.env_keys(key, num_envs)
        if jnp.issubdtype(key.dtype, jax.dtypes.prng_key):  # brax's wrappers read raw keys
            key = jax.random.key_data(key)  # (EpisodeWrapper: the batch is rng.shape[:-1])
        state, _ = _pop_final(stepped.reset(key))
        return EnvReset(state, state.obs)

    return EnvFns(
        env_step, env_reset, num_envs=num_envs if batched else None, resets_itself=True,
        uses_key=False, view=physics_state,
    )  # fmt: skip


def recorder(
    env: Any, recording: Recording | None = None, num_envs: int | None = None, params: Any = None
) -> Recorder:
    """A brax (or MuJoCo Playground) env as a ``fnrec.Recorder`` (the family's entry).

    Args:
      env: a brax ``Env`` wrapped for training (autoreset outermost), batched or not.
      recording: what is recorded (default ``fnrec.Recording()``; ``"same_step"`` statistics,
        brax's autoreset; no ``max_episode_steps``: brax's ``EpisodeWrapper`` has the limit).
      num_envs: the batch of a ``VmapWrapper``-batched env; or N to batch an unbatched env here;
        None for one env.
      params: unused (brax envs have none); must be None.

    Returns:
      The Recorder; its state's ``env_state`` is brax's ``State``, and capture keeps its
      physics state (``pipeline_state``, Playground's ``data``).
    """
    from fnrec.adapters.spaces import box_spaces

    if params is not None:
        raise ValueError("`params` must be None for brax (its envs have none)")
    observation, action = box_spaces(
        getattr(env, "observation_size", None), getattr(env, "action_size", None)
    )
    return make_recorder(
        env_fns(env, num_envs), recording, num_envs, name=f"brax({type(env).__name__})",
        observation_space=observation, action_space=action,
    )  # fmt: skip


def episode_metrics(env: Any, reduce: Reducer = "sum") -> tuple[Metric, ...]:
    """Every entry of brax's per-step ``state.metrics``, reduced per episode: summed (as brax's
    ``EpisodeWrapper`` sums them into ``info["episode_metrics"]``) or by another reducer.

    Give them to the statistics: ``fnrec.Recording(statistics=fnrec.stats.episode_statistics(
    metrics=episode_metrics(env)))``; each finished episode then carries them, under the
    entries' own names (``"reward_forward"``...), in ``info["episode"]``, the queues, summaries,
    histories and the episode log. Works for MuJoCo Playground envs too.

    Args:
      env: the brax (or Playground) env, wrapped or not; its reset is traced (not run) to read
        the entries' names.
      reduce: how each entry is reduced over an episode (see ``fnrec.stats.metric``).

    Returns:
      One ``fnrec.stats.Metric`` per entry, in name order.
    """
    keys = jax.random.split(jax.random.PRNGKey(0), env_batch(env, None) or 1)
    shapes = jax.eval_shape(env.reset, keys if is_batched(env) else keys[0])
    return tuple(
        metric(name, lambda t, name=name: t.env_state.metrics[name], reduce)
        for name in sorted(shapes.metrics)
    )


_RECORDED_KEYS = {
    "stats": STATS_KEY, "steps": STEPS_KEY, "capture": CAPTURE_KEY, "history": HISTORY_KEY,
    "last_episode": "log_wrapper_episode",
}  # fmt: skip


class BraxAdapter:
    """A brax recorder with brax's own signatures (``State`` in and out), for brax's trainers.

    ``reset(rng) -> State`` and ``step(state, action) -> State``; what is recorded rides in
    ``state.info`` (``"episode_stats"``, ``"episode_steps"``, ``"episode_capture"``,
    ``"episode_history"``) and the episodes that finished on the step are in
    ``state.info["episode"]`` / ``["_episode"]``. The batch is read off the reset's keys (brax's
    trainers reset a ``VmapWrapper`` env with one key per env).

    Args:
      env: a brax ``Env`` wrapped for training (autoreset outermost).
      recording: what is recorded (default ``fnrec.Recording()``).
    """

    def __init__(self, env: Any, recording: Recording | None = None) -> None:
        self.env = env
        self.recording = Recording() if recording is None else recording
        self.recorder(env_batch(env, None))  # checks everything now

    def recorder(self, num_envs: int | None = None) -> Recorder:
        """The ``fnrec.Recorder`` this adapter steps (what fnrec's host envs take)."""
        return recorder(self.env, self.recording, num_envs)

    def reset(self, rng: Array) -> Any:
        """The env's reset, with fresh statistics (and capture) in ``state.info``."""
        _checks.check_key("rng", rng)
        num_envs = env_batch(self.env, rng)
        state, _ = self.recorder(num_envs).init(rng)
        shape = jnp.shape(state.env_state.reward)
        if shape != (() if num_envs is None else (num_envs,)):
            raise ValueError(f"`state.reward` must be a scalar or [N], got shape {shape}")
        names = tuple(m.name for m in self.recording.statistics.metrics)
        return _with_info(state, core.no_episode(shape, names))

    def step(self, state: Any, action: Array) -> Any:
        """The env's step, recorded; the finished episodes are in ``state.info["episode"]``."""
        info = getattr(state, "info", None)
        if not isinstance(info, dict) or STATS_KEY not in info:
            raise ValueError(
                f"`state` must come from this wrapper's reset (no state.info[{STATS_KEY!r}] found)"
            )
        # The inner wrappers must not see our entries (VmapWrapper would map the shared queue).
        inner = {k: v for k, v in info.items() if k not in _OWN_KEYS}
        fields = {f: info.get(k) for f, k in _RECORDED_KEYS.items()}
        recorded = core.Recorded(state.replace(info=inner), **fields)
        shape = jnp.shape(state.reward)
        out = self.recorder(shape[0] if shape else None).step(recorded, action)
        return _with_info(out.state, out.ended)

    def __getattr__(self, name: str) -> Any:
        if name in ("env", "recording"):
            raise AttributeError(name)
        return getattr(self.env, name)


def env_batch(env: Any, rng: Any) -> int | None:
    """The batch of a brax env: the number of reset keys for a ``VmapWrapper`` env, else None."""
    if not is_batched(env):
        return None
    if rng is None:
        return 1
    key = jnp.asarray(rng) if not hasattr(rng, "dtype") else rng
    typed = jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
    return int(key.shape[0]) if key.ndim > (0 if typed else 1) else None


def _physics_field(state: Any) -> str:
    return "pipeline_state" if hasattr(state, "pipeline_state") else "data"


def _pop_final(state: Any) -> tuple[Any, Any]:
    """The state without the tap's entry, and that entry (None without a tap)."""
    if _FINAL_KEY not in state.info:
        return state, None
    info = dict(state.info)
    final = info.pop(_FINAL_KEY)
    return state.replace(info=info), final


def _with_info(recorded: core.Recorded, ended: Any) -> Any:
    """brax's State with what is recorded (and the finished episodes) in its info."""
    state = recorded.env_state
    info = {**state.info, **ended.to_info()}
    for field, key in _RECORDED_KEYS.items():
        value = getattr(recorded, field)
        if value is not None:
            info[key] = value
    return state.replace(info=info)
