"""fnrec.render.raster: signed distances, coverage areas, painting, and use under jit/vmap."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from fnrec.render import raster

X, Y = raster.pixel_grid(64, 80)


def area(distance: jax.Array) -> float:
    return float(jnp.sum(raster.coverage(distance)))


def test_pixel_grid_shapes_and_flip() -> None:
    x, y = raster.pixel_grid(3, 4, top=2, flip=10)
    assert x.shape == (1, 4) and y.shape == (3, 1) and x.dtype == jnp.float32
    np.testing.assert_array_equal(np.asarray(y[:, 0]), [7, 6, 5])


def test_coverage_ramp() -> None:
    np.testing.assert_allclose(raster.coverage(jnp.array([-1.0, -0.5, 0.0, 0.25, 0.5, 2.0])),
                               [1, 1, 0.5, 0.25, 0, 0])  # fmt: skip


def test_rect_area_for_fractional_edges() -> None:
    # Exact along edges; the half-plane form over-covers corner pixels (min, not product).
    assert area(raster.rect(X, Y, 10.3, 5.0, 30.8, 25.0)) == pytest.approx(20.5 * 20.0, abs=0.6)
    assert area(raster.rect(X, Y, 10.5, 4.5, 30.5, 24.5)) == pytest.approx(400.0, abs=1e-3)


@pytest.mark.parametrize("radius", [3.0, 7.5, 20.0])
def test_circle_area(radius: float) -> None:
    assert area(raster.circle(X, Y, 40.2, 31.7, radius)) == pytest.approx(
        math.pi * radius**2, rel=0.01
    )


def test_capsule_area() -> None:
    d = raster.capsule(X, Y, 10.0, 10.0, 50.0, 40.0, 4.0)
    assert area(d) == pytest.approx(2 * 4 * 50 + math.pi * 16, rel=0.01)


def test_line_equals_polygon_of_its_corners() -> None:
    d_line = raster.line(X, Y, 10.0, 12.0, 60.0, 40.0, 3.0)
    length = math.hypot(50, 28)
    corners = raster.rect_corners(0.0, -3.0, length, 3.0, math.atan2(28, 50), 10.0, 12.0)
    np.testing.assert_allclose(d_line, raster.convex_polygon(X, Y, corners), atol=1e-4)
    assert area(d_line) == pytest.approx(6 * length, rel=0.01)


def test_polygon_winding_does_not_matter() -> None:
    tri = jnp.array([[10.0, 10.0], [50.0, 15.0], [20.0, 50.0]])
    np.testing.assert_allclose(
        raster.convex_polygon(X, Y, tri), raster.convex_polygon(X, Y, tri[::-1]), atol=1e-5
    )
    assert area(raster.convex_polygon(X, Y, tri)) == pytest.approx(
        0.5 * abs(40 * 40 - 5 * 10), rel=0.01
    )


def test_paint_and_to_uint8() -> None:
    canvas = raster.paint(raster.blank(2, 2), jnp.array([[0.0, 1.0], [0.5, 0.25]]), (0, 0, 255))
    frame = raster.to_uint8(canvas)
    assert frame.dtype == jnp.uint8 and frame.shape == (2, 2, 3)
    np.testing.assert_array_equal(np.asarray(frame[..., 0]), [[255, 0], [128, 191]])
    np.testing.assert_array_equal(np.asarray(frame[..., 2]), 255)


def test_traced_parameters_under_jit_and_vmap() -> None:
    @jax.jit
    def draw(cx: jax.Array) -> jax.Array:
        d = raster.circle(X, Y, cx, 30.0, 5.0)
        return raster.to_uint8(raster.paint(raster.blank(64, 80), raster.coverage(d), (0, 0, 0)))

    frames = jax.vmap(draw)(jnp.array([10.0, 40.0]))
    assert frames.shape == (2, 64, 80, 3)
    assert frames[0, 30, 10, 0] == 0 and frames[1, 30, 10, 0] == 255
