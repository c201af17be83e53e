"""Statistics and capture over jumanji environments (``reset(key)``, ``step(state, action)``).

``recorder(env, recording, num_envs)`` (the family's entry) reads jumanji's ``TimeStep`` as dm_env
defines it: a ``LAST`` step with discount 0 is a termination, a ``LAST`` step with discount > 0 a
truncation (the env's own time limit, as ``LevelBasedForaging`` reports it; Snake and Maze end their
time limit with discount 0, so their ``TimeStep`` says termination and fnrec reports what it says).

Two paths, chosen from `env`:

- **A bare env** (no ``AutoResetWrapper`` in it) goes through the core (``fnrec.adapters.core``):
  fnrec adds its time limit (``max_episode_steps``), the autoreset in any of the statistics'
  modes (new episodes from fnrec's key, ``jax.random.split`` per step as for every adapter) and
  capture. ``num_envs=N`` batches it with ``core.vmapped`` (one shared queue); without it,
  ``jax.vmap`` the recorder for one queue per env. Wrappers that do not reset
  (``MultiToSingleWrapper``) may sit in between.
- **An env that resets itself** (``AutoResetWrapper``, ``VmapAutoResetWrapper``,
  ``VmapWrapper(AutoResetWrapper(env))``) is recorded as it steps (``EnvFns.resets_itself``), with
  jumanji's same-step autoreset: statistics only, since jumanji replaces the final state before
  returning it (capture and ``max_episode_steps`` raise). A vmapped one needs ``num_envs``.

Every step returns a ``core.StepResult``; ``info["timestep"]`` is the env's own ``TimeStep`` of
the transition (before fnrec's reset, for a bare env). jumanji is not imported: the family
duck-types the env and its ``TimeStep``.

Example (Snake with a 20-step time limit, fnrec's autoreset, 4 envs in one queue)::

    >>> import jax, jax.numpy as jnp, fnrec
    >>> from jumanji.environments import Snake
    >>> rec = fnrec.adapters.jumanji.recorder(Snake(num_rows=6, num_cols=6),
    ...                                       fnrec.Recording(max_episode_steps=20), num_envs=4)
    >>> state, obs = rec.init(jax.random.key(0))
    >>> step = jax.jit(rec.step)
    >>> for t in range(20):
    ...     out = step(state, jnp.zeros(4, jnp.int32), jax.random.key(t))
    ...     state = out.state
    >>> int(fnrec.stats.episode_count(state.stats)) >= 4
    True
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from fnrec.adapters import core
from fnrec.adapters.core import EnvFns, EnvReset, EnvStep, Recording
from fnrec.recorders import Recorder
from fnrec.recorders import recorder as make_recorder

LAST = 2  # dm_env's StepType.LAST (jumanji's and XLand-MiniGrid's)


def dm_env_flags(step_type: ArrayLike, discount: ArrayLike) -> tuple[Array, Array]:
    """Terminated and truncated from a dm_env-style TimeStep (jumanji, XLand-MiniGrid).

    Args:
      step_type: the TimeStep's step type (``LAST`` = 2 ends an episode).
      discount: its discount: 0 on a terminal step, > 0 where the episode was cut off.

    Returns:
      ``(terminated, truncated)``: last with discount 0, and last with discount > 0.
    """
    last = jnp.asarray(step_type) == LAST
    ends_value = jnp.asarray(discount) == 0
    return last & ends_value, last & ~ends_value


def wrappers(env: Any) -> list[str]:
    """The class names of `env` and of every env it wraps (jumanji's ``Wrapper._env`` chain)."""
    names = []
    while env is not None:
        names.append(type(env).__name__)
        env = getattr(env, "_env", None)
    return names


def env_fns(env: Any, num_envs: int | None = None) -> EnvFns:
    """A jumanji env as the core's ``EnvFns``: a bare env's transition, or an env that resets
    itself (``AutoResetWrapper``; batched by ``VmapAutoResetWrapper``, then of `num_envs`)."""
    if not callable(getattr(env, "reset", None)) or getattr(type(env), "action_spec", None) is None:
        raise TypeError(
            f"`env` must be a jumanji Environment (with reset, step, action_spec), got "
            f"{type(env).__name__}"
        )
    names = wrappers(env)
    resets_itself = any("AutoReset" in name for name in names)
    prebatched = any(name.startswith("Vmap") for name in names)
    if prebatched and not resets_itself:
        raise ValueError(
            "`env` is vmapped but does not reset itself: pass the env without VmapWrapper "
            "and num_envs=N (fnrec batches and resets it), or wrap it in "
            "VmapAutoResetWrapper"
        )
    if prebatched and num_envs is None:
        raise ValueError(
            f"`num_envs` must be the batch size of the vmapped env {type(env).__name__}, got None"
        )

    def env_step(env_state: Any, action: Any, key: Array) -> EnvStep:
        del key  # jumanji's step takes none
        return _transition(*env.step(env_state, action))

    def env_reset(key: Array) -> EnvReset:
        if prebatched:
            key = core.env_keys(key, num_envs)
        env_state, timestep = env.reset(key)
        return EnvReset(env_state, timestep.observation)

    return EnvFns(
        env_step, env_reset, num_envs=num_envs if prebatched else None,
        resets_itself=resets_itself, uses_key=not resets_itself,
    )  # fmt: skip


def recorder(
    env: Any, recording: Recording | None = None, num_envs: int | None = None, params: Any = None
) -> Recorder:
    """A jumanji env as a ``fnrec.Recorder`` (the family's entry).

    Args:
      env: a jumanji ``Environment``, bare (fnrec resets it: any autoreset mode, capture, a time
        limit) or resetting itself (``AutoResetWrapper``, ``VmapAutoResetWrapper``: same-step
        statistics only, since jumanji replaces the final state before returning it).
      recording: what is recorded (default ``fnrec.Recording()``).
      num_envs: None for one env, or N for a batch with one shared queue (a vmapped jumanji env
        must have batch N).
      params: unused (jumanji envs hold their settings); must be None.

    Returns:
      The Recorder; ``info["timestep"]`` of each step is the env's own TimeStep.
    """
    from fnrec.adapters.spaces import known_spaces

    if params is not None:
        raise ValueError("`params` must be None for jumanji (its env holds its settings)")
    fns = env_fns(env, num_envs)
    recording = Recording() if recording is None else recording
    if fns.resets_itself and isinstance(recording, Recording) and recording.capture is not None:
        raise ValueError(
            f"`recording.capture` needs the state before jumanji's autoreset, which "
            f"{type(env).__name__} replaces: pass the env without AutoResetWrapper (fnrec "
            "resets it)"
        )
    spaces = known_spaces(_spec(env, "observation_spec"), _spec(env, "action_spec"))
    return make_recorder(
        fns, recording, num_envs, name=f"jumanji({type(env).__name__})",
        observation_space=spaces[0], action_space=spaces[1],
    )  # fmt: skip


def _spec(env: Any, name: str) -> Any:
    """jumanji's spec (a property in recent jumanji, a method in older ones), or None."""
    try:
        spec = getattr(env, name, None)
        return spec() if callable(spec) and not hasattr(spec, "shape") else spec
    except Exception:
        return None


def _transition(env_state: Any, timestep: Any) -> EnvStep:
    """A jumanji step's ``(state, TimeStep)`` as the core's EnvStep (the TimeStep in info)."""
    terminated, truncated = dm_env_flags(timestep.step_type, timestep.discount)
    return EnvStep(
        env_state, timestep.observation, timestep.reward, terminated, truncated,
        {"timestep": timestep},
    )  # fmt: skip
