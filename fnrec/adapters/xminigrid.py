"""Statistics and capture over XLand-MiniGrid (``xminigrid``) environments.

XLand-MiniGrid has ``reset(params, key) -> TimeStep`` and ``step(params, timestep, action) ->
TimeStep``; its ``TimeStep`` (``state``, ``step_type``, ``reward``, ``discount``,
``observation``) follows dm_env: a ``LAST`` step with discount 0 is a termination (the goal), a
``LAST`` step with discount 1 a truncation (``params.max_steps``; a goal reached on the last
allowed step has discount 0 and reads as termination), as ``fnrec.adapters.jumanji.dm_env_flags``
reads it.

``recorder(env, recording, num_envs, params)`` (the family's entry) binds ``params`` and goes
through the core (``fnrec.adapters.core``): the env's step without reset, then fnrec's time limit,
the autoreset in any of the statistics' modes (new episodes from fnrec's key) and capture. Pass the
env without xminigrid's ``GymAutoResetWrapper``/``DmEnvAutoResetWrapper`` (fnrec resets it);
observation wrappers are fine. ``num_envs=N`` batches it with ``core.vmapped`` (one shared queue);
``jax.vmap`` the recorder for one queue per env. The env state the core and the capture see is
xminigrid's ``TimeStep``; xminigrid renders on the host (``export_videos(..., render=lambda ts:
env.render(params, ts), on_device=False)``).

xminigrid is not imported: the family duck-types the env. Example::

    >>> import jax, jax.numpy as jnp, xminigrid, fnrec
    >>> env, params = xminigrid.make("MiniGrid-Empty-5x5")
    >>> params = params.replace(max_steps=10)
    >>> rec = fnrec.adapters.xminigrid.recorder(env, num_envs=4, params=params)
    >>> state, obs = rec.init(jax.random.key(0))
    >>> step = jax.jit(rec.step)
    >>> for t in range(10):
    ...     out = step(state, jnp.full(4, 1), jax.random.key(t))   # 1: turn
    ...     state = out.state
    >>> fnrec.stats.queues(state.stats)["terminated_queue"].tolist()
    [False, False, False, False]
"""

from __future__ import annotations

from typing import Any

from jax import Array

from fnrec.adapters import core
from fnrec.adapters.core import EnvFns, EnvReset, EnvStep, Recording
from fnrec.adapters.jumanji import dm_env_flags, wrappers
from fnrec.recorders import Recorder
from fnrec.recorders import recorder as make_recorder


def env_fns(env: Any, params: Any = None) -> EnvFns:
    """An xminigrid env as the core's ``EnvFns`` (one env), `params` bound (None: defaults)."""
    core.check_methods(env, ("reset", "step", "default_params"), "xminigrid Environment")
    resetting = [name for name in wrappers(env) if "AutoReset" in name]
    if resetting:
        raise ValueError(
            f"`env` must not reset itself, got {resetting[0]} in it: pass the env without "
            "it (fnrec resets finished episodes, in the statistics' autoreset mode)"
        )
    params = env.default_params() if params is None else params

    def env_step(timestep: Any, action: Any, key: Array) -> EnvStep:
        del key  # xminigrid's step draws from the key in its state
        new = env.step(params, timestep, action)
        terminated, truncated = dm_env_flags(new.step_type, new.discount)
        return EnvStep(new, new.observation, new.reward, terminated, truncated, {})

    def env_reset(key: Array) -> EnvReset:
        timestep = env.reset(params, key)
        return EnvReset(timestep, timestep.observation)

    return EnvFns(env_step, env_reset)


def recorder(
    env: Any, recording: Recording | None = None, num_envs: int | None = None, params: Any = None
) -> Recorder:
    """An xminigrid env as a ``fnrec.Recorder`` (the family's entry).

    Args:
      env: an xminigrid ``Environment`` (``xminigrid.make(...)[0]``), without an autoreset
        wrapper.
      recording: what is recorded (default ``fnrec.Recording()``); any autoreset mode.
      num_envs: None for one env, or N for a batch with one shared queue.
      params: the env params (``xminigrid.make(...)[1]``; None: ``env.default_params()``).

    Returns:
      The Recorder; the env state it (and capture) sees is xminigrid's ``TimeStep``.
    """
    import gymnasium as gym
    import numpy as np

    fns = env_fns(env, params)
    params = env.default_params() if params is None else params
    spaces: tuple[Any, Any] = (None, None)
    try:
        shape = tuple(int(n) for n in env.observation_shape(params))
        spaces = (
            gym.spaces.Box(0, np.iinfo(np.int32).max, shape, np.int32),
            gym.spaces.Discrete(int(env.num_actions(params))),
        )
    except (AttributeError, TypeError):
        pass
    return make_recorder(
        fns, recording, num_envs, name=f"xminigrid({type(env).__name__})",
        observation_space=spaces[0], action_space=spaces[1],
    )  # fmt: skip
