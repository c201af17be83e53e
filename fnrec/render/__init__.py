"""Jittable renderers: pure JAX functions from environment states to uint8 RGB frames."""

from fnrec.render import raster
from fnrec.render.cartpole import cartpole
from fnrec.render.pendulum import pendulum

__all__ = ["cartpole", "pendulum", "raster"]
