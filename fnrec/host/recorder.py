"""When videos start and stop: triggers, naming and the open writer, for RecordVideo wrappers."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path

from numpy.typing import ArrayLike

from fnrec.host.video_writer import DEFAULT_CRF, DEFAULT_PRESET, VideoWriter
from fnrec.schedules import capped_cubic_video_schedule


class VideoRecorder:
    """Opens, feeds and closes one video at a time as episodes and steps go by.

    A video started by the episode trigger is named `<name_prefix>-episode-<id>.mp4`, one started by
    the step trigger `<name_prefix>-step-<step>.mp4`. With `video_length=0` a video ends with its
    episode; with `video_length=L` it ends after exactly L frames (possibly spanning episodes) or
    when a trigger starts the next video.
    """

    def __init__(
        self,
        video_folder: str | os.PathLike[str],
        episode_trigger: Callable[[int], bool] | None,
        step_trigger: Callable[[int], bool] | None,
        video_length: int,
        name_prefix: str,
        fps: float,
        preset: str = DEFAULT_PRESET,
        crf: int = DEFAULT_CRF,
    ):
        """Checks the settings and creates the folder.

        Args:
          video_folder: folder for the videos; created if missing, with a warning if it already
            holds videos with this prefix (they may be overwritten).
          episode_trigger: episode id -> bool; with neither trigger, `capped_cubic_video_schedule`.
          step_trigger: step id -> bool.
          video_length: frames per video, or 0 for whole episodes.
          name_prefix: start of every file name.
          fps: frames per second of the videos.
          preset: libx264 preset passed to `VideoWriter`.
          crf: libx264 constant rate factor passed to `VideoWriter`.
        """
        if video_length < 0:
            raise ValueError(
                f"video_length must be 0 (whole episodes) or positive, got {video_length}"
            )
        if episode_trigger is None and step_trigger is None:
            episode_trigger = capped_cubic_video_schedule
        self.episode_trigger = episode_trigger
        self.step_trigger = step_trigger
        self.video_length = video_length
        self.name_prefix = name_prefix
        self.fps = fps
        self.preset = preset
        self.crf = crf
        self.video_folder = Path(video_folder).absolute()
        existing = sorted(self.video_folder.glob(f"{name_prefix}-*.mp4"))
        if existing:
            warnings.warn(
                f"Overwriting existing videos at {self.video_folder}: it already holds "
                f"{len(existing)} video(s) named {name_prefix}-*.mp4 (choose another video_folder "
                "or name_prefix if this is not desired)",
                stacklevel=4,
            )
        self.video_folder.mkdir(parents=True, exist_ok=True)
        self.saved: list[Path] = []
        self._writer: VideoWriter | None = None

    @property
    def recording(self) -> bool:
        """True while a video is open."""
        return self._writer is not None

    def start(self, name: str) -> None:
        """Saves the open video, if any, and opens `<video_folder>/<name>.mp4`."""
        self.stop()
        self._writer = VideoWriter(
            self.video_folder / f"{name}.mp4", fps=self.fps, preset=self.preset, crf=self.crf
        )

    def stop(self) -> Path | None:
        """Saves the open video, if any; returns its path."""
        writer, self._writer = self._writer, None
        path = writer.close() if writer is not None else None
        if path is not None:
            self.saved.append(path)
        return path

    def abort(self) -> None:
        """Discards the open video, if any, without saving it."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.abort()

    def capture(self, render: Callable[[], ArrayLike]) -> None:
        """If a video is open, appends `render()`; closes the video once it holds `video_length`."""
        if self._writer is None:
            return
        try:
            self._writer.append(render())
        except BaseException:
            self.abort()
            raise
        if self._writer.frame_count == self.video_length:
            self.stop()

    def episode_started(self, episode_id: int) -> None:
        """A new episode begins (before its reset frame is captured)."""
        if self.video_length == 0:
            self.stop()  # a reset in the middle of an episode ends that episode's video
        if self.episode_trigger is not None and self.episode_trigger(episode_id):
            self.start(f"{self.name_prefix}-episode-{episode_id}")

    def episode_ended(self) -> None:
        """The episode's final frame was captured: a whole-episode video is saved now."""
        if self.video_length == 0:
            self.stop()

    def stepped(self, step_id: int) -> None:
        """A step happened (before its frame is captured)."""
        if self.step_trigger is not None and self.step_trigger(step_id):
            self.start(f"{self.name_prefix}-step-{step_id}")

    def __del__(self) -> None:
        writer = getattr(self, "_writer", None)
        if writer is not None:
            warnings.warn(f"video {writer.path} was not saved: call close() first", stacklevel=1)
            writer.abort()
