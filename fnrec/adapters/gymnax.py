"""gymnax envs as a recorder, and ``GymnaxAdapter``: the same with gymnax's own signatures.

``recorder(env, recording, num_envs, params)`` is the family's entry, as every family's: a
``fnrec.Recorder`` whose steps equal gymnax's own ``step`` bit for bit (the same keys, the same
nested ``jax.jit`` around ``step_env``/``reset_env``/``is_truncated``, so params are traced as
gymnax traces them), with the final state before the autoreset kept for capture.

A bare gymnax ``Environment`` goes through the core (``fnrec.adapters.core``): fnrec does gymnax's
same-step autoreset with gymnax's keys. An env behind gymnax wrappers (``LogWrapper``,
``FlattenObservationWrapper``) resets itself inside ``step``: its steps are recorded as they come
(statistics only: capture needs the final state, which such a step does not return).

``GymnaxAdapter(env, recording, num_envs, step_api)`` is a thin shell over that recorder with
gymnax's ``reset(key, params) -> (obs, state)`` and ``step(key, state, action, params)``: the
purejaxrl / rejax swap for ``LogWrapper`` is one line. The input step API is detected (gymnax
1.x: 6 values; 0.0.x: 5); the output one is the caller's choice (``step_api``).

gymnax is not imported: the family duck-types the env. Example::

    >>> import jax, gymnax, fnrec
    >>> env, params = gymnax.make("CartPole-v1")
    >>> rec = fnrec.adapters.gymnax.recorder(env, fnrec.Recording(), num_envs=4)
    >>> state, obs = rec.init(jax.random.key(0))
    >>> out = rec.step(state, jax.numpy.zeros(4, int))
    >>> out.info["_episode"].shape, rec.spec.action_space
    ((4,), Discrete(2))
"""

from __future__ import annotations

from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
from jax import Array

from fnrec.adapters import core
from fnrec.adapters.core import EnvFns, EnvReset, EnvStep, Recording
from fnrec.recorders import Recorder
from fnrec.recorders import recorder as make_recorder

STEP_APIS: tuple[str, ...] = ("auto", "terminated_truncated", "done")


def is_bare(env: Any) -> bool:
    """Whether `env`'s class defines gymnax's ``step_env``/``reset_env`` (not behind a wrapper)."""
    return callable(getattr(type(env), "step_env", None)) and callable(
        getattr(type(env), "reset_env", None)
    )


def own_step_api(env: Any) -> str:
    """The step API of `env`'s own ``step``: gymnax 1.x has ``is_truncated`` and 6 values."""
    inner = env
    while inner is not None and not is_bare(inner):
        inner = getattr(inner, "_env", None)
    probe = type(inner if inner is not None else env)
    return "terminated_truncated" if callable(getattr(probe, "is_truncated", None)) else "done"


def env_fns(env: Any, params: Any = None) -> EnvFns:
    """A gymnax env as the core's ``EnvFns`` (one env), `params` bound (None: its defaults).

    Args:
      env: a gymnax ``Environment``, bare or behind gymnax wrappers.
      params: the env params.

    Returns:
      The EnvFns: a bare env's transition and reset, or a wrapped env's own (resetting) step.
    """
    core.check_methods(env, ("reset", "step"), "gymnax environment")
    params = getattr(env, "default_params", None) if params is None else params
    if not is_bare(env):
        return _wrapped_fns(env, params)
    step_env, reset_env = _jitted_step_env, _jitted_reset_env

    def env_step(env_state: Any, action: Any, key: Array) -> EnvStep:
        obs, next_state, reward, terminated, truncated, info = step_env(
            env, key, env_state, action, params
        )
        return EnvStep(next_state, obs, reward, terminated, truncated, info)

    def env_reset(key: Array) -> EnvReset:
        obs, env_state = reset_env(env, key, params)
        return EnvReset(env_state, obs)

    return EnvFns(env_step, env_reset)


# Jitted as gymnax's own step is (the env static, params traced arrays, not Python floats folded
# in float64), so the trajectory equals gymnax's bit for bit; jit's cache keeps one compile per
# env for eager calls too, as gymnax's jitted methods do.
@partial(jax.jit, static_argnums=0)
def _jitted_reset_env(env: Any, key: Array, params: Any) -> tuple:
    return env.reset_env(key, params)


@partial(jax.jit, static_argnums=0)
def _jitted_step_env(env: Any, key: Array, state: Any, action: Any, params: Any) -> tuple:
    """gymnax's transition with terminated and truncated apart (both gymnax versions)."""
    obs, next_state, reward, done, info = env.step_env(key, state, action, params)
    if callable(getattr(type(env), "is_truncated", None)):  # gymnax 1.x
        return obs, next_state, reward, done, env.is_truncated(next_state, params), info
    # gymnax 0.0.x: `done` includes the time limit
    timed_out = time_limit_reached(next_state, params, steps_taken=0)
    terminated, truncated = core.split_done(done, info.get("truncated", timed_out))
    return obs, next_state, reward, terminated, truncated, info


def _wrapped_fns(env: Any, params: Any) -> EnvFns:
    """A wrapped env's own step, which resets itself (no final state: no capture)."""

    def env_step(env_state: Any, action: Any, key: Array) -> EnvStep:
        out = env.step(key, env_state, action, params)
        if len(out) == 6:
            obs, next_state, reward, terminated, truncated, info = out
        elif len(out) == 5:
            obs, next_state, reward, done, info = out
            # The state after an autoreset is a new episode's: the limit is read off the old one.
            timed_out = time_limit_reached(env_state, params, steps_taken=1)
            terminated, truncated = core.split_done(done, info.get("truncated", timed_out))
        else:
            raise ValueError(f"`env.step` must return 5 or 6 values, got {len(out)}")
        return EnvStep(next_state, obs, reward, terminated, truncated, info)

    def env_reset(key: Array) -> EnvReset:
        obs, env_state = env.reset(key, params)
        return EnvReset(env_state, obs)

    return EnvFns(env_step, env_reset, resets_itself=True)


def recorder(
    env: Any, recording: Recording | None = None, num_envs: int | None = None, params: Any = None
) -> Recorder:
    """A gymnax env as a ``fnrec.Recorder`` (the family's entry).

    Args:
      env: a gymnax ``Environment`` (bare: every mode of capture; behind gymnax wrappers: it
        resets itself, so statistics only).
      recording: what is recorded (default ``fnrec.Recording()``); its statistics must use
        ``"same_step"`` (gymnax's autoreset).
      num_envs: None for one env, or N for a batch with one shared queue.
      params: the env params (None: ``env.default_params``).

    Returns:
      The Recorder; its spec has the env's spaces as Gymnasium spaces.
    """
    from fnrec.adapters.spaces import known_spaces

    recording = _gymnax_recording(recording)
    params = getattr(env, "default_params", None) if params is None else params
    fns = env_fns(env, params)
    if fns.resets_itself and recording.capture is not None:
        raise ValueError(
            "`recording.capture` needs the env state before gymnax's autoreset, which only a "
            f"bare gymnax Environment gives (its step_env/reset_env); got {type(env).__name__}. "
            "Record the Environment itself: fnrec records the statistics LogWrapper keeps."
        )
    observation_space, action_space = known_spaces(*_own_spaces(env, params))
    return make_recorder(
        fns, recording, num_envs, name=f"gymnax({type(env).__name__})",
        observation_space=observation_space, action_space=action_space,
    )  # fmt: skip


def _gymnax_recording(recording: Recording | None) -> Recording:
    recording = Recording() if recording is None else recording
    if isinstance(recording, Recording) and recording.autoreset_mode != "same_step":
        raise ValueError(
            "gymnax resets on the done step: `recording.statistics` must use autoreset_mode="
            f"'same_step', got {recording.autoreset_mode!r}"
        )
    return recording


def _own_spaces(env: Any, params: Any) -> tuple[Any, Any]:
    """gymnax's ``observation_space(params)`` and ``action_space(params)``, None if unknown."""
    spaces = []
    for name in ("observation_space", "action_space"):
        method = getattr(env, name, None)
        try:
            spaces.append(method(params) if callable(method) else None)
        except Exception:
            spaces.append(None)
    return spaces[0], spaces[1]


class GymnaxAdapter:
    """A gymnax recorder with gymnax's own signatures: the drop-in for gymnax's ``LogWrapper``.

    Args:
      env: a gymnax ``Environment`` (or one behind gymnax wrappers: statistics only).
      recording: what is recorded (default ``fnrec.Recording()``; ``log_wrapper_info=True``
        adds LogWrapper's info keys, so purejaxrl's loop runs as is).
      num_envs: None for one env (``jax.vmap`` the adapter, as purejaxrl does); N to step a
        batch of N (actions of shape [N]) with one shared queue.
      step_api: what ``step`` returns: ``"terminated_truncated"`` (6 values, gymnax 1.x's),
        ``"done"`` (5 values, gymnax 0.0.x's and purejaxrl's), or ``"auto"`` (default: the
        installed gymnax's own). The env's own API is detected either way.

    Example::

        >>> import jax, gymnax, fnrec
        >>> env, params = gymnax.make("CartPole-v1")
        >>> env = fnrec.adapters.GymnaxAdapter(env, step_api="done")
        >>> obs, state = env.reset(jax.random.key(0), params)
        >>> obs, state, reward, done, info = env.step(jax.random.key(1), state, 0, params)
        >>> sorted(k for k in info if "episode" in k)
        ['_episode', 'episode']
    """

    def __init__(
        self,
        env: Any,
        recording: Recording | None = None,
        num_envs: int | None = None,
        step_api: str = "auto",
    ) -> None:
        if step_api not in STEP_APIS:
            raise ValueError(f"`step_api` must be one of {STEP_APIS}, got {step_api!r}")
        self.env = env
        self.recording = _gymnax_recording(recording)
        self.num_envs = num_envs
        self.step_api = own_step_api(env) if step_api == "auto" else step_api
        self.bare = is_bare(env)
        self.recorder()  # checks everything now, not at the first step

    def recorder(self, params: Any = None) -> Recorder:
        """The ``fnrec.Recorder`` this adapter steps, `params` bound (for fnrec's host envs)."""
        return recorder(self.env, self.recording, self.num_envs, params)

    def reset(self, key: Array, params: Any = None) -> tuple[Any, core.Recorded]:
        """gymnax's reset; the state gets fresh statistics (and capture).

        Returns:
          ``(obs, state)``: the first observation and the ``Recorded`` state.
        """
        state, obs = self.recorder(params).init(key)
        return obs, state

    def step(self, key: Array, state: core.Recorded, action: Any, params: Any = None) -> tuple:
        """gymnax's step (which autoresets), recorded.

        Returns:
          ``step_api="terminated_truncated"``: ``(obs, state, reward, terminated, truncated,
          info)``; ``"done"``: ``(obs, state, reward, done, info)``. ``info`` adds
          ``"episode": {"r", "l"}``, ``"_episode"`` (the finished episodes),
          ``"terminated"``/``"truncated"`` and, for a bare env, ``"final_observation"`` (the
          done step's observation).
        """
        out = self.recorder(params).step(state, action, key)
        info = dict(out.info)
        if "final_obs" in info:
            info["final_observation"] = info.pop("final_obs")
            info.pop("final_state")
        info.update(terminated=out.terminated, truncated=out.truncated)
        if self.step_api == "terminated_truncated":
            return out.obs, out.state, out.reward, out.terminated, out.truncated, info
        return out.obs, out.state, out.reward, out.terminated | out.truncated, info

    def __getattr__(self, name: str) -> Any:
        if name in ("env", "recording"):  # not set yet (e.g. while unpickling): no recursion
            raise AttributeError(name)
        return getattr(self.env, name)


def time_limit_reached(env_state: Any, params: Any, steps_taken: int) -> Any:
    """gymnax 0.0.x merges the time limit into ``done``: whether it was the limit, when readable.

    Reads ``env_state.time`` (through wrappers' ``env_state`` fields) against
    ``params.max_steps_in_episode``, as gymnax's own envs keep them; an env without them gives
    False (its ``done`` reads as termination). An episode that terminates on its last allowed
    step reads as truncated: 0.0.x's ``done`` cannot tell the two apart there.

    Args:
      env_state: the env's state (after the step: `steps_taken` 0; before it: 1).
      params: the env params.
      steps_taken: steps between `env_state` and the step's end.

    Returns:
      A bool array (per env), or False.
    """
    limit = getattr(params, "max_steps_in_episode", None)
    state = env_state
    while state is not None and not hasattr(state, "time"):
        state = getattr(state, "env_state", None)
    if limit is None or state is None:
        return False
    return jnp.asarray(state.time) + steps_taken >= limit
