"""The conformance kit's families: each env family (and the README's template) as one ``Case``.

A case makes its family's ``fnrec.Recorder`` for a ``fnrec.Recording`` and a batch (None: one
env), with short episodes so that every env ends several within a short run. The library of a
family is imported when its case is made (``pytest.importorskip``): each venv runs the families
it installs. ``tests/conformance/test_kit.py`` runs the same checks on every case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import gymnasium as gym
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fnrec
from fnrec.adapters.core import EnvFns, EnvReset, EnvStep

LIMIT = 10  # the longest episode of every case: capture rows hold it
BOTH_LAYOUTS = (12, ("shared", "per_env"))


class Case(NamedTuple):
    """One family in the kit.

    Attributes:
      name: the family's name.
      make: ``(recording, num_envs) -> Recorder``.
      mode: the statistics' autoreset mode the family is run with.
      time_limit: the ``Recording.max_episode_steps`` the case needs (None: the env's own).
      content: what capture keeps of one env state (a small array): the kit's frames.
      heavy: the env's step takes minutes to compile (craftax): the kit compiles it as few
        times as it can (no ``check_env``, which compiles it under six transformations).
      sharded: ``(num_envs, layouts)`` of the sharded check.
    """

    name: str
    make: Callable[[fnrec.Recording, int | None], fnrec.Recorder]
    mode: str = "same_step"
    time_limit: int | None = None
    content: Callable[[Any], Any] | None = None
    heavy: bool = False
    # 12 envs: no env-sized axis is mistaken for an env's own (navix's 8-pixel sprites). A
    # family's case checks the shared layout, whose step has fnrec's collectives; the per-env
    # layout (jax.vmap of one env, no collective of fnrec's) is checked sharded on the
    # template and FuncEnv cases, whose recorders run the same fnrec code as every family's.
    sharded: tuple[int, tuple[str, ...]] = (12, ("shared",))


def fingerprint(env_state: Any) -> jax.Array:
    """A 16x16 grey frame whose value follows the env state (any pytree): the kit's renderer."""
    leaves = [
        jnp.sum(jnp.abs(jnp.asarray(x, jnp.float32)))
        for x in jax.tree.leaves(env_state)
        if jnp.issubdtype(jnp.asarray(x).dtype, jnp.number)
    ]
    value = jnp.mod(jnp.floor(sum(leaves) * 7.0), 200.0) + 20.0
    return jnp.full((16, 16, 3), value, jnp.uint8)


# ------------------------------------------------------------------ the README's template
def walk_step(x, action, key):
    """A walk on the integers: action 1 steps right, 0 left; it ends at |x| == 3."""
    x = x + 2 * jnp.asarray(action, jnp.int32) - 1
    obs = jnp.reshape(x, (1,)).astype(jnp.float32)
    return EnvStep(x, obs, jnp.float32(1.0), jnp.abs(x) >= 3, False, {})


def walk_reset(key):
    start = jax.random.randint(key, (), -1, 2)
    return EnvReset(start, jnp.reshape(start, (1,)).astype(jnp.float32))


def template() -> Case:
    def make(recording, num_envs):
        return fnrec.recorder(
            EnvFns(walk_step, walk_reset), recording, num_envs, name="walk",
            observation_space=gym.spaces.Box(-10.0, 10.0, (1,), np.float32),
            action_space=gym.spaces.Discrete(2),
        )  # fmt: skip

    return Case("template", make, "next_step", time_limit=LIMIT, sharded=BOTH_LAYOUTS)


def funcenv() -> Case:
    from gymnasium.envs.phys2d.cartpole import CartPoleFunctional

    def make(recording, num_envs):
        return fnrec.adapters.funcenv.recorder(CartPoleFunctional(), recording, num_envs)

    return Case("funcenv", make, "same_step", time_limit=LIMIT, sharded=BOTH_LAYOUTS)


def gymnax() -> Case:
    gymnax = pytest.importorskip("gymnax")
    env, params = gymnax.make("CartPole-v1")
    params = params.replace(max_steps_in_episode=LIMIT)

    def make(recording, num_envs):
        return fnrec.adapters.gymnax.recorder(env, recording, num_envs, params)

    return Case("gymnax", make)


def craftax() -> Case:
    pytest.importorskip("craftax")
    from craftax.craftax_env import make_craftax_env_from_name

    env = make_craftax_env_from_name("Craftax-Classic-Symbolic-v1", auto_reset=False)
    params = env.default_params.replace(max_timesteps=LIMIT)

    def make(recording, num_envs):
        return fnrec.adapters.craftax.recorder(env, recording, num_envs, params)

    # craftax's state is large: capture keeps the player's position and the time only
    content = lambda s: fingerprint((s.player_position, s.timestep))  # noqa: E731
    # Per env only, 8 envs: craftax's own vmapped reset draws another world for an env at batch
    # position 8 or more than for the same key alone (or in a batch of 4, as on a shard), so a
    # larger run cannot equal its shards, and the shared layout is gymnax's (checked there).
    return Case("craftax", make, content=content, heavy=True, sharded=(8, ("per_env",)))


def jumanji() -> Case:
    pytest.importorskip("jumanji")
    from jumanji.environments import Snake

    def make(recording, num_envs):
        return fnrec.adapters.jumanji.recorder(Snake(num_rows=5, num_cols=5), recording, num_envs)

    return Case("jumanji", make, "same_step", time_limit=LIMIT)


def navix() -> Case:
    navix = pytest.importorskip("navix")
    env = navix.make("Navix-Empty-5x5-v0", max_steps=LIMIT)

    def make(recording, num_envs):
        return fnrec.adapters.navix.recorder(env, recording, num_envs)

    return Case("navix", make, "next_step")


def xminigrid() -> Case:
    xminigrid = pytest.importorskip("xminigrid")
    env, params = xminigrid.make("MiniGrid-Empty-5x5")
    params = params.replace(max_steps=LIMIT)

    def make(recording, num_envs):
        return fnrec.adapters.xminigrid.recorder(env, recording, num_envs, params)

    return Case("xminigrid", make)


def brax() -> Case:
    brax_envs = pytest.importorskip("brax.envs")
    from brax.envs.wrappers import training

    env = brax_envs.get_environment("inverted_pendulum", backend="generalized")

    def make(recording, num_envs):
        if num_envs is None:  # one env: brax's own wrappers, unbatched
            wrapped = training.AutoResetWrapper(training.EpisodeWrapper(env, LIMIT, 1))
        else:  # as brax's trainers: EpisodeWrapper, VmapWrapper, AutoResetWrapper
            wrapped = training.wrap(env, episode_length=LIMIT)
        return fnrec.adapters.brax.recorder(wrapped, recording, num_envs)

    return Case("brax", make)


CASES: dict[str, Callable[[], Case]] = {
    "template": template,
    "funcenv": funcenv,
    "gymnax": gymnax,
    "craftax": craftax,
    "jumanji": jumanji,
    "navix": navix,
    "xminigrid": xminigrid,
    "brax": brax,
}


def random_actions(space: gym.Space, key: jax.Array, batch: tuple[int, ...]) -> jax.Array:
    """Jittable random actions of ONE env's `space`, with leading axes `batch`."""
    if isinstance(space, gym.spaces.Discrete):
        return jax.random.randint(key, batch, 0, int(space.n)).astype(jnp.int32)
    if isinstance(space, gym.spaces.Box):
        low = jnp.asarray(np.maximum(space.low, -1.0), jnp.float32)
        high = jnp.asarray(np.minimum(space.high, 1.0), jnp.float32)
        return jax.random.uniform(key, batch + space.shape, minval=low, maxval=high)
    raise TypeError(f"the kit has no sampler for {space}")
