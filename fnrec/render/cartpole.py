"""Jittable CartPole renderer matching Gymnasium's pygame frames (phys2d and classic_control)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from fnrec.render import raster
from fnrec.render._state import state_fields

HEIGHT, WIDTH = 400, 600
FIELDS = ("x", "x_dot", "theta", "theta_dot")

_CART_W, _CART_H, _POLE_W = 50.0, 30.0, 10.0
_CART_Y = 100.0  # y of the cart's centre line and of the track, pixels up from the bottom row
_AXLE_Y = 107.0  # Gymnasium draws the axle at int(cart_y + cart_h / 4)
_AXLE_R = 5.0
_FAR = 1e6  # pixels: a cart centre further out than this is drawn at this distance
_OUTSET = 0.5  # pygame fills polygons and discs half a pixel beyond their outline
_CART, _POLE, _AXLE, _TRACK = (0, 0, 0), (202, 152, 101), (129, 132, 203), (0, 0, 0)


def cartpole(
    state: Any, *, x_threshold: float = 2.4, length: float = 0.5, snap: bool = True
) -> jax.Array:
    """Render one CartPole state as Gymnasium does: a 400x600 RGB frame.

    Args:
      state: float[4] (x, x_dot, theta, theta_dot), as Gymnasium's phys2d CartPole, or an object
        with those attributes (a gymnax CartPole EnvState). Use `jax.vmap` for a batch.
      x_threshold: the env's x_threshold; the frame spans [-x_threshold, x_threshold].
      length: the env's pole half-length.
      snap: snap corners to whole pixels as pygame does (closest to Gymnasium's frames); False
        keeps sub-pixel positions, for smoother motion.

    Returns:
      uint8[400, 600, 3]; a state with a NaN or inf field gives a frame filled with
      `raster.INVALID` (magenta), never a plausible picture.
    """
    s = state_fields(state, FIELDS, "cartpole")
    if isinstance(x_threshold, jax.core.Tracer) or isinstance(length, jax.core.Tracer):
        raise TypeError("cartpole: `x_threshold` and `length` set the frame's layout and must be "
                        "static Python numbers, got traced values")  # fmt: skip
    if not (x_threshold > 0 and length > 0):
        raise ValueError(
            f"cartpole: `x_threshold` and `length` must be > 0, got {x_threshold!r}, {length!r}"
        )
    scale = WIDTH / (2 * x_threshold)
    pole_len = scale * 2 * length
    reach = pole_len + _POLE_W + 2  # no shape goes further than this from the axle
    # The rows any shape can reach, within the frame (a pole longer than the frame is clipped).
    y_max = min(HEIGHT - 1.0, _AXLE_Y + reach)
    y_min = max(0.0, min(_CART_Y - _CART_H / 2 - 2, _AXLE_Y - reach))
    top, bottom = HEIGHT - 1 - int(y_max), HEIGHT - 1 - int(y_min)
    x, y = raster.pixel_grid(bottom - top + 1, WIDTH, top=top, flip=HEIGHT)

    # Far outside the frame the cart is simply not drawn; clipping keeps the geometry finite.
    cx = jnp.clip(s[0] * scale + WIDTH / 2, -_FAR, WIDTH + _FAR)
    left = raster.place(cx - _CART_W / 2, snap) - _OUTSET
    right = raster.place(cx + _CART_W / 2, snap) + _OUTSET
    cart = raster.rect(
        x, y, left, _CART_Y - _CART_H / 2 - _OUTSET, right, _CART_Y + _CART_H / 2 + _OUTSET
    )
    half = _POLE_W / 2
    corners = raster.rect_corners(
        -half, -half, half, pole_len - half, -s[2], cx, _CART_Y + _CART_H / 4
    )
    pole = raster.convex_polygon(x, y, raster.place(corners, snap)) - _OUTSET
    axle = raster.circle(x, y, raster.place(cx, snap), _AXLE_Y, _AXLE_R + _OUTSET)
    track = jnp.abs(y - _CART_Y) - _OUTSET

    band = raster.blank(bottom - top + 1, WIDTH)
    for dist, color in ((cart, _CART), (pole, _POLE), (axle, _AXLE), (track, _TRACK)):
        band = raster.paint(band, raster.coverage(dist), color)
    frame = jnp.concatenate(
        [raster.blank(top, WIDTH), band, raster.blank(HEIGHT - 1 - bottom, WIDTH)], axis=0
    )
    return raster.invalid_unless_finite(raster.to_uint8(frame), s)
