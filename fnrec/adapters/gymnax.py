"""Episode statistics over gymnax environments, keeping gymnax's signatures.

``GymnaxRecordEpisodeStatistics(env)`` has gymnax's ``reset(key, params)`` and
``step(key, state, action, params)``; its state is a ``Recorded`` (the gymnax state and the
statistics) and ``info`` holds the episodes that finished (``"episode"``, ``"_episode"``).
gymnax resets inside ``step`` (same-step autoreset), so only the recording is added. gymnax is
not imported: the wrapper duck-types the env, and works with gymnax 1.x, whose step returns
``(obs, state, reward, terminated, truncated, info)``, and with 0.0.x, whose step returns
``(obs, state, reward, done, info)``. For a batch, either ``jax.vmap`` the wrapper (one queue per
env, as gymnax's LogWrapper) or pass ``num_envs=N``: the wrapper then vmaps the env itself, takes
one key per call and keeps ONE queue for the batch, filled in env-index order.
"""

from __future__ import annotations

from typing import Any

import jax
from jax import Array

from fnrec import _checks
from fnrec.adapters import core
from fnrec.adapters.core import Recorded

STEP_APIS: tuple[str, ...] = ("auto", "terminated_truncated", "done")


class GymnaxRecordEpisodeStatistics(core.Wrapper):
    """Records episode statistics of a gymnax environment in its state.

    Args:
      env: a gymnax ``Environment`` (or anything with its ``reset``/``step`` signatures).
      buffer_length: how many finished episodes the statistics keep.
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
        buffer_length: int = 100,
        step_api: str = "auto",
        num_envs: int | None = None,
    ) -> None:
        super().__init__(env, buffer_length)
        if step_api not in STEP_APIS:
            raise ValueError(f"`step_api` must be one of {STEP_APIS}, got {step_api!r}")
        _checks.check_num_envs(num_envs)
        self.step_api = step_api
        self.num_envs = num_envs
        self._reset, self._step = env.reset, env.step
        if num_envs is not None:  # one key in, split per env
            reset, step = jax.vmap(env.reset, (0, None)), jax.vmap(env.step, (0, 0, 0, None))
            self._reset = lambda key, params: reset(jax.random.split(key, num_envs), params)
            self._step = lambda key, s, a, params: step(
                jax.random.split(key, num_envs), s, a, params
            )

    def reset(self, key: Array, params: Any = None) -> tuple[Any, Recorded]:
        """gymnax's reset; the state gets fresh statistics.

        Returns:
          ``(obs, state)``.
        """
        obs, env_state = self._reset(key, params)
        return obs, core.init(env_state, self.num_envs, self.buffer_length)

    def step(self, key: Array, state: Recorded, action: Any, params: Any = None) -> tuple:
        """gymnax's step (which autoresets), recorded.

        Returns:
          gymnax 1.x: ``(obs, state, reward, terminated, truncated, info)``; gymnax 0.0.x:
          ``(obs, state, reward, done, info)``. ``info`` adds ``"episode": {"r", "l"}``,
          ``"_episode"`` (the finished episodes) and ``"terminated"``/``"truncated"``.
        """
        if not isinstance(state, Recorded):
            raise TypeError(
                "`state` must be the Recorded state from this wrapper's reset, "
                f"got {type(state).__name__}"
            )
        out = self._step(key, state.env_state, action, params)
        api = self._api(len(out))
        if api == "terminated_truncated":
            obs, env_state, reward, terminated, truncated, info = out
        else:
            obs, env_state, reward, done, info = out
            terminated, truncated = core.split_done(done, info.get("truncated", False))
        stats, steps, terminated, truncated, ended = core.record(
            state.stats, reward, terminated, truncated, state.steps
        )
        state = Recorded(env_state, stats, steps)
        info = {**info, "terminated": terminated, "truncated": truncated, **ended.to_info()}
        if api == "terminated_truncated":
            return obs, state, reward, terminated, truncated, info
        return obs, state, reward, terminated | truncated, info

    def _api(self, num_values: int) -> str:
        detected = {6: "terminated_truncated", 5: "done"}.get(num_values)
        if detected is None or self.step_api not in ("auto", detected):
            raise ValueError(
                f"`env.step` returned {num_values} values; step_api={self.step_api!r} expects "
                + {"auto": "5 or 6", "terminated_truncated": "6", "done": "5"}[self.step_api]
            )
        return detected
