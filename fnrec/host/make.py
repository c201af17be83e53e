"""``fnrec.make`` and ``fnrec.make_vec``: Gymnasium's way of making envs, for every env family.

Host side. An id (``fnrec.registry``) becomes the family's recorder, wrapped in
``fnrec.FunctionalEnv`` or ``fnrec.FunctionalVectorEnv`` with the id's renderer and frame rate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gymnasium.envs.registration import EnvSpec

from fnrec import registry
from fnrec.adapters.core import Recording
from fnrec.host.export import FuncEnvRenderer
from fnrec.host.gym_env import FunctionalEnv, FunctionalVectorEnv


def make(
    id: str,
    *,
    render_mode: str | None = None,
    max_episode_steps: int | None = None,
    buffer_length: int = 100,
    recording: Recording | None = None,
    render: Callable[[Any], Any] | None = None,
    params: Any = None,
    **kwargs: Any,
) -> FunctionalEnv:
    """The env of `id` as a ``gymnasium.Env``, as ``gymnasium.make`` gives it.

    Its ``info["episode"]`` and queues are Gymnasium's ``RecordEpisodeStatistics``', counted
    in-graph; stack ``fnrec.RecordVideo`` and ``fnrec.RecordEpisodeStatistics`` on it as on a
    Gymnasium env.

    Args:
      id: ``"CartPole-v1"``, ``"Pendulum-v1"``, an id of ``fnrec.register``, or
        ``"<family>/<name>"`` (``"gymnax/Breakout-MinAtar"``, ``"brax/ant"``, ...).
      render_mode: None or ``"rgb_array"``.
      max_episode_steps: overrides the id's time limit.
      buffer_length: how many finished episodes the queues keep.
      recording: what is recorded (instead of `max_episode_steps` and `buffer_length`).
      render: a renderer of one env state (HxWx3 uint8), for ids fnrec has none for.
      params: the env params (None: the env's defaults).
      **kwargs: passed to the env's constructor (the family library's ``make``).

    Returns:
      A ``fnrec.FunctionalEnv``.

    Example:
      >>> import fnrec
      >>> env = fnrec.make("CartPole-v1")
      >>> obs, info = env.reset(seed=42)
      >>> obs.shape, env.spec.id, env.spec.max_episode_steps
      ((4,), 'CartPole-v1', 500)
    """
    built = _build(id, None, recording, max_episode_steps, buffer_length, None, params, kwargs)
    return _host_env(FunctionalEnv, built, render, render_mode, kwargs)


def make_vec(
    id: str,
    num_envs: int = 1,
    vectorization_mode: str | None = None,
    vector_kwargs: Mapping[str, Any] | None = None,
    *,
    render_mode: str | None = None,
    max_episode_steps: int | None = None,
    buffer_length: int = 100,
    autoreset_mode: Any = None,
    recording: Recording | None = None,
    render: Callable[[Any], Any] | None = None,
    params: Any = None,
    **kwargs: Any,
) -> FunctionalVectorEnv:
    """A batch of `num_envs` envs of `id` as one ``gymnasium.vector.VectorEnv`` (one jitted step).

    Args:
      id: as ``fnrec.make``.
      num_envs: the batch size.
      vectorization_mode: None (or ``"vector_entry_point"``): fnrec's envs are one jitted batch.
      vector_kwargs: None, or ``{"autoreset_mode": ...}`` as Gymnasium's ``make_vec`` takes it.
      render_mode: None or ``"rgb_array"`` (one frame per env, as Gymnasium's).
      max_episode_steps: overrides the id's time limit.
      buffer_length: how many finished episodes the shared queues keep.
      autoreset_mode: ``"next_step"`` (Gymnasium's default), ``"same_step"`` or ``"disabled"``
        (or Gymnasium's ``AutoresetMode``); None: the family's default (``"same_step"`` for
        gymnax, brax and craftax, which reset on the done step).
      recording: what is recorded (instead of the three settings above).
      render: a renderer of one env state, for ids fnrec has none for.
      params: the env params.
      **kwargs: passed to the env's constructor.

    Returns:
      A ``fnrec.FunctionalVectorEnv``.

    Example:
      >>> import fnrec
      >>> envs = fnrec.make_vec("CartPole-v1", num_envs=3)
      >>> obs, info = envs.reset(seed=42)
      >>> obs.shape
      (3, 4)
    """
    if vectorization_mode not in (None, "vector_entry_point"):
        raise ValueError(
            "`vectorization_mode`: fnrec's vector envs are one jitted batch, so it must be None "
            f"(or 'vector_entry_point'), got {vectorization_mode!r}"
        )
    extra = dict(vector_kwargs or {})
    if "autoreset_mode" in extra:
        if autoreset_mode is not None:
            raise ValueError("`autoreset_mode` is given twice (also in `vector_kwargs`)")
        autoreset_mode = extra.pop("autoreset_mode")
    if extra:
        raise ValueError(
            f"`vector_kwargs` may only hold 'autoreset_mode' for fnrec's envs, got {sorted(extra)}"
        )
    if isinstance(num_envs, bool) or not isinstance(num_envs, int) or num_envs < 1:
        raise ValueError(f"`num_envs` must be an int >= 1, got {num_envs!r}")
    built = _build(
        id, num_envs, recording, max_episode_steps, buffer_length, autoreset_mode, params, kwargs
    )
    return _host_env(FunctionalVectorEnv, built, render, render_mode, kwargs)


def _host_env(
    kind: type,
    built: registry.Built,
    render: Callable[[Any], Any] | None,
    render_mode: str | None,
    kwargs: Mapping[str, Any],
) -> Any:
    """The host env of `kind` over the made recorder, with the id's renderer, fps and spec."""
    env = kind(
        built.recorder,
        render_mode=render_mode,
        render=_renderer(built, render, render_mode),
        metadata={"render_fps": built.spec.render_fps},
    )
    env.spec = _gymnasium_spec(built, kwargs)
    return env


def _build(
    id: str,
    num_envs: int | None,
    recording: Recording | None,
    max_episode_steps: int | None,
    buffer_length: int,
    autoreset_mode: Any,
    params: Any,
    kwargs: Mapping[str, Any],
) -> registry.Built:
    if num_envs is None and recording is None:  # one env stops at the episode's end
        modes = registry.spec(id).modes
        autoreset_mode = "disabled" if "disabled" in modes else modes[0]
    settings = (max_episode_steps, buffer_length, autoreset_mode)
    return registry.build(id, num_envs, recording, settings, params, kwargs)


def _gymnasium_spec(built: registry.Built, kwargs: Mapping[str, Any]) -> EnvSpec:
    """Gymnasium's ``env.spec`` of a made env (its id, time limit and kwargs)."""
    limit = built.recording.max_episode_steps
    return EnvSpec(id=built.spec.id, entry_point="fnrec:make", max_episode_steps=limit,
                   kwargs=dict(kwargs))  # fmt: skip


def _renderer(
    built: registry.Built, render: Callable[[Any], Any] | None, render_mode: str | None
) -> Callable[[Any], Any] | None:
    """`render`, else the id's renderer (a FuncEnv's ``render_image``); None when not rendering."""
    if render is not None or render_mode != "rgb_array":
        return render
    if built.spec.family == "funcenv":
        return FuncEnvRenderer(built.env, built.params)
    made = None if built.spec.render is None else built.spec.render(built.env, built.params)
    if made is None:
        raise ValueError(
            f"render_mode='rgb_array': fnrec has no renderer for {built.spec.id!r}; pass "
            "`render=` (a function of one env state to an HxWx3 uint8 frame)"
        )
    return made
