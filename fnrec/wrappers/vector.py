"""Wrappers of Gymnasium vector envs (``gymnasium.wrappers.vector``'s layout; host side)."""

from __future__ import annotations

from fnrec.host.record_episode_statistics import (
    VectorRecordEpisodeStatistics as RecordEpisodeStatistics,
)
from fnrec.host.record_vector_video import RecordVideo

__all__ = ["RecordEpisodeStatistics", "RecordVideo"]
