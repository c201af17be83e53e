"""Experiment trackers (host side): ``fnrec.host.trackers`` under the name users import.

``from fnrec.trackers import Trackers, TensorBoard`` works as ``fnrec.trackers.Trackers`` does
after ``import fnrec``; see ``fnrec.host.trackers`` for the trackers and their interface.
"""

from __future__ import annotations

from fnrec.host.trackers import (
    Files,
    MLflow,
    TensorBoard,
    TensorBoardVideo,
    Tracker,
    TrackerReport,
    Trackers,
    Video,
    WandB,
    WatchedVideos,
    episode_columns,
    read_videos,
)

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
