"""Wrappers of Gymnasium vector envs (``gymnasium.wrappers.vector``'s layout; host side)."""

from __future__ import annotations

from fnrec.host.record_video import RecordVectorVideo as RecordVideo

__all__ = ["RecordVideo"]
