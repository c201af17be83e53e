"""Jittable Pendulum renderer matching Gymnasium's pygame frames (500x500, with torque arrow)."""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp

from fnrec.render import _clockwise, raster
from fnrec.render._state import state_fields

SIZE = 500
FIELDS = ("theta", "theta_dot")

_SCALE = SIZE / (2.2 * 2)
_CENTRE = SIZE // 2
_ROD_LEN, _ROD_W = _SCALE, 0.2 * _SCALE
_CAP_R, _PIVOT_R = float(int(_ROD_W / 2)), float(int(0.05 * _SCALE))
_OUTSET = 0.5  # pygame fills polygons and discs half a pixel beyond their outline
_ROD, _PIVOT = (204, 77, 77), (0, 0, 0)
_MAX_TORQUE = 2.0
_ARROW_HALF = math.ceil(_SCALE * _MAX_TORQUE / 4) + 1  # half the arrow window, static


def pendulum(
    state: Any, *, last_u: jax.Array | float | None = None, snap: bool = True
) -> jax.Array:
    """Render one Pendulum state as Gymnasium's Pendulum-v1 does: a 500x500 RGB frame.

    Args:
      state: float[2] (theta, theta_dot), as Gymnasium's phys2d Pendulum, or an object with those
        attributes (a gymnax Pendulum EnvState, whose `last_u` is then used). Use `jax.vmap` for
        a batch.
      last_u: the last torque in [-2, 2]; when given (or found on `state`), the torque arrow is
        drawn with a size proportional to |last_u|, mirrored for positive torque. None: no arrow.
      snap: snap corners and centres to whole pixels as pygame does (closest to Gymnasium's
        frames); False keeps sub-pixel positions, for smoother motion.

    Returns:
      uint8[500, 500, 3]; a state (or `last_u`) with a NaN or inf gives a frame filled with
      `raster.INVALID` (magenta), never a plausible picture.
    """
    s = state_fields(state, FIELDS, "pendulum")
    if last_u is None:
        last_u = getattr(state, "last_u", None)
    x, y = raster.pixel_grid(SIZE, SIZE, flip=SIZE)
    c = float(_CENTRE)
    angle = s[0] + jnp.pi / 2
    corners = raster.rect_corners(0.0, -_ROD_W / 2, _ROD_LEN, _ROD_W / 2, angle, c, c)
    end = raster.place(c + _ROD_LEN * jnp.stack([jnp.cos(angle), jnp.sin(angle)]), snap)
    end_x, end_y = end[0], end[1]
    canvas = raster.blank(SIZE, SIZE)
    rod = raster.convex_polygon(x, y, raster.place(corners, snap)) - _OUTSET
    canvas = raster.paint(canvas, raster.coverage(rod), _ROD)
    for cx, cy in ((c, c), (end_x, end_y)):
        cap = raster.circle(x, y, cx, cy, _CAP_R + _OUTSET)
        canvas = raster.paint(canvas, raster.coverage(cap), _ROD)
    if last_u is not None:
        torque = jnp.asarray(last_u, jnp.float32)
        if torque.size != 1:
            raise ValueError(
                f"pendulum: `last_u` must be one torque (a scalar), got shape {torque.shape}; "
                "use jax.vmap(pendulum) for a batch"
            )
        canvas = raster.paint(canvas, _arrow_alpha(torque), _PIVOT)
        s = jnp.concatenate([s, torque.reshape(1)])
    pivot = raster.circle(x, y, c, c, _PIVOT_R + _OUTSET)
    frame = raster.to_uint8(raster.paint(canvas, raster.coverage(pivot), _PIVOT))
    return raster.invalid_unless_finite(frame, s)


@functools.cache
def _summed_area() -> jax.Array:
    """Summed-area table of the arrow's alpha in [0, 1], float32[h+1, w+1], zero first row/col."""
    with jax.ensure_compile_time_eval():  # a constant, even when first called under jit
        a = _clockwise.alpha().astype(jnp.float32) / 255.0
        return jnp.pad(jnp.cumsum(jnp.cumsum(a, 0), 1), ((1, 0), (1, 0)))


def _lerp_rows(table: jax.Array, pos: jax.Array) -> jax.Array:
    """Rows of `table` at fractional positions `pos` [m] by linear interpolation -> [m, W]."""
    r0 = jnp.clip(jnp.floor(pos), 0, table.shape[0] - 2).astype(jnp.int32)
    f = (pos - r0)[:, None]
    return table[r0] * (1 - f) + table[r0 + 1] * f


def _arrow_alpha(last_u: jax.Array) -> jax.Array:
    """Coverage of the torque arrow, shrunk by area averaging as pygame's smoothscale, [500, 500].

    The box average of the alpha over each output pixel's source rectangle comes from the
    summed-area table, interpolated first along rows, then along columns (separable, no 2-D gather).
    """
    n = jnp.floor(_SCALE * jnp.abs(last_u.reshape(())) / 2)  # the arrow's side in pixels
    lo, size = _CENTRE - _ARROW_HALF, 2 * _ARROW_HALF
    idx = jnp.arange(lo, lo + size, dtype=jnp.float32)
    row = idx - (_CENTRE - (n - jnp.floor(n / 2)))
    col = idx - (_CENTRE - jnp.floor(n / 2))
    col = jnp.where(last_u > 0, n - 1 - col, col)
    h, w = _clockwise.SHAPE
    sr, sc = h / jnp.maximum(n, 1), w / jnp.maximum(n, 1)
    strips = _lerp_rows(_summed_area(), (row + 1) * sr) - _lerp_rows(_summed_area(), row * sr)
    box = (_lerp_rows(strips.T, (col + 1) * sc) - _lerp_rows(strips.T, col * sc)).T
    inside = ((row >= 0) & (row < n))[:, None] & ((col >= 0) & (col < n))[None, :]
    window = jnp.where(inside, box / (sr * sc), 0.0)
    return _place(window, lo, lo)


def _place(window: jax.Array, top: int, left: int) -> jax.Array:
    """Zero-pad `window` into the [500, 500] frame at (top, left), by concatenation.

    XLA CPU runs a frame loop that contains `pad` on one thread; `concatenate` keeps it parallel.
    """
    h, w = window.shape
    middle = [jnp.zeros((h, left)), window, jnp.zeros((h, SIZE - left - w))]
    rows = [jnp.zeros((top, SIZE)), jnp.concatenate(middle, 1), jnp.zeros((SIZE - top - h, SIZE))]
    return jnp.concatenate(rows, 0)
