"""Pure adapters that record episode statistics and capture episodes over functional JAX envs.

``core`` holds the one shared recording step (statistics, time limit, autoreset, capture) and is
the extension point for new env families; ``funcenv``, ``gymnax`` (and ``craftax`` over it),
``brax``, ``jumanji``, ``navix`` and ``xminigrid`` are thin adapters over it. No env library is
imported by ``fnrec.adapters`` itself: the families are duck-typed, and the FuncEnv adapter (which
subclasses Gymnasium's ``FuncEnv``) loads on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fnrec._lazy import lazy_getattr
from fnrec.adapters import core
from fnrec.adapters.core import EnvFns, EnvReset, EnvStep, Recorded, Recording, StepResult

_LAZY = {
    "BraxAdapter": "fnrec.adapters.brax",
    "BraxRecordEpisodeStatistics": "fnrec.adapters.brax",
    "CraftaxAdapter": "fnrec.adapters.craftax",
    "FuncEnvAdapter": "fnrec.adapters.funcenv",
    "GymnaxAdapter": "fnrec.adapters.gymnax",
    "GymnaxRecordEpisodeStatistics": "fnrec.adapters.gymnax",
    "JumanjiAdapter": "fnrec.adapters.jumanji",
    "NavixAdapter": "fnrec.adapters.navix",
    "RecordEpisodeStatistics": "fnrec.adapters.funcenv",
    "XMiniGridAdapter": "fnrec.adapters.xminigrid",
}

if TYPE_CHECKING:
    from fnrec.adapters.brax import BraxAdapter, BraxRecordEpisodeStatistics
    from fnrec.adapters.craftax import CraftaxAdapter
    from fnrec.adapters.funcenv import FuncEnvAdapter, RecordEpisodeStatistics
    from fnrec.adapters.gymnax import GymnaxAdapter, GymnaxRecordEpisodeStatistics
    from fnrec.adapters.jumanji import JumanjiAdapter
    from fnrec.adapters.navix import NavixAdapter
    from fnrec.adapters.xminigrid import XMiniGridAdapter

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = [
    "EnvFns",
    "EnvReset",
    "EnvStep",
    "Recorded",
    "Recording",
    "StepResult",
    "core",
    *sorted(_LAZY),
]
