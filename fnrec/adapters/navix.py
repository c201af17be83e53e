"""Statistics and capture over navix environments (``reset(key)``, ``step(timestep, action)``).

navix's ``Timestep`` carries the whole env (``t``, ``observation``, ``reward``, ``step_type``,
``state``); its ``step_type`` is mapped exactly: ``TRANSITION`` (0) continues, ``TRUNCATION`` (1,
``t >= env.max_steps``) is truncated, ``TERMINATION`` (2, the env's termination function; navix
gives 2 when both hold) is terminated.

navix's own ``step`` resets one step after a done (next-step autoreset, from the done state's
key). ``recorder(env, recording, num_envs)`` (the family's entry) calls the transition without
that reset (``env._step``, navix's hook, as gymnax's ``step_env``) and lets the core
(``fnrec.adapters.core``) do the rest: fnrec's time limit, the autoreset in the statistics' mode
(default ``"next_step"``, navix's convention) and capture. New episodes draw from fnrec's key:
the key given to each step, or, with ``step(state, action)``, the key the state carries, so
resets differ across envs and episodes. ``num_envs=N`` batches the env with ``core.vmapped`` (one
shared queue); ``jax.vmap`` the recorder for one queue per env. The env state the core (and the
capture) sees is navix's ``Timestep``; ``fnrec.adapters.navix.render`` draws it as navix's
``observations.rgb`` does, jittable (``export_videos(..., render)`` on the device, or
``episode_capture(content=render)`` to keep frames instead of states).

navix is not imported by the family: it duck-types the env. Example::

    >>> import jax, jax.numpy as jnp, navix, fnrec
    >>> env = navix.make("Navix-Empty-5x5-v0", max_steps=10)
    >>> rec = fnrec.adapters.navix.recorder(env, num_envs=4)
    >>> state, obs = rec.init(jax.random.key(0))
    >>> step = jax.jit(rec.step)
    >>> for t in range(10):
    ...     out = step(state, jnp.full(4, 2))   # 2: forward; no key: the state carries one
    ...     state = out.state
    >>> fnrec.stats.queues(state.stats)["terminated_queue"].tolist()
    [False, False, False, False]
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax import Array

from fnrec.adapters import core
from fnrec.adapters.core import EnvFns, EnvReset, EnvStep, Recording
from fnrec.recorders import Recorder
from fnrec.recorders import recorder as make_recorder
from fnrec.stats import episode_statistics

TRUNCATION, TERMINATION = 1, 2  # navix's StepType


def render(timestep: Any) -> Array:
    """One navix Timestep as an RGB frame (navix's ``observations.rgb`` of its state; jittable).

    Args:
      timestep: a navix ``Timestep`` (what the capture keeps).

    Returns:
      uint8[H * S, W * S, 3]: navix's sprites, S pixels a tile.
    """
    import navix  # the renderer is navix's own

    return navix.observations.rgb(timestep.state)


def env_fns(env: Any) -> EnvFns:
    """A navix env as the core's ``EnvFns`` (one env): its transition without navix's reset."""
    core.check_methods(env, ("reset", "_step"), "navix Environment")

    def env_step(timestep: Any, action: Any, key: Array) -> EnvStep:
        del key  # navix draws from the key in its state
        new = env._step(timestep, jnp.asarray(action))
        step_type = jnp.asarray(new.step_type)
        terminated, truncated = step_type == TERMINATION, step_type == TRUNCATION
        return EnvStep(new, new.observation, new.reward, terminated, truncated, {})

    def env_reset(key: Array) -> EnvReset:
        timestep = env.reset(key)
        return EnvReset(timestep, timestep.observation)

    return EnvFns(env_step, env_reset)


def recorder(
    env: Any, recording: Recording | None = None, num_envs: int | None = None, params: Any = None
) -> Recorder:
    """A navix env as a ``fnrec.Recorder`` (the family's entry).

    Args:
      env: a navix ``Environment`` (``navix.make(...)``).
      recording: what is recorded; default ``fnrec.Recording(episode_statistics(
        autoreset_mode="next_step"))`` (navix's own convention); any mode works.
      num_envs: None for one env, or N for a batch with one shared queue.
      params: unused (navix envs hold their settings); must be None.

    Returns:
      The Recorder; the env state it (and capture) sees is navix's ``Timestep``.
    """
    from fnrec.adapters.spaces import known_spaces

    if params is not None:
        raise ValueError("`params` must be None for navix (its env holds its settings)")
    if recording is None:
        recording = Recording(episode_statistics(autoreset_mode="next_step"))
    spaces = known_spaces(
        getattr(env, "observation_space", None), getattr(env, "action_space", None)
    )
    return make_recorder(
        env_fns(env), recording, num_envs, name=f"navix({type(env).__name__})",
        observation_space=spaces[0], action_space=spaces[1],
    )  # fmt: skip
