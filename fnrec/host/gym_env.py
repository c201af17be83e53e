"""Gymnasium ``Env`` and ``VectorEnv`` over a FuncEnv, with Gymnasium's episode statistics.

Host side. Each env step is one jitted call of ``fnrec.adapters.RecordEpisodeStatistics.step``
that also splits the PRNG key; the host converts the results to numpy with one
``jax.device_get`` and measures wall-clock episode time. The jitted functions are compiled at
the first ``reset()``, before any episode clock starts, so ``t`` never includes compile time.
The envs give ``info["episode"] = {"r", "l", "t"}`` (and ``info["_episode"]`` for the vector
env) exactly as Gymnasium's ``RecordEpisodeStatistics`` does, and expose its ``return_queue``,
``length_queue``, ``time_queue`` and ``episode_count``, so scripts of Gymnasium's "Recording
Agents" guide run as they are. Unlike Gymnasium's ``FunctionalJaxVectorEnv``: pytree states
work, ``reset`` clears the done flags, a next-step reset step's reward is not counted, and
``render`` works.
"""

from __future__ import annotations

import numbers
import time
from collections import deque
from typing import Any, NamedTuple

import gymnasium as gym
import jax
import numpy as np
from gymnasium.experimental.functional import FuncEnv
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

import fnrec
from fnrec.adapters import FuncEnvAdapter
from fnrec.stats import episode_statistics
from fnrec.host.frames import tile

_AUTORESET = {
    "next_step": AutoresetMode.NEXT_STEP,
    "same_step": AutoresetMode.SAME_STEP,
    "disabled": AutoresetMode.DISABLED,
}


class _Stepped(NamedTuple):
    """What the jitted step returns: device-resident parts, and the part the host fetches."""

    state: Any  # the Recorded state, kept on the device
    key: jax.Array  # the next PRNG key, kept on the device
    final_state: Any  # same-step: env states before the autoreset (fetched only to render)
    host: tuple  # (obs, reward, terminated, truncated, info, ended), one device_get


def _check_seed(seed: Any) -> int | None:
    """`seed` as a Python int (numpy integers accepted), or None."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"`seed` must be None or an int, got {type(seed).__name__}: {seed!r}")
    return int(seed)


def _host_array(value: Any, dtype: np.dtype | None) -> np.ndarray:
    """`value` as a numpy array, cast to `dtype` when that is the same kind (int64 -> int32)."""
    array = np.asarray(value)
    if dtype is not None and np.can_cast(array.dtype, dtype, casting="same_kind"):
        array = array.astype(dtype, copy=False)
    return array


class _Recording:
    """What the single and vector envs share: the jitted adapter, the rng, clocks and queues."""

    closed = False

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
        self.recorder = FuncEnvAdapter(
            func_env,
            episode_statistics(buffer_length, autoreset_mode),
            max_episode_steps=max_episode_steps,
            num_envs=num_envs,
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
        self._step = jax.jit(self._keyed_step)
        self._initial = jax.jit(self._keyed_initial)
        self._reset = jax.jit(self._keyed_reset)
        self._state = None
        self._key = jax.random.PRNGKey(np.random.SeedSequence().generate_state(1)[0])
        shape = () if num_envs is None else (num_envs,)
        self._start = np.zeros(shape)
        self._prev_done = np.zeros(shape, bool)
        space = func_env.action_space
        self._action_dtype = (
            None if space.dtype is None else jax.dtypes.canonicalize_dtype(space.dtype)
        )
        self._action_shape = shape + tuple(space.shape or ())
        self.render_state = func_env.render_init() if render_mode == "rgb_array" else None

    # ------------------------------------------------------------------ jitted functions
    def _keyed_initial(self, key: jax.Array) -> tuple[Any, jax.Array]:
        key, sub = jax.random.split(key)
        return self.recorder.initial(sub, self.params), key

    def _keyed_reset(self, state: Any, key: jax.Array, mask: jax.Array) -> tuple[Any, Any, Any]:
        key, sub = jax.random.split(key)
        state, obs = self.recorder.reset(state, sub, self.params, mask=mask)
        return state, obs, key

    def _keyed_step(self, state: Any, action: Any, key: jax.Array) -> _Stepped:
        key, sub = jax.random.split(key)
        out = self.recorder.step(state, action, sub, self.params)
        # Statistics' info is rebuilt on the host with "t"; the final env states stay on the device.
        skip = ("episode", "_episode", "final_state")
        extra = {k: v for k, v in out.info.items() if k not in skip}
        host = (out.obs, out.reward, out.terminated, out.truncated, extra, out.ended)
        return _Stepped(out.state, key, out.info.get("final_state"), host)

    def _compile_step(self) -> None:
        """Compiles the step for the current state (first reset only; results are discarded).

        Skipped for action spaces without one array dtype (Tuple, Dict): their first step compiles.
        """
        if self._action_dtype is None:
            return
        action = np.zeros(self._action_shape, self._action_dtype)
        jax.block_until_ready(self._step(self._state, action, self._key))

    # ------------------------------------------------------------------ reset and step
    def _reset_state(self, seed: int | None, mask: Any) -> Any:
        if seed is not None:
            self._key = jax.random.PRNGKey(seed)
        mask = self._host_mask(mask)
        first = self._state is None
        if first:
            # A placeholder that the reset below replaces; a key of its own keeps the seeded key
            # stream the same for every reset(seed=s), first or not.
            self._state, _ = self._initial(jax.random.PRNGKey(0))
        self._state, obs, self._key = self._reset(self._state, self._key, mask)
        obs = jax.device_get(obs)
        if first:
            self._compile_step()
        self._start = np.where(mask, time.perf_counter(), self._start)
        self._prev_done = self._prev_done & ~mask
        return obs

    def _host_mask(self, mask: Any) -> np.ndarray:
        """The reset mask as a bool array of one flag per env (None: every env)."""
        shape = self._start.shape
        if mask is None:
            return np.ones(shape, bool)
        array = np.asarray(mask)
        if array.shape not in (shape, ()):
            raise ValueError(
                f"`reset_mask` must have shape {shape} (one flag per env), got shape {array.shape}"
            )
        return np.broadcast_to(array != 0, shape).copy()

    def _step_state(self, action: Any) -> tuple[tuple, dict[str, Any], dict[str, Any], Any]:
        """One jitted step.

        Returns:
          ``((obs, reward, terminated, truncated), env_info, stats_info, final_state)`` with
          numpy values; `final_state` (same-step only) is still on the device.
        """
        if self._state is None:
            raise gym.error.ResetNeeded("Call `reset()` before `step()`.")
        out = self._step(self._state, _host_array(action, self._action_dtype), self._key)
        self._state, self._key = out.state, out.key
        *result, extra, ended = jax.device_get(out.host)
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
        return tuple(result), extra, info, out.final_state

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
    def _render_states(self, env_state: Any, indices: list[int] | None) -> list[np.ndarray]:
        """Images of the envs `indices` of `env_state` (None: the unbatched env), as copies."""
        env_state = jax.device_get(env_state)
        if indices is None:
            return [self._render_image(env_state)]
        return [
            self._render_image(jax.tree.map(lambda x, i=i: np.asarray(x)[i], env_state))
            for i in indices
        ]

    def _render_image(self, env_state: Any) -> np.ndarray:
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
        """Closes the FuncEnv's render state and sets `closed`; calling it again does nothing."""
        if self.closed:
            return
        if self.render_state is not None:
            self.func_env.render_close(self.render_state)
            self.render_state = None
        self.closed = True


class FunctionalEnv(_Recording, gym.Env):
    """A ``gymnasium.Env`` over a FuncEnv with ``RecordEpisodeStatistics``'s info and queues.

    After an episode terminates or truncates, ``step()`` raises ``gymnasium.error.ResetNeeded``
    until ``reset()`` is called.

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
        self._episode_over = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Starts a new episode; a partial episode is dropped (not queued).

        Args:
          seed: None, or an int (numpy integers too) seeding the env's PRNG key.
          options: unused.

        Returns:
          ``(obs, {})``.
        """
        seed = _check_seed(seed)
        super().reset(seed=seed)
        self._episode_over = False
        return self._reset_state(seed, None), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """One step; ``info["episode"]`` when the episode ends.

        Raises:
          gymnasium.error.ResetNeeded: before the first ``reset()``, or after the episode ended.
        """
        if self._episode_over:
            raise gym.error.ResetNeeded(
                "The episode has ended (terminated or truncated): call `reset()` before `step()`."
            )
        (obs, reward, terminated, truncated), _, info, _ = self._step_state(action)
        self._episode_over = bool(terminated or truncated)
        return obs, float(reward), bool(terminated), bool(truncated), info

    def render(self) -> np.ndarray:
        """The FuncEnv's image of the current state."""
        self._check_render()
        return self._render_states(self._state.env_state, None)[0]


class FunctionalVectorEnv(_Recording, gym.vector.VectorEnv):
    """A ``gymnasium.vector.VectorEnv`` over a FuncEnv with vector ``RecordEpisodeStatistics``.

    ``render()`` returns one frame per env, as Gymnasium's vector envs do; ``render_one(i)`` and
    ``render_grid()`` give one env's frame and all envs tiled. With same-step autoreset and
    ``render_mode="rgb_array"``, ``step()`` renders the final frame of every env that finished into
    ``info["final_frame"]`` (an object array, None for the others; mask ``info["_final_frame"]``),
    so that ``fnrec.RecordVideo`` records episodes to their last frame.

    Args:
      func_env: the FuncEnv (unbatched, untransformed).
      num_envs: how many envs run in the batch.
      max_episode_steps: None, or truncate episodes after this many steps.
      buffer_length: how many finished episodes the queues keep (one queue for all envs).
      autoreset_mode: ``"next_step"`` (Gymnasium's default), ``"same_step"`` (final observation
        in ``info["final_obs"]``) or ``"disabled"`` (reset with ``options={"reset_mask": m}``).
      render_mode: None or ``"rgb_array"``.
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
        self.num_envs = num_envs
        self.metadata["autoreset_mode"] = _AUTORESET[autoreset_mode]
        self.single_observation_space = func_env.observation_space
        self.single_action_space = func_env.action_space
        self.observation_space = batch_space(func_env.observation_space, num_envs)
        self.action_space = batch_space(func_env.action_space, num_envs)

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Resets all envs, or those in ``options["reset_mask"]``; partial episodes are dropped.

        Args:
          seed: None, or an int (numpy integers too) seeding the PRNG key of the batch.
          options: None, or ``{"reset_mask": flags}`` with one flag per env.

        Returns:
          ``(obs, {})``.
        """
        seed = _check_seed(seed)
        mask = None if options is None else options.get("reset_mask")
        return self._reset_state(seed, mask), {}

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """One step of every env; ``info["episode"]``/``info["_episode"]`` when some finish.

        Args:
          actions: one action per env (array, list or anything ``np.asarray`` takes).

        Returns:
          Gymnasium's ``(obs, rewards, terminations, truncations, info)``.
        """
        (obs, reward, terminated, truncated), extra, info, final_state = self._step_state(actions)
        done = info["_episode"]
        if not done.any():
            extra.pop("final_obs", None)
            return obs, reward, terminated, truncated, extra
        if "final_obs" in extra:
            info["_final_obs"] = done
        if final_state is not None and self.render_mode == "rgb_array":
            info.update(self._final_frames(final_state, done))
        return obs, reward, terminated, truncated, {**extra, **info}

    def _final_frames(self, final_state: Any, done: np.ndarray) -> dict[str, np.ndarray]:
        """``final_frame`` (object array, frames of finished envs) and its mask ``_final_frame``."""
        indices = np.flatnonzero(done).tolist()
        frames = np.full(self.num_envs, None, dtype=object)
        for index, frame in zip(indices, self._render_states(final_state, indices), strict=True):
            frames[index] = frame
        return {"final_frame": frames, "_final_frame": done.copy()}

    def render(self) -> tuple[np.ndarray, ...]:
        """One HxWx3 frame per env, as Gymnasium's ``SyncVectorEnv.render()``."""
        self._check_render()
        return tuple(self._render_states(self._state.env_state, list(range(self.num_envs))))

    def render_one(self, index: int) -> np.ndarray:
        """The frame of env `index` only (renders one env, not the batch)."""
        self._check_render()
        if not 0 <= index < self.num_envs:
            raise ValueError(f"`index` must be in [0, {self.num_envs}), got {index!r}")
        return self._render_states(self._state.env_state, [index])[0]

    def render_grid(self) -> np.ndarray:
        """All envs' frames tiled into a near-square grid (row-major, empty cells black)."""
        return tile(list(self.render()))
