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
from fnrec.host.video_writer import DEFAULT_CRF, DEFAULT_PRESET, VideoWriteError


def _check_render_mode(render_mode: str | None, allowed_lists: bool = False) -> None:
    rejected = {None, "human", "ansi"} | (set() if allowed_lists else {"rgb_array_list"})
    if render_mode in rejected:
        raise ValueError(
            f"RecordVideo needs an environment whose render() returns images, such as rgb_array "
            f"(render_mode='rgb_array'); got render_mode={render_mode!r}"
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
        encoder: str,
    ) -> None:
        """Creates the video recorder (fps from the env's metadata by default); nothing recorded."""
        fps = _fps(fps, self.metadata)
        self.video_recorder = VideoRecorder(
            video_folder,
            episode_trigger,
            step_trigger,
            video_length,
            name_prefix,
            fps,
            preset,
            crf,
            encoder,
        )
        self.episode_id = -1
        self.step_id = -1

    @property
    def recording(self) -> bool:
        """True while a video is open."""
        return self.video_recorder.recording

    @property
    def saved_videos(self) -> list[Path]:
        """Paths of the videos finished so far, oldest first (all of them after `close()`)."""
        return self.video_recorder.saved

    @property
    def failed_videos(self) -> list[VideoWriteError]:
        """The videos that failed and were discarded (each also reported by a warning)."""
        return self.video_recorder.failed

    # Gymnasium's RecordVideo attributes and methods -------------------------------------------
    @property
    def episode_trigger(self) -> Callable[[int], bool] | None:
        """Episode id -> whether a video starts (the capped cubic schedule with no trigger)."""
        return self.video_recorder.episode_trigger

    @property
    def step_trigger(self) -> Callable[[int], bool] | None:
        """Step id -> whether a video starts."""
        return self.video_recorder.step_trigger

    @property
    def video_folder(self) -> str:
        """The videos' folder, absolute (a str, as Gymnasium's)."""
        return str(self.video_recorder.video_folder)

    @property
    def name_prefix(self) -> str:
        """The start of every file name."""
        return self.video_recorder.name_prefix

    @property
    def video_length(self) -> float:
        """Frames per video; ``float("inf")`` for whole episodes (Gymnasium's value for 0)."""
        length = self.video_recorder.video_length
        return float("inf") if length == 0 else length

    @property
    def frames_per_sec(self) -> float:
        """The videos' frame rate."""
        return self.video_recorder.fps

    def start_recording(self, video_name: str) -> None:
        """Starts ``<video_folder>/<video_name>.mp4`` (saving the open video first), as
        Gymnasium's: frames are captured from the next reset or step on."""
        self.video_recorder.start(video_name)

    def stop_recording(self) -> None:
        """Ends the open video and, as Gymnasium's, returns once it is written (videos that end
        on their own, with their episode or `video_length`, finish in the background)."""
        self.video_recorder.stop(wait=True)


class RecordVideo(_VideoRecorderView, gym.Wrapper):
    """Records videos of episodes of a `gymnasium.Env` (or, see below, a `VectorEnv`) to mp4 files.

    Arguments and file names are Gymnasium's: `<name_prefix>-episode-<id>.mp4` for videos started by
    `episode_trigger`, `<name_prefix>-step-<step>.mp4` for `step_trigger`; with no trigger the
    capped cubic schedule. A frame is captured at reset and after every step. Frames stream to a
    background encoder, so memory does not grow with the episode, and a video that ends finishes
    encoding in the background while the episodes go on (`close()` waits for all). Differences from
    Gymnasium: `video_length=L` keeps exactly L frames (Gymnasium keeps L+1); a whole-episode video
    is ended as soon as the episode terminates or truncates (not at the next reset); a video that
    fails (a bad frame, the encoder dying, a full disk) never costs the step's result: `step` and
    `reset` return it, the video is discarded (never left truncated) with a `VideoWriteWarning`, and
    listed in `failed_videos`; when the environment itself raises, its video is discarded too.

    A `VectorEnv` takes `fnrec.wrappers.vector.RecordVideo` (Gymnasium's layout: one class per
    kind of env, of one name in mirrored namespaces).
    """

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
        encoder: str = "auto",
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
          encoder: "auto" (PyAV when installed, else the ffmpeg program), "pyav" or "ffmpeg".
        """
        if isinstance(env, VectorEnv):
            raise TypeError(
                "`env` must be a gymnasium.Env for fnrec.RecordVideo, got the VectorEnv "
                f"{type(env).__name__}: use fnrec.wrappers.vector.RecordVideo (Gymnasium's layout)"
            )
        super().__init__(env)
        _check_render_mode(env.render_mode, allowed_lists=True)
        self.render_history: list[Any] = []  # frames taken from a render_mode="rgb_array_list" env
        self._start_recording(
            video_folder,
            episode_trigger,
            step_trigger,
            video_length,
            name_prefix,
            fps,
            preset,
            crf,
            encoder,
        )

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Resets the env, starts a video if the episode trigger says so, captures a frame."""
        with self._aborting_on_error():
            obs, info = self.env.reset(seed=seed, options=options)
            self.episode_id += 1
            self.video_recorder.episode_started(self.episode_id)
            self.video_recorder.add_frame(self._render_frame)
        return obs, info

    def step(self, action: Any) -> tuple[Any, SupportsFloat, bool, bool, dict[str, Any]]:
        """Steps the environment and captures the frame; saves a whole-episode video at its end."""
        with self._aborting_on_error():
            obs, reward, terminated, truncated, info = self.env.step(action)
            self.step_id += 1
            self.video_recorder.stepped(self.step_id)
            self.video_recorder.add_frame(self._render_frame)
            if terminated or truncated:
                self.video_recorder.episode_ended()
        return obs, reward, terminated, truncated, info

    def _render_frame(self) -> Any:
        """The frame to record; a ``rgb_array_list`` env's collected frames are kept for
        ``render()`` (as Gymnasium's), the last one recorded (None: nothing new to record)."""
        frame = self.env.render()
        if isinstance(frame, list):
            self.render_history += frame
            return frame[-1] if frame else None
        return frame

    def render(self) -> Any:
        """The env's render; for a ``rgb_array_list`` env, with the frames recording took."""
        out = super().render()
        if self.render_history:
            history, self.render_history = self.render_history, []
            return history + out
        return out

    def close(self) -> None:
        """Ends the open video, waits for every video still encoding, then closes the env."""
        try:
            self.video_recorder.close()
        finally:
            super().close()


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
        tile: bool | None = None,
        video_aspect_ratio: tuple[int, int] | None = None,
        record_first_only: bool | None = None,
        preset: str = DEFAULT_PRESET,
        crf: int = DEFAULT_CRF,
        encoder: str = "auto",
    ):
        """Wraps `env`.

        Args:
          env: a vector environment whose render() returns one image per sub-environment.
          video_folder, episode_trigger, step_trigger, video_length, name_prefix, fps, preset, crf,
          encoder: as for `RecordVideo`; episode ids count the episodes of sub-environment
            `env_index`.
          env_index: the sub-environment whose episodes are recorded and counted.
          tile: record all sub-environments in one grid instead (episodes still follow
            `env_index`); default False, or True when `video_aspect_ratio` is given.
          video_aspect_ratio: Gymnasium's: the grid's (width, height) ratio; None: near-square.
          record_first_only: Gymnasium's: True records env 0 alone (``tile=False``), False
            all envs in a grid (``tile=True``).
        """
        super().__init__(env)
        _check_render_mode(env.render_mode)
        if not 0 <= env_index < env.num_envs:
            raise ValueError(f"env_index must be in [0, {env.num_envs}), got {env_index}")
        self.env_index = env_index
        self.tile = _tiled(tile, video_aspect_ratio, record_first_only, env_index)
        self.video_aspect_ratio = video_aspect_ratio
        self.record_first_only = not self.tile
        self.autoreset_mode = AutoresetMode(
            env.metadata.get("autoreset_mode", AutoresetMode.NEXT_STEP)
        )
        self._start_recording(
            video_folder,
            episode_trigger,
            step_trigger,
            video_length,
            name_prefix,
            fps,
            preset,
            crf,
            encoder,
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
