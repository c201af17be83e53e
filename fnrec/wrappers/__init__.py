"""Wrappers of Gymnasium envs, in Gymnasium's layout (host side).

``fnrec.wrappers.RecordVideo`` wraps a ``gymnasium.Env`` and ``fnrec.wrappers.vector.RecordVideo``
a ``gymnasium.vector.VectorEnv``, as ``gymnasium.wrappers.RecordVideo`` and
``gymnasium.wrappers.vector.RecordVideo`` do; ``fnrec.RecordVideo`` is the single-env one.
``RecordEpisodeStatistics`` likewise.
"""

from __future__ import annotations

from fnrec.host.record_episode_statistics import RecordEpisodeStatistics
from fnrec.host.record_video import RecordVideo
from fnrec.wrappers import vector

__all__ = ["RecordEpisodeStatistics", "RecordVideo", "vector"]
