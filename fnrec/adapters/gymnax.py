"""Statistics and capture over gymnax environments, keeping gymnax's signatures.

``GymnaxAdapter(env)`` has gymnax's ``reset(key, params)`` and ``step(key, state, action,
params)``; its state is a ``Recorded`` (the gymnax state, the statistics, the capture) and
``info`` holds the episodes that finished (``"episode"``, ``"_episode"``).

A bare gymnax ``Environment`` goes through the core (``fnrec.adapters.core``): the adapter calls
the env's ``step_env`` and ``reset_env`` and does gymnax's same-step autoreset itself, with the
same keys, so every result equals gymnax's own ``step`` and the final state before the reset is
there for capture. An env behind gymnax wrappers (``LogWrapper``, ``FlattenObservationWrapper``)
resets itself inside ``step``: its steps are recorded as they come (statistics only; capture
needs the final state, which such a step does not return).

gymnax is not imported: the adapter duck-types the env, and works with gymnax 1.x, whose step
returns ``(obs, state, reward, terminated, truncated, info)``, and with 0.0.x, whose step returns
``(obs, state, reward, done, info)``. For a batch, either ``jax.vmap`` the adapter (one queue per
env, as gymnax's LogWrapper) or pass ``num_envs=N``: the adapter then vmaps the env itself
(``core.vmapped``), takes one key per call and keeps ONE queue for the batch, in env-index order.

Example::

    >>> import jax, gymnax, fnrec
    >>> env, params = gymnax.make("CartPole-v1")
    >>> env = fnrec.adapters.GymnaxAdapter(env, num_envs=4)
    >>> obs, state = env.reset(jax.random.key(0), params)
    >>> obs, state, reward, terminated, truncated, info = env.step(
    ...     jax.random.key(1), state, jax.numpy.zeros(4, int), params)
    >>> info["_episode"].shape
    (4,)
"""

from __future__ import annotations

from typing import Any

import jax
from jax import Array

from fnrec import _checks
from fnrec.adapters import core
from fnrec.adapters.core import EnvFns, EnvReset, EnvStep, Recorded, Recording
from fnrec.capture import EpisodeCapture
from fnrec.history import EpisodeHistory
from fnrec.stats import EpisodeStatistics, episode_statistics

STEP_APIS: tuple[str, ...] = ("auto", "terminated_truncated", "done")


def is_bare(env: Any) -> bool:
    """Whether `env`'s class defines gymnax's ``step_env``/``reset_env`` (not behind a wrapper)."""
    return callable(getattr(type(env), "step_env", None)) and callable(
        getattr(type(env), "reset_env", None)
    )


class GymnaxAdapter(core.Wrapper):
    """Records episode statistics (and captures episodes) of a gymnax environment.

    Args:
      env: a gymnax ``Environment`` (or anything with its ``reset``/``step`` signatures).
      statistics: an ``fnrec.stats.episode_statistics(...)`` in ``"same_step"`` mode (gymnax's
        autoreset); default 100 episodes.
      capture: None, or an ``fnrec.capture.episode_capture(...)``; needs a bare gymnax
        ``Environment`` (see the module docstring). The captured env state is gymnax's.
      history: None, or an ``fnrec.history.episode_history(...)`` (every episode's statistics).
      log_wrapper_info: add LogWrapper's info keys (``returned_episode_returns``, ...,
        ``timestep``; see ``core.Recording``): swapping gymnax's or purejaxrl's ``LogWrapper``
        for this adapter is then one line.
      step_api: ``"terminated_truncated"`` (gymnax 1.x, 6 values), ``"done"`` (gymnax 0.0.x,
        5 values; ``done`` is read as termination unless ``info`` has ``"truncated"``), or
        ``"auto"`` (default: read from the number of values ``env.step`` returns).
      num_envs: None for one env; N to step a batch of N envs (actions of shape [N]) with one
        shared queue.
    """

    kind = "gymnax environment"

    def __init__(
        self,
        env: Any,
        statistics: EpisodeStatistics | None = None,
        capture: EpisodeCapture | None = None,
        history: EpisodeHistory | None = None,
        step_api: str = "auto",
        num_envs: int | None = None,
        log_wrapper_info: bool = False,
    ) -> None:
        statistics = episode_statistics() if statistics is None else statistics
        recording = Recording(
            statistics, capture, history=history, log_wrapper_info=log_wrapper_info
        )
        super().__init__(env, recording)
        if step_api not in STEP_APIS:
            raise ValueError(f"`step_api` must be one of {STEP_APIS}, got {step_api!r}")
        _checks.check_num_envs(num_envs)
        if statistics.autoreset_mode != "same_step":
            raise ValueError(
                "gymnax resets on the done step: `statistics` must use autoreset_mode="
                f"'same_step', got {statistics.autoreset_mode!r}"
            )
        self.bare = is_bare(env)
        if capture is not None and not self.bare:
            raise ValueError(
                "`capture` needs the env state before gymnax's autoreset, which only a bare gymnax "
                f"Environment gives (its step_env/reset_env); got {type(env).__name__}. Wrap the "
                "Environment itself: fnrec records the statistics LogWrapper keeps."
            )
        self.step_api = step_api
        self.num_envs = num_envs

    # ------------------------------------------------------------------ the env's functions
    def _params(self, params: Any) -> Any:
        return getattr(self.env, "default_params", None) if params is None else params

    def _fns(self, params: Any) -> EnvFns:
        """step_env/reset_env as the core's EnvFns (a bare env), batched with `num_envs`."""
        env, params = self.env, self._params(params)

        def env_step(env_state: Any, action: Any, key: Array) -> EnvStep:
            out = env.step_env(key, env_state, action, params)
            obs, next_state, reward, terminated, info = out
            if callable(getattr(type(env), "is_truncated", None)):  # gymnax 1.x
                truncated = env.is_truncated(next_state, params)
            else:  # gymnax 0.0.x: `done` includes the time limit
                timed_out = time_limit_reached(next_state, params, steps_taken=0)
                terminated, truncated = core.split_done(
                    terminated, info.get("truncated", timed_out)
                )
            return EnvStep(next_state, obs, reward, terminated, truncated, info)

        def env_reset(key: Array) -> EnvReset:
            obs, env_state = env.reset_env(key, params)
            return EnvReset(env_state, obs)

        fns = EnvFns(env_step, env_reset)
        return fns if self.num_envs is None else core.vmapped(fns, self.num_envs)

    def _reset_fn(self, params: Any) -> Any:
        if self.bare:
            return self._fns(params).reset
        reset = lambda key: EnvReset(*reversed(self.env.reset(key, params)))  # noqa: E731
        return reset if self.num_envs is None else core.keyed_vmap(reset, self.num_envs)

    # ------------------------------------------------------------------ gymnax's API
    def reset(self, key: Array, params: Any = None) -> tuple[Any, Recorded]:
        """gymnax's reset; the state gets fresh statistics (and capture).

        Returns:
          ``(obs, state)``.
        """
        state, obs = self.init_from(self._reset_fn(params)(self.checked_reset(key)))
        return obs, state

    def step(self, key: Array, state: Recorded, action: Any, params: Any = None) -> tuple:
        """gymnax's step (which autoresets), recorded.

        Returns:
          gymnax 1.x: ``(obs, state, reward, terminated, truncated, info)``; gymnax 0.0.x:
          ``(obs, state, reward, done, info)``. ``info`` adds ``"episode": {"r", "l"}``,
          ``"_episode"`` (the finished episodes), ``"terminated"``/``"truncated"`` and, for a
          bare env, ``"final_obs"``/``"final_observation"`` (the done step's observation).
        """
        action = self.checked_step(state, action, key)
        if self.bare:
            api = self._checked_api(_bare_api(self.env))
            out = self.recording.step(self._fns(params), state, action, key)
            info = {**out.info, "final_observation": out.info["final_obs"]}
            info.pop("final_state")
        else:
            api, transition = self._wrapped_step(key, state, action, params)
            out = self.recording.record(state, transition)
            info = dict(out.info)
        info.update(terminated=out.terminated, truncated=out.truncated)
        if api == "terminated_truncated":
            return out.obs, out.state, out.reward, out.terminated, out.truncated, info
        return out.obs, out.state, out.reward, out.terminated | out.truncated, info

    def functions(self, params: Any = None, num_envs: int | None = None) -> core.AdapterFns:
        """This adapter's ``core.AdapterFns`` (what fnrec's host envs drive), params bound."""
        if num_envs is not None and num_envs != self.num_envs:
            raise ValueError(
                f"`num_envs` must be the adapter's own ({self.num_envs}; set it on the adapter), "
                f"got {num_envs}"
            )

        def init(key: Array) -> tuple[Recorded, Any]:
            obs, state = self.reset(key, params)
            return state, obs

        def step(state: Recorded, action: Any, key: Array) -> core.StepResult:
            if self.bare:
                return self.recording.step(self._fns(params), state, action, key)
            _, transition = self._wrapped_step(key, state, action, params)
            return self.recording.record(state, transition)

        def reset(state: Recorded, key: Array, mask: Any) -> tuple[Recorded, Any]:
            fns = core.EnvFns(None, self._reset_fn(params))  # type: ignore[arg-type]
            return self.recording.reset(fns, state, key, mask)

        return core.AdapterFns(
            init=init,
            step=step,
            reset=reset,
            stats=lambda state: state.stats,
            env_state=lambda state: state.env_state,
            num_envs=self.num_envs,
            autoreset_mode="same_step",
            name=f"GymnaxAdapter({type(self.env).__name__})",
        )

    def _wrapped_step(
        self, key: Array, state: Recorded, action: Any, params: Any
    ) -> tuple[str, EnvStep]:
        """The step of an env that resets itself: its step API and its result as an EnvStep."""
        step = self.env.step
        if self.num_envs is not None:
            step = jax.vmap(step, (0, 0, 0, None))
            key = jax.random.split(key, self.num_envs)
        out = step(key, state.env_state, action, params)
        api = self._checked_api({6: "terminated_truncated", 5: "done"}.get(len(out), len(out)))
        if api == "terminated_truncated":
            obs, env_state, reward, terminated, truncated, info = out
        else:
            obs, env_state, reward, done, info = out
            # The state after an autoreset is a new episode's: the limit is read off the old one.
            timed_out = time_limit_reached(state.env_state, self._params(params), steps_taken=1)
            terminated, truncated = core.split_done(done, info.get("truncated", timed_out))
        return api, EnvStep(env_state, obs, reward, terminated, truncated, info)

    def _checked_api(self, detected: str | int) -> str:
        """The detected step API, if `step_api` allows it."""
        if detected not in _NUM_VALUES or self.step_api not in ("auto", detected):
            got = detected if isinstance(detected, int) else _NUM_VALUES[detected]
            raise ValueError(
                f"`env.step` returned {got} values; step_api={self.step_api!r} expects "
                + {"auto": "5 or 6", "terminated_truncated": "6", "done": "5"}[self.step_api]
            )
        return detected


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
    return jax.numpy.asarray(state.time) + steps_taken >= limit


def _bare_api(env: Any) -> str:
    """gymnax 1.x Environments have ``is_truncated`` and a 6-value step; 0.0.x a 5-value one."""
    return "terminated_truncated" if callable(getattr(type(env), "is_truncated", None)) else "done"


_NUM_VALUES = {"terminated_truncated": 6, "done": 5}


def GymnaxRecordEpisodeStatistics(
    env: Any, buffer_length: int = 100, step_api: str = "auto", num_envs: int | None = None
) -> GymnaxAdapter:
    """Deprecated: use ``GymnaxAdapter(env, statistics=episode_statistics(buffer_length))``."""
    import warnings

    warnings.warn(
        "fnrec.adapters.GymnaxRecordEpisodeStatistics is deprecated; use fnrec.adapters."
        "GymnaxAdapter(env, statistics=fnrec.stats.episode_statistics(buffer_length), ...)",
        DeprecationWarning,
        stacklevel=2,
    )
    return GymnaxAdapter(
        env, episode_statistics(buffer_length), step_api=step_api, num_envs=num_envs
    )
