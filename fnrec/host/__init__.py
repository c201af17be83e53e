"""Host side: runs outside traced code (numpy, files, clocks, encoders, Gymnasium wrappers)."""

from fnrec.host.record_video import RecordVectorVideo, RecordVideo
from fnrec.host.save_video import save_video
from fnrec.host.video_writer import VideoWriteError, VideoWriter

__all__ = ["RecordVectorVideo", "RecordVideo", "VideoWriteError", "VideoWriter", "save_video"]
