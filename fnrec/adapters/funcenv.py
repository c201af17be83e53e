"""Gymnasium's functional envs (``FuncEnv``) as a recorder, and ``FuncEnvAdapter``, a FuncEnv.

``recorder(env, recording, num_envs, params)`` is the family's entry, as every family's: a
``fnrec.Recorder`` with fnrec's time limit, statistics, autoreset in any mode and capture, and
the FuncEnv's spaces in its spec. ``FuncEnvAdapter(env, recording, num_envs)`` is a thin shell
for code that wants the ``FuncEnv`` protocol itself: a ``FuncEnv`` (same method signatures,
``params`` included) whose state is a ``Recorded``, with the one-call, pure, jittable ``step``
Gymnasium lacks.

``num_envs=N`` batches the env functions inside (``core.vmapped``) and keeps ONE queue for all N
envs, filled in env-index order (what Gymnasium's vector wrapper and fnrec's host VectorEnv
show); without it, ``jax.vmap`` of the recorder gives one queue per env.

Example::

    >>> import jax, fnrec
    >>> from gymnasium.envs.phys2d.cartpole import CartPoleFunctional
    >>> rec = fnrec.adapters.funcenv.recorder(
    ...     CartPoleFunctional(), fnrec.Recording(max_episode_steps=500), num_envs=8
    ... )
    >>> state, obs = rec.init(jax.random.key(0))
    >>> def body(state, key):
    ...     out = rec.step(state, jax.numpy.zeros(8, int), key)   # always push left
    ...     return out.state, out.info["_episode"]
    >>> state, done = jax.lax.scan(body, state, jax.random.split(jax.random.key(1), 100))
    >>> fnrec.stats.episode_count(state.stats) == int(done.sum()) > 0
    True
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
from gymnasium.experimental.functional import FuncEnv
from jax import Array

from fnrec import _checks
from fnrec.adapters import core
from fnrec.adapters.core import EnvFns, EnvReset, EnvStep, Recorded, Recording, StepResult
from fnrec.recorders import Recorder
from fnrec.recorders import recorder as make_recorder
from fnrec.stats import episode_statistics


class _EnvFns(NamedTuple):
    """The wrapped env's functions with params bound, unbatched or batched over N envs."""

    initial: Callable[[Array], Any]
    transition: Callable[[Any, Any, Array], Any]
    observation: Callable[[Any, Array], Any]
    reward: Callable[[Any, Any, Any, Array], Array]
    terminal: Callable[[Any, Array], Array]
    transition_info: Callable[[Any, Any, Any], dict]


def _positional_count(fn: Callable) -> int | None:
    """How many positional arguments `fn` accepts; None if unlimited or unknown."""
    try:
        parameters = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return None
    return sum(p.kind in kinds for p in parameters)


def _bind(fn: Callable, rng_index: int, params: Any) -> Callable:
    """`fn` called as ``fn(*args, params)``; drops the rng argument if `fn` takes none.

    Gymnasium's own envs disagree: CliffWalking's ``observation(state, params)`` has no rng,
    where the protocol says ``observation(state, rng, params)``.
    """
    full = rng_index + 2  # the protocol's arguments before rng, rng, params
    takes_rng = (_positional_count(fn) or full) >= full

    def call(*args: Any) -> Any:
        if not takes_rng:
            args = args[:rng_index] + args[rng_index + 1 :]
        return fn(*args, params)

    return call


class FuncEnvAdapter(FuncEnv):
    """A FuncEnv whose state carries episode statistics, a step counter and the capture.

    A thin shell over the family's recorder (``recorder`` here) for code that wants the
    ``FuncEnv`` protocol itself; ``step`` is the recorder's step with ``params``.

    Args:
      env: any ``gymnasium.experimental.functional.FuncEnv`` with JAX functions (pytree states
        such as NamedTuples are fine). Use it untransformed: vmap the adapter, or pass `num_envs`.
      recording: what is recorded (default ``fnrec.Recording()``: 100 episodes, same-step
        autoreset); its statistics' autoreset mode is what ``step`` does after an episode ends.
      num_envs: None for one env (vmap it yourself for per-env queues), or N: every method then
        takes and returns a batch of N (one rng in, split inside) with one shared queue.
    """

    def __init__(
        self, env: FuncEnv, recording: Recording | None = None, num_envs: int | None = None
    ) -> None:
        _checks.check_num_envs(num_envs)
        check_func_env(env)
        recording = Recording() if recording is None else recording
        if not isinstance(recording, Recording):
            raise TypeError(
                f"`recording` must be a fnrec.Recording, got {type(recording).__name__}"
            )
        self.recording = recording.check()
        # The FuncEnv protocol's `transition` never resets: the same recording, autoreset off.
        self._transition_recording = self.recording._replace(
            statistics=episode_statistics(
                recording.statistics.buffer_length,
                "disabled",
                recording.statistics.metrics,
                recording.statistics.shards,
            )
        )
        self.env = env
        self.num_envs = num_envs
        self.observation_space = env.observation_space
        self.action_space = env.action_space
        self.metadata = dict(getattr(env, "metadata", {}) or {})
        self.default_params = getattr(env, "default_params", None)

    # ------------------------------------------------------------------ bound env functions
    def _fns(self, params: Any, batched: bool = True) -> _EnvFns:
        fns = _bound_fns(self.env, self.default_params if params is None else params)
        if self.num_envs is None or not batched:
            return fns
        return _batch(fns, self.num_envs)

    def _check_action(self, action: Any, rng: Any) -> Any:
        _checks.check_batch_driver(
            "FuncEnvAdapter", self.num_envs, rng, jax.tree.leaves(action), key_name="rng"
        )
        if self.action_space.dtype is None and (action is None or isinstance(action, (str, bytes))):
            raise TypeError(f"`action` must be an array or number, got {type(action).__name__}")
        action = core.checked_array_action(self.num_envs, action, self.action_space)
        return action

    def _core_fns(self, params: Any) -> EnvFns:
        """The ``EnvFns`` the core drives (one env's, batched by the core)."""
        fns = env_fns(self.env, self.default_params if params is None else params)
        return fns if self.num_envs is None else core.vmapped(fns, self.num_envs)

    def recorder(self, params: Any = None) -> Recorder:
        """The ``fnrec.Recorder`` of this adapter's env and recording, `params` bound."""
        return recorder(self.env, self.recording, self.num_envs, params)

    # ------------------------------------------------------------------ the FuncEnv protocol
    def initial(self, rng: Array, params: Any = None) -> Recorded:
        """A fresh state: a new episode, empty statistics."""
        _checks.check_batch_driver("FuncEnvAdapter", self.num_envs, rng, [], key_name="rng")
        return self.recording.init(self._fns(params).initial(rng), self.num_envs)

    def transition(self, state: Recorded, action: Any, rng: Array, params: Any = None) -> Recorded:
        """The env's transition, recorded (time limit included), without autoreset."""
        action = self._check_action(action, rng)
        return self._transition_recording.step(self._core_fns(params), state, action, rng).state

    def observation(self, state: Recorded, rng: Array, params: Any = None) -> Any:
        """The env's observation of ``state.env_state``."""
        return self._fns(params).observation(state.env_state, rng)

    def reward(
        self, state: Recorded, action: Any, next_state: Recorded, rng: Array, params: Any = None
    ) -> Array:
        """The env's reward for the transition."""
        return self._fns(params).reward(state.env_state, action, next_state.env_state, rng)

    def terminal(self, state: Recorded, rng: Array, params: Any = None) -> Array:
        """Whether the env state is terminal (truncation is separate: see ``truncation``)."""
        return self._fns(params).terminal(state.env_state, rng)

    def truncation(self, state: Recorded, params: Any = None) -> Array:
        """Whether the time limit has been reached (always False without one)."""
        limit = self.recording.max_episode_steps
        if limit is None:
            return jnp.zeros(state.steps.shape, jnp.bool_)
        return state.steps >= limit

    def state_info(self, state: Recorded, params: Any = None) -> dict:
        """The env's state info."""
        return self.env.state_info(
            state.env_state, self.default_params if params is None else params
        )

    def transition_info(
        self, state: Recorded, action: Any, next_state: Recorded, params: Any = None
    ) -> dict:
        """The env's transition info (episode statistics come with ``step``'s info)."""
        return self._fns(params).transition_info(state.env_state, action, next_state.env_state)

    def render_init(self, params: Any = None, **kwargs: Any) -> Any:
        """The env's render state (host side: Gymnasium's renderers use pygame)."""
        return self.env.render_init(**kwargs)

    def render_image(self, state: Recorded, render_state: Any, params: Any = None) -> Any:
        """The env's image of ``state.env_state`` (one env)."""
        params = self.default_params if params is None else params
        return self.env.render_image(state.env_state, render_state, params)

    def render_close(self, render_state: Any, params: Any = None) -> None:
        """Closes the env's render state."""
        self.env.render_close(render_state)

    def get_default_params(self, **kwargs: Any) -> Any:
        """The env's default params."""
        return self.env.get_default_params(**kwargs)

    # ------------------------------------------------------------------ one-call step
    def step(self, state: Recorded, action: Any, rng: Array, params: Any = None) -> StepResult:
        """Transition, observation, reward, terminal, truncation, statistics and autoreset.

        Args:
          state: the Recorded state.
          action: the action (a batch of N with `num_envs`).
          rng: a PRNG key.
          params: the env params (None for the env's defaults).

        Returns:
          A StepResult ``(state, obs, reward, terminated, truncated, info)``; ``info`` holds the
          finished episodes (``"episode"``, ``"_episode"``) and, same-step, ``"final_obs"``.
        """
        action = self._check_action(action, rng)
        return self.recording.step(self._core_fns(params), state, action, rng)

    def reset(
        self, state: Recorded, rng: Array, params: Any = None, mask: Any = None
    ) -> tuple[Recorded, Any]:
        """New episodes (all, or where `mask`), keeping the finished-episode statistics.

        Args:
          state: the Recorded state.
          rng: a PRNG key.
          params: the env params.
          mask: None for every env, else one flag per env.

        Returns:
          ``(state, obs)``: partial episodes dropped (not queued), and the observation.
        """
        reset_key, obs_key = jax.random.split(rng)
        state, _ = self.recording.reset(self._core_fns(params), state, reset_key, mask)
        return state, self.observation(state, obs_key, params)


def check_func_env(env: Any) -> None:
    """Raises a TypeError unless `env` has the FuncEnv protocol's methods."""
    core.check_methods(
        env, ("initial", "transition", "observation", "reward", "terminal"), "FuncEnv"
    )


def env_fns(env: FuncEnv, params: Any = None) -> EnvFns:
    """A FuncEnv as the core's ``EnvFns`` (one env), `params` bound (None: its defaults).

    The initial state is cast to the types ``transition`` gives back (a scan carry keeps them).
    """
    check_func_env(env)
    params = getattr(env, "default_params", None) if params is None else params
    fns = _bound_fns(env, params)

    def env_step(env_state: Any, action: Any, rng: Array) -> EnvStep:
        next_state = fns.transition(env_state, action, rng)
        return EnvStep(
            env_state=next_state,
            obs=fns.observation(next_state, rng),
            reward=fns.reward(env_state, action, next_state, rng),
            terminated=fns.terminal(next_state, rng),
            truncated=False,
            info=fns.transition_info(env_state, action, next_state),
        )

    def env_reset(rng: Array) -> EnvReset:
        env_state = fns.initial(rng)
        return EnvReset(env_state, fns.observation(env_state, rng))

    return EnvFns(env_step, env_reset)


def recorder(
    env: FuncEnv,
    recording: Recording | None = None,
    num_envs: int | None = None,
    params: Any = None,
) -> Recorder:
    """A Gymnasium ``FuncEnv`` as a ``fnrec.Recorder`` (the family's entry).

    Args:
      env: a FuncEnv with JAX functions (``gymnasium.envs.phys2d.CartPoleFunctional()``, ...).
      recording: what is recorded (default ``fnrec.Recording()``); any autoreset mode.
      num_envs: None for one env, or N for a batch with one shared queue.
      params: the env params (None: ``env.default_params``).

    Returns:
      The Recorder; its spec has the FuncEnv's spaces.
    """
    return make_recorder(
        env_fns(env, params), recording, num_envs, name=f"FuncEnv({type(env).__name__})",
        observation_space=env.observation_space, action_space=env.action_space,
    )  # fmt: skip


def _bound_fns(env: FuncEnv, params: Any) -> _EnvFns:
    """The FuncEnv's functions with `params` bound (rng dropped where a function takes none)."""
    transition = _bind(env.transition, 2, params)
    return _EnvFns(
        initial=_typed_initial(env, _bind(env.initial, 0, params), transition),
        transition=transition,
        observation=_bind(env.observation, 1, params),
        reward=_bind(env.reward, 3, params),
        terminal=_bind(env.terminal, 1, params),
        transition_info=lambda s, a, n: env.transition_info(s, a, n, params),
    )


def _typed_initial(env: FuncEnv, initial: Callable, transition: Callable) -> Callable:
    """`initial` with its leaves cast to the shapes/dtypes `transition` gives back.

    A scan carry needs fixed types, and Gymnasium's envs start with Python ints and bools
    (Blackjack) or scalars that later become [1] arrays (CliffWalking's ``fallen``).
    """
    space = env.action_space
    dtype = jax.dtypes.canonicalize_dtype(space.dtype if space.dtype is not None else "int32")
    action = jax.ShapeDtypeStruct(tuple(space.shape or ()), dtype)

    def typed(rng: Array) -> Any:
        state = initial(rng)
        template = jax.eval_shape(transition, state, action, rng)
        return jax.tree.map(
            lambda x, t: jnp.broadcast_to(jnp.asarray(x, t.dtype), t.shape), state, template
        )

    return typed


def _batch(fns: _EnvFns, num_envs: int) -> _EnvFns:
    """The env functions over a batch of `num_envs`, one rng in (split per env; None stays None)."""
    return _EnvFns(
        initial=core.keyed_vmap(fns.initial, num_envs),
        transition=core.keyed_vmap(fns.transition, num_envs),
        observation=core.keyed_vmap(fns.observation, num_envs),
        reward=core.keyed_vmap(fns.reward, num_envs),
        terminal=core.keyed_vmap(fns.terminal, num_envs),
        transition_info=jax.vmap(fns.transition_info),
    )
