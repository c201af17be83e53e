"""Checking and converting rendered frames to the uint8 RGB layout the encoder takes."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from numpy.typing import ArrayLike

ACCEPTED = "uint8 or float in [0, 1], shaped HxWx3, HxWx1 or HxW"


def describe(frame: np.ndarray) -> str:
    """A short `shape dtype` description of a frame for error messages."""
    return f"{tuple(frame.shape)} {frame.dtype}"


def to_rgb_uint8(frame: ArrayLike) -> np.ndarray:
    """Converts one frame to an HxWx3 uint8 array.

    uint8 HxWx3 frames come back as they are (not copied); float frames in [0, 1] are scaled to
    0..255 and rounded; grayscale HxW or HxWx1 frames are repeated into three channels.

    Args:
      frame: a numpy array, jax array or anything `np.asarray` takes.

    Returns:
      An HxWx3 uint8 array.

    Raises:
      ValueError: for any other shape or dtype, for float values outside [0, 1] (or NaN), or for an
        empty frame; the message names what was expected and what was received.
    """
    frame = np.asarray(frame)
    if frame.ndim == 3 and frame.shape[-1] == 1:
        frame = frame[..., 0]
    if frame.ndim not in (2, 3) or (frame.ndim == 3 and frame.shape[-1] != 3):
        raise ValueError(f"expected a frame {ACCEPTED}; received {describe(frame)}")
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise ValueError(f"expected a non-empty frame; received {describe(frame)}")
    if np.issubdtype(frame.dtype, np.floating):
        low, high = float(np.min(frame)), float(np.max(frame))
        if not (low >= 0.0 and high <= 1.0):  # also false for NaN
            raise ValueError(
                f"expected float frame values in [0, 1]; received {describe(frame)} with values "
                f"in [{low}, {high}]"
            )
        frame = np.rint(frame * 255.0).astype(np.uint8)
    elif frame.dtype != np.uint8:
        raise ValueError(f"expected a frame {ACCEPTED}; received {describe(frame)}")
    if frame.ndim == 2:
        frame = np.repeat(frame[..., None], 3, axis=-1)
    return frame


class Yuv420Frame(NamedTuple):
    """One frame already in the encoder's pixel layout (yuv420p, I420 planes): the Y plane, then
    the U and V planes at half height and width, flat in one uint8 array of shape
    ``[H * 3 // 2, W]`` (H and W even). Export converts rendered frames on the device
    (`rgb_to_yuv420`), which halves what comes back to the host and what the encoder does;
    `VideoWriter.append` takes it as it is (not copied: do not modify it afterwards).
    """

    planes: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        """(height, width) of the picture."""
        rows, width = self.planes.shape
        return rows * 2 // 3, width


def rgb_to_yuv420(frame: jax.Array) -> jax.Array:
    """Converts a uint8 HxWx3 RGB frame (H, W even) to yuv420p planes, jittable.

    ITU-R BT.601 limited range in 8-bit integer arithmetic, with each chroma sample from the
    mean of its 2x2 pixels: what ffmpeg's converter does for rgb24 frames given to libx264, and
    what players assume for an untagged H.264 video.

    Args:
      frame: uint8 [H, W, 3].

    Returns:
      uint8 [H * 3 // 2, W] (see `Yuv420Frame`).
    """
    height, width, _ = frame.shape
    red, green, blue = (frame[..., channel].astype(jnp.int32) for channel in range(3))
    luma = ((66 * red + 129 * green + 25 * blue + 128) >> 8) + 16

    def block_sums(plane: jax.Array) -> jax.Array:  # 2x2 sums; the chroma shift takes the mean
        blocks = plane.reshape(height // 2, 2, width // 2, 2)
        return blocks[:, 0, :, 0] + blocks[:, 0, :, 1] + blocks[:, 1, :, 0] + blocks[:, 1, :, 1]

    # One channel at a time, corners added by hand: XLA's CPU code for a [.., 3] or a sum over
    # block axes is several times slower (5x, a 400x600 frame).
    red, green, blue = block_sums(red), block_sums(green), block_sums(blue)
    blue_difference = ((-38 * red - 74 * green + 112 * blue + 512) >> 10) + 128
    red_difference = ((112 * red - 94 * green - 18 * blue + 512) >> 10) + 128
    planes = [luma, blue_difference, red_difference]
    flat = jnp.concatenate([plane.astype(jnp.uint8).reshape(-1) for plane in planes])
    return flat.reshape(height * 3 // 2, width)


def padded_size(height: int, width: int, block: int = 2) -> tuple[int, int]:
    """The smallest (height, width) at least as large that is a multiple of `block`.

    Args:
      height: frame height in pixels.
      width: frame width in pixels.
      block: the multiple the codec needs (2 for H.264 with yuv420p chroma subsampling).

    Returns:
      (padded_height, padded_width).
    """
    return -(-height // block) * block, -(-width // block) * block


def pad_to(frame: np.ndarray, height: int, width: int) -> np.ndarray:
    """Pads an HxWx3 frame at the bottom and right to (height, width) by repeating edge pixels.

    Args:
      frame: an HxWx3 uint8 array no larger than (height, width).
      height: target height.
      width: target width.

    Returns:
      A new C-contiguous array of shape (height, width, 3).
    """
    extra_h, extra_w = height - frame.shape[0], width - frame.shape[1]
    return np.pad(frame, ((0, extra_h), (0, extra_w), (0, 0)), mode="edge")


def grid_shape(
    count: int, height: int, width: int, aspect_ratio: tuple[int, int] | None
) -> tuple[int, int]:
    """(rows, cols) of a grid of `count` frames of `height` x `width`.

    None: near-square, row by row, empty cells at the end. An aspect ratio (width, height):
    Gymnasium's vector RecordVideo rule, the exact grid (rows divide `count`) whose
    width / height is closest to it.
    """
    if aspect_ratio is None:
        cols = int(np.ceil(np.sqrt(count)))
        return -(-count // cols), cols
    target = aspect_ratio[0] / aspect_ratio[1]
    best, best_diff = (1, count), np.inf
    for rows in range(1, int(count**0.5) + 1):
        if count % rows == 0:
            cols = count // rows
            diff = abs(cols * width / (rows * height) - target)
            if diff < best_diff:
                best, best_diff = (rows, cols), diff
    return best


def tile(frames: list[np.ndarray], aspect_ratio: tuple[int, int] | None = None) -> np.ndarray:
    """Tiles equally sized HxWx3 frames into a grid, row by row, empty cells black.

    Args:
      frames: a non-empty list of HxWx3 uint8 frames of one size.
      aspect_ratio: None for a near-square grid, or (width, height) as Gymnasium's
        ``video_aspect_ratio`` (see ``grid_shape``).

    Returns:
      An array of shape (rows * H, cols * W, 3).
    """
    count = len(frames)
    rows, cols = grid_shape(count, *frames[0].shape[:2], aspect_ratio)
    h, w, c = frames[0].shape
    grid = np.zeros((rows * h, cols * w, c), dtype=frames[0].dtype)
    for index, frame in enumerate(frames):
        if frame.shape != frames[0].shape:
            raise ValueError(
                f"cannot tile frames of different sizes: env 0 gave {describe(frames[0])}, "
                f"env {index} gave {describe(frame)}"
            )
        row, col = divmod(index, cols)
        grid[row * h : (row + 1) * h, col * w : (col + 1) * w] = frame
    return grid
