"""`save_video`: Gymnasium's function of the same name, written with fnrec's streaming writer."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from numpy.typing import ArrayLike

from fnrec.host.video_recorder import check_trigger, check_video_length, make_video_folder
from fnrec.host.video_settings import (
    DEFAULT_FPS,
    DEFAULT_NAME_PREFIX,
    VideoSettings,
    video_settings,
)
from fnrec.schedules import capped_cubic_video_schedule


def write_video(frames: Sequence[ArrayLike], path: Path, settings: VideoSettings) -> Path | None:
    """Writes `frames` to `path` with a `VideoWriter`; returns the path, or None for no frames."""
    with settings.writer(path) as writer:
        for frame in frames:
            writer.append(frame)
        return writer.close()


def save_video(
    frames: Sequence[ArrayLike],
    video_folder: str | os.PathLike[str],
    episode_trigger: Callable[[int], bool] | None = None,
    step_trigger: Callable[[int], bool] | None = None,
    video_length: int | None = None,
    name_prefix: str = DEFAULT_NAME_PREFIX,
    episode_index: int = 0,
    step_starting_index: int = 0,
    fps: float = DEFAULT_FPS,
    *,
    settings: VideoSettings | None = None,
) -> list[Path]:
    """Saves videos from one episode's frames, named and triggered as Gymnasium's `save_video`.

    Frame 0 is the reset frame; frame k >= 1 follows step `step_starting_index + k - 1`.

    Args:
      frames: the episode's frames (list or array), each uint8 HxWx3, float in [0, 1] or grayscale.
      video_folder: folder for the videos, created if missing.
      episode_trigger: episode index -> bool; if true for `episode_index`, writes
        `frames[:video_length]` to `<name_prefix>-episode-<episode_index>.mp4`.
      step_trigger: step index -> bool; for each step s it accepts, writes the frames from that
        step's frame on (`video_length` of them, or all) to `<name_prefix>-step-<s>.mp4`.
      video_length: frames per video; None keeps all.
      name_prefix: start of every file name.
      episode_index: index of this episode.
      step_starting_index: step index of the episode's first step.
      fps: frames per second of the videos, a real number in [1/1001, 1e6].
      settings: the encoder, preset, crf (and fps, name_prefix, given once): a
        `fnrec.VideoSettings`.

    Returns:
      The paths written, in the order written (Gymnasium returns None).

    Raises:
      TypeError, ValueError, NotADirectoryError: a bad argument, named in the message; checked
        before any file is written.
    """
    checked = video_settings(settings, fps, name_prefix)
    check_trigger("episode_trigger", episode_trigger)
    check_trigger("step_trigger", step_trigger)
    if video_length is not None:
        check_video_length(video_length, 1)
    if episode_trigger is None and step_trigger is None:
        episode_trigger = capped_cubic_video_schedule
    folder = make_video_folder(video_folder)
    end = video_length  # slice bound relative to the start frame; None keeps all
    jobs: list[tuple[Path, Sequence[ArrayLike]]] = []
    if episode_trigger is not None and episode_trigger(episode_index):
        jobs.append((folder / checked.file_name(episode_index), frames[:end]))
    if step_trigger is not None:
        for frame_index in range(1, len(frames)):
            step = step_starting_index + frame_index - 1
            if step_trigger(step):
                stop = None if end is None else frame_index + end
                jobs.append((folder / checked.file_name(step_id=step), frames[frame_index:stop]))
    written = []
    for path, clip in jobs:
        result = write_video(clip, path, checked)
        if result is not None:
            written.append(result)
    return written
