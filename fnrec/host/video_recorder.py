"""When videos start and stop: triggers, naming and the open writer, for RecordVideo wrappers."""

from __future__ import annotations

import numbers
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from numpy.typing import ArrayLike

from fnrec._warnings import warn_at_caller
from fnrec.host.video_settings import VideoSettings
from fnrec.host.video_writer import VideoWriteError, VideoWriter, VideoWriteWarning
from fnrec.host.videos_in_flight import DEFAULT_IN_FLIGHT, VideosInFlight
from fnrec.schedules import capped_cubic_video_schedule


def check_trigger(name: str, trigger: Any) -> None:
    """Raises a TypeError naming `name` unless `trigger` is None or callable."""
    if trigger is not None and not callable(trigger):
        raise TypeError(
            f"{name} must be None or a callable (int -> bool), got {type(trigger).__name__}: "
            f"{trigger!r}"
        )


def check_video_length(video_length: Any, minimum: int) -> None:
    """Raises unless `video_length` is an int >= `minimum` (bools are not ints here)."""
    if isinstance(video_length, bool) or not isinstance(video_length, numbers.Integral):
        raise TypeError(
            f"video_length must be an int >= {minimum}, got {type(video_length).__name__}: "
            f"{video_length!r}"
        )
    if video_length < minimum:
        raise ValueError(f"video_length must be an int >= {minimum}, got {video_length!r}")


def make_video_folder(video_folder: str | os.PathLike[str], argument: str = "video_folder") -> Path:
    """Creates `video_folder` if missing and returns its absolute path.

    Args:
      video_folder: the folder.
      argument: the argument's name, for the error messages.

    Raises:
      NotADirectoryError: `video_folder` (or a parent) is an existing file.
    """
    folder = Path(video_folder).absolute()
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(
            f"`{argument}` must be a folder (existing or not), got {folder}, an existing file"
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as err:
        raise NotADirectoryError(
            f"`{argument}` {folder} cannot be created: a parent is an existing file ({err})"
        ) from err
    return folder


class VideoRecorder:
    """Opens, feeds and closes one video at a time as episodes and steps go by.

    A video started by the episode trigger is named `<name_prefix>-episode-<id>.mp4`, one started by
    the step trigger `<name_prefix>-step-<step>.mp4`. With `video_length=0` a video ends with its
    episode; with `video_length=L` it ends after exactly L frames (possibly spanning episodes) or
    when a trigger starts the next video.

    A video that ends finishes encoding in the background (at most `videos_in_flight` at once);
    `close()` waits for all of them. A video that fails (a bad frame, the encoder dying, a full
    disk), now or in the background, never raises here: it is discarded, reported with a
    `VideoWriteWarning` naming the video and the reason, and kept in `failed`; the episode loop
    and the other videos go on.
    """

    def __init__(
        self,
        video_folder: str | os.PathLike[str],
        episode_trigger: Callable[[int], bool] | None,
        step_trigger: Callable[[int], bool] | None,
        video_length: int | None,
        settings: VideoSettings,
        videos_in_flight: int = DEFAULT_IN_FLIGHT,
    ):
        """Checks the settings and creates the folder.

        Args:
          video_folder: folder for the videos; created if missing, with a warning if it already
            holds videos with this prefix (they may be overwritten).
          episode_trigger: episode id -> bool; with neither trigger, `capped_cubic_video_schedule`.
          step_trigger: step id -> bool.
          video_length: frames per video, or 0 (or None) for whole episodes.
          settings: the videos' checked settings (`VideoSettings.checked`): frame rate,
            encoder and file names.
          videos_in_flight: videos finishing in the background at once.
        """
        video_length = 0 if video_length is None else video_length
        check_video_length(video_length, 0)
        check_trigger("episode_trigger", episode_trigger)
        check_trigger("step_trigger", step_trigger)
        if episode_trigger is None and step_trigger is None:
            episode_trigger = capped_cubic_video_schedule
        self.episode_trigger = episode_trigger
        self.step_trigger = step_trigger
        self.video_length = video_length
        self.settings = settings
        name_prefix = settings.name_prefix
        self._in_flight = VideosInFlight(videos_in_flight)
        self.video_folder = make_video_folder(video_folder)
        existing = sorted(self.video_folder.glob(f"{name_prefix}-*.mp4"))
        if existing:
            warnings.warn(
                f"Overwriting existing videos at {self.video_folder}: it already holds "
                f"{len(existing)} video(s) named {name_prefix}-*.mp4 (choose another video_folder "
                "or name_prefix if this is not desired)",
                stacklevel=4,
            )
        self.saved: list[Path] = []
        self.failed: list[VideoWriteError] = []
        self._writer: VideoWriter | None = None

    @property
    def recording(self) -> bool:
        """True while a video is open."""
        return self._writer is not None

    def start(self, name: str) -> None:
        """Ends the open video, if any, and opens `<video_folder>/<name>.mp4`."""
        self.stop()
        self._writer = self.settings.writer(self.video_folder / f"{name}.mp4")

    def stop(self, wait: bool = False) -> None:
        """Ends the open video, if any: it finishes in the background.

        Args:
          wait: True waits for it (and every other video in flight) to finish.
        """
        writer, self._writer = self._writer, None
        if writer is not None:
            self._report(self._in_flight.add(writer))
        self._report(self._in_flight.collect(wait=wait))

    def close(self) -> list[Path]:
        """Ends the open video and waits for every video in flight.

        Returns:
          The paths of all videos saved so far, oldest first.
        """
        self.stop(wait=True)
        return self.saved

    def abort(self) -> None:
        """Discards the open video, if any, without saving it (videos in flight go on)."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.abort()

    def _report(self, finished: list[VideoWriter]) -> None:
        for writer in finished:
            if writer.written is not None:
                self.saved.append(writer.written)
            elif writer.error is not None:
                self._failed(writer.error)

    def _failed(self, error: VideoWriteError) -> None:
        self.failed.append(error)
        warn_at_caller(f"{error}; the episodes and the other videos go on", VideoWriteWarning)

    def add_frame(self, render: Callable[[], ArrayLike]) -> None:
        """If a video is open, appends `render()`; ends the video once it holds `video_length`.

        A frame the video cannot take, or an encoder that failed, discards that video with a
        warning (see the class); an exception from `render` itself discards it and propagates.
        """
        if self._in_flight:
            self._report(self._in_flight.collect())
        if self._writer is None:
            return
        try:
            frame = render()
        except BaseException:
            self.abort()
            raise
        if frame is None:  # nothing new to record (an empty rgb_array_list render)
            return
        writer = self._writer
        try:
            writer.append(frame)
        except (ValueError, VideoWriteError) as error:  # the writer has discarded the video
            self._writer = None
            if not isinstance(error, VideoWriteError):
                error = VideoWriteError(writer.path, str(error))
            self._failed(error)
            return
        except BaseException:
            self.abort()
            raise
        if writer.frame_count == self.video_length:
            self.stop()

    def episode_started(self, episode_id: int) -> None:
        """A new episode begins (before its reset frame is captured)."""
        if self.video_length == 0:
            self.stop()  # a reset in the middle of an episode ends that episode's video
        if self.episode_trigger is not None and self.episode_trigger(episode_id):
            self.start(Path(self.settings.file_name(episode_id)).stem)

    def episode_ended(self) -> None:
        """The episode's final frame was captured: a whole-episode video is saved now."""
        if self.video_length == 0:
            self.stop()

    def stepped(self, step_id: int) -> None:
        """A step happened (before its frame is captured)."""
        if self.step_trigger is not None and self.step_trigger(step_id):
            self.start(Path(self.settings.file_name(step_id=step_id)).stem)

    def __del__(self) -> None:
        writer = getattr(self, "_writer", None)
        if writer is not None:
            warnings.warn(f"video {writer.path} was not saved: call close() first", stacklevel=1)
            writer.abort()
        in_flight = getattr(self, "_in_flight", None)
        if in_flight:  # closed videos are complete: let them finish rather than lose them
            in_flight.collect(wait=True)
