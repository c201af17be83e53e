"""Host side: runs outside traced code (numpy, files, clocks, encoders, Gymnasium env classes).

``fnrec._host_names.NAMES`` is the one list of host names (name -> module); this package and the
package root re-export them lazily, so that importing the traced side never loads a host module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fnrec._host_names import NAMES
from fnrec._lazy import lazy_getattr

if TYPE_CHECKING:  # for type checkers only; tests/test_boundary.py checks it against NAMES
    from fnrec.host.captured import CaptureSummary, read_capture
    from fnrec.host.episode_log import EpisodeLog, episode_log
    from fnrec.host.export import (
        ExportResult,
        FuncEnvRenderer,
        VideoStream,
        export_videos,
    )
    from fnrec.host.gym_env import FunctionalEnv, FunctionalVectorEnv
    from fnrec.host.plots import learning_curve
    from fnrec.host.record_video import RecordVideo
    from fnrec.host.save_video import save_video
    from fnrec.host.video_settings import VideoSettings
    from fnrec.host.video_writer import VideoWriteError, VideoWriter, VideoWriteWarning

__getattr__ = lazy_getattr(__name__, NAMES)
__all__ = sorted(NAMES)
