"""Pure adapters that record episode statistics over functional JAX environments.

``core`` holds the one shared step (statistics, time limit, autoreset); ``funcenv``, ``gymnax``
and ``brax`` are thin wrappers over it. gymnax and brax are imported by nobody here: the wrappers
duck-type their environments, so both stay optional.
"""

from fnrec.adapters import core
from fnrec.adapters.brax import BraxRecordEpisodeStatistics
from fnrec.adapters.core import EnvStep, Recorded, StepResult
from fnrec.adapters.funcenv import RecordEpisodeStatistics
from fnrec.adapters.gymnax import GymnaxRecordEpisodeStatistics

__all__ = [
    "BraxRecordEpisodeStatistics",
    "EnvStep",
    "GymnaxRecordEpisodeStatistics",
    "RecordEpisodeStatistics",
    "Recorded",
    "StepResult",
    "core",
]
