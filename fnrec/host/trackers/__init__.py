"""Host side: experiment trackers (TensorBoard, Weights & Biases, MLflow, files), fed in the
background; reached as ``fnrec.trackers``.

``Trackers([...])`` queues what a run logs (summaries, every finished episode, mp4 videos, a
learning curve, the configuration) and one worker thread writes it to each ``Tracker``; a tracker
that fails warns and never stops training; ``close()`` reports. The tracker classes import their
library when constructed: a missing one is one error naming the extra to install.
"""

from __future__ import annotations

from fnrec.host.trackers.base import (
    Tracker,
    TrackerReport,
    Trackers,
    Video,
    WatchedVideos,
    episode_columns,
)
from fnrec.host.trackers.files import Files
from fnrec.host.trackers.mlflow import MLflow
from fnrec.host.trackers.tensorboard import TensorBoard, TensorBoardVideo, read_videos
from fnrec.host.trackers.wandb import WandB

__all__ = [
    "Files",
    "MLflow",
    "TensorBoard",
    "TensorBoardVideo",
    "Tracker",
    "TrackerReport",
    "Trackers",
    "Video",
    "WandB",
    "WatchedVideos",
    "episode_columns",
    "read_videos",
]
