"""Checkpoint and resume: recording states saved to disk and restored exactly.

``save(path, state, format="npz")`` and ``restore(path, like=template)``; see
``fnrec.host.checkpoint``, where they are defined. They run on the host (files, numpy, orbax)
and load on first use, so that importing fnrec's traced side loads none of it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fnrec._lazy import lazy_getattr

_NAMES = ("FORMAT_VERSION", "CheckpointDamaged", "CheckpointMismatch", "restore", "save")

if TYPE_CHECKING:
    from fnrec.host.checkpoint import (
        FORMAT_VERSION,
        CheckpointDamaged,
        CheckpointMismatch,
        restore,
        save,
    )

__getattr__ = lazy_getattr(__name__, dict.fromkeys(_NAMES, "fnrec.host.checkpoint"))

__all__ = ["FORMAT_VERSION", "CheckpointDamaged", "CheckpointMismatch", "restore", "save"]
