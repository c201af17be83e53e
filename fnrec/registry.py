"""Gymnasium-style ids for every env family: ``fnrec.make_recorder(id)`` and ``fnrec.register``.

An id is fnrec's own (``"CartPole-v1"``, ``"Pendulum-v1"``: flax-free, with Gymnasium's time
limits), one registered with ``register``, or ``"<family>/<name>"``: the name as the family's own
library spells it (``"gymnax/Breakout-MinAtar"``, ``"brax/ant"``, ``"navix/Navix-Empty-8x8-v0"``,
``"jumanji/Snake-v1"``, ``"xminigrid/MiniGrid-Empty-8x8"``,
``"craftax/Craftax-Classic-Symbolic-v1"``), made by that library on first use.
``make_recorder`` is the pure form (a ``fnrec.Recorder``, for jit); ``fnrec.make`` and
``fnrec.make_vec`` wrap it in Gymnasium's host envs.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import jax

from fnrec import _checks
from fnrec.adapters.core import Recording
from fnrec.recorders import Recorder
from fnrec.stats import episode_statistics


class EnvSpec(NamedTuple):
    """How an id becomes an env of a family.

    Attributes:
      id: the id.
      entry_point: ``(**kwargs) -> env`` or ``-> (env, params)``: the env of `family`.
      family: the ``fnrec.adapters`` family that records it (``"funcenv"``, ``"gymnax"``, ...).
      max_episode_steps: fnrec's time limit (None: the env's own, if any).
      kwargs: default keyword arguments of `entry_point` (``make``'s override them).
      render: None, or ``(env, params) -> renderer``: a function of ONE env state (as the
        recorder's spec views it) to an HxWx3 uint8 frame, for ``render_mode="rgb_array"``.
      modes: the autoreset modes the family can record in (the first is the vector default).
      render_fps: the frame rate of videos (``metadata["render_fps"]``).
    """

    id: str
    entry_point: Callable[..., Any]
    family: str = "funcenv"
    max_episode_steps: int | None = None
    kwargs: Mapping[str, Any] = {}
    render: Callable[[Any, Any], Callable[[Any], Any]] | None = None
    modes: tuple[str, ...] = ("next_step", "same_step", "disabled")
    render_fps: int = 30

    def make_env(self, kwargs: Mapping[str, Any]) -> tuple[Any, Any]:
        """``(env, params)`` from the entry point (params None where the env has none)."""
        made = self.entry_point(**{**self.kwargs, **kwargs})
        if isinstance(made, tuple) and len(made) == 2:
            return made
        return made, None


class Namespace(NamedTuple):
    """A family's ids, made by its own library (``"<family>/<name>"``)."""

    family: str
    extra: str  # the pip extra: pip install "fnrec[<extra>]"
    module: str  # the library's module (imported to tell a missing extra)
    spec: Callable[[str], EnvSpec]  # name -> spec (the library makes the env on entry)
    names: Callable[[], list[str]]  # the library's own names (for near matches)


_REGISTRY: dict[str, EnvSpec] = {}


def register(
    id: str,
    entry_point: Callable[..., Any] | str,
    *,
    family: str = "funcenv",
    max_episode_steps: int | None = None,
    kwargs: Mapping[str, Any] | None = None,
    render: Callable[[Any, Any], Callable[[Any], Any]] | None = None,
    render_fps: int = 30,
) -> None:
    """Registers an id for ``fnrec.make``, ``fnrec.make_vec`` and ``fnrec.make_recorder``.

    Args:
      id: the id (no ``"/"``: namespaced ids belong to the families).
      entry_point: ``(**kwargs) -> env`` (or ``-> (env, params)``), or ``"module:attr"``.
      family: the ``fnrec.adapters`` family of the env (default ``"funcenv"``, a Gymnasium
        FuncEnv).
      max_episode_steps: fnrec's time limit, or None.
      kwargs: default keyword arguments of the entry point.
      render: ``(env, params) -> renderer of one env state``, or None (a FuncEnv renders with
        its ``render_image``).
      render_fps: the frame rate of videos.

    Example:
      >>> import fnrec
      >>> from fnrec.envs import CartPole, CartPoleParams
      >>> fnrec.register("ShortCartPole-v0", lambda: CartPole(CartPoleParams()),
      ...                max_episode_steps=50)
      >>> fnrec.make_recorder("ShortCartPole-v0").spec.name
      'FuncEnv(CartPole)'
    """
    from fnrec import adapters

    if not isinstance(id, str) or not id or "/" in id:
        raise ValueError(f"`id` must be a non-empty string without '/', got {id!r}")
    if family not in adapters.FAMILIES:
        raise ValueError(f"`family` must be one of {adapters.FAMILIES}, got {family!r}")
    if isinstance(entry_point, str):
        entry_point = _load(entry_point)
    if not callable(entry_point):
        raise TypeError(f"`entry_point` must be callable or 'module:attr', got {entry_point!r}")
    _checks.check_max_episode_steps(max_episode_steps)
    _REGISTRY[id] = EnvSpec(
        id, entry_point, family, max_episode_steps, dict(kwargs or {}), render,
        _modes(family), render_fps,
    )  # fmt: skip


def spec(id: str) -> EnvSpec:
    """The EnvSpec of `id`; an unknown id raises a ValueError naming the near ones, a family
    whose library is missing an ImportError naming the extra to install."""
    if not isinstance(id, str):
        raise TypeError(f"`id` must be a string such as 'CartPole-v1', got {id!r}")
    if id in _REGISTRY:
        return _REGISTRY[id]
    family, _, name = id.partition("/")
    if name and family in _NAMESPACES:
        namespace = _NAMESPACES[family]
        try:
            importlib.import_module(namespace.module)
        except ImportError as error:
            raise ImportError(
                f'`id` {id!r} needs {namespace.module}: pip install "fnrec[{namespace.extra}]"'
            ) from error
        names = namespace.names()
        if name not in names:
            raise ValueError(f"`id`: {namespace.module} has no env {name!r}" + _near(name, names))
        return namespace.spec(name)
    known = [*_REGISTRY, *(f"{family}/" for family in _NAMESPACES)]
    raise ValueError(
        f"`id` {id!r} is not registered (fnrec's: {', '.join(sorted(_REGISTRY))}; a family's: "
        f"'<family>/<name>' for {', '.join(sorted(_NAMESPACES))})" + _near(id, known)
    )


class Built(NamedTuple):
    """An id made: its spec, the family's env and params, what is recorded and the recorder."""

    spec: EnvSpec
    env: Any
    params: Any
    recording: Recording
    recorder: Recorder


def make_recorder(
    id: str,
    num_envs: int | None = None,
    recording: Recording | None = None,
    *,
    max_episode_steps: int | None = None,
    buffer_length: int = 100,
    autoreset_mode: str | None = None,
    params: Any = None,
    **kwargs: Any,
) -> Recorder:
    """The env of `id` as a ``fnrec.Recorder`` (pure: ``init``/``step``/``reset`` under jit).

    Args:
      id: a registered id or ``"<family>/<name>"`` (see the module docstring).
      num_envs: None for one env, or N for a batch with one shared queue.
      recording: what is recorded; None: statistics of `buffer_length` episodes in
        `autoreset_mode`, the id's time limit (or `max_episode_steps`).
      max_episode_steps: overrides the id's time limit (not with `recording`).
      buffer_length: the queues' length (not with `recording`).
      autoreset_mode: None: the family's default (``"next_step"``, or ``"same_step"`` for
        families that reset themselves: gymnax, brax, craftax); not with `recording`.
      params: the env params (None: the env's defaults).
      **kwargs: passed to the env's constructor (the family library's ``make``).

    Returns:
      The Recorder.

    Example:
      >>> import jax, fnrec
      >>> rec = fnrec.make_recorder("CartPole-v1", num_envs=4)
      >>> state, obs = rec.init(jax.random.key(0))
      >>> obs.shape, rec.spec.autoreset_mode
      ((4, 4), 'next_step')
    """
    settings = (max_episode_steps, buffer_length, autoreset_mode)
    return build(id, num_envs, recording, settings, params, kwargs).recorder


def build(
    id: str,
    num_envs: int | None,
    recording: Recording | None,
    settings: tuple[int | None, int, str | None],
    params: Any,
    kwargs: Mapping[str, Any],
) -> Built:
    """`id` made (``make_recorder``'s work; the host envs also need the env for rendering).

    Args:
      settings: ``(max_episode_steps, buffer_length, autoreset_mode)`` as ``make_recorder``.
    """
    env_spec = spec(id)
    env, own_params = env_spec.make_env(kwargs)
    params = own_params if params is None else params
    recording = _recording(env_spec, recording, *settings)
    family = importlib.import_module(f"fnrec.adapters.{env_spec.family}")
    recorder = family.recorder(env, recording, num_envs, params)
    return Built(env_spec, env, params, recording, recorder)


def _recording(
    env_spec: EnvSpec,
    recording: Recording | None,
    max_episode_steps: int | None,
    buffer_length: int,
    autoreset_mode: str | None,
) -> Recording:
    if recording is not None:
        given = {
            "max_episode_steps": max_episode_steps,
            "autoreset_mode": autoreset_mode,
            "buffer_length": None if buffer_length == 100 else buffer_length,
        }
        for name, value in given.items():
            if value is not None:
                raise ValueError(f"`{name}` is part of `recording`: set it there, got {value!r}")
        return recording
    mode = env_spec.modes[0] if autoreset_mode is None else _checks.autoreset_mode(autoreset_mode)
    if mode not in env_spec.modes:
        raise ValueError(
            f"`autoreset_mode`: {env_spec.id} ({env_spec.family}) resets on the done step, so it "
            f"records in {' or '.join(repr(m) for m in env_spec.modes)}, got {mode!r}"
        )
    limit = env_spec.max_episode_steps if max_episode_steps is None else max_episode_steps
    return Recording(episode_statistics(buffer_length, mode), max_episode_steps=limit)


def _near(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    return f"; did you mean {' or '.join(repr(n) for n in close)}?" if close else ""


def _load(path: str) -> Callable[..., Any]:
    module, _, attr = path.partition(":")
    if not attr:
        raise ValueError(f"`entry_point` must be 'module:attr', got {path!r}")
    return getattr(importlib.import_module(module), attr)


_SAME_STEP_ONLY = ("gymnax", "brax", "craftax")


def _modes(family: str) -> tuple[str, ...]:
    return ("same_step",) if family in _SAME_STEP_ONLY else ("next_step", "same_step", "disabled")


# ------------------------------------------------------------------------ fnrec's own envs
def _cartpole() -> Any:
    from fnrec.envs import CLASSIC, CartPole

    return CartPole(CLASSIC)


def _pendulum() -> Any:
    from fnrec.envs import Pendulum

    return Pendulum()


register("CartPole-v1", _cartpole, max_episode_steps=500, render_fps=50)
register("Pendulum-v1", _pendulum, max_episode_steps=200, render_fps=30)


# ------------------------------------------------------------------------ the families' ids
def _gymnax_spec(name: str) -> EnvSpec:
    import gymnax

    def render(env: Any, params: Any) -> Callable[[Any], Any] | None:
        from fnrec import render as renderers

        drawn = {"CartPole-v1": renderers.cartpole, "Pendulum-v1": renderers.pendulum}
        return jax.jit(drawn[name]) if name in drawn else None

    return EnvSpec(f"gymnax/{name}", lambda **kw: gymnax.make(name, **kw), "gymnax",
                   render=render, modes=_modes("gymnax"))  # fmt: skip


def _brax_spec(name: str) -> EnvSpec:
    def make(episode_length: int = 1000, action_repeat: int = 1, **kwargs: Any) -> Any:
        from brax import envs
        from brax.envs.wrappers import training

        env = envs.get_environment(name, **kwargs)
        return training.AutoResetWrapper(
            training.EpisodeWrapper(env, episode_length, action_repeat)
        )

    return EnvSpec(f"brax/{name}", make, "brax", modes=_modes("brax"))


def _navix_spec(name: str) -> EnvSpec:
    def make(**kwargs: Any) -> Any:
        import navix

        return navix.make(name, **kwargs)

    def render(env: Any, params: Any) -> Callable[[Any], Any]:
        from fnrec.adapters import navix

        return jax.jit(navix.render)

    return EnvSpec(f"navix/{name}", make, "navix", render=render, modes=_modes("navix"))


def _jumanji_spec(name: str) -> EnvSpec:
    def make(**kwargs: Any) -> Any:
        import jumanji

        return jumanji.make(name, **kwargs)

    return EnvSpec(f"jumanji/{name}", make, "jumanji", modes=_modes("jumanji"))


def _xminigrid_spec(name: str) -> EnvSpec:
    def make(**kwargs: Any) -> Any:
        import xminigrid

        return xminigrid.make(name, **kwargs)

    def render(env: Any, params: Any) -> Callable[[Any], Any]:
        return lambda timestep: env.render(params, timestep)

    return EnvSpec(f"xminigrid/{name}", make, "xminigrid", render=render,
                   modes=_modes("xminigrid"))  # fmt: skip


_CRAFTAX_NAMES = (
    "Craftax-Classic-Symbolic-v1",
    "Craftax-Classic-Pixels-v1",
    "Craftax-Symbolic-v1",
    "Craftax-Pixels-v1",
)


def _craftax_spec(name: str) -> EnvSpec:
    def make() -> Any:
        from craftax.craftax_env import make_craftax_env_from_name

        env = make_craftax_env_from_name(name, auto_reset=False)
        return env, env.default_params

    def render(env: Any, params: Any) -> Callable[[Any], Any]:
        if "Classic" in name:
            from craftax.craftax_classic.constants import BLOCK_PIXEL_SIZE_HUMAN
            from craftax.craftax_classic.renderer import render_craftax_pixels
        else:
            from craftax.craftax.constants import BLOCK_PIXEL_SIZE_HUMAN
            from craftax.craftax.renderer import render_craftax_pixels
        return jax.jit(
            lambda state: render_craftax_pixels(state, BLOCK_PIXEL_SIZE_HUMAN).astype("uint8")
        )

    return EnvSpec(f"craftax/{name}", make, "craftax", render=render, modes=_modes("craftax"))


def _names(module: str, attr: str) -> Callable[[], list[str]]:
    def names() -> list[str]:
        found = getattr(importlib.import_module(module), attr)
        return sorted(found() if callable(found) else found)

    return names


def _brax_names() -> list[str]:
    from brax import envs

    return sorted(envs._envs)  # brax has no public list of its env names


_NAMESPACES: dict[str, Namespace] = {
    "gymnax": Namespace("gymnax", "gymnax", "gymnax", _gymnax_spec,
                        _names("gymnax", "registered_envs")),
    "brax": Namespace("brax", "brax", "brax.envs", _brax_spec, _brax_names),
    "navix": Namespace("navix", "navix", "navix", _navix_spec, _names("navix", "registry")),
    "jumanji": Namespace("jumanji", "jumanji", "jumanji", _jumanji_spec,
                         _names("jumanji", "registered_environments")),
    "xminigrid": Namespace("xminigrid", "xminigrid", "xminigrid", _xminigrid_spec,
                           _names("xminigrid", "registered_environments")),
    "craftax": Namespace("craftax", "craftax", "craftax", _craftax_spec,
                         lambda: list(_CRAFTAX_NAMES)),
}  # fmt: skip
