"""fnrec: episode statistics and videos for functional JAX RL environments."""

from fnrec.host import RecordVectorVideo, RecordVideo, VideoWriteError, VideoWriter, save_video
from fnrec.schedules import capped_cubic_video_schedule

__all__ = [
    "RecordVectorVideo",
    "RecordVideo",
    "VideoWriteError",
    "VideoWriter",
    "capped_cubic_video_schedule",
    "save_video",
]
