"""Env families as recorders: one module per family, each with the same entry.

``fnrec.adapters.<family>.recorder(env, recording=None, num_envs=None, params=None)`` returns a
``fnrec.Recorder`` for ``funcenv`` (Gymnasium's ``FuncEnv``), ``gymnax``, ``craftax``, ``brax``
(MuJoCo Playground too), ``jumanji``, ``navix`` and ``xminigrid``. ``core`` is the contract a
family translates to (``EnvFns``) and the one recording step they all share; a family of your
own is ``fnrec.recorder(EnvFns(step, reset), ...)`` (the README's "Writing an adapter").

Three thin shells keep a family's own signatures where a drop-in swap needs them:
``GymnaxAdapter`` (gymnax's ``step(key, state, action, params)``, LogWrapper's info keys),
``BraxAdapter`` (brax's ``State``, for brax's trainers) and ``FuncEnvAdapter`` (a Gymnasium
``FuncEnv``). No env library is imported by ``fnrec.adapters`` itself: each family module loads
on first use and duck-types its env.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from fnrec.adapters import core
from fnrec.adapters.core import EnvFns, EnvReset, EnvStep, Recorded, Recording, StepResult

FAMILIES = ("funcenv", "gymnax", "craftax", "brax", "jumanji", "navix", "xminigrid")
_SHELLS = {
    "BraxAdapter": "fnrec.adapters.brax",
    "FuncEnvAdapter": "fnrec.adapters.funcenv",
    "GymnaxAdapter": "fnrec.adapters.gymnax",
}

if TYPE_CHECKING:
    from fnrec.adapters import brax, craftax, funcenv, gymnax, jumanji, navix, xminigrid
    from fnrec.adapters.brax import BraxAdapter
    from fnrec.adapters.funcenv import FuncEnvAdapter
    from fnrec.adapters.gymnax import GymnaxAdapter


def __getattr__(name: str) -> Any:
    if name in FAMILIES:
        return importlib.import_module(f"fnrec.adapters.{name}")
    if name in _SHELLS:
        return getattr(importlib.import_module(_SHELLS[name]), name)
    raise AttributeError(f"module 'fnrec.adapters' has no attribute {name!r}")


__all__ = [
    "EnvFns",
    "EnvReset",
    "EnvStep",
    "FAMILIES",
    "Recorded",
    "Recording",
    "StepResult",
    "core",
    *FAMILIES,
    *sorted(_SHELLS),
]
