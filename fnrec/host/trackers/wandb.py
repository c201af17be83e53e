"""Host side: a Weights & Biases run, written by ``Trackers``' worker thread.

Scalars are logged against ``<prefix>/env_steps`` (their step), episodes against
``<prefix>/episode/id`` (one ``log`` per episode), both declared with ``define_metric`` so that
W&B plots them on those axes; W&B's own ``_step`` just counts the calls. Videos are the mp4
files themselves (``wandb.Video(path)``: not re-encoded, their fps kept), images ``wandb.Image``,
the configuration ``run.config``. ``mode="offline"`` writes the run under ``dir`` with no
network and no account (``wandb sync`` uploads it later).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fnrec._optional import require
from fnrec.host.episode_log import EpisodeLog
from fnrec.host.trackers.base import Tracker, Video, episode_columns


class WandB(Tracker):
    """Logs to a W&B run (needs wandb: ``pip install 'fnrec[wandb]'``).

    Args:
      project: the W&B project.
      dir: the folder W&B writes its run folder into (``dir/wandb/<run>``).
      mode: ``"online"``, ``"offline"`` (no network; ``wandb sync`` later) or ``"disabled"``.
      prefix: the start of every key.
      run: an already started ``wandb.Run`` to log to instead (then the other settings are
        unused and ``close`` does not finish it).
      **init_kwargs: more ``wandb.init`` arguments (``name``, ``entity``, ``tags``, ...).

    Attributes:
      run: the ``wandb.Run``.
    """

    name = "wandb"

    def __init__(
        self,
        project: str = "fnrec",
        dir: str | os.PathLike[str] | None = None,
        *,
        mode: str = "online",
        prefix: str = "fnrec",
        run: Any = None,
        **init_kwargs: Any,
    ) -> None:
        super().__init__(prefix)
        wandb = require("wandb", "fnrec.trackers.WandB")
        if mode not in ("online", "offline", "disabled"):
            raise ValueError(f"`mode` must be 'online', 'offline' or 'disabled', got {mode!r}")
        self._owns_run = run is None
        if run is None:
            if dir is not None:
                Path(dir).mkdir(parents=True, exist_ok=True)
            init_kwargs.setdefault("reinit", "create_new")
            run = wandb.init(
                project=project, dir=None if dir is None else str(dir), mode=mode, **init_kwargs
            )
        self.run = run
        self._wandb = wandb
        self._steps_key = self.tag("env_steps")
        self._episode_key = self.tag("episode/id")
        self._defined: set[str] = set()
        self.run.define_metric(self._steps_key, hidden=False)
        self.run.define_metric(self._episode_key, hidden=False)
        for name in ("episode/return", "episode/length", "episode/terminated", "episode/env"):
            self._define(self.tag(name), self._episode_key)

    def _define(self, key: str, axis: str) -> None:
        if key not in self._defined:
            self.run.define_metric(key, step_metric=axis)
            self._defined.add(key)

    @property
    def folder(self) -> Path:
        """The run's folder (``.../wandb/offline-run-...`` offline)."""
        return Path(self.run.dir).parent

    def log_config(self, config: Mapping[str, Any]) -> None:
        self.run.config.update(dict(config), allow_val_change=True)

    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        row = {self.tag(k): v for k, v in values.items()}
        for key in row:
            self._define(key, self._steps_key)
        self.run.log({**row, self._steps_key: step})

    def log_episodes(self, episodes: EpisodeLog) -> None:
        columns = {self.tag(k): v.tolist() for k, v in episode_columns(episodes).items()}
        for key in columns:  # per-episode metrics too: plotted against the episode id
            self._define(key, self._episode_key)
        for i, episode in enumerate(episodes.episode_id.tolist()):
            self.run.log({self._episode_key: episode, **{k: v[i] for k, v in columns.items()}})

    def log_video(self, video: Video) -> None:
        key = self.tag(video.tag)
        self._define(key, self._episode_key)
        caption = _caption(video)
        clip = self._wandb.Video(str(video.path), caption=caption, format="mp4")
        self.run.log({key: clip, self._episode_key: video.step})

    def log_image(self, path: Path, tag: str, step: int) -> None:
        self.run.log({self.tag(tag): self._wandb.Image(str(path))})

    def close(self) -> None:
        """Finishes the run (if this tracker started it). W&B's service process writes the
        run's files; the offline log can complete a moment after this returns."""
        if self._owns_run:
            self.run.finish()


def _caption(video: Video) -> str:
    if video.episode is None:
        return f"{video.path.name} ({video.fps:g} fps)"
    e = video.episode
    ending = "terminated" if e.terminated else "truncated"
    return (
        f"episode {e.episode_id} (env {e.env}): return {e.episode_return:g}, {e.length} steps, "
        f"{ending}; {video.fps:g} fps"
    )
