"""fnrec: episode statistics, capture and videos for functional JAX environments, inside jit.

The pure, traceable parts (``stats``, ``capture``, ``counter``, ``schedules``, ``adapters``,
``render``, and the recorder: ``Recording``, ``recorder``, ``Recorder``) load eagerly;
``adapters`` loads each adapter (and its env library) on first use, and ``checkpoint`` its host
functions.
The host-side names (video writing, export, Gymnasium env classes) load on first use from
``fnrec._host_names.NAMES``, and ``fnrec.wrappers``, ``fnrec.envs`` and ``fnrec.trackers`` on
first use, so that importing the traced side never pulls in encoders, host libraries or
Gymnasium.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fnrec import (
    adapters,
    capture,
    checkpoint,
    counter,
    history,
    registry,
    render,
    schedules,
    stats,
    utils,
)
from fnrec._host_names import NAMES as _HOST_NAMES
from fnrec._lazy import lazy_getattr
from fnrec.adapters.core import Recording
from fnrec.episodes import Episode
from fnrec.history import history_chunk
from fnrec.recorders import Recorder, RecorderSpec, recorder
from fnrec.registry import make_recorder, register
from fnrec.schedules import capped_cubic_video_schedule
from fnrec.stats import EpisodeEnded, EpisodeStats

if TYPE_CHECKING:  # for type checkers only; tests/test_boundary.py checks it against NAMES
    from fnrec import envs, trackers, wrappers
    from fnrec.host.captured import CaptureSummary, read_capture
    from fnrec.host.episode_log import EpisodeLog, episode_log
    from fnrec.host.export import (
        ExportResult,
        FuncEnvRenderer,
        VideoStream,
        export_videos,
    )
    from fnrec.host.gym_env import FunctionalEnv, FunctionalVectorEnv
    from fnrec.host.make import make, make_vec
    from fnrec.host.plots import learning_curve
    from fnrec.host.progress import LiveProgress
    from fnrec.host.record_episode_statistics import RecordEpisodeStatistics
    from fnrec.host.record_video import RecordVideo
    from fnrec.host.save_video import save_video
    from fnrec.host.video_settings import VideoSettings
    from fnrec.host.video_writer import VideoWriteError, VideoWriter, VideoWriteWarning

_host_getattr = lazy_getattr(__name__, _HOST_NAMES)


def __dir__() -> list[str]:
    """The loaded names and the lazily loaded public ones (``dir(fnrec)`` lists them all)."""
    return sorted(set(globals()) | set(__all__))


def __getattr__(name: str) -> Any:
    if name in ("wrappers", "envs", "trackers"):  # loaded on first use (host side, Gymnasium)
        return importlib.import_module(f"fnrec.{name}")
    return _host_getattr(name)


__all__ = [
    "Episode",
    "EpisodeEnded",
    "EpisodeStats",
    "Recorder",
    "RecorderSpec",
    "Recording",
    "adapters",
    "capped_cubic_video_schedule",
    "capture",
    "checkpoint",
    "counter",
    "envs",
    "history",
    "history_chunk",
    "make_recorder",
    "recorder",
    "register",
    "registry",
    "render",
    "schedules",
    "stats",
    "trackers",
    "utils",
    "wrappers",
    *sorted(_HOST_NAMES),
]
__version__ = "0.1.0"
