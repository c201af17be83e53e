"""Host side: a TensorBoard event file (tensorboardX), written by ``Trackers``' worker thread.

Tags: ``<prefix>/<name>`` for scalars (x axis: the step given, env-steps for the statistics),
``<prefix>/episode/return``, ``/length``, ``/terminated`` (1 or 0) and ``/env``, one value per
finished episode (x axis: the episode id), ``<prefix>/config`` (text, JSON).

Videos stay mp4 at their fps: TensorBoard's own ``add_video`` re-encodes frames to a GIF (and
needs moviepy). Each video is one tensor summary of plugin ``fnrec_video`` under
``<prefix>/<tag>`` holding the mp4's bytes (``read_videos`` gets them back), with a text entry
``<prefix>/<tag>/file`` naming the file, its episode and fps. Images (a learning curve) are
image summaries, shown in TensorBoard's Images tab.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from fnrec._optional import require
from fnrec.host.episode_log import EpisodeLog
from fnrec.host.trackers.base import Tracker, Video, episode_columns

VIDEO_PLUGIN = "fnrec_video"


class TensorBoard(Tracker):
    """Writes a TensorBoard log folder (needs tensorboardX: ``pip install 'fnrec[tensorboard]'``).

    Args:
      logdir: the folder (created); view with ``tensorboard --logdir LOGDIR``.
      prefix: the start of every tag.
      flush_secs: how often the event file is flushed while running.

    Attributes:
      writer: the ``tensorboardX.SummaryWriter``.
      event_file: the event file written (None if tensorboardX reused an earlier one).
    """

    name = "tensorboard"

    def __init__(
        self, logdir: str | os.PathLike[str], *, prefix: str = "fnrec", flush_secs: int = 10
    ) -> None:
        super().__init__(prefix)
        tensorboardx = require("tensorboardX", "fnrec.trackers.TensorBoard")
        self.logdir = Path(logdir)
        self.logdir.mkdir(parents=True, exist_ok=True)
        earlier = set(self.logdir.glob("events.out.tfevents.*"))
        self.writer = tensorboardx.SummaryWriter(logdir=str(self.logdir), flush_secs=flush_secs)
        new = sorted(set(self.logdir.glob("events.out.tfevents.*")) - earlier)
        self.event_file: Path | None = new[-1] if new else None

    def log_config(self, config: Mapping[str, Any]) -> None:
        text = json.dumps(config, indent=2, sort_keys=True)
        self.writer.add_text(self.tag("config"), f"```\n{text}\n```", 0)

    def _scalars(self, tags: list[str], values: list[float], step: int) -> None:
        """One event holding several scalars (what ``add_scalar`` writes one event each for)."""
        from tensorboardX.proto.summary_pb2 import Summary

        summary = Summary(
            value=[Summary.Value(tag=t, simple_value=v) for t, v in zip(tags, values, strict=True)]
        )
        self.writer.file_writer.add_summary(summary, step)

    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        self._scalars([self.tag(k) for k in values], list(values.values()), step)

    def log_episodes(self, episodes: EpisodeLog) -> None:
        columns = episode_columns(episodes)
        tags = [self.tag(name) for name in columns]
        rows = zip(*(c.tolist() for c in columns.values()), strict=True)
        for episode, row in zip(episodes.episode_id.tolist(), rows, strict=True):
            self._scalars(tags, list(row), episode)

    def log_video(self, video: Video) -> None:
        from tensorboardX.proto.summary_pb2 import Summary, SummaryMetadata
        from tensorboardX.proto.tensor_pb2 import TensorProto
        from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto

        about = _video_metadata(video)
        metadata = SummaryMetadata(
            plugin_data=SummaryMetadata.PluginData(
                plugin_name=VIDEO_PLUGIN, content=json.dumps(about).encode()
            )
        )
        tensor = TensorProto(
            dtype=7,  # DT_STRING
            string_val=[video.path.read_bytes()],
            tensor_shape=TensorShapeProto(dim=[TensorShapeProto.Dim(size=1)]),
        )
        tag = self.tag(video.tag)
        summary = Summary(value=[Summary.Value(tag=tag, metadata=metadata, tensor=tensor)])
        self.writer.file_writer.add_summary(summary, video.step)
        described = ", ".join(f"{k} {v}" for k, v in about.items() if k != "file")
        self.writer.add_text(f"{tag}/file", f"{about['file']} ({described})", video.step)

    def log_image(self, path: Path, tag: str, step: int) -> None:
        from tensorboardX.proto.summary_pb2 import Summary

        data = path.read_bytes()
        width, height = _png_size(data, path)
        image = Summary.Image(height=height, width=width, colorspace=4, encoded_image_string=data)
        summary = Summary(value=[Summary.Value(tag=self.tag(tag), image=image)])
        self.writer.file_writer.add_summary(summary, step)

    def close(self) -> None:
        self.writer.close()


def _video_metadata(video: Video) -> dict[str, Any]:
    about: dict[str, Any] = {"file": str(video.path), "fps": video.fps}
    if video.episode is not None:
        episode = video.episode
        about |= {
            "episode": int(episode.episode_id),
            "env": int(episode.env),
            "return": float(episode.episode_return),
            "length": int(episode.length),
            "terminated": bool(episode.terminated),
        }
    return about


def _png_size(data: bytes, path: Path) -> tuple[int, int]:
    if data[:8] != b"\x89PNG\r\n\x1a\n" or len(data) < 24:
        raise ValueError(f"`path` must be a PNG file, got {str(path)!r} (no PNG header)")
    return struct.unpack(">II", data[16:24])


class TensorBoardVideo(NamedTuple):
    """A video read back from an event file (``read_videos``).

    Attributes:
      tag: its tag.
      step: its x-axis value.
      mp4: the mp4 file's bytes.
      metadata: ``{"file", "fps", and for an episode "episode", "env", "return", "length",
        "terminated"}``.
    """

    tag: str
    step: int
    mp4: bytes
    metadata: dict[str, Any]


def read_videos(path: str | os.PathLike[str]) -> list[TensorBoardVideo]:
    """Reads the mp4 videos back from a TensorBoard event file or log folder (tensorboardX).

    Args:
      path: an event file, or a folder of them.

    Returns:
      The videos, in the order they were written.
    """
    require("tensorboardX", "fnrec.trackers.tensorboard.read_videos")
    from tensorboardX.event_file_writer import EventFileWriter  # noqa: F401 (protos registered)
    from tensorboardX.proto.event_pb2 import Event

    path = Path(path)
    files = sorted(path.glob("events.out.tfevents.*")) if path.is_dir() else [path]
    videos = []
    for file in files:
        for record in _records(file.read_bytes()):
            event = Event.FromString(record)
            for value in event.summary.value:
                if value.metadata.plugin_data.plugin_name == VIDEO_PLUGIN:
                    metadata = json.loads(value.metadata.plugin_data.content)
                    mp4 = value.tensor.string_val[0]
                    videos.append(TensorBoardVideo(value.tag, int(event.step), mp4, metadata))
    return videos


def _records(data: bytes) -> list[bytes]:
    """The records of a TFRecord file (length, its CRC, the data, its CRC)."""
    records, offset = [], 0
    while offset + 12 <= len(data):
        (length,) = struct.unpack("<Q", data[offset : offset + 8])
        start = offset + 12
        records.append(data[start : start + length])
        offset = start + length + 4
    return records
