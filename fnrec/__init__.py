"""fnrec: episode statistics and videos for functional JAX environments, inside jit."""

from fnrec import adapters, counter, stats
from fnrec.stats import EpisodeEnded, EpisodeStats

__all__ = ["EpisodeEnded", "EpisodeStats", "adapters", "counter", "stats"]
__version__ = "0.1.0"
