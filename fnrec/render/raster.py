"""Jittable anti-aliased rasteriser: signed distances, coverage and painting on a float canvas.

Shapes are signed distance functions (SDFs) of pixel-centre coordinates, negative inside and in
pixels. Coordinates come from `pixel_grid` as a row `x[1, W]` and a column `y[H, 1]`, so every
SDF broadcasts to `[H, W]` and XLA fuses a whole scene into one loop over the pixels. Polygons use
the half-plane form `max(n_k . p - c_k)`: exact along edges, sharp at corners, which is what an
anti-aliased edge needs. A canvas is `float32[H, W, 3]` holding 0..255 values.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp

Array = jax.Array
Color = tuple[float, float, float] | Sequence[float]
Scalar = float | Array

_EPS = 1e-6
INVALID: tuple[int, int, int] = (255, 0, 255)  # the whole frame of a state that is not finite


def pixel_grid(
    height: int, width: int, *, top: int = 0, flip: int | None = None
) -> tuple[Array, Array]:
    """Pixel-centre coordinates of rows `top .. top+height-1` of an image `width` wide.

    Args:
      height: rows of the grid.
      width: columns of the grid.
      top: image row of the grid's first row.
      flip: when given, the image height; y then counts up from the bottom row (y = flip-1-row),
        as in renderers that draw with y up and flip the image.

    Returns:
      `(x, y)`: x is float32[1, width] (the column index), y is float32[height, 1].
    """
    x = jnp.arange(width, dtype=jnp.float32)[None, :]
    rows = jnp.arange(top, top + height, dtype=jnp.float32)[:, None]
    y = rows if flip is None else (flip - 1) - rows
    return x, y


def rect(x: Array, y: Array, x0: Scalar, y0: Scalar, x1: Scalar, y1: Scalar) -> Array:
    """Signed distance to the axis-aligned rectangle [x0, x1] x [y0, y1].

    Args:
      x: column coordinates, float32[1, W] (or any shape broadcasting with y).
      y: row coordinates, float32[H, 1].
      x0, y0, x1, y1: the rectangle's corners, x0 <= x1 and y0 <= y1.

    Returns:
      float32[H, W] signed distance (half-plane form).
    """
    return jnp.maximum(jnp.maximum(x0 - x, x - x1), jnp.maximum(y0 - y, y - y1))


def line(
    x: Array, y: Array, ax: Scalar, ay: Scalar, bx: Scalar, by: Scalar, half_width: Scalar
) -> Array:
    """Signed distance to a thick line from a to b with square (butt) ends: a rotated rectangle.

    Args:
      x, y: pixel coordinates from `pixel_grid`.
      ax, ay, bx, by: the end points of the centre line.
      half_width: half the line's thickness.

    Returns:
      float32[H, W] signed distance (half-plane form).
    """
    dx, dy = bx - ax, by - ay
    length = jnp.maximum(jnp.sqrt(dx * dx + dy * dy), _EPS)
    tx, ty = dx / length, dy / length
    rx, ry = x - (ax + bx) / 2, y - (ay + by) / 2
    along = jnp.abs(rx * tx + ry * ty) - length / 2
    across = jnp.abs(ry * tx - rx * ty) - half_width
    return jnp.maximum(along, across)


def capsule(
    x: Array, y: Array, ax: Scalar, ay: Scalar, bx: Scalar, by: Scalar, radius: Scalar
) -> Array:
    """Signed distance to a capsule: the segment a-b thickened by `radius` (round ends).

    Args:
      x, y: pixel coordinates from `pixel_grid`.
      ax, ay, bx, by: the end points of the segment.
      radius: the capsule's radius (half its thickness).

    Returns:
      float32[H, W] exact signed distance.
    """
    dx, dy = bx - ax, by - ay
    px, py = x - ax, y - ay
    h = jnp.clip((px * dx + py * dy) / jnp.maximum(dx * dx + dy * dy, _EPS), 0.0, 1.0)
    ex, ey = px - h * dx, py - h * dy
    return jnp.sqrt(ex * ex + ey * ey) - radius


def circle(x: Array, y: Array, cx: Scalar, cy: Scalar, radius: Scalar) -> Array:
    """Signed distance to the disc of `radius` around (cx, cy).

    Args:
      x, y: pixel coordinates from `pixel_grid`.
      cx, cy: the centre.
      radius: the radius.

    Returns:
      float32[H, W] exact signed distance.
    """
    return jnp.sqrt((x - cx) ** 2 + (y - cy) ** 2) - radius


def convex_polygon(x: Array, y: Array, vertices: Array) -> Array:
    """Signed distance to a convex polygon, vertices in either winding order.

    Args:
      x, y: pixel coordinates from `pixel_grid`.
      vertices: float[N, 2] corner points (x, y), N >= 3, in order around the polygon.

    Returns:
      float32[H, W] signed distance (half-plane form).
    """
    v = jnp.asarray(vertices, jnp.float32)
    e = jnp.roll(v, -1, axis=0) - v
    area2 = jnp.sum(v[:, 0] * jnp.roll(v[:, 1], -1) - jnp.roll(v[:, 0], -1) * v[:, 1])
    n = jnp.stack([e[:, 1], -e[:, 0]], axis=1) * jnp.sign(area2)
    n = n / jnp.maximum(jnp.linalg.norm(n, axis=1, keepdims=True), _EPS)
    d = None
    for k in range(v.shape[0]):
        dk = (x - v[k, 0]) * n[k, 0] + (y - v[k, 1]) * n[k, 1]
        d = dk if d is None else jnp.maximum(d, dk)
    return d


def rect_corners(
    left: float, bottom: float, right: float, top: float, angle: Scalar, ox: Scalar, oy: Scalar
) -> Array:
    """Corners of [left, right] x [bottom, top] rotated by `angle` about (0, 0), then moved.

    Args:
      left, bottom, right, top: the rectangle before rotation.
      angle: counter-clockwise angle in radians (y up), as pygame's `Vector2.rotate_rad`.
      ox, oy: the translation applied after the rotation.

    Returns:
      float32[4, 2] corners (x, y) in order around the rectangle.
    """
    local = jnp.array([[left, bottom], [left, top], [right, top], [right, bottom]], jnp.float32)
    cos, sin = jnp.cos(angle), jnp.sin(angle)
    x = local[:, 0] * cos - local[:, 1] * sin + ox
    y = local[:, 0] * sin + local[:, 1] * cos + oy
    return jnp.stack([x, y], axis=1).astype(jnp.float32)


def place(value: Array, snap: bool) -> Array:
    """Scalar geometry (corners, centres) ready for the per-pixel SDFs.

    Args:
      value: coordinates computed from the state.
      snap: truncate to whole pixels toward zero, as pygame's gfxdraw does; False keeps them.

    Returns:
      The coordinates, computed once: the barrier stops XLA from fusing the scalar geometry
      (sin, cos, rotations) into the per-pixel loop, which made unsnapped frames ~10x slower.
    """
    return jax.lax.optimization_barrier(jnp.trunc(value) if snap else value)


def coverage(distance: Array) -> Array:
    """Anti-aliased coverage of a pixel from its signed distance: clip(0.5 - d, 0, 1).

    Args:
      distance: signed distance in pixels.

    Returns:
      Coverage in [0, 1], same shape.
    """
    return jnp.clip(0.5 - distance, 0.0, 1.0)


def blank(height: int, width: int, color: Color = (255, 255, 255)) -> Array:
    """A canvas filled with one colour.

    Args:
      height, width: canvas size in pixels.
      color: RGB in 0..255.

    Returns:
      float32[height, width, 3].
    """
    return jnp.broadcast_to(jnp.asarray(color, jnp.float32), (height, width, 3))


def paint(canvas: Array, cover: Array, color: Color) -> Array:
    """Blend `color` over `canvas` with per-pixel coverage.

    Args:
      canvas: float32[H, W, 3].
      cover: coverage in [0, 1], broadcastable to [H, W].
      color: RGB in 0..255.

    Returns:
      The new canvas, float32[H, W, 3].
    """
    c = jnp.asarray(color, jnp.float32)
    return canvas + cover[..., None] * (c - canvas)


def to_uint8(canvas: Array) -> Array:
    """Round a 0..255 float canvas to uint8.

    Args:
      canvas: float[H, W, 3].

    Returns:
      uint8[H, W, 3].
    """
    return jnp.clip(jnp.round(canvas), 0, 255).astype(jnp.uint8)


def invalid_unless_finite(frame: Array, values: Array) -> Array:
    """`frame` if every one of `values` is finite, else a frame filled with `INVALID` (magenta).

    A NaN or inf state would otherwise draw a plausible picture (shapes vanish, a black frame);
    a solid magenta frame cannot be mistaken for a real one.

    Args:
      frame: uint8[H, W, 3].
      values: the state's numbers the frame was drawn from (any shape).

    Returns:
      uint8[H, W, 3].
    """
    finite = jnp.all(jnp.isfinite(values))
    return jnp.where(finite, frame, jnp.asarray(INVALID, jnp.uint8))
