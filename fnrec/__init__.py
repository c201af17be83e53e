"""fnrec: episode statistics and videos for functional JAX environments, inside jit."""

from fnrec import adapters, counter, stats
from fnrec.host.gym_env import FunctionalEnv, FunctionalVectorEnv
from fnrec.stats import EpisodeEnded, EpisodeStats

__all__ = [
    "EpisodeEnded",
    "EpisodeStats",
    "FunctionalEnv",
    "FunctionalVectorEnv",
    "adapters",
    "counter",
    "stats",
]
__version__ = "0.1.0"
