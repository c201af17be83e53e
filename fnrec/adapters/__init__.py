"""Pure adapters that record episode statistics and capture episodes over functional JAX envs.

``core`` holds the one shared recording step (statistics, time limit, autoreset, capture) and is
the extension point for new env families; ``funcenv``, ``gymnax`` and ``brax`` are thin adapters
over it. gymnax and brax are imported by nobody here: the adapters duck-type their environments,
so both stay optional.
"""

from fnrec.adapters import core
from fnrec.adapters.brax import BraxAdapter, BraxRecordEpisodeStatistics
from fnrec.adapters.core import EnvFns, EnvReset, EnvStep, Recorded, Recording, StepResult
from fnrec.adapters.funcenv import FuncEnvAdapter, RecordEpisodeStatistics
from fnrec.adapters.gymnax import GymnaxAdapter, GymnaxRecordEpisodeStatistics

__all__ = [
    "BraxAdapter",
    "BraxRecordEpisodeStatistics",
    "EnvFns",
    "EnvReset",
    "EnvStep",
    "FuncEnvAdapter",
    "GymnaxAdapter",
    "GymnaxRecordEpisodeStatistics",
    "RecordEpisodeStatistics",
    "Recorded",
    "Recording",
    "StepResult",
    "core",
]
