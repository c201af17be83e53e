"""fnrec: episode statistics and videos for functional JAX environments, inside jit."""

from fnrec import render

__all__ = ["render"]
