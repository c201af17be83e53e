"""`RecordVideo` for a `gymnasium.vector.VectorEnv`: Gymnasium's vector wrapper, streaming to mp4.

Gymnasium's layout: ``fnrec.wrappers.vector.RecordVideo`` (this class) beside
``fnrec.wrappers.RecordVideo`` for a single env, one class name in mirrored namespaces.
"""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Callable
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.vector import SyncVectorEnv, VectorEnv, VectorWrapper

from fnrec._checks import autoreset_mode
from fnrec.host.frames import tile, to_rgb_uint8
from fnrec.host.gym_env import FunctionalVectorEnv
from fnrec.host.record_video import VideoRecorderView, check_render_mode
from fnrec.host.video_settings import VideoSettings


def _tiled(
    tile: bool | None,
    video_aspect_ratio: tuple[int, int] | None,
    record_first_only: bool | None,
    env_index: int,
) -> bool:
    """Whether the vector wrapper tiles all envs, from fnrec's and Gymnasium's arguments."""
    if video_aspect_ratio is not None and not (
        isinstance(video_aspect_ratio, tuple)
        and len(video_aspect_ratio) == 2
        and all(
            isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in video_aspect_ratio
        )
    ):
        raise ValueError(
            f"`video_aspect_ratio` must be None or a (width, height) tuple of two ints >= 1, got "
            f"{video_aspect_ratio!r}"
        )
    if record_first_only is None:
        if tile is False and video_aspect_ratio is not None:
            raise ValueError("`video_aspect_ratio` shapes the grid of all envs: it needs tile=True")
        return bool(tile) if tile is not None else video_aspect_ratio is not None
    if not isinstance(record_first_only, bool):
        raise TypeError(f"`record_first_only` must be a bool, got {record_first_only!r}")
    if tile is not None and tile == record_first_only:
        raise ValueError(
            f"`record_first_only={record_first_only}` and `tile={tile}` disagree: "
            "record_first_only=True is tile=False; pass one of them"
        )
    if record_first_only and env_index != 0:
        raise ValueError(
            f"`record_first_only=True` records env 0, but `env_index` is {env_index}: "
            "pass env_index alone"
        )
    return not record_first_only  # as Gymnasium's, an aspect ratio is unused for env 0 alone


class _FinalFrameTap(gym.Wrapper):
    """Wraps one sub-environment of a SyncVectorEnv to render its last frame before autoreset."""

    def __init__(self, env: gym.Env):
        super().__init__(env)
        self.final_frame: Any = None

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        result = self.env.step(action)
        if result[2] or result[3]:
            self.final_frame = self.env.render()
        return result


class RecordVideo(VideoRecorderView, VectorWrapper):
    """Records videos of one sub-environment of a `VectorEnv` (or of all of them, tiled).

    Episodes are those of the recorded sub-environment `env_index` and are counted correctly under
    next-step, same-step and disabled autoreset. Under same-step autoreset the final frame of an
    episode is still recorded: for a `SyncVectorEnv` it is rendered inside the sub-environment
    before it resets (the sub-environment is wrapped while recording and unwrapped at close);
    `fnrec.FunctionalVectorEnv` and other vector envs provide it as `info["final_frame"]` (masked
    by `info["_final_frame"]`); for any other vector env the video ends one frame early, with a
    warning at construction. Step ids count calls to `step()`.
    """

    def __init__(
        self,
        env: VectorEnv,
        video_folder: str | os.PathLike[str],
        episode_trigger: Callable[[int], bool] | None = None,
        step_trigger: Callable[[int], bool] | None = None,
        video_length: int | None = 0,
        name_prefix: str = "rl-video",
        fps: float | None = None,
        *,
        env_index: int = 0,
        tile: bool | None = None,
        video_aspect_ratio: tuple[int, int] | None = None,
        record_first_only: bool | None = None,
        settings: VideoSettings | None = None,
    ):
        """Wraps `env`.

        Args:
          env: a vector environment whose render() returns one image per sub-environment.
          video_folder, episode_trigger, step_trigger, video_length, name_prefix, fps, settings:
            as for `RecordVideo`; episode ids count the episodes of sub-environment
            `env_index`.
          env_index: the sub-environment whose episodes are recorded and counted.
          tile: record all sub-environments in one grid instead (episodes still follow
            `env_index`); default False, or True when `video_aspect_ratio` is given.
          video_aspect_ratio: Gymnasium's: the grid's (width, height) ratio; None: near-square.
          record_first_only: Gymnasium's: True records env 0 alone (``tile=False``), False
            all envs in a grid (``tile=True``).
        """
        super().__init__(env)
        check_render_mode(env.render_mode)
        if isinstance(env_index, bool) or not isinstance(env_index, numbers.Integral):
            raise TypeError(
                f"env_index must be an int in [0, {env.num_envs}), got "
                f"{type(env_index).__name__}: {env_index!r}"
            )
        if not 0 <= env_index < env.num_envs:
            raise ValueError(f"env_index must be in [0, {env.num_envs}), got {env_index}")
        env_index = int(env_index)
        self.env_index = env_index
        self.tile = _tiled(tile, video_aspect_ratio, record_first_only, env_index)
        self.video_aspect_ratio = video_aspect_ratio
        self.record_first_only = not self.tile
        self.autoreset_mode = autoreset_mode(
            env.metadata.get("autoreset_mode", "next_step"), 'env.metadata["autoreset_mode"]'
        )
        self._start_recording(
            video_folder, episode_trigger, step_trigger, video_length, name_prefix, fps, settings
        )
        self._reset_pending = False  # next-step mode: the recorded env resets on the next step
        self._taps: dict[int, _FinalFrameTap] = {}
        if self.autoreset_mode == "same_step":
            self._install_taps()

    def _install_taps(self) -> None:
        base = self.env.unwrapped
        if isinstance(base, SyncVectorEnv):
            for index in range(self.num_envs) if self.tile else [self.env_index]:
                self._taps[index] = tap = _FinalFrameTap(base.envs[index])
                base.envs[index] = tap
        elif not isinstance(base, FunctionalVectorEnv):  # it gives info["final_frame"]
            warnings.warn(
                f"{type(base).__name__} uses same-step autoreset and is not a SyncVectorEnv: "
                "the final frame of an episode is only recorded if step() returns it as "
                "info['final_frame']",
                stacklevel=3,
            )

    def _frame(self, final: dict[int, Any] | None = None) -> Any:
        """The recorded view now; `final` replaces the frames of envs that just ended."""
        final = final or {}
        if not self.tile:
            if self.env_index in final:
                return final[self.env_index]
            base = self.env.unwrapped  # render only the recorded env where the env allows it
            if isinstance(base, SyncVectorEnv):
                return base.envs[self.env_index].render()
            if isinstance(base, FunctionalVectorEnv):
                return base.render_one(self.env_index)
            return self.env.render()[self.env_index]
        frames = self.env.render()
        frames = [to_rgb_uint8(final.get(i, frame)) for i, frame in enumerate(frames)]
        return tile(frames, self.video_aspect_ratio)

    def _final_frames(self, done: np.ndarray, info: dict[str, Any]) -> dict[int, Any]:
        """Frames of episodes that ended in this step, taken before the same-step autoreset."""
        final = {}
        for index in range(self.num_envs) if self.tile else [self.env_index]:
            if not done[index]:
                continue
            tap = self._taps.get(index)
            if tap is not None and tap.final_frame is not None:
                final[index], tap.final_frame = tap.final_frame, None
            elif "final_frame" in info and info.get("_final_frame", done)[index]:
                final[index] = info["final_frame"][index]
        return final

    def reset(
        self, *, seed: int | list[int] | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Resets; the recorded env starts an episode unless `options["reset_mask"]` skips it."""
        with self._aborting_on_error():
            mask = (options or {}).get("reset_mask")  # read first: the vector env may pop it
            recorded_env_reset = mask is None or bool(mask[self.env_index])
            obs, info = self.env.reset(seed=seed, options=options)
            if recorded_env_reset:
                self._reset_pending = False
                self._next_episode()
            if recorded_env_reset or self.tile:
                self.video_recorder.add_frame(self._frame)
        return obs, info

    def step(self, actions: Any) -> tuple[Any, Any, Any, Any, dict[str, Any]]:
        """Steps all envs and records the recorded env's frame(s) of this step."""
        with self._aborting_on_error():
            obs, rewards, terminations, truncations, info = self.env.step(actions)
            self.step_id += 1
            done = np.logical_or(terminations, truncations)
            ended = bool(done[self.env_index])
            if self._reset_pending:  # next-step mode: this step was the recorded env's reset
                self._reset_pending = False
                self._next_episode()
            self.video_recorder.stepped(self.step_id)
            if self.autoreset_mode == "same_step":
                final = self._final_frames(done, info)
                if final:  # last frames of episodes that ended, rendered before the autoreset
                    self.video_recorder.add_frame(lambda: self._frame(final))
                if ended:
                    self.video_recorder.episode_ended()
                    self._next_episode()
                if ended or not final:  # the recorded env's reset frame, or an ordinary frame
                    self.video_recorder.add_frame(self._frame)
            else:
                self.video_recorder.add_frame(self._frame)
                if ended:
                    self.video_recorder.episode_ended()
                    self._reset_pending = self.autoreset_mode == "next_step"
        return obs, rewards, terminations, truncations, info

    def close(self, **kwargs: Any) -> None:
        """Ends the open video, waits for every video still encoding, unwraps tapped
        sub-environments and closes the env."""
        try:
            self.video_recorder.close()
        finally:
            base = self.env.unwrapped
            for index, tap in self._taps.items():
                base.envs[index] = tap.env
            self._taps = {}
            super().close(**kwargs)
