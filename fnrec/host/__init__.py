"""Host side: runs outside traced code (numpy, files, clocks, encoders, Gymnasium env classes)."""

from fnrec.host.gym_env import FunctionalEnv, FunctionalVectorEnv
from fnrec.host.record_video import RecordVectorVideo, RecordVideo
from fnrec.host.save_video import save_video
from fnrec.host.video_writer import VideoWriteError, VideoWriter

__all__ = [
    "FunctionalEnv",
    "FunctionalVectorEnv",
    "RecordVectorVideo",
    "RecordVideo",
    "VideoWriteError",
    "VideoWriter",
    "save_video",
]
