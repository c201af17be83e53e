"""fnrec.host.frames: the device-side yuv420p conversion against plain Python and ffmpeg's own."""

from __future__ import annotations

import jax
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fnrec.host.frames import Yuv420Frame, rgb_to_yuv420

SHAPES = [(2, 2), (4, 6), (6, 4)]  # one compiled program per shape
convert = jax.jit(rgb_to_yuv420)


def reference_yuv420(rgb: np.ndarray) -> np.ndarray:
    """BT.601 limited range, 8-bit integer formulas, chroma from each 2x2 block's mean: plain
    Python, pixel by pixel."""
    height, width, _ = rgb.shape
    pixel = [[tuple(int(c) for c in rgb[y, x]) for x in range(width)] for y in range(height)]
    luma = [[((66 * r + 129 * g + 25 * b + 128) >> 8) + 16 for r, g, b in row] for row in pixel]
    u, v = [], []
    for y in range(0, height, 2):
        for x in range(0, width, 2):
            block = [pixel[y + dy][x + dx] for dy in (0, 1) for dx in (0, 1)]
            r, g, b = (sum(p[c] for p in block) for c in range(3))
            u.append(((-38 * r - 74 * g + 112 * b + 512) >> 10) + 128)
            v.append(((112 * r - 94 * g - 18 * b + 512) >> 10) + 128)
    flat = [value for row in luma for value in row] + u + v
    return np.array(flat, np.uint8).reshape(height * 3 // 2, width)


# `x64` sets a global flag for the whole test, the same for every example.
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(shape=st.sampled_from(SHAPES), seed=st.integers(0, 2**32 - 1), extremes=st.booleans())
def test_conversion_matches_the_plain_python_formulas(x64, shape, seed, extremes):
    rng = np.random.default_rng(seed)
    values = np.array([0, 255], np.uint8) if extremes else np.arange(256, dtype=np.uint8)
    rgb = rng.choice(values, (*shape, 3))
    planes = np.asarray(convert(rgb))
    assert planes.dtype == np.uint8
    np.testing.assert_array_equal(planes, reference_yuv420(rgb))


def test_conversion_under_vmap_and_scan_is_the_same():
    frames = np.random.default_rng(0).integers(0, 256, (5, 4, 6, 3), dtype=np.uint8)
    want = np.stack([reference_yuv420(f) for f in frames])
    np.testing.assert_array_equal(jax.jit(jax.vmap(rgb_to_yuv420))(frames), want)
    scanned = jax.lax.scan(lambda c, f: (c, rgb_to_yuv420(f)), 0, frames)[1]
    np.testing.assert_array_equal(scanned, want)


def test_conversion_agrees_with_ffmpegs_converter_on_rendered_pictures():
    """What libswscale makes of the same rgb24 picture (PyAV's reformat): luma within one
    level; chroma within one level wherever the picture is smooth (ffmpeg's chroma filter has
    more taps than a 2x2 mean, so sharp edges may differ there)."""
    av = pytest.importorskip("av")
    y, x = np.mgrid[0:400, 0:600]
    rgb = np.stack([x * 255 // 600, y * 255 // 400, (x + y) * 255 // 1000], -1).astype(np.uint8)
    theirs = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    difference = np.abs(theirs.to_ndarray().astype(int) - np.asarray(convert(rgb)))
    assert difference.max() <= 1


def test_a_yuv420_frame_knows_its_picture_size():
    assert Yuv420Frame(np.zeros((6, 6), np.uint8)).size == (4, 6)
    assert Yuv420Frame(np.asarray(convert(np.zeros((400, 600, 3), np.uint8)))).size == (400, 600)
