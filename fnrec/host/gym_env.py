"""Gymnasium ``Env`` and ``VectorEnv`` over a FuncEnv, with Gymnasium's episode statistics.

Host side. Each env step is one jitted call of ``fnrec.adapters.RecordEpisodeStatistics.step``;
the host only converts results to numpy and measures wall-clock episode time. The envs give
``info["episode"] = {"r", "l", "t"}`` (and ``info["_episode"]`` for the vector env) exactly as
Gymnasium's ``RecordEpisodeStatistics`` does, and expose its ``return_queue``, ``length_queue``,
``time_queue`` and ``episode_count``, so scripts of Gymnasium's "Recording Agents" guide run as
they are. Unlike Gymnasium's ``FunctionalJaxVectorEnv``: pytree states work, ``reset`` clears
the done flags, a next-step reset step's reward is not counted, and ``render`` shows the batch.
"""

from __future__ import annotations

import math
import time
from collections import deque
from functools import partial
from typing import Any

import gymnasium as gym
import jax
import numpy as np
from gymnasium.experimental.functional import FuncEnv
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

import fnrec
from fnrec.adapters import RecordEpisodeStatistics, StepResult

_AUTORESET = {
    "next_step": AutoresetMode.NEXT_STEP,
    "same_step": AutoresetMode.SAME_STEP,
    "disabled": AutoresetMode.DISABLED,
}


class _Recording:
    """What the single and vector envs share: the jitted adapter, the rng, clocks and queues."""

    def _setup(
        self,
        func_env: FuncEnv,
        num_envs: int | None,
        max_episode_steps: int | None,
        buffer_length: int,
        autoreset_mode: str,
        render_mode: str | None,
        metadata: dict[str, Any] | None,
        params: Any,
    ) -> None:
        if render_mode not in (None, "rgb_array"):
            raise ValueError(f"`render_mode` must be None or 'rgb_array', got {render_mode!r}")
        self.func_env = func_env
        self.recorder = RecordEpisodeStatistics(
            func_env, max_episode_steps, buffer_length, autoreset_mode, num_envs
        )
        self.params = self.recorder.default_params if params is None else params
        self.render_mode = render_mode
        self.metadata = {
            **dict(getattr(type(func_env), "metadata", {}) or {}),
            **dict(getattr(func_env, "metadata", {}) or {}),
            **(metadata or {}),
            "render_modes": ["rgb_array"],
            "jax": True,
        }
        self.buffer_length = buffer_length
        self.time_queue: deque[float] = deque(maxlen=buffer_length)
        # Params are closed over, not traced: some envs branch on them in Python (Blackjack).
        self._step = jax.jit(partial(self.recorder.step, params=self.params))
        self._initial = jax.jit(partial(self.recorder.initial, params=self.params))
        self._reset = jax.jit(partial(self.recorder.reset, params=self.params))
        self._state = None
        self._key = jax.random.PRNGKey(np.random.SeedSequence().generate_state(1)[0])
        shape = () if num_envs is None else (num_envs,)
        self._start = np.zeros(shape)
        self._prev_done = np.zeros(shape, bool)
        self.render_state = func_env.render_init() if render_mode == "rgb_array" else None

    def _next_key(self) -> jax.Array:
        self._key, key = jax.random.split(self._key)
        return key

    def _reset_state(self, seed: int | None, mask: np.ndarray | None) -> Any:
        if seed is not None:
            self._key = jax.random.PRNGKey(seed)
        if self._state is None:
            self._state = self._initial(self._next_key())
        self._state, obs = self._reset(self._state, self._next_key(), mask=mask)
        reset = np.ones(self._start.shape, bool) if mask is None else np.asarray(mask, bool)
        self._start = np.where(reset, time.perf_counter(), self._start)
        self._prev_done = self._prev_done & ~reset
        return jax.device_get(obs)

    def _step_state(self, action: Any) -> tuple[StepResult, dict[str, Any]]:
        if self._state is None:
            raise gym.error.ResetNeeded("Call `reset()` before `step()`.")
        out = self._step(self._state, action, self._next_key())
        self._state = out.state
        out, ended = jax.device_get((out._replace(state=None), out.ended))
        now = time.perf_counter()
        if self.recorder.autoreset_mode != "same_step":
            self._start = np.where(self._prev_done, now, self._start)
        done = np.asarray(ended.mask)
        elapsed = now - self._start
        info = fnrec.stats.to_info(ended, elapsed)
        if "episode" in info and done.ndim:  # Gymnasium's vector wrapper sums in float64
            info["episode"]["r"] = info["episode"]["r"].astype(np.float64)
        for index in np.flatnonzero(done):
            self.time_queue.append(float(np.round(np.reshape(elapsed, -1)[index], 6)))
        if self.recorder.autoreset_mode == "same_step":
            self._start = np.where(done, now, self._start)
        self._prev_done = done
        return out, info

    # ------------------------------------------------------------------ statistics
    @property
    def return_queue(self) -> deque[float]:
        """Returns of the last `buffer_length` finished episodes, oldest first."""
        return deque(self._queues()["return_queue"].tolist(), maxlen=self.buffer_length)

    @property
    def length_queue(self) -> deque[int]:
        """Lengths of the last `buffer_length` finished episodes, oldest first."""
        return deque(self._queues()["length_queue"].tolist(), maxlen=self.buffer_length)

    @property
    def episode_count(self) -> int:
        """How many episodes have finished (exact)."""
        return 0 if self._state is None else fnrec.stats.episode_count(self._state.stats)

    @property
    def stats(self) -> fnrec.EpisodeStats | None:
        """The recorded EpisodeStats (None before the first reset)."""
        return None if self._state is None else self._state.stats

    def _queues(self) -> dict[str, np.ndarray]:
        if self._state is None:
            return {"return_queue": np.zeros(0), "length_queue": np.zeros(0, np.int64)}
        return fnrec.stats.queues(self._state.stats)

    # ------------------------------------------------------------------ rendering
    def _render_one(self, index: int | None) -> np.ndarray:
        env_state = jax.device_get(self._state.env_state)
        if index is not None:
            env_state = jax.tree.map(lambda x: np.asarray(x)[index], env_state)
        self.render_state, image = self.func_env.render_image(
            env_state, self.render_state, self.params
        )
        return np.array(image, copy=True)

    def _check_render(self) -> None:
        if self.render_mode != "rgb_array":
            raise gym.error.Error(
                f"render() needs render_mode='rgb_array', the env has {self.render_mode!r}"
            )
        if self._state is None:
            raise gym.error.ResetNeeded("Call `reset()` before `render()`.")

    def close(self, **kwargs: Any) -> None:
        """Closes the FuncEnv's render state."""
        if self.render_state is not None:
            self.func_env.render_close(self.render_state)
            self.render_state = None


class FunctionalEnv(_Recording, gym.Env):
    """A ``gymnasium.Env`` over a FuncEnv with ``RecordEpisodeStatistics``'s info and queues.

    Args:
      func_env: the FuncEnv (unbatched, untransformed).
      max_episode_steps: None, or truncate episodes after this many steps.
      buffer_length: how many finished episodes the queues keep.
      render_mode: None or ``"rgb_array"`` (the FuncEnv's ``render_image``).
      metadata: extra metadata; ``render_fps`` is carried over from the FuncEnv.
      params: the FuncEnv's params (None for its defaults).
    """

    def __init__(
        self,
        func_env: FuncEnv,
        max_episode_steps: int | None = None,
        buffer_length: int = 100,
        render_mode: str | None = None,
        metadata: dict[str, Any] | None = None,
        params: Any = None,
    ) -> None:
        self._setup(
            func_env,
            None,
            max_episode_steps,
            buffer_length,
            "disabled",
            render_mode,
            metadata,
            params,
        )
        self.observation_space = func_env.observation_space
        self.action_space = func_env.action_space

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Starts a new episode; a partial episode is dropped (not queued)."""
        super().reset(seed=seed)
        return self._reset_state(seed, None), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """One step; ``info["episode"]`` when the episode ends."""
        out, info = self._step_state(action)
        return out.obs, float(out.reward), bool(out.terminated), bool(out.truncated), info

    def render(self) -> np.ndarray:
        """The FuncEnv's image of the current state."""
        self._check_render()
        return self._render_one(None)


class FunctionalVectorEnv(_Recording, gym.vector.VectorEnv):
    """A ``gymnasium.vector.VectorEnv`` over a FuncEnv with vector ``RecordEpisodeStatistics``.

    Args:
      func_env: the FuncEnv (unbatched, untransformed).
      num_envs: how many envs run in the batch.
      max_episode_steps: None, or truncate episodes after this many steps.
      buffer_length: how many finished episodes the queues keep (one queue for all envs).
      autoreset_mode: ``"next_step"`` (Gymnasium's default), ``"same_step"`` (final observation
        in ``info["final_obs"]``) or ``"disabled"`` (reset with ``options={"reset_mask": m}``).
      render_mode: None or ``"rgb_array"``.
      render_env: which env ``render()`` shows: an index, or None for a grid of all envs.
      metadata: extra metadata; ``render_fps`` is carried over from the FuncEnv.
      params: the FuncEnv's params (None for its defaults).
    """

    def __init__(
        self,
        func_env: FuncEnv,
        num_envs: int,
        max_episode_steps: int | None = None,
        buffer_length: int = 100,
        autoreset_mode: str = "next_step",
        render_mode: str | None = None,
        render_env: int | None = None,
        metadata: dict[str, Any] | None = None,
        params: Any = None,
    ) -> None:
        self._setup(
            func_env,
            num_envs,
            max_episode_steps,
            buffer_length,
            autoreset_mode,
            render_mode,
            metadata,
            params,
        )
        if render_env is not None and not 0 <= render_env < num_envs:
            raise ValueError(
                f"`render_env` must be None (a grid) or an index in [0, {num_envs}), "
                f"got {render_env!r}"
            )
        self.num_envs = num_envs
        self.render_env = render_env
        self.metadata["autoreset_mode"] = _AUTORESET[autoreset_mode]
        self.single_observation_space = func_env.observation_space
        self.single_action_space = func_env.action_space
        self.observation_space = batch_space(func_env.observation_space, num_envs)
        self.action_space = batch_space(func_env.action_space, num_envs)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Resets all envs, or those in ``options["reset_mask"]``; partial episodes are dropped."""
        if seed is not None and not isinstance(seed, int):
            raise ValueError(f"`seed` must be None or an int for this env, got {seed!r}")
        mask = None if options is None else options.get("reset_mask")
        return self._reset_state(seed, mask), {}

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """One step of every env; ``info["episode"]``/``info["_episode"]`` when some finish."""
        out, info = self._step_state(actions)
        if not info["_episode"].any():
            info = {}
        extra = {k: v for k, v in out.info.items() if k not in ("episode", "_episode")}
        if "final_obs" in extra and "_episode" in info:
            info["_final_obs"] = info["_episode"]
        elif "final_obs" in extra:
            del extra["final_obs"]
        return out.obs, out.reward, out.terminated, out.truncated, {**extra, **info}

    def render(self) -> np.ndarray:
        """One env's image (``render_env``), or all envs tiled in a near-square grid."""
        self._check_render()
        if self.render_env is not None:
            return self._render_one(self.render_env)
        return tile([self._render_one(i) for i in range(self.num_envs)])


def tile(images: list[np.ndarray]) -> np.ndarray:
    """Tiles equally sized HxWxC images into a near-square grid (row-major, black padding).

    Args:
      images: the images.

    Returns:
      One image of ``rows*H x cols*W x C``.
    """
    cols = math.ceil(math.sqrt(len(images)))
    rows = math.ceil(len(images) / cols)
    height, width, channels = images[0].shape
    grid = np.zeros((rows * height, cols * width, channels), images[0].dtype)
    for i, image in enumerate(images):
        r, c = divmod(i, cols)
        grid[r * height : (r + 1) * height, c * width : (c + 1) * width] = image
    return grid
