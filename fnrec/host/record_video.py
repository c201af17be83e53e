"""`RecordVideo`: Gymnasium's wrapper for `Env` and `VectorEnv`, streaming to mp4."""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, SupportsFloat

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode, SyncVectorEnv, VectorEnv, VectorWrapper

from fnrec.host.frames import tile, to_rgb_uint8
from fnrec.host.gym_env import FunctionalVectorEnv
from fnrec.host.video_recorder import VideoRecorder
from fnrec.host.video_writer import DEFAULT_CRF, DEFAULT_PRESET


def _check_render_mode(render_mode: str | None) -> None:
    if render_mode in {None, "human", "ansi", "rgb_array_list"}:
        raise ValueError(
            f"RecordVideo needs an environment whose render() returns one image, e.g. "
            f"render_mode='rgb_array'; got render_mode={render_mode!r}"
        )


def _fps(fps: float | None, metadata: dict[str, Any]) -> float:
    return fps if fps is not None else metadata.get("render_fps") or 30


class _VideoRecorderView:
    """What both wrappers share about their `VideoRecorder`: its creation and its state."""

    video_recorder: VideoRecorder
    metadata: dict[str, Any]

    @contextlib.contextmanager
    def _aborting_on_error(self) -> Iterator[None]:
        """Discards the open video if the body raises anything (KeyboardInterrupt too)."""
        try:
            yield
        except BaseException:
            self.video_recorder.abort()
            raise

    def _start_recording(
        self,
        video_folder: str | os.PathLike[str],
        episode_trigger: Callable[[int], bool] | None,
        step_trigger: Callable[[int], bool] | None,
        video_length: int | None,
        name_prefix: str,
        fps: float | None,
        preset: str,
        crf: int,
    ) -> None:
        """Creates the video recorder (fps from the env's metadata by default); nothing recorded."""
        fps = _fps(fps, self.metadata)
        self.video_recorder = VideoRecorder(
            video_folder, episode_trigger, step_trigger, video_length, name_prefix, fps, preset, crf
        )
        self.episode_id = -1
        self.step_id = -1

    @property
    def recording(self) -> bool:
        """True while a video is open."""
        return self.video_recorder.recording

    @property
    def saved_videos(self) -> list[Path]:
        """Paths of the videos saved so far, oldest first."""
        return self.video_recorder.saved


class RecordVideo(_VideoRecorderView, gym.Wrapper):
    """Records videos of episodes of a `gymnasium.Env` (or, see below, a `VectorEnv`) to mp4 files.

    Arguments and file names are Gymnasium's: `<name_prefix>-episode-<id>.mp4` for videos started by
    `episode_trigger`, `<name_prefix>-step-<step>.mp4` for `step_trigger`; with no trigger the
    capped cubic schedule. A frame is captured at reset and after every step. Frames stream to a
    background ffmpeg encoder, so memory does not grow with the episode. Differences from Gymnasium:
    `video_length=L` keeps exactly L frames (Gymnasium keeps L+1); a whole-episode video is saved as
    soon as the episode terminates or truncates (not at the next reset); when the environment or the
    encoder raises mid-video, that video is discarded, never left truncated.

    Given a `VectorEnv`, the constructor returns a `RecordVectorVideo` instead.
    """

    def __new__(cls, env: gym.Env | VectorEnv, *args: Any, **kwargs: Any) -> Any:
        if cls is RecordVideo and isinstance(env, VectorEnv):
            return RecordVectorVideo(env, *args, **kwargs)
        return super().__new__(cls)

    def __init__(
        self,
        env: gym.Env,
        video_folder: str | os.PathLike[str],
        episode_trigger: Callable[[int], bool] | None = None,
        step_trigger: Callable[[int], bool] | None = None,
        video_length: int | None = 0,
        name_prefix: str = "rl-video",
        fps: float | None = None,
        *,
        preset: str = DEFAULT_PRESET,
        crf: int = DEFAULT_CRF,
    ):
        """Wraps `env`.

        Args:
          env: an environment whose render() returns an image (render_mode "rgb_array").
          video_folder: folder for the videos; created if missing.
          episode_trigger: episode id (0 at the first reset) -> whether to start a video.
          step_trigger: step id (0 at the first step, across episodes) -> whether to start one.
          video_length: frames per video; 0 (or None) records whole episodes.
          name_prefix: start of every file name.
          fps: frames per second; default `env.metadata["render_fps"]`, else 30.
          preset: libx264 speed/size preset.
          crf: libx264 constant rate factor (quality; lower is better).
        """
        super().__init__(env)
        _check_render_mode(env.render_mode)
        self._start_recording(
            video_folder, episode_trigger, step_trigger, video_length, name_prefix, fps, preset, crf
        )

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Resets the env, starts a video if the episode trigger says so, captures a frame."""
        with self._aborting_on_error():
            obs, info = self.env.reset(seed=seed, options=options)
            self.episode_id += 1
            self.video_recorder.episode_started(self.episode_id)
            self.video_recorder.add_frame(self.env.render)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Steps the environment and captures the frame; saves a whole-episode video at its end."""
        with self._aborting_on_error():
            obs, reward, terminated, truncated, info = self.env.step(action)
            self.step_id += 1
            self.video_recorder.stepped(self.step_id)
            self.video_recorder.add_frame(self.env.render)
            if terminated or truncated:
                self.video_recorder.episode_ended()
        return obs, reward, terminated, truncated, info

    def close(self) -> None:
        """Saves the open video, if any, then closes the environment."""
        try:
            self.video_recorder.stop()
        finally:
            super().close()


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


class RecordVectorVideo(_VideoRecorderView, VectorWrapper):
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
        tile: bool = False,
        preset: str = DEFAULT_PRESET,
        crf: int = DEFAULT_CRF,
    ):
        """Wraps `env`.

        Args:
          env: a vector environment whose render() returns one image per sub-environment.
          video_folder, episode_trigger, step_trigger, video_length, name_prefix, fps, preset, crf:
            as for `RecordVideo`; episode ids count the episodes of sub-environment `env_index`.
          env_index: the sub-environment whose episodes are recorded and counted.
          tile: record all sub-environments side by side in a near-square grid instead (episodes
            still follow `env_index`).
        """
        super().__init__(env)
        _check_render_mode(env.render_mode)
        if not 0 <= env_index < env.num_envs:
            raise ValueError(f"env_index must be in [0, {env.num_envs}), got {env_index}")
        self.env_index = env_index
        self.tile = tile
        self.autoreset_mode = AutoresetMode(
            env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        )
        self._start_recording(
            video_folder, episode_trigger, step_trigger, video_length, name_prefix, fps, preset, crf
        )
        self._reset_pending = False  # next-step mode: the recorded env resets on the next step
        self._taps: dict[int, _FinalFrameTap] = {}
        if self.autoreset_mode == AutoresetMode.SAME_STEP:
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
        return tile([to_rgb_uint8(final.get(i, frame)) for i, frame in enumerate(frames)])

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
                self.episode_id += 1
                self.video_recorder.episode_started(self.episode_id)
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
                self.episode_id += 1
                self.video_recorder.episode_started(self.episode_id)
            self.video_recorder.stepped(self.step_id)
            if self.autoreset_mode == AutoresetMode.SAME_STEP:
                final = self._final_frames(done, info)
                if final:  # last frames of episodes that ended, rendered before the autoreset
                    self.video_recorder.add_frame(lambda: self._frame(final))
                if ended:
                    self.video_recorder.episode_ended()
                    self.episode_id += 1
                    self.video_recorder.episode_started(self.episode_id)
                if ended or not final:  # the recorded env's reset frame, or an ordinary frame
                    self.video_recorder.add_frame(self._frame)
            else:
                self.video_recorder.add_frame(self._frame)
                if ended:
                    self.video_recorder.episode_ended()
                    self._reset_pending = self.autoreset_mode == AutoresetMode.NEXT_STEP
        return obs, rewards, terminations, truncations, info

    def close(self, **kwargs: Any) -> None:
        """Saves the open video, if any, unwraps tapped sub-environments and closes the env."""
        try:
            self.video_recorder.stop()
        finally:
            base = self.env.unwrapped
            for index, tap in self._taps.items():
                base.envs[index] = tap.env
            self._taps = {}
            super().close(**kwargs)
