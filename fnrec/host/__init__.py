"""Host side: runs outside traced code (numpy, wall-clock time, Gymnasium env classes)."""

from fnrec.host.gym_env import FunctionalEnv, FunctionalVectorEnv

__all__ = ["FunctionalEnv", "FunctionalVectorEnv"]
