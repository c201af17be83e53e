"""Gymnasium ``Env`` and ``VectorEnv`` over any fnrec recorder, with Gymnasium's episode statistics.

Host side. The envs drive a ``fnrec.Recorder`` of any family (``fnrec.adapters.<family>.recorder``,
or ``fnrec.recorder`` for a family of your own); a Gymnasium FuncEnv is made one here, as a
convenience. The host never looks at a family's classes: the recorder's spec says the batch, the
autoreset mode, the queue length and the spaces. Each env step is one jitted
call that also splits the PRNG key; the host converts the results to numpy with one
``jax.device_get`` and measures wall-clock episode time. The jitted functions are compiled at the
first ``reset()``, before any episode clock starts, so ``t`` never includes compile time. The
envs give ``info["episode"] = {"r", "l", "t"}`` (and ``info["_episode"]`` for the vector env)
exactly as Gymnasium's ``RecordEpisodeStatistics`` does, and expose its ``return_queue``,
``length_queue``, ``time_queue`` and ``episode_count``, so scripts of Gymnasium's "Recording
Agents" guide run as they are.
"""

from __future__ import annotations

import numbers
import sys
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import gymnasium as gym
import jax
import numpy as np
from gymnasium.vector import AutoresetMode
from gymnasium.vector.utils import batch_space

from fnrec import _checks, _packed, stats
from fnrec.adapters.core import Recording
from fnrec.host.export import FuncEnvRenderer
from fnrec.host.frames import tile
from fnrec.host.spaces import check_action
from fnrec.recorders import Recorder
from fnrec.stats import EpisodeEnded, EpisodeStats
from fnrec.utils.seeding import key_from_seed


class _Stepped(NamedTuple):
    """What the jitted step returns: device-resident parts, and the part the host fetches."""

    state: Any  # the recorder's state, kept on the device
    key: jax.Array  # the next PRNG key, kept on the device
    final_state: Any  # same-step: env states before the autoreset (fetched only to render)
    host: tuple  # (obs, reward, terminated, truncated, info, ended, prev_done): one device_get


_UNPACKED = _packed.Layout(None, (), ())  # a step's host part that `_packed` cannot pack


def _check_seed(seed: Any) -> int | None:
    """`seed` as a Python int (numpy integers accepted), or None."""
    if seed is None:
        return None
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
        raise ValueError(f"`seed` must be None or an int, got {type(seed).__name__}: {seed!r}")
    if seed < 0:
        raise ValueError(f"`seed` must be >= 0 (as Gymnasium's), got {seed!r}")
    return int(seed)


_INTS = (int, np.int64, np.int32)  # exact types: not bool


def _host_action(
    value: Any, space: gym.Space, dtype: np.dtype | None, shape: tuple, num_envs: int | None
) -> np.ndarray:
    """`value` checked against ONE env's `space` (when it has the expected `shape`; else the
    recorder says so), then cast to `dtype` when that is the same kind (int64 -> int32)."""
    common = type(value) in _INTS and isinstance(space, gym.spaces.Discrete) and not shape
    if common and space.start <= value < space.start + space.n:  # checked cheaply
        return np.asarray(value, dtype)
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(
            f"`action` must be an array or number, got {type(value).__name__}: {value!r}"
        )
    try:
        array = np.asarray(value)
    except (TypeError, ValueError, OverflowError) as error:
        raise TypeError(f"`action` must be an array or number, got {value!r}") from error
    if array.shape == shape:  # checked before the cast, which would wrap 2**40 to 0
        check_action(array, space, num_envs)
    if dtype is not None:  # an array space: a real dtype, host ints that JAX keeps exact
        array = _checks.action_array("action", array)
    if dtype is not None and np.can_cast(array.dtype, dtype, casting="same_kind"):
        array = array.astype(dtype, copy=False)
    return array


class _Driver:
    """What both host envs have: the jitted recorder functions, the key, the clocks, the queues.

    Args:
      recorder: the recorder (its spec: batch, autoreset mode, buffer length, masked resets).
      action_space: ONE env's action space (its dtype and shape; discrete actions are checked).
    """

    def __init__(self, recorder: Recorder, action_space: gym.Space) -> None:
        self.recorder = recorder
        self.spec = spec = recorder.spec
        shape = () if spec.num_envs is None else (spec.num_envs,)
        self.time_queue: deque[float] = deque(maxlen=spec.buffer_length)
        self._step = jax.jit(self._keyed_packed_step)
        self._unpacked_step = jax.jit(self._keyed_step)
        self._layout: _packed.Layout | None = None  # of a step's host part (at the first step)
        self._init = jax.jit(self._keyed_init)
        self._reset = jax.jit(self._keyed_reset)
        self.state: Any = None
        self._key = key_from_seed(None)
        self._start = np.zeros(shape)
        self._prev_done = np.zeros(shape, bool)  # read from the device with every step's results
        self.last_ended: EpisodeEnded | None = None  # the last step's, as numpy
        self._obs: Any = None
        self._action_space = action_space
        self._action_dtype = (
            None
            if action_space.dtype is None
            else jax.dtypes.canonicalize_dtype(action_space.dtype)
        )
        self._action_shape = shape + tuple(action_space.shape or ())
        # Called once at the first reset, before any clock starts (compiles a jitted renderer).
        self.warm_up: Callable[[], None] | None = None

    # jitted functions --------------------------------------------------------------------
    def _keyed_init(self, key: jax.Array) -> tuple[Any, Any, jax.Array]:
        key, sub = jax.random.split(key)
        state, obs = self.recorder.init(sub)
        return state, obs, key

    def _keyed_reset(self, state: Any, key: jax.Array, mask: jax.Array) -> tuple[Any, Any, Any]:
        key, sub = jax.random.split(key)
        state, obs = self.recorder.reset(state, sub, mask)
        return state, obs, key

    def _keyed_step(self, state: Any, action: Any, key: jax.Array) -> _Stepped:
        key, sub = jax.random.split(key)
        out = self.recorder.step(state, action, sub)
        # Statistics' info is rebuilt on the host with "t"; the final env states stay on the device.
        skip = ("episode", "_episode", "final_state")
        extra = {k: v for k, v in out.info.items() if k not in skip}
        prev_done = out.state.stats.prev_done
        host = (out.obs, out.reward, out.terminated, out.truncated, extra, out.ended, prev_done)
        return _Stepped(out.state, key, out.info.get("final_state"), host)

    def _keyed_packed_step(self, state: Any, action: Any, key: jax.Array) -> _Stepped:
        """`_keyed_step` with its host part packed into one array (one transfer a step)."""
        out = self._keyed_step(state, action, key)
        return out._replace(host=_packed.pack(out.host))

    # reset and step -----------------------------------------------------------------------
    def reset(self, seed: int | None, mask: np.ndarray | None) -> Any:
        """New episodes for every env, or where `mask`; returns the observation (numpy)."""
        if seed is not None:
            self._key = key_from_seed(seed)
        first = self.state is None
        if first:  # a placeholder, with a key of its own: every reset(seed=s) starts the same
            self.state, _, _ = self._init(jax.random.PRNGKey(0))
        full = np.ones(self._start.shape, bool)
        mask = full if mask is None else mask
        if not self.spec.masked_reset and not mask.all():
            raise ValueError(
                f"`reset_mask`: {self.spec.name} resets every env at once (its library has no "
                f"per-env reset); got {mask.tolist()}"
            )
        self.state, obs, self._key = self._reset(self.state, self._key, mask)
        obs = jax.device_get(obs)
        if self._obs is not None and mask.ndim and not mask.all():
            obs = jax.tree.map(
                lambda new, old: np.where(_expand(mask, new), new, old), obs, self._obs
            )
        self._obs = obs
        if first:
            self._compile_step()
            if self.warm_up is not None:
                self.warm_up()
        self._start = np.where(mask, time.perf_counter(), self._start)
        self._prev_done = self._prev_done & ~mask
        return obs

    def _compile_step(self) -> None:
        """Compiles the step for the current state (first reset only; results are discarded)."""
        if self._action_dtype is None:
            return
        action = np.zeros(self._action_shape, self._action_dtype)
        jax.block_until_ready(self._step_for(action)(self.state, action, self._key))

    def _step_for(self, action: Any) -> Callable[..., _Stepped]:
        """The jitted step: with its host part packed (one transfer), unless it holds what
        cannot be packed (PRNG keys, complex numbers); decided once."""
        if self._layout is None:
            shapes = jax.eval_shape(self._keyed_step, self.state, action, self._key)
            self._layout = _packed.layout(shapes.host) or _UNPACKED
        return self._unpacked_step if self._layout is _UNPACKED else self._step

    def step(self, action: Any) -> tuple[tuple, dict[str, Any], dict[str, Any], Any]:
        """One jitted step.

        Returns:
          ``((obs, reward, terminated, truncated), env_info, stats_info, final_state)`` with
          numpy values; `final_state` (same-step only) is still on the device.
        """
        if self.state is None:
            raise gym.error.ResetNeeded("Call `reset()` before `step()`.")
        action = _host_action(
            action, self._action_space, self._action_dtype, self._action_shape, self.spec.num_envs
        )
        out = self._step_for(action)(self.state, action, self._key)
        if self._layout is _UNPACKED:
            host = jax.device_get(out.host)
        else:
            host = _packed.unpack(out.host, self._layout)
        self.state, self._key = out.state, out.key
        obs, reward, terminated, truncated, extra, ended, prev_done = host
        now = time.perf_counter()
        if self.spec.autoreset_mode != "same_step":
            self._start = np.where(self._prev_done, now, self._start)
        done = np.asarray(ended.mask)
        info: dict[str, Any] = {}
        if done.any():  # info and clocks only where an episode ended (most steps: none)
            elapsed = now - self._start
            info = stats.host_info(ended, elapsed)
            if done.ndim:  # Gymnasium's vector wrapper sums in float64
                info["episode"]["r"] = info["episode"]["r"].astype(np.float64)
            for index in np.flatnonzero(done):
                self.time_queue.append(float(np.round(np.reshape(elapsed, -1)[index], 6)))
        if self.spec.autoreset_mode == "same_step":
            self._start = np.where(done, now, self._start)
        self._prev_done = np.asarray(prev_done)
        self.last_ended = ended
        self._obs = obs
        return (obs, reward, terminated, truncated), extra, info, out.final_state

    # statistics ---------------------------------------------------------------------------
    @property
    def stats(self) -> EpisodeStats | None:
        return None if self.state is None else self.state.stats

    def queues(self) -> dict[str, np.ndarray]:
        if self.state is None:
            return {"return_queue": np.zeros(0), "length_queue": np.zeros(0, np.int64)}
        return stats.queues(self.stats)


def _expand(mask: np.ndarray, value: np.ndarray) -> np.ndarray:
    return np.reshape(mask, np.shape(mask) + (1,) * (np.ndim(value) - np.ndim(mask)))


class _Statistics:
    """Gymnasium's RecordEpisodeStatistics attributes, read from the env's ``_driver``."""

    _driver: _Driver

    @property
    def return_queue(self) -> deque[float]:
        """Returns of the last `buffer_length` finished episodes, oldest first."""
        return deque(self._driver.queues()["return_queue"].tolist(), maxlen=self.buffer_length)

    @property
    def length_queue(self) -> deque[int]:
        """Lengths of the last `buffer_length` finished episodes, oldest first."""
        return deque(self._driver.queues()["length_queue"].tolist(), maxlen=self.buffer_length)

    @property
    def time_queue(self) -> deque[float]:
        """Wall-clock seconds of the last `buffer_length` finished episodes, oldest first."""
        return deque(self._driver.time_queue, maxlen=self.buffer_length)

    @property
    def episode_count(self) -> int:
        """How many episodes have finished (exact)."""
        current = self._driver.stats
        return 0 if current is None else stats.episode_count(current)

    @property
    def stats(self) -> EpisodeStats | None:
        """The recorded EpisodeStats (None before the first reset)."""
        return self._driver.stats

    # Gymnasium's running attributes (scalars for FunctionalEnv, arrays for FunctionalVectorEnv)
    @property
    def episode_returns(self) -> Any:
        """Return of the current episode(s) so far, as Gymnasium's: an episode that just ended
        shows its final return until the next step (or reset) starts a new one."""
        return self._running("running_return", "episode_return", np.float32)

    @property
    def episode_lengths(self) -> Any:
        """Steps of the current episode(s) so far (final lengths as `episode_returns`)."""
        return self._running("running_length", "length", np.int64)

    @property
    def episode_start_time(self) -> Any:
        """``time.perf_counter()`` when the current episode(s) started (Gymnasium's name for
        one env; ``episode_start_times`` is the same)."""
        start = np.array(self._driver._start, np.float64)
        return float(start) if start.ndim == 0 else start

    episode_start_times = episode_start_time

    def _running(self, field: str, ended_field: str, dtype: type) -> Any:
        driver = self._driver
        current = driver.stats
        value = (
            np.zeros(driver._start.shape)
            if current is None
            else np.asarray(getattr(current, field))
        )
        if driver.last_ended is not None:  # ended, not yet restarted (next-step or disabled)
            value = np.where(driver._prev_done, getattr(driver.last_ended, ended_field), value)
        value = np.asarray(value).astype(dtype)
        return value.item() if value.ndim == 0 else value

    @property
    def state(self) -> Any:
        """The recorder's state on the device (None before the first reset), e.g. its capture."""
        return self._driver.state

    @property
    def buffer_length(self) -> int:
        """How many finished episodes the queues keep."""
        return self._driver.time_queue.maxlen

    @property
    def render_state(self) -> Any:
        """The FuncEnv's render state (None without one, or after ``close``)."""
        return getattr(self._images, "render_state", None)


class _HostSetup(NamedTuple):
    recorder: Recorder
    driver: _Driver
    observation_space: gym.Space
    action_space: gym.Space
    images: Callable[[Any], Any] | None
    metadata: dict[str, Any]


def _setup(
    env: Any,
    num_envs: int | None,
    recording: Any,
    default_mode: str,
    render_mode: str | None,
    render: Callable[[Any], Any] | None,
    metadata: dict[str, Any] | None,
    params: Any,
    spaces: tuple[Any, Any] = (None, None),
) -> _HostSetup:
    """The recorder, the driver, the spaces and the renderer of a host env."""
    if render_mode not in (None, "rgb_array"):
        raise ValueError(f"`render_mode` must be None or 'rgb_array', got {render_mode!r}")
    if render is not None and not callable(render):
        raise TypeError(f"`render` must be None or a callable, got {type(render).__name__}")
    for name, space in zip(("observation_space", "action_space"), spaces, strict=True):
        if space is not None and not isinstance(space, gym.Space):
            raise TypeError(f"`{name}` must be None or a gymnasium.Space, got {space!r}")
    meta: dict[str, Any] = {}
    if isinstance(env, Recorder):
        if recording is not None or params is not None:
            raise ValueError(
                "`recording` and `params` are bound in the recorder "
                f"({env.spec.name}): pass them to the family's recorder"
            )
        recorder = env
    elif _is_func_env(env) and not callable(getattr(env, "recorder", None)):
        from fnrec.adapters import funcenv

        if recording is None:
            recording = Recording(stats.episode_statistics(autoreset_mode=default_mode))
        recorder = funcenv.recorder(env, recording, num_envs, params)
        if render_mode == "rgb_array" and render is None:
            render = FuncEnvRenderer(
                env, getattr(env, "default_params", None) if params is None else params
            )
        meta = {
            **dict(getattr(type(env), "metadata", {}) or {}),
            **dict(getattr(env, "metadata", {}) or {}),
        }
    else:
        shell = callable(getattr(env, "recorder", None))
        raise TypeError(
            "`env` must be a fnrec.Recorder (fnrec.adapters.<family>.recorder(env, recording, "
            f"num_envs)) or a Gymnasium FuncEnv, got {type(env).__name__}"
            + (": pass its .recorder()" if shell else "")
        )
    spec = recorder.spec
    if num_envs is not None and num_envs != spec.num_envs:
        raise ValueError(
            f"`num_envs` must match the recorder's batch ({spec.num_envs}), got {num_envs}"
        )
    observation_space = spaces[0] if spaces[0] is not None else spec.observation_space
    action_space = spaces[1] if spaces[1] is not None else spec.action_space
    if observation_space is None or action_space is None:
        raise ValueError(
            f"{spec.name} does not know its spaces: pass observation_space= and action_space= "
            "(ONE env's gymnasium spaces)"
        )
    if render_mode == "rgb_array" and render is None:
        raise ValueError(
            f"render_mode='rgb_array' needs `render` (a renderer of one env state) for {spec.name}"
        )
    driver = _Driver(recorder, action_space)
    meta = {**meta, **(metadata or {}), "render_modes": ["rgb_array"], "jax": True}
    return _HostSetup(recorder, driver, observation_space, action_space, render, meta)


def _is_func_env(env: Any) -> bool:
    methods = ("initial", "transition", "observation", "reward", "terminal")
    return all(callable(getattr(env, name, None)) for name in methods)


class _HostEnv(_Statistics):
    """Construction, rendering and closing that both host envs share (state: ``_driver``)."""

    closed = False

    def _adopt(self, setup: _HostSetup, render_mode: str | None, batched: bool) -> None:
        self.recorder = setup.recorder
        self._driver = setup.driver
        self._images = setup.images
        self.render_mode = render_mode
        self.metadata = setup.metadata
        if render_mode == "rgb_array":  # the first episode's "t" must not include its compile
            indices = [0] if batched else None
            setup.driver.warm_up = lambda: self._render_states(self._current_env_state(), indices)

    def _render_states(self, env_state: Any, indices: list[int] | None) -> list[np.ndarray]:
        """Images of the envs `indices` of `env_state` (None: the unbatched env), as copies."""
        env_state = jax.device_get(env_state)
        if indices is None:
            return [np.asarray(self._images(env_state)).copy()]
        return [
            np.asarray(
                self._images(jax.tree.map(lambda x, i=i: np.asarray(x)[i], env_state))
            ).copy()
            for i in indices
        ]

    def _current_env_state(self) -> Any:
        view = self._driver.spec.view
        env_state = self._driver.state.env_state
        return env_state if view is None else view(env_state)

    def _refuse_gymnasium_statistics(self) -> None:
        """Raises when Gymnasium's own RecordEpisodeStatistics wraps this env: it would count
        again what is counted in-graph, and fail on the ``info["episode"]`` already there with
        a bare AssertionError. Looked for once per reset, a few frames up (no hook exists)."""
        own = (gym.wrappers.RecordEpisodeStatistics, gym.wrappers.vector.RecordEpisodeStatistics)
        frame = sys._getframe(2)
        for _ in range(8):
            if frame is None:
                return
            if type(frame.f_locals.get("self")) in own:
                raise TypeError(
                    "gymnasium.wrappers.RecordEpisodeStatistics wraps an fnrec env that already "
                    "records episode statistics in-graph (info['episode']): use "
                    "fnrec.RecordEpisodeStatistics (fnrec.wrappers.vector.RecordEpisodeStatistics "
                    "for a vector env), which takes the same arguments and never counts twice"
                )
            frame = frame.f_back

    def _check_render(self) -> None:
        if self.render_mode != "rgb_array":
            raise gym.error.Error(
                f"render() needs render_mode='rgb_array', the env has {self.render_mode!r}"
            )
        if self._driver.state is None:
            raise gym.error.ResetNeeded("Call `reset()` before `render()`.")

    def close(self, **kwargs: Any) -> None:
        """Closes the renderer and sets `closed`; calling it again does nothing."""
        if self.closed:
            return
        close = getattr(self._images, "close", None)
        if callable(close):
            close()
        self.closed = True


class FunctionalEnv(_HostEnv, gym.Env):
    """A ``gymnasium.Env`` over one env of a fnrec recorder, with RecordEpisodeStatistics' info.

    After an episode terminates or truncates, ``step()`` raises ``gymnasium.error.ResetNeeded``
    until ``reset()`` is called.

    Args:
      env: an unbatched ``fnrec.Recorder`` (any family: ``fnrec.adapters.<family>.recorder(env,
        recording)``, your own too), or a Gymnasium FuncEnv, made a recorder here with
        `recording`.
      recording: for a FuncEnv only: what is recorded (default: 100 episodes, ``"disabled"``
        autoreset, no time limit).
      render_mode: None or ``"rgb_array"``.
      render: a renderer of one env state (host numpy in, HxWx3 out); default the FuncEnv's
        ``render_image``.
      metadata: extra metadata; ``render_fps`` is carried over from the FuncEnv.
      params: the env params (None for its defaults).
      observation_space: ONE env's observation space, where the recorder's spec has none.
      action_space: ONE env's action space, likewise.
    """

    def __init__(
        self,
        env: Any,
        recording: Recording | None = None,
        render_mode: str | None = None,
        render: Callable[[Any], Any] | None = None,
        metadata: dict[str, Any] | None = None,
        params: Any = None,
        observation_space: gym.Space | None = None,
        action_space: gym.Space | None = None,
    ) -> None:
        setup = _setup(
            env, None, recording, "disabled", render_mode, render, metadata, params,
            (observation_space, action_space),
        )  # fmt: skip
        if setup.driver.spec.num_envs is not None:
            raise ValueError(
                f"FunctionalEnv needs an unbatched recorder (num_envs=None), got num_envs="
                f"{setup.driver.spec.num_envs}: use FunctionalVectorEnv"
            )
        self._adopt(setup, render_mode, batched=False)
        self.observation_space = setup.observation_space
        self.action_space = setup.action_space
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
        self._refuse_gymnasium_statistics()
        super().reset(seed=seed)
        self._episode_over = False
        return self._driver.reset(seed, None), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        """One step; ``info["episode"]`` when the episode ends.

        Raises:
          gymnasium.error.ResetNeeded: before the first ``reset()``, or after the episode ended.
        """
        if self._episode_over:
            raise gym.error.ResetNeeded(
                "The episode has ended (terminated or truncated): call `reset()` before `step()`."
            )
        (obs, reward, terminated, truncated), extra, info, _ = self._driver.step(action)
        self._episode_over = bool(terminated or truncated)
        if self._episode_over and "final_obs" in extra:  # a same-step recorder has reset
            obs = extra["final_obs"]
        return obs, float(reward), bool(terminated), bool(truncated), info

    def render(self) -> np.ndarray:
        """The image of the current state."""
        self._check_render()
        return self._render_states(self._current_env_state(), None)[0]


class FunctionalVectorEnv(_HostEnv, gym.vector.VectorEnv):
    """A ``gymnasium.vector.VectorEnv`` over a batch of a fnrec recorder, with vector
    ``RecordEpisodeStatistics``' info.

    ``render()`` returns one frame per env, as Gymnasium's vector envs do; ``render_one(i)`` and
    ``render_grid()`` give one env's frame and all envs tiled. With same-step autoreset and
    ``render_mode="rgb_array"``, ``step()`` renders the final frame of every env that finished into
    ``info["final_frame"]`` (an object array, None for the others; mask ``info["_final_frame"]``),
    so that ``fnrec.RecordVideo`` records episodes to their last frame (recorders whose step
    gives ``info["final_state"]``: those fnrec resets).

    Args:
      env: a batched ``fnrec.Recorder`` (any family: ``fnrec.adapters.<family>.recorder(env,
        recording, num_envs=N)``, your own too: ``fnrec.recorder(fns, recording, num_envs=N)``),
        or a Gymnasium FuncEnv, made a recorder here with `num_envs` and `recording`.
      num_envs: the batch size (required for a FuncEnv; else the recorder's).
      recording: for a FuncEnv only: what is recorded (default: 100 episodes, ``"next_step"``,
        Gymnasium's default). Its autoreset mode: ``"next_step"``, ``"same_step"`` (final
        observation in ``info["final_obs"]``) or ``"disabled"`` (reset with
        ``options={"reset_mask": m}``).
      render_mode: None or ``"rgb_array"``.
      render: a renderer of one env state; default the FuncEnv's ``render_image``.
      metadata: extra metadata; ``render_fps`` is carried over from the FuncEnv.
      params: the env params (None for the defaults).
      observation_space: ONE env's observation space, where the recorder's spec has none.
      action_space: ONE env's action space, likewise.
    """

    def __init__(
        self,
        env: Any,
        num_envs: int | None = None,
        recording: Recording | None = None,
        render_mode: str | None = None,
        render: Callable[[Any], Any] | None = None,
        metadata: dict[str, Any] | None = None,
        params: Any = None,
        observation_space: gym.Space | None = None,
        action_space: gym.Space | None = None,
    ) -> None:
        setup = _setup(
            env, num_envs, recording, "next_step", render_mode, render, metadata, params,
            (observation_space, action_space),
        )  # fmt: skip
        spec = setup.driver.spec
        if spec.num_envs is None:
            raise ValueError(
                "FunctionalVectorEnv needs a batch: pass `num_envs` (a FuncEnv), or a recorder "
                "made with num_envs=N; for one env use FunctionalEnv"
            )
        self._adopt(setup, render_mode, batched=True)
        self.num_envs = spec.num_envs
        self.metadata["autoreset_mode"] = AutoresetMode(
            _checks.gymnasium_autoreset_value(spec.autoreset_mode)
        )
        self.single_observation_space = setup.observation_space
        self.single_action_space = setup.action_space
        self.observation_space = batch_space(setup.observation_space, self.num_envs)
        self.action_space = batch_space(setup.action_space, self.num_envs)

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
        self._refuse_gymnasium_statistics()
        if options is not None and not isinstance(options, Mapping):
            raise TypeError(f"`options` must be None or a dict, got {type(options).__name__}")
        mask = None if options is None else options.get("reset_mask")
        return self._driver.reset(seed, self._host_mask(mask)), {}

    def _host_mask(self, mask: Any) -> np.ndarray | None:
        """The reset mask as a bool array of one flag per env (None: every env)."""
        if mask is None:
            return None
        expected = "flags (bool, or numbers read as != 0)"
        if isinstance(mask, (str, bytes)):
            raise TypeError(f"`reset_mask` must be {expected}, got {type(mask).__name__}: {mask!r}")
        array = _checks._host_array("reset_mask", mask, expected)
        if array is None:  # a JAX array
            array = np.asarray(mask)
            if not _checks._is_real(array.dtype):
                raise TypeError(f"`reset_mask` must be {expected}, got dtype {array.dtype}")
        if array.shape not in ((self.num_envs,), ()):
            raise ValueError(
                f"`reset_mask` must have shape ({self.num_envs},) (one flag per env), got shape "
                f"{array.shape}"
            )
        return np.broadcast_to(array != 0, (self.num_envs,)).copy()

    def step(self, actions: Any) -> tuple[Any, np.ndarray, np.ndarray, np.ndarray, dict]:
        """One step of every env; ``info["episode"]``/``info["_episode"]`` when some finish.

        Args:
          actions: one action per env (array, list or anything ``np.asarray`` takes).

        Returns:
          Gymnasium's ``(obs, rewards, terminations, truncations, info)``.
        """
        (obs, reward, terminated, truncated), extra, info, final_state = self._driver.step(actions)
        if not info:  # no episode ended
            extra.pop("final_obs", None)
            return obs, reward, terminated, truncated, extra
        done = info["_episode"]
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
        return tuple(self._render_states(self._current_env_state(), list(range(self.num_envs))))

    def render_one(self, index: int) -> np.ndarray:
        """The frame of env `index` only (renders one env, not the batch)."""
        self._check_render()
        if not 0 <= index < self.num_envs:
            raise ValueError(f"`index` must be in [0, {self.num_envs}), got {index!r}")
        return self._render_states(self._current_env_state(), [index])[0]

    def render_grid(self) -> np.ndarray:
        """All envs' frames tiled into a near-square grid (row-major, empty cells black)."""
        return tile(list(self.render()))
