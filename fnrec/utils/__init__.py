"""Gymnasium's utils for functional JAX envs: env checking, step-API conversion and seeding.

``gymnasium.utils.step_api_compatibility``'s three functions, pure and jittable, for Gymnasium's
step results and gymnax's (with the env state second); ``check_env`` finds what breaks jitting
and recording in a functional env; ``key_from_seed`` turns a Gymnasium-style
seed into a JAX key, the one way fnrec does it.
"""

from fnrec._lazy import lazy_getattr
from fnrec.utils.seeding import key_from_seed
from fnrec.utils.step_api import (
    convert_to_done_step_api,
    convert_to_terminated_truncated_step_api,
    step_api_compatibility,
)

# These run envs on the host (numpy, spaces, pygame, matplotlib): they load on first use.
__getattr__ = lazy_getattr(
    __name__,
    {
        "check_env": "fnrec.host.env_checker",
        "EnvCheckError": "fnrec.host.env_checker",
        "play": "fnrec.host.play",
        "PlayPlot": "fnrec.host.play",
    },
)

__all__ = [
    "EnvCheckError",
    "PlayPlot",
    "check_env",
    "convert_to_done_step_api",
    "convert_to_terminated_truncated_step_api",
    "key_from_seed",
    "play",
    "step_api_compatibility",
]
