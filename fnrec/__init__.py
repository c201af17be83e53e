"""fnrec: episode statistics and videos for functional JAX environments, inside jit.

The pure, traceable parts (``stats``, ``counter``, ``schedules``, ``adapters``, ``render``) load
eagerly. The host-side names (video writing, Gymnasium env classes) load on first use, so that
importing the traced side never pulls in encoders or host libraries.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fnrec import adapters, counter, render, stats
from fnrec.schedules import capped_cubic_video_schedule
from fnrec.stats import EpisodeEnded, EpisodeStats

if TYPE_CHECKING:
    from fnrec.host import (
        FunctionalEnv,
        FunctionalVectorEnv,
        RecordVectorVideo,
        RecordVideo,
        VideoWriteError,
        VideoWriter,
        save_video,
    )

_HOST_NAMES = {
    "FunctionalEnv",
    "FunctionalVectorEnv",
    "RecordVectorVideo",
    "RecordVideo",
    "VideoWriteError",
    "VideoWriter",
    "save_video",
}


def __getattr__(name: str) -> Any:
    """Loads the host-side public names on first use (PEP 562)."""
    if name in _HOST_NAMES:
        return getattr(importlib.import_module("fnrec.host"), name)
    raise AttributeError(f"module 'fnrec' has no attribute {name!r}")


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
