"""`RecordVideo`: Gymnasium's wrapper for an `Env`, streaming to mp4, and what the vector form
shares with it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, SupportsFloat

import gymnasium as gym
from gymnasium.vector import VectorEnv

from fnrec.host.video_recorder import VideoRecorder
from fnrec.host.video_settings import VideoSettings, video_settings
from fnrec.host.video_writer import VideoWriteError


def check_render_mode(render_mode: str | None, allowed_lists: bool = False) -> None:
    rejected = {None, "human", "ansi"} | (set() if allowed_lists else {"rgb_array_list"})
    if render_mode in rejected:
        raise ValueError(
            f"RecordVideo needs an environment whose render() returns images, such as rgb_array "
            f"(render_mode='rgb_array'); got render_mode={render_mode!r}"
        )


class VideoRecorderView:
    """What both wrappers share about their `VideoRecorder`: its creation and its state."""

    video_recorder: VideoRecorder
    metadata: dict[str, Any]
    env: Any

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
        settings: VideoSettings | None,
    ) -> None:
        """Creates the video recorder (fps from the env's metadata by default); nothing recorded."""
        checked = video_settings(
            settings,
            fps,
            name_prefix,
            default_fps=None,
            fallback_fps=self.metadata.get("render_fps") or 30,
        )
        self.video_recorder = VideoRecorder(
            video_folder, episode_trigger, step_trigger, video_length, checked
        )
        self.episode_id = -1
        self.step_id = -1

    def _next_episode(self) -> None:
        """The recorded env starts its next episode (before its reset frame is captured)."""
        self.episode_id += 1
        self.video_recorder.episode_started(self.episode_id)

    def _statistic(self, name: str) -> Any:
        """`name` of the nearest env inside that has it (Gymnasium's wrappers and vector envs
        no longer forward attributes)."""
        env = self.env
        while not hasattr(env, name):
            env = getattr(env, "env", None)
            if env is None:
                raise AttributeError(
                    f"{name}: no env inside this RecordVideo records episode statistics (wrap "
                    "an fnrec host env, or a RecordEpisodeStatistics)"
                )
        return getattr(env, name)

    # Gymnasium's RecordEpisodeStatistics attributes, read through this wrapper as the guide's
    # scripts read them on their outer wrapper (the statistics live in the env inside).
    return_queue = property(lambda self: self._statistic("return_queue"), doc="The inner env's.")
    length_queue = property(lambda self: self._statistic("length_queue"), doc="The inner env's.")
    time_queue = property(lambda self: self._statistic("time_queue"), doc="The inner env's.")
    episode_count = property(lambda self: self._statistic("episode_count"), doc="The inner env's.")

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
        return self.video_recorder.settings.name_prefix

    @property
    def video_length(self) -> float:
        """Frames per video; ``float("inf")`` for whole episodes (Gymnasium's value for 0)."""
        length = self.video_recorder.video_length
        return float("inf") if length == 0 else length

    @property
    def frames_per_sec(self) -> float:
        """The videos' frame rate."""
        return self.video_recorder.settings.fps

    def start_recording(self, video_name: str) -> None:
        """Starts ``<video_folder>/<video_name>.mp4`` (saving the open video first), as
        Gymnasium's: frames are captured from the next reset or step on."""
        self.video_recorder.start(video_name)

    def stop_recording(self) -> None:
        """Ends the open video and, as Gymnasium's, returns once it is written (videos that end
        on their own, with their episode or `video_length`, finish in the background)."""
        self.video_recorder.stop(wait=True)


class RecordVideo(VideoRecorderView, gym.Wrapper):
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
        settings: VideoSettings | None = None,
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
          settings: the encoder, preset, crf (and fps, name_prefix, given once): a
            `fnrec.VideoSettings`.
        """
        if isinstance(env, VectorEnv):
            raise TypeError(
                "`env` must be a gymnasium.Env for fnrec.RecordVideo, got the VectorEnv "
                f"{type(env).__name__}: use fnrec.wrappers.vector.RecordVideo (Gymnasium's layout)"
            )
        super().__init__(env)
        check_render_mode(env.render_mode, allowed_lists=True)
        self.render_history: list[Any] = []  # frames taken from a render_mode="rgb_array_list" env
        self._start_recording(
            video_folder, episode_trigger, step_trigger, video_length, name_prefix, fps, settings
        )

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[Any, dict[str, Any]]:
        """Resets the env, starts a video if the episode trigger says so, captures a frame."""
        with self._aborting_on_error():
            obs, info = self.env.reset(seed=seed, options=options)
            self._next_episode()
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
