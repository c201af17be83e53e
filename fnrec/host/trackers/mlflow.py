"""Host side: an MLflow run, written by ``Trackers``' worker thread through ``MlflowClient``.

The client is used directly (not ``mlflow``'s module-level active run), so that logging from a
background thread never touches the caller's MLflow state. Scalars are metrics at their step;
episodes are metrics ``<prefix>/episode/return``, ``/length``, ``/terminated``, ``/env`` at the
episode id, sent with ``log_batch`` (up to 1,000 values a request; one request for all the
scalars and episodes of a burst: see ``Trackers``' ``gather_seconds`` and ``Tracker.flush``);
videos and images are artifacts (``<prefix>/videos/``, ``<prefix>/images/``: the mp4 files as
written); the configuration is parameters (nested keys joined by ``.``) and an artifact
``<prefix>/config.json``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fnrec._optional import require
from fnrec.host.episode_log import EpisodeLog
from fnrec.host.trackers.base import Tracker, Video, episode_columns

_BATCH = 1000  # MLflow's limit of metrics per log_batch request
_PARAM_LENGTH = 6000  # MLflow's limit of a parameter value's length


class MLflow(Tracker):
    """Logs to an MLflow run (needs mlflow: ``pip install 'fnrec[mlflow]'``).

    Args:
      tracking_uri: the tracking server (``http://127.0.0.1:5000``), or a local store
        (``sqlite:///mlflow.db``, a folder); None: MLflow's default (``MLFLOW_TRACKING_URI``).
      experiment: the experiment's name (created if missing).
      run_name: the new run's name (None: MLflow picks one).
      run_id: log to this existing run instead of a new one (then ``close`` leaves it running).
      prefix: the start of every metric key and artifact folder.

    Attributes:
      client: the ``mlflow.MlflowClient``.
      run_id: the run's id.
    """

    name = "mlflow"

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str = "fnrec",
        *,
        run_name: str | None = None,
        run_id: str | None = None,
        prefix: str = "fnrec",
    ) -> None:
        super().__init__(prefix)
        mlflow = require("mlflow", "fnrec.trackers.MLflow")
        self.client = mlflow.MlflowClient(tracking_uri=tracking_uri)
        self._entities = require("mlflow.entities", "fnrec.trackers.MLflow")
        self._owns_run = run_id is None
        if run_id is None:
            found = self.client.get_experiment_by_name(experiment)
            experiment_id = (
                found.experiment_id if found else self.client.create_experiment(experiment)
            )
            run_id = self.client.create_run(experiment_id, run_name=run_name).info.run_id
        self.run_id = run_id
        self._pending: list[Any] = []  # metrics waiting for `flush`

    def _metrics(self, rows: list[tuple[str, float, int]]) -> None:
        now = int(time.time() * 1000)
        self._pending += [self._entities.Metric(k, float(v), now, int(s)) for k, v, s in rows]

    def flush(self) -> None:
        """Sends the metrics logged since the last flush, 1,000 a request."""
        metrics, self._pending = self._pending, []
        for start in range(0, len(metrics), _BATCH):
            self.client.log_batch(self.run_id, metrics=metrics[start : start + _BATCH])

    def log_config(self, config: Mapping[str, Any]) -> None:
        params = [
            self._entities.Param(key, str(value)[:_PARAM_LENGTH])
            for key, value in _flatten(config).items()
        ]
        for start in range(0, len(params), 100):  # MLflow's limit of params per request
            self.client.log_batch(self.run_id, params=params[start : start + 100])
        self.client.log_dict(self.run_id, dict(config), f"{self.tag('config.json')}")

    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        self._metrics([(self.tag(k), v, step) for k, v in values.items()])

    def log_episodes(self, episodes: EpisodeLog) -> None:
        ids = episodes.episode_id.tolist()
        rows = []
        for name, column in episode_columns(episodes).items():
            key = self.tag(name)
            rows += [(key, v, i) for i, v in zip(ids, column.tolist(), strict=True)]
        self._metrics(rows)

    def log_video(self, video: Video) -> None:
        self.client.log_artifact(self.run_id, str(video.path), self.tag("videos"))

    def log_image(self, path: Path, tag: str, step: int) -> None:
        self.client.log_artifact(self.run_id, str(path), self.tag("images"))

    def close(self) -> None:
        self.flush()
        if self._owns_run:
            self.client.set_terminated(self.run_id)


def _flatten(config: Mapping[str, Any], parent: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{parent}.{key}" if parent else str(key)
        if isinstance(value, Mapping):
            flat |= _flatten(value, name)
        else:
            flat[name] = value
    return flat
