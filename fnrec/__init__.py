"""fnrec: episode statistics and videos for functional JAX environments, inside jit."""

from fnrec import adapters, counter, render, stats
from fnrec.host import (
    FunctionalEnv,
    FunctionalVectorEnv,
    RecordVectorVideo,
    RecordVideo,
    VideoWriteError,
    VideoWriter,
    save_video,
)
from fnrec.schedules import capped_cubic_video_schedule
from fnrec.stats import EpisodeEnded, EpisodeStats

__all__ = [
    "EpisodeEnded",
    "EpisodeStats",
    "FunctionalEnv",
    "FunctionalVectorEnv",
    "RecordVectorVideo",
    "RecordVideo",
    "VideoWriteError",
    "VideoWriter",
    "adapters",
    "capped_cubic_video_schedule",
    "counter",
    "render",
    "save_video",
    "stats",
]
__version__ = "0.1.0"
