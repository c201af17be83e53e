"""Helpers for comparing fnrec frames with Gymnasium's pygame frames."""

from __future__ import annotations

import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

import numpy as np

# Frames agree except on outline pixels, where anti-aliasing differs from pygame's. Measured here:
# mean differences of 0.005-0.05 levels per channel, and at most 4% of the drawn (non-white) pixels
# off by more than 32 levels with snap=True (11% with sub-pixel positions, snap=False). A pole
# turned by 0.1 rad or a cart moved by 6 pixels puts 15% or more of the drawn pixels that far off,
# so the foreground bound is what catches geometry errors; the whole-frame bounds are the issue's.
MEAN_TOL = 2.0
FAR, FAR_FRACTION = 32, 0.01
FOREGROUND_FAR_FRACTION = 0.06


def frame_difference(ours: np.ndarray, theirs: np.ndarray) -> tuple[float, float, float]:
    """Mean absolute difference per channel; fractions of all and of drawn pixels off by > 32."""
    a, b = np.asarray(ours, np.int32), np.asarray(theirs, np.int32)
    far = np.abs(a - b).max(axis=-1) > FAR
    drawn = (a != 255).any(axis=-1) | (b != 255).any(axis=-1)
    return float(np.abs(a - b).mean()), float(far.mean()), float(far.sum() / max(drawn.sum(), 1))


def assert_frames_close(
    ours: np.ndarray,
    theirs: np.ndarray,
    label: str = "",
    foreground: float = FOREGROUND_FAR_FRACTION,
) -> None:
    """Fail when two uint8 frames differ by more than anti-aliasing explains."""
    assert ours.shape == theirs.shape, (label, ours.shape, theirs.shape)
    mean, far, far_drawn = frame_difference(ours, theirs)
    message = f"{label}: mean diff {mean:.3f}, far {far:.4f}, far among drawn {far_drawn:.3f}"
    assert mean < MEAN_TOL and far < FAR_FRACTION and far_drawn < foreground, message


def frames_differ(ours: np.ndarray, theirs: np.ndarray) -> bool:
    """True when `assert_frames_close` would fail: used to show the comparison can fail."""
    try:
        assert_frames_close(ours, theirs)
    except AssertionError:
        return True
    return False


def centroid(frame: np.ndarray, color: tuple[int, int, int], tol: int = 40) -> np.ndarray:
    """(row, col) centroid of the pixels within `tol` of `color`; NaN when there are none."""
    near = np.abs(np.asarray(frame, np.int32) - np.asarray(color)).max(axis=-1) <= tol
    rows, cols = np.nonzero(near)
    return np.array([rows.mean(), cols.mean()]) if rows.size else np.array([np.nan, np.nan])
