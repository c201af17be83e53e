"""The recorder: an env of any family and what is recorded about it, as pure functions.

Traced side, pure. A family gives its env as ``EnvFns`` (a step without reset, and a reset;
``fnrec.adapters.core``); ``recorder(fns, recording, num_envs)`` binds them to a ``Recording``
(statistics, capture, history, time limit, LogWrapper's keys) and returns a ``Recorder``: an
optax-style NamedTuple of pure functions ``init``, ``step``, ``reset`` and its static ``spec``.
Every consumer takes a recorder: ``fnrec.FunctionalEnv`` / ``fnrec.FunctionalVectorEnv``,
training loops, ``jax.jit``, ``jax.vmap`` and ``lax.scan``.

Batching: an env written for one instance (``fns.num_envs`` None) is batched over ``num_envs=N``
by ``core.vmapped`` (one key in, split per env); an env already batched (by ``core.vmapped`` or by
its library, with ``fns.num_envs=N``) is used as it is. With ``num_envs=None`` the recorder holds
one env, and ``jax.vmap`` of it gives one queue per env.

Example (the README's template family: a counter that terminates at 3)::

    >>> import jax, jax.numpy as jnp, fnrec
    >>> from fnrec.adapters.core import EnvFns, EnvReset, EnvStep
    >>> def env_step(x, action, key):
    ...     x = x + action
    ...     return EnvStep(x, x, 1.0, x >= 3, False, {})
    >>> def env_reset(key):
    ...     return EnvReset(jnp.int32(0), jnp.int32(0))
    >>> rec = fnrec.recorder(EnvFns(env_step, env_reset), fnrec.Recording(), num_envs=2)
    >>> state, obs = rec.init(jax.random.key(0))
    >>> for t in range(3):
    ...     out = rec.step(state, jnp.array([1, 2]), jax.random.key(t))
    ...     state = out.state
    >>> fnrec.stats.queues(state.stats)["length_queue"].tolist(), rec.spec.num_envs
    ([2, 3], 2)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from jax import Array
from jax.typing import ArrayLike

from fnrec import _checks
from fnrec._explicit import auto_within
from fnrec.adapters.core import (
    EnvFns,
    Recorded,
    Recording,
    StepResult,
    checked_action,
    checked_array_action,
    vmapped,
)

__all__ = ["Recorder", "RecorderSpec", "recorder"]


class RecorderSpec(NamedTuple):
    """What a recorder's consumers need to know of it, fixed when it is made.

    Attributes:
      num_envs: None for one env, else the batch size (one shared queue).
      autoreset_mode: the statistics' autoreset mode (the whole recording follows it).
      buffer_length: how many finished episodes the statistics' queue keeps.
      masked_reset: whether ``reset`` can reset some envs and keep the others.
      name: a name for messages.
      observation_space: ONE env's observation space (a ``gymnasium.Space``), or None where the
        family does not know it (the host envs then take ``observation_space=``).
      action_space: ONE env's action space, or None (likewise).
      view: what renderers and capture see of one env state (``EnvFns.view``; brax: its
        physics state), or None for the env state itself.
    """

    num_envs: int | None
    autoreset_mode: str
    buffer_length: int
    masked_reset: bool = True
    name: str = "recorder"
    observation_space: Any = None
    action_space: Any = None
    view: Any = None


class Recorder(NamedTuple):
    """An env and what is recorded about it: pure, jittable functions and a static spec.

    Attributes:
      init: ``(key) -> (state, obs)``: fresh envs (a ``Recorded`` state) and their observation.
      step: ``(state, action, key=None) -> StepResult``: one recorded step (time limit,
        statistics, autoreset, capture, history). With ``key=None`` the step draws from the key
        the state carries (``init`` puts one there), so no key is ever reused by accident.
      reset: ``(state, key, mask=None) -> (state, obs)``: new episodes in every env, or where
        `mask`; their partial episodes are dropped, not queued (`obs` is meaningless where not
        masked: keep the one you had there).
      spec: the ``RecorderSpec``.
    """

    init: Callable[[Array], tuple[Recorded, Any]]
    step: Callable[[Recorded, Any, Array], StepResult]
    reset: Callable[..., tuple[Recorded, Any]]
    spec: RecorderSpec


def recorder(
    fns: EnvFns,
    recording: Recording | None = None,
    num_envs: int | None = None,
    *,
    name: str = "recorder",
    observation_space: Any = None,
    action_space: Any = None,
) -> Recorder:
    """A Recorder of the env `fns`, recording what `recording` says.

    Args:
      fns: the env as ``EnvFns`` (``fnrec.adapters.core``): its step without reset and its reset;
        ``fns.num_envs`` says whether it is already batched.
      recording: a ``fnrec.Recording`` (default: ``fnrec.Recording()``, statistics only).
      num_envs: None for one env, else the batch size. An unbatched `fns` is batched here; a
        batched one must hold this many envs.
      name: a name for messages (the family's module sets its own).
      observation_space: ONE env's observation space, if the family knows it.
      action_space: ONE env's action space, if the family knows it.

    Returns:
      The Recorder.

    Raises:
      TypeError: `fns` is not an EnvFns, or `recording` not a Recording.
      ValueError: `num_envs` is invalid or differs from the batch of `fns`.
    """
    if not isinstance(fns, EnvFns):
        raise TypeError(
            "`fns` must be an EnvFns(step, reset) from fnrec.adapters.core, got "
            f"{type(fns).__name__}"
        )
    recording = Recording() if recording is None else recording
    if not isinstance(recording, Recording):
        raise TypeError(f"`recording` must be a fnrec.Recording, got {type(recording).__name__}")
    recording = recording.check()
    if num_envs is not None:
        _checks.check_num_envs(num_envs)
    if fns.num_envs is not None and num_envs not in (None, fns.num_envs):
        raise ValueError(
            f"`num_envs` must be the batch `fns` already holds ({fns.num_envs}), got {num_envs}"
        )
    if fns.num_envs is None and num_envs is not None:
        fns = vmapped(fns, num_envs)
    if fns.resets_itself:
        recording.check_resets_itself()
    batch = fns.num_envs
    needs_key = fns.uses_key or not fns.resets_itself

    def init(key: Array) -> tuple[Recorded, Any]:
        _checks.check_batch_driver(name, batch, key, [], batched_keys=fns.resets_itself)
        fresh = fns.reset(key)
        carried = carried_key(key)
        return recording.init(fresh.env_state, batch, view=fns.view, key=carried), fresh.obs

    def step(state: Recorded, action: Any, key: Array | None = None) -> StepResult:
        action = checked_action(name, batch, state, action, key, key_optional=True)
        action = checked_array_action(batch, action, action_space)
        if key is None and needs_key:
            if state.key is None:
                raise ValueError(
                    f"`key` is None and `state` carries no key: step {name} with a key, or make "
                    "the state with its init"
                )
            key, carried = jax.random.split(state.key)
            state = state._replace(key=carried)
        return recording.step(fns, state, action, key)

    def reset(state: Recorded, key: Array, mask: ArrayLike | None = None) -> tuple[Recorded, Any]:
        _checks.check_batch_driver(name, batch, key, [])
        return recording.reset(fns, state, key, mask)

    spec = RecorderSpec(
        num_envs=batch,
        autoreset_mode=recording.autoreset_mode,
        buffer_length=recording.statistics.buffer_length,
        name=name,
        observation_space=observation_space,
        action_space=action_space,
        view=fns.view,
    )
    return Recorder(auto_within(init), auto_within(step), auto_within(reset), spec)


def carried_key(key: Array) -> Array:
    """The key a fresh state carries: derived from (one of) the init key(s), never equal to it."""
    key = jnp.asarray(key) if not hasattr(key, "dtype") else key
    typed = jnp.issubdtype(key.dtype, jax.dtypes.prng_key)
    one = key if key.ndim == (0 if typed else 1) else key[0]
    return jax.random.fold_in(one, 0x5EED)
