"""``check_env``: what breaks jitting and recording in a functional env, found before training.

The counterpart of ``gymnasium.utils.env_checker.check_env`` for functional JAX envs (a Gymnasium
``FuncEnv``: ``initial``, ``transition``, ``observation``, ``reward``, ``terminal``; or a
``fnrec.Recorder`` of any family). It runs the env, invasively:

1. every function under ``jax.jit`` (no Python control flow on traced values);
2. the same key twice gives the same result (no hidden state, no Python or numpy randomness);
3. the state keeps its pytree structure, shapes and dtypes across steps (a ``lax.scan`` carry),
   and a ``lax.scan`` of steps and a ``jax.vmap`` over keys run;
4. observations have the ``observation_space``'s shape and lie in it (a warning, as Gymnasium's
   checker warns, where they do not or their dtype differs); rewards and terminal flags are
   scalars (one per env for a batched recorder) of a real and a boolean dtype;
5. ``render_image``, if the env has one, returns a uint8 HxWx3 frame;

with ``jax_enable_x64`` off and on. A failed check raises ``EnvCheckError`` saying what is wrong
and how to fix it.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from fnrec.host.progress import Progress
from fnrec.recorders import Recorder


def _spaces(env: Any, params: Any) -> tuple[Any, Any]:
    """ONE env's observation and action spaces: a recorder's spec's, or a FuncEnv's."""
    del params
    if not isinstance(env, Recorder):
        return env.observation_space, env.action_space
    spec = env.spec
    if spec.observation_space is None or spec.action_space is None:
        raise ValueError(
            f"{spec.name}'s spec has no spaces: make it with observation_space= and action_space="
        )
    return spec.observation_space, spec.action_space


class EnvCheckError(ValueError):
    """A functional env fails a check of ``fnrec.utils.check_env``; the message says the fix."""


@contextlib.contextmanager
def _x64(enabled: bool) -> Iterator[None]:
    previous = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", enabled)
    try:
        yield
    finally:
        jax.config.update("jax_enable_x64", previous)


def _signature(tree: Any) -> tuple:
    leaves, structure = jax.tree.flatten(tree)
    return structure, tuple((jnp.shape(x), jnp.result_type(x)) for x in leaves)


def _describe(tree: Any) -> str:
    return ", ".join(f"{jnp.result_type(x)}{list(jnp.shape(x))}" for x in jax.tree.leaves(tree))


def _same(a: Any, b: Any) -> bool:
    if jax.tree.structure(a) != jax.tree.structure(b):
        return False
    return all(
        np.array_equal(np.asarray(x), np.asarray(y), equal_nan=True)
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )


class _Fns:
    """The env as four pure functions: init(key) -> state, step(state, action, key) ->
    (state, obs, reward, terminal), observe(state, key) -> obs, and the per-step batch shape."""

    def __init__(self, env: Any, params: Any) -> None:
        self.env = env
        self.batch: tuple[int, ...] = ()
        if isinstance(env, Recorder):
            fns = env
            num_envs = fns.spec.num_envs
            self.batch = () if num_envs is None else (num_envs,)
            self.init = lambda key: fns.init(key)[0]

            def step(state: Any, action: Any, key: Any) -> tuple:
                out = fns.step(state, action, key)
                return out.state, out.obs, out.reward, out.terminated | out.truncated

            self.step = step
            self.first_obs = lambda key: fns.init(key)[1]
            self.names = {"init": "init", "step": "step"}
            return
        if callable(getattr(env, "recorder", None)):  # a shell (FuncEnvAdapter, ...)
            raise TypeError(
                f"`env` must be a fnrec.Recorder or a Gymnasium FuncEnv, got {type(env).__name__}"
                ": pass its .recorder()"
            )
        missing = [
            name
            for name in ("initial", "transition", "observation", "reward", "terminal")
            if not callable(getattr(env, name, None))
        ]
        if missing:
            raise TypeError(
                "`env` must be a functional env (a Gymnasium FuncEnv with initial, transition, "
                "observation, reward and terminal) or a fnrec.Recorder (fnrec.adapters.<family>."
                "recorder(env, ...)); "
                f"{type(env).__name__} lacks {', '.join(missing)}"
            )
        extra = () if params is None else (params,)

        def init(key: Any) -> Any:
            return env.initial(key, *extra)

        def step(state: Any, action: Any, key: Any) -> tuple:
            k1, k2, k3, k4 = jax.random.split(key, 4)
            next_state = env.transition(state, action, k1, *extra)
            obs = env.observation(next_state, k2, *extra)
            reward = env.reward(state, action, next_state, k3, *extra)
            return next_state, obs, reward, env.terminal(next_state, k4, *extra)

        self.init = init
        self.step = step
        self.first_obs = lambda key: env.observation(init(key), key, *extra)
        self.names = {"init": "initial", "step": "transition/observation/reward/terminal"}


def _jit_call(name: str, fn: Callable, *args: Any) -> Any:
    try:
        return jax.jit(fn)(*args)
    except jax.errors.ConcretizationTypeError as error:
        raise EnvCheckError(
            f"`{name}` cannot run under jax.jit: it uses a traced value where a Python value is "
            "needed (Python `if`/`while`/`int()` on an array). Use jnp.where, lax.cond or "
            f"lax.select instead. JAX said: {str(error).splitlines()[0]}"
        ) from None
    except jax.errors.TracerArrayConversionError as error:
        raise EnvCheckError(
            f"`{name}` cannot run under jax.jit: it converts a traced value to numpy "
            "(np.asarray, np.random, ...). Use jax.numpy and jax.random with the given key. "
            f"JAX said: {str(error).splitlines()[0]}"
        ) from None
    except (TypeError, ValueError) as error:
        first_line = str(error).splitlines()[0]
        raise EnvCheckError(
            f"`{name}` cannot run under jax.jit: {type(error).__name__}: {first_line}"
        ) from None


def _close(a: Any, b: Any) -> bool:
    """Equal structure and values (floats to XLA's fusion rounding: jit vs eager)."""
    if jax.tree.structure(a) != jax.tree.structure(b):
        return False
    return all(
        np.allclose(np.asarray(x, np.float64), np.asarray(y, np.float64), rtol=1e-4, atol=1e-5,
                    equal_nan=True)
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b), strict=True)
    )  # fmt: skip


def _check_pure(name: str, fn: Callable, args: tuple, jitted: Any, mode: str) -> None:
    """Raises unless `fn` gives the same result twice, run op by op, and the same as jitted.

    Hidden state (a counter on the env) or Python/numpy randomness shows as two different
    eager results, or as a jitted result that froze one draw when it was traced.
    """
    try:
        first, second = fn(*args), fn(*args)
    except Exception as error:
        raise EnvCheckError(
            f"`{name}` fails outside jit {mode}: {type(error).__name__}: "
            f"{str(error).splitlines()[0]}"
        ) from None
    if not _same(first, second) or not _close(first, jitted):
        raise EnvCheckError(
            f"`{name}` gave different results for the same inputs {mode}: it has hidden state "
            "or draws from Python/numpy randomness (which jit freezes into one constant); "
            "keep all state in the returned state and draw only from the given key with jax.random"
        )


def _sample_actions(space: Any, batch: tuple[int, ...], count: int, seed: int) -> list:
    space.seed(seed)
    actions = []
    for _ in range(count):
        if batch:
            actions.append(np.stack([np.asarray(space.sample()) for _ in range(batch[0])]))
        else:
            actions.append(np.asarray(space.sample()))
    return [jnp.asarray(a) for a in actions]


def _check_obs(obs: Any, space: Any, batch: tuple[int, ...], where: str) -> None:
    if space is None:
        return
    obs_np = jax.tree.map(np.asarray, obs)
    shape = getattr(space, "shape", None)
    if shape is not None and isinstance(obs_np, np.ndarray):
        expected = batch + tuple(shape)
        if obs_np.shape != expected:
            raise EnvCheckError(
                f"the observation of {where} has shape {obs_np.shape}, but observation_space "
                f"{space} expects {expected}: make `observation` return arrays of the space's "
                "shape (or fix the space)"
            )
        dtype = getattr(space, "dtype", None)
        if dtype is not None and obs_np.dtype != dtype:
            warnings.warn(
                f"the observation of {where} has dtype {obs_np.dtype}, but observation_space "
                f"expects {dtype} (as Gymnasium's checker warns)",
                UserWarning,
                stacklevel=4,
            )
    samples = [obs_np] if not batch else [jax.tree.map(lambda x, i=i: x[i], obs_np)
                                          for i in range(batch[0])]  # fmt: skip
    for sample in samples:
        cast = sample
        dtype = getattr(space, "dtype", None)
        if isinstance(sample, np.ndarray) and dtype is not None:
            cast = sample.astype(dtype)
        if not space.contains(cast):
            warnings.warn(
                f"the observation of {where} is not within observation_space {space}: {sample!r}",
                UserWarning,
                stacklevel=4,
            )
            return


def _check_scalar(name: str, value: Any, batch: tuple[int, ...], kind: str) -> None:
    value = jnp.asarray(value)
    if value.shape != batch:
        raise EnvCheckError(
            f"`{name}` must return one {kind} per env, of shape {batch}, got shape "
            f"{value.shape}: reduce it to a scalar (e.g. jnp.squeeze, or index the array)"
        )
    if kind == "reward" and not (
        jnp.issubdtype(value.dtype, jnp.floating)
        or jnp.issubdtype(value.dtype, jnp.integer)
        or value.dtype == jnp.bool_
    ):
        raise EnvCheckError(f"`{name}` must return a real number, got dtype {value.dtype}")
    if kind == "terminal flag" and value.dtype != jnp.bool_:
        raise EnvCheckError(
            f"`{name}` must return a bool, got dtype {value.dtype}: compare (e.g. `x > 1`) "
            "or cast with .astype(bool)"
        )


def _renders(env: Any) -> bool:
    return callable(getattr(env, "render_image", None)) and hasattr(env, "render_init")


def _check_render(env: Any, state: Any, params: Any) -> None:
    if not _renders(env):
        return
    try:
        render_state = env.render_init()
        _, frame = env.render_image(state, render_state, *(() if params is None else (params,)))
    except NotImplementedError:
        return
    except ImportError as error:  # pygame-based renderers without pygame: not the env's fault
        warnings.warn(f"render_image was not checked: {error}", UserWarning, stacklevel=3)
        return
    frame = np.asarray(frame)
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[-1] != 3:
        raise EnvCheckError(
            f"`render_image` must return a uint8 HxWx3 frame, got {frame.dtype}{list(frame.shape)}"
            ": convert it (e.g. (frame * 255).astype(np.uint8) for floats in [0, 1])"
        )
    close = getattr(env, "render_close", None)
    if callable(close):
        close(render_state)


class _Run:
    """The checks under one ``jax_enable_x64`` setting, as named phases run in order; each
    phase carries its state (the env state, the sampled actions) to the next."""

    def __init__(self, fns: _Fns, env: Any, params: Any, seed: int, steps: int, x64: bool):
        self.fns, self.env, self.params = fns, env, params
        self.seed, self.steps, self.x64 = seed, steps, x64
        self.mode = f"(jax_enable_x64={x64})"

    def phases(self) -> list[tuple[str, Callable[[], None]]]:
        """(name, check) pairs, in the order they must run."""
        init, step = self.fns.names["init"], self.fns.names["step"]
        phases = [
            (f"`{init}` under jax.jit, pure", self.check_init),
            (f"{self.steps} steps of `{step}` under jax.jit", self.check_steps),
            ("a lax.scan of steps", self.check_scan),
        ]
        if not self.fns.batch:
            phases.append(("jax.vmap over keys", self.check_vmap))
            if not self.x64 and _renders(self.env):
                phases.append(("render_image", self.check_render))
        return phases

    def check_init(self) -> None:
        fns, mode, name = self.fns, self.mode, self.fns.names["init"]
        self.key = jax.random.PRNGKey(self.seed)
        self.state = _jit_call(name, fns.init, self.key)
        _check_pure(name, fns.init, (self.key,), self.state, mode)
        self.space, action_space = _spaces(self.env, self.params)
        first_obs = _jit_call(name, fns.first_obs, self.key)
        _check_obs(first_obs, self.space, fns.batch, f"the reset {mode}")
        self.actions = _sample_actions(action_space, fns.batch, self.steps, self.seed)
        self.step_keys = jax.random.split(jax.random.PRNGKey(self.seed + 1), self.steps)

    def check_steps(self) -> None:
        fns, mode, name, state = self.fns, self.mode, self.fns.names["step"], self.state
        start = _signature(state)
        for t, (action, step_key) in enumerate(zip(self.actions, self.step_keys, strict=True)):
            out = _jit_call(name, fns.step, state, action, step_key)
            if t < 2:  # eager calls are slow: the first steps show hidden state as well as any
                _check_pure(name, fns.step, (state, action, step_key), out, mode)
            next_state, obs, reward, terminal = out
            if _signature(next_state) != start:
                raise EnvCheckError(
                    f"the state changed its structure, shapes or dtypes after step {t + 1} "
                    f"{mode}: from [{_describe(state)}] to [{_describe(next_state)}]. A lax.scan "
                    "carry must keep them: cast to the initial dtypes (e.g. "
                    ".astype(state.dtype)) and keep shapes fixed"
                )
            _check_obs(obs, self.space, fns.batch, f"step {t + 1} {mode}")
            _check_scalar("reward", reward, fns.batch, "reward")
            _check_scalar("terminal", terminal, fns.batch, "terminal flag")
            state = next_state
        self.state = state

    def check_scan(self) -> None:
        """As a training loop runs it: a scan of steps."""
        stacked = jnp.stack(self.actions)

        def rollout(state: Any, xs: tuple) -> tuple:
            next_state, _, reward, _ = self.fns.step(state, *xs)
            return next_state, reward

        try:
            jax.jit(lambda s: jax.lax.scan(rollout, s, (stacked, self.step_keys)))(self.state)
        except TypeError as error:
            raise EnvCheckError(
                f"a lax.scan of steps fails {self.mode}: {str(error).splitlines()[0]}; the state "
                "must be a fixed pytree of arrays"
            ) from None

    def check_vmap(self) -> None:
        """A batch by vmap (unbatched envs only)."""
        size = min(3, len(self.actions))
        keys = jax.random.split(self.key, size)
        try:
            batch = jax.jit(jax.vmap(self.fns.init))(keys)
            jax.jit(jax.vmap(self.fns.step))(batch, jnp.stack(self.actions[:size]), keys)
        except Exception as error:
            raise EnvCheckError(
                f"the env does not run under jax.vmap {self.mode}: {type(error).__name__}: "
                f"{str(error).splitlines()[0]}"
            ) from None

    def check_render(self) -> None:
        _check_render(self.env, jax.device_get(self.state), self.params)


def check_env(
    env: Any,
    params: Any = None,
    *,
    seed: int = 0,
    steps: int = 20,
    x64_modes: tuple[bool, ...] = (False, True),
    progress: bool = False,
) -> None:
    """Checks a functional env for what breaks jitting and recording (see the module docstring).

    Args:
      env: a ``fnrec.Recorder`` (its spec with spaces) or a Gymnasium ``FuncEnv``.
      params: the env params (None: the env's defaults).
      seed: the seed of the keys and sampled actions.
      steps: steps run per check.
      x64_modes: the ``jax_enable_x64`` settings to check under (both by default).
      progress: report each check (jit, steps, lax.scan, vmap, render; per x64 setting) on
        stderr as it runs (``fnrec.host.progress.Progress``: a tqdm bar in a terminal where
        tqdm is installed, else one whole line per finished check). Off by default.

    Raises:
      EnvCheckError: a check failed; the message says what and how to fix it.
      TypeError: `env` is neither.

    Example::

        >>> from fnrec.envs import CartPole
        >>> from fnrec.utils import check_env
        >>> check_env(CartPole())  # passes silently
    """
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"`steps` must be an int >= 1, got {steps!r}")
    if (
        not isinstance(x64_modes, (tuple, list))
        or not x64_modes
        or not all(isinstance(m, bool) for m in x64_modes)
    ):
        raise ValueError(
            "`x64_modes` must be a non-empty tuple of bools (the jax_enable_x64 settings to "
            f"check under: (False,), (True,) or (False, True)), got {x64_modes!r}"
        )
    fns = _Fns(env, params)
    try:
        _spaces(env, params)
    except (TypeError, ValueError) as error:
        raise TypeError(f"`env` must have spaces to sample actions from: {error}") from None
    runs = [_Run(fns, env, params, seed, steps, x64) for x64 in x64_modes]
    total = sum(len(run.phases()) for run in runs)
    with Progress(total, "fnrec check_env", unit="checks", enabled=progress) as meter:
        for run in runs:
            with _x64(run.x64):
                for name, check in run.phases():
                    meter.describe(f"{name} {run.mode}")
                    check()
                    meter.update()
