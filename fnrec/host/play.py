"""``play`` and ``PlayPlot``: Gymnasium's ``gymnasium.utils.play`` for functional envs.

``play`` runs a functional env (a FuncEnv, any fnrec adapter, or a host env made from one) with
the keyboard in a pygame window, with Gymnasium's arguments and meaning; the played episodes'
statistics are kept and printed at the end, and ``record=`` writes every played episode to mp4.
``PlayPlot`` draws live metric plots (matplotlib), as play's callback or fed from a jitted run's
summaries. Neither imports ``gymnasium.utils.play``, which switches matplotlib to TkAgg on import.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

import gymnasium as gym
import numpy as np

from fnrec._optional import require
from fnrec.adapters.core import Recording
from fnrec.host.gym_env import FunctionalEnv
from fnrec.host.record_video import RecordVideo
from fnrec.stats import episode_statistics

KeysToAction = dict[Any, Any]


def _key_codes(keys_to_action: KeysToAction, action_space: gym.Space) -> dict[tuple[int, ...], Any]:
    """Gymnasium's key combinations (code points, characters or strings) as sorted code tuples."""
    if not isinstance(keys_to_action, dict):
        raise TypeError(f"`keys_to_action` must be a dict, got {type(keys_to_action).__name__}")
    codes = {}
    for keys, action in keys_to_action.items():
        combination = (keys,) if isinstance(keys, int) else tuple(keys)
        if not combination or not all(isinstance(k, (str, int)) for k in combination):
            raise TypeError(
                "`keys_to_action` keys must be key codes, characters, strings or non-empty "
                f"tuples of them, got {keys!r}"
            )
        if action not in action_space:
            raise ValueError(
                f"`keys_to_action` maps {keys!r} to {action!r}, which is not in the action space "
                f"{action_space}"
            )
        codes[tuple(sorted(ord(k) if isinstance(k, str) else k for k in combination))] = action
    return codes


def play(
    env: Any,
    keys_to_action: KeysToAction | None = None,
    noop: Any = 0,
    fps: int | None = None,
    zoom: float | None = None,
    seed: int | None = None,
    callback: Callable[..., None] | None = None,
    transpose: bool = True,
    wait_on_player: bool = False,
    *,
    params: Any = None,
    max_episode_steps: int | None = None,
    record: str | os.PathLike[str] | None = None,
    name_prefix: str = "play",
    verbose: bool = True,
) -> dict[str, list]:
    """Plays `env` with the keyboard (Gymnasium's ``play``), keeping the episodes' statistics.

    Args:
      env: a FuncEnv, or a ``fnrec.FunctionalEnv`` with render_mode ``"rgb_array"`` (over any
        recorder, with its ``render=``).
      keys_to_action: key combination -> action; keys are code points, characters or strings
        (``{"a": 0, "d": 1, ("a", "d"): 0}``); default the env's ``get_keys_to_action()``.
      noop: the action when no mapped combination is pressed.
      fps: frames per second; default ``metadata["render_fps"]``, else 30.
      zoom: scales the window.
      seed: the seed of every reset (as Gymnasium's).
      callback: ``callback(obs_t, obs_tp1, action, reward, terminated, truncated, info)`` after
        every step (e.g. ``PlayPlot.callback``).
      transpose: show the frame transposed (Gymnasium's default).
      wait_on_player: step only while a key is pressed.
      params: the env params (FuncEnv).
      max_episode_steps: truncate episodes after this many steps (FuncEnv).
      record: a folder: every played episode is written there as ``<name_prefix>-episode-<id>.mp4``.
      name_prefix: the video names' prefix.
      verbose: print the statistics at the end.

    Returns:
      ``{"return_queue", "length_queue", "time_queue", "terminated"}`` of the played episodes.
    """
    pygame = require("pygame", "fnrec.utils.play")
    host = env
    if not isinstance(env, gym.Env):
        recording = None
        if max_episode_steps is not None:  # a FuncEnv's time limit (a recorder has its own)
            statistics = episode_statistics(autoreset_mode="disabled")
            recording = Recording(statistics, max_episode_steps=max_episode_steps)
        host = FunctionalEnv(env, recording, render_mode="rgb_array", params=params)
    if host.render_mode != "rgb_array":
        raise ValueError(
            f"`env` must render frames (render_mode='rgb_array'), got {host.render_mode!r}"
        )
    if keys_to_action is None:
        getter = getattr(env, "get_keys_to_action", None)
        if getter is None:
            raise ValueError(
                f"`keys_to_action` is needed: {type(env).__name__} has no get_keys_to_action()"
            )
        keys_to_action = getter()
    codes = _key_codes(keys_to_action, host.action_space)
    relevant = {code for combination in codes for code in combination}
    if fps is None:
        fps = host.metadata.get("render_fps") or 30
    played = RecordVideo(host, record, episode_trigger=lambda _: True, name_prefix=name_prefix) if (
        record is not None
    ) else host  # fmt: skip
    terminated_flags: list[bool] = []
    pygame.init()
    try:
        obs, _ = played.reset(seed=seed)
        frame = np.asarray(played.render())
        size = (frame.shape[1], frame.shape[0]) if transpose else frame.shape[:2]
        if zoom is not None:
            size = (int(size[0] * zoom), int(size[1] * zoom))
        screen = pygame.display.set_mode(size)
        clock = pygame.time.Clock()
        pressed: set[int] = set()
        running, done = True, False
        while running:
            if done:
                obs, _ = played.reset(seed=seed)
                done = False
            elif not wait_on_player or pressed:
                action = codes.get(tuple(sorted(pressed)), noop)
                previous = obs
                obs, reward, terminated, truncated, info = played.step(action)
                done = bool(terminated or truncated)
                if done:
                    terminated_flags.append(bool(terminated))
                if callback is not None:
                    callback(previous, obs, action, reward, terminated, truncated, info)
            frame = np.asarray(played.render())
            surface = pygame.surfarray.make_surface(frame.swapaxes(0, 1) if transpose else frame)
            screen.blit(pygame.transform.scale(surface, size), (0, 0))
            for event in pygame.event.get():
                if event.type == pygame.KEYDOWN and event.key in relevant:
                    pressed.add(event.key)
                elif event.type == pygame.KEYUP:
                    pressed.discard(event.key)
                elif event.type == pygame.QUIT or (
                    event.type == pygame.KEYDOWN and event.key == pygame.K_ESCAPE
                ):
                    running = False
            pygame.display.flip()
            clock.tick(fps)
    finally:
        played.close()
        pygame.quit()
    stats = host.unwrapped
    result = {
        "return_queue": list(stats.return_queue),
        "length_queue": list(stats.length_queue),
        "time_queue": list(stats.time_queue),
        "terminated": terminated_flags,
    }
    if verbose:
        print(f"played {len(result['return_queue'])} episodes")
        for name in ("return_queue", "length_queue", "time_queue", "terminated"):
            print(f"  {name}: {result[name]}")
    return result


class PlayPlot:
    """Live plots of metrics (Gymnasium's ``PlayPlot``; matplotlib, the ``plots`` extra).

    ``callback`` has ``play``'s callback signature; or feed values directly with ``add`` (e.g.
    from ``jax.debug.callback`` with a jitted run's ``fnrec.stats.summary``). The backend is
    matplotlib's current one (Agg on a headless machine: nothing is shown, the data is kept).

    Args:
      callback: ``(obs_t, obs_tp1, action, reward, terminated, truncated, info) -> metrics``,
        one value per plot; None when fed with ``add`` only.
      horizon_timesteps: how many recent points each plot shows.
      plot_names: the plots' titles.
    """

    def __init__(
        self,
        callback: Callable[..., Iterable[float]] | None,
        horizon_timesteps: int,
        plot_names: list[str],
    ) -> None:
        if isinstance(horizon_timesteps, bool) or not isinstance(horizon_timesteps, int) or (
            horizon_timesteps < 1
        ):  # fmt: skip
            raise ValueError(f"`horizon_timesteps` must be an int >= 1, got {horizon_timesteps!r}")
        if not plot_names:
            raise ValueError(f"`plot_names` must name at least one plot, got {plot_names!r}")
        require("matplotlib", "fnrec.utils.PlayPlot")
        import matplotlib.pyplot as plt

        self.data_callback = callback
        self.horizon_timesteps = horizon_timesteps
        self.plot_names = list(plot_names)
        self.fig, axes = plt.subplots(len(self.plot_names), squeeze=False)
        self.ax = list(axes[:, 0])
        for axis, name in zip(self.ax, self.plot_names, strict=True):
            axis.set_title(name)
        self.t = 0
        self.cur_plot: list[Any] = [None] * len(self.plot_names)
        self.data: list[deque[float]] = [deque(maxlen=horizon_timesteps) for _ in self.plot_names]

    def callback(self, obs_t: Any, obs_tp1: Any, action: Any, reward: float, terminated: bool,
                 truncated: bool, info: dict) -> None:  # fmt: skip
        """``play``'s callback: computes the metrics of one transition and plots them."""
        if self.data_callback is None:
            raise ValueError("this PlayPlot has no `callback`: feed it with add(values)")
        self.add(self.data_callback(obs_t, obs_tp1, action, reward, terminated, truncated, info))

    def add(self, values: Iterable[Any]) -> None:
        """Appends one point to every plot (as many values as plots) and redraws."""
        values = [float(np.asarray(v)) for v in values]
        if len(values) != len(self.data):
            raise ValueError(
                f"`values` must have one value per plot ({len(self.data)}: {self.plot_names}), "
                f"got {len(values)}"
            )
        for value, series in zip(values, self.data, strict=True):
            series.append(value)
        self.t += 1
        start = max(0, self.t - self.horizon_timesteps)
        for index, axis in enumerate(self.ax):
            if self.cur_plot[index] is not None:
                self.cur_plot[index].remove()
            self.cur_plot[index] = axis.scatter(
                range(start, self.t), list(self.data[index]), c="blue"
            )
            axis.set_xlim(start, max(self.t, start + 1))
        self.fig.canvas.draw_idle()
        self.fig.canvas.flush_events()

    def close(self) -> None:
        """Closes the figure."""
        import matplotlib.pyplot as plt

        plt.close(self.fig)
