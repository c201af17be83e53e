"""Host side: plain files, a tracker with no library: JSON Lines, CSV, and copies of the media.

In the folder:

- ``scalars.jsonl``: one JSON object per ``log_scalars`` call, ``{"step": S, "<prefix>/name":
  value, ...}``;
- ``episodes.csv``: one row per finished episode, in the order they arrived, with the columns of
  ``fnrec.EpisodeLog.write_csv`` (``episode,env,return,length,terminated`` and a column per
  per-episode metric, fixed by the first episodes) and ``truncated``;
- ``media.jsonl``: one object per video or image, ``{"kind", "path", "tag", "step", "fps",
  "episode", ...}``, the file copied into ``videos/`` or ``images/``;
- ``config.json``: the configuration (written whole, atomically).

Each line is flushed as it is written, so a run that stops leaves whole lines behind.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from fnrec.host.atomic import write_atomically
from fnrec.host.episode_log import CSV_HEADER, EpisodeLog
from fnrec.host.trackers.base import Tracker, Video


class Files(Tracker):
    """Writes JSON Lines, CSV and copies of the videos and images into a folder.

    Args:
      folder: the folder (created).
      prefix: the start of every scalar's name and media tag.
      copy_media: copy videos and images into the folder (else ``media.jsonl`` names the
        original files).

    Example::

        >>> import tempfile, fnrec
        >>> folder = tempfile.mkdtemp()
        >>> with fnrec.trackers.Trackers([Files(folder)]) as trackers:
        ...     trackers.scalars({"return_mean": 21.0}, step=2048)
        >>> print(open(f"{folder}/scalars.jsonl").read().strip())
        {"step": 2048, "fnrec/return_mean": 21.0}
    """

    name = "files"

    def __init__(
        self, folder: str | os.PathLike[str], *, prefix: str = "fnrec", copy_media: bool = True
    ) -> None:
        super().__init__(prefix)
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.copy_media = copy_media
        self._scalars = open(self.folder / "scalars.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        self._media = open(self.folder / "media.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        path = self.folder / "episodes.csv"
        self._header: list[str] | None = None  # known once a row is written (or read)
        if path.exists() and path.stat().st_size:
            with open(path, newline="", encoding="utf-8") as earlier:
                self._header = next(csv.reader(earlier))
        self._episodes = open(path, "a", newline="", encoding="utf-8")  # noqa: SIM115
        self._csv = csv.writer(self._episodes)

    def log_config(self, config: Mapping[str, Any]) -> None:
        def write(file: IO[str]) -> None:
            json.dump(config, file, indent=2, sort_keys=True)

        write_atomically(self.folder / "config.json", write, text=True)

    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        row = {"step": step, **{self.tag(k): v for k, v in values.items()}}
        self._line(self._scalars, row)

    def log_episodes(self, episodes: EpisodeLog) -> None:
        metrics = getattr(episodes, "metrics", {}) or {}
        header = [*CSV_HEADER, *metrics, "truncated"]
        if self._header is None:
            self._csv.writerow(header)
            self._header = header
        elif header != self._header:
            raise ValueError(
                f"`episodes` must have the columns of {self.folder / 'episodes.csv'} "
                f"{self._header}, got {header}"
            )

        def shortest(values: np.ndarray) -> list[str]:
            return [np.format_float_positional(v, unique=True, trim="-") for v in values]

        self._csv.writerows(
            zip(
                episodes.episode_id.tolist(),
                episodes.env.tolist(),
                shortest(np.asarray(episodes.episode_return, np.float32)),
                episodes.length.tolist(),
                np.asarray(episodes.terminated, np.int64).tolist(),
                *(shortest(np.asarray(v, np.float32)) for v in metrics.values()),
                np.asarray(episodes.truncated, np.int64).tolist(),
                strict=True,
            )
        )
        self._episodes.flush()

    def log_video(self, video: Video) -> None:
        path = self._copy(video.path, "videos")
        row: dict[str, Any] = {"kind": "video", "path": str(path), "tag": self.tag(video.tag)}
        row |= {"step": video.step, "fps": video.fps}
        if video.episode is not None:
            e = video.episode
            row |= {
                "episode": int(e.episode_id),
                "env": int(e.env),
                "return": float(e.episode_return),
                "length": int(e.length),
                "terminated": bool(e.terminated),
            }
        self._line(self._media, row)

    def log_image(self, path: Path, tag: str, step: int) -> None:
        copied = self._copy(path, "images")
        self._line(
            self._media, {"kind": "image", "path": str(copied), "tag": self.tag(tag), "step": step}
        )

    def _copy(self, path: Path, kind: str) -> Path:
        if not self.copy_media:
            return path
        folder = self.folder / kind
        folder.mkdir(exist_ok=True)
        target = folder / path.name

        def write(file: IO[bytes]) -> None:
            with open(path, "rb") as source:
                shutil.copyfileobj(source, file)

        write_atomically(target, write)
        return target.relative_to(self.folder)

    @staticmethod
    def _line(file: IO[str], row: Mapping[str, Any]) -> None:
        file.write(json.dumps(row) + "\n")
        file.flush()

    def close(self) -> None:
        for file in (self._scalars, self._media, self._episodes):
            file.close()
