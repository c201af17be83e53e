"""Gymnasium's utils for functional JAX envs: step-API conversion and seeding.

``gymnasium.utils.step_api_compatibility``'s three functions, pure and jittable, for Gymnasium's
step results and gymnax's (with the env state second); ``key_from_seed`` turns a Gymnasium-style
seed into a JAX key, the one way fnrec does it.
"""

from fnrec.utils.seeding import key_from_seed
from fnrec.utils.step_api import (
    convert_to_done_step_api,
    convert_to_terminated_truncated_step_api,
    step_api_compatibility,
)

__all__ = [
    "convert_to_done_step_api",
    "convert_to_terminated_truncated_step_api",
    "key_from_seed",
    "step_api_compatibility",
]
