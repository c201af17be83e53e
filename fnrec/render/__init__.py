"""Jittable renderers: pure JAX functions from environment states to uint8 RGB frames."""

from fnrec.render import raster
from fnrec.render.cartpole import cartpole

__all__ = ["cartpole", "raster"]
