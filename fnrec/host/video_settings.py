"""`VideoSettings`: how every fnrec video is encoded and named, checked in one place."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple

from fnrec.host.video_writer import (
    DEFAULT_CRF,
    DEFAULT_PRESET,
    VideoWriter,
    check_crf,
    check_fps,
    check_preset,
    resolve_encoder,
)

DEFAULT_FPS = 30
DEFAULT_NAME_PREFIX = "rl-video"


def _check_name_prefix(name_prefix: Any) -> str:
    if not isinstance(name_prefix, str) or not name_prefix or os.sep in name_prefix:
        raise ValueError(
            f"name_prefix must be a non-empty file name prefix without {os.sep!r}, got "
            f"{name_prefix!r}"
        )
    return name_prefix


class VideoSettings(NamedTuple):
    """How videos are encoded and named: one value for RecordVideo (both forms), save_video,
    export_videos and VideoStream (their ``settings=`` argument).

    Attributes:
      fps: frames per second, a real number in [1/1001, 1e6]; None: the function's own default
        (RecordVideo: the env's ``metadata["render_fps"]``, else 30; the others: 30).
      name_prefix: the start of every file name, ``<name_prefix>-episode-<id>.mp4``.
      encoder: "auto" (PyAV when installed, else the ffmpeg program), "pyav" or "ffmpeg".
      preset: libx264 speed/size preset ("ultrafast" ... "veryslow"); faster is larger.
      crf: libx264 constant rate factor, an int from 0 (lossless) to 51; lower is better.

    Example:
      >>> from fnrec import VideoSettings
      >>> VideoSettings(fps=50, crf=18).checked().file_name(3)
      'rl-video-episode-3.mp4'
    """

    fps: float | None = None
    name_prefix: str = DEFAULT_NAME_PREFIX
    encoder: str = "auto"
    preset: str = DEFAULT_PRESET
    crf: int = DEFAULT_CRF

    def checked(self, default_fps: float = DEFAULT_FPS) -> VideoSettings:
        """These settings checked, with fps filled in and the encoder resolved.

        Args:
          default_fps: the frame rate used when `fps` is None.

        Raises:
          TypeError, ValueError: a bad setting, named with the value received.
        """
        fps = check_fps(default_fps if self.fps is None else self.fps)
        return VideoSettings(
            fps,
            _check_name_prefix(self.name_prefix),
            resolve_encoder(self.encoder, fps),
            check_preset(self.preset),
            check_crf(self.crf),
        )

    def file_name(
        self,
        episode_id: int | None = None,
        *,
        step_id: int | None = None,
        env: int | None = None,
        repeat: int = 0,
        rank: int | None = None,
    ) -> str:
        """A video's file name, built here only.

        Gymnasium's ``<prefix>-episode-<id>.mp4`` and ``<prefix>-step-<id>.mp4``;
        ``<prefix>-env-<env>-episode-<id>.mp4`` where ids count each env's own episodes;
        ``...-repeat-<k>.mp4`` for the k-th repeat of a name in one stream;
        ``<prefix>-rank-<rank>-...`` for an episode of a ranked store named with its rank.
        """
        prefix = self.name_prefix if rank is None else f"{self.name_prefix}-rank-{rank}"
        if step_id is not None:
            name = f"{prefix}-step-{step_id}"
        elif env is not None:
            name = f"{prefix}-env-{env}-episode-{episode_id}"
        else:
            name = f"{prefix}-episode-{episode_id}"
        return f"{name}-repeat-{repeat}.mp4" if repeat else f"{name}.mp4"

    def writer(self, path: Path) -> VideoWriter:
        """A `VideoWriter` of one video at `path` with these (checked) settings."""
        fps = DEFAULT_FPS if self.fps is None else self.fps
        return VideoWriter(path, fps, preset=self.preset, crf=self.crf, encoder=self.encoder)


def video_settings(
    settings: VideoSettings | None,
    fps: float | None,
    name_prefix: str,
    *,
    default_fps: float | None = DEFAULT_FPS,
    fallback_fps: float = DEFAULT_FPS,
) -> VideoSettings:
    """The checked settings of a call that takes Gymnasium's `fps=` / `name_prefix=` keywords and
    fnrec's `settings=`: a keyword left at its default yields to `settings`; given both ways with
    different values, it is an error rather than a silent choice.

    Args:
      settings: the call's ``settings=`` (None: the defaults).
      fps: the call's ``fps=``.
      name_prefix: the call's ``name_prefix=``.
      default_fps: the default of the call's ``fps=`` keyword.
      fallback_fps: the frame rate when neither gives one (RecordVideo: the env's render_fps).

    Raises:
      TypeError: `settings` is not a VideoSettings.
      ValueError: fps or name_prefix given twice, with different values; a bad setting.
    """
    if settings is None:
        settings = VideoSettings()
    elif not isinstance(settings, VideoSettings):
        raise TypeError(
            f"settings must be a fnrec.VideoSettings or None, got {type(settings).__name__}: "
            f"{settings!r}"
        )
    given = {"fps": (fps, default_fps), "name_prefix": (name_prefix, DEFAULT_NAME_PREFIX)}
    merged = settings._asdict()
    for name, (value, default) in given.items():
        if value == default:
            continue
        if merged[name] not in (value, VideoSettings._field_defaults[name]):
            raise ValueError(
                f"{name} is given twice, {name}={value!r} and settings.{name}="
                f"{merged[name]!r}: give it once"
            )
        merged[name] = value
    if merged["fps"] is None:
        merged["fps"] = default_fps
    return VideoSettings(**merged).checked(fallback_fps)
