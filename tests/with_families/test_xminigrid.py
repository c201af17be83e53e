"""fnrec.adapters.xminigrid.recorder with real XLand-MiniGrid (xminigrid 0.9.3)."""

from __future__ import annotations

import doctest
import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

xminigrid = pytest.importorskip("xminigrid")
from conftest import decode  # noqa: E402
from families_reference import assert_matches, run_reference, scan_rollout  # noqa: E402
from xminigrid.wrappers import GymAutoResetWrapper  # noqa: E402

import fnrec  # noqa: E402
from fnrec.adapters.xminigrid import recorder  # noqa: E402

N, T = 3, 60


def make(name="MiniGrid-EmptyRandom-5x5", max_steps=9):
    env, params = xminigrid.make(name)
    return env, params.replace(max_steps=max_steps)


def xminigrid_step(env, params):
    """The plain loop's step: xminigrid's TimeStep, LAST with discount 0 / 1."""
    step = jax.jit(env.step)

    def run(timestep, action):
        timestep = step(params, timestep, action)
        last = int(timestep.step_type) == 2
        discount = float(timestep.discount)
        return timestep, float(timestep.reward), last and discount == 0, last and discount == 1

    return run


def actions(num_envs, seed=0, high=3):
    shape = (T,) if num_envs is None else (T, num_envs)
    return jnp.asarray(np.random.default_rng(seed).integers(0, high, shape), jnp.int32)


@pytest.mark.parametrize("layout", ["shared", "per_env"])
@pytest.mark.parametrize("mode", ["same_step", "next_step"])
def test_equals_plain_loop(layout, mode):
    env, params = make()
    stats = fnrec.stats.episode_statistics(8, autoreset_mode=mode)
    limit = 7 if mode == "next_step" else None  # fnrec's time limit under the env's own
    rec = recorder(
        env, fnrec.Recording(stats, max_episode_steps=limit),
        num_envs=N if layout == "shared" else None, params=params,
    )  # fmt: skip
    reset_key, step_keys = jax.random.key(1), jax.random.split(jax.random.key(2), T)
    if layout == "shared":
        state, _ = rec.init(reset_key)
        step = rec.step
    else:
        state, _ = jax.vmap(rec.init)(jax.random.split(reset_key, N))
        vmapped = jax.vmap(rec.step)
        step = lambda s, a, k: vmapped(s, a, jax.random.split(k, N))  # noqa: E731
    acts = actions(N)
    state, terminated, truncated, ended = scan_rollout(step, state, acts, step_keys)
    reset = jax.jit(env.reset)
    ref = run_reference(
        lambda key: reset(params, key), xminigrid_step(env, params), reset_key, step_keys,
        np.asarray(acts), N, mode, limit,
    )  # fmt: skip
    assert assert_matches(ref, state.stats, terminated, truncated, ended) >= 6
    assert ref.terminated.any() and ref.truncated.any()


def test_max_steps_reads_as_truncation():
    """params.max_steps: LAST with discount 1. Misread as termination, this test fails."""
    env, params = make("MiniGrid-Empty-8x8", max_steps=6)
    rec = recorder(env, num_envs=2, params=params)
    state, _ = rec.init(jax.random.key(0))
    turn = jnp.ones((T, 2), jnp.int32)  # turning only: never at the goal
    state, terminated, truncated, _ = scan_rollout(
        rec.step, state, turn, jax.random.split(jax.random.key(1), T)
    )
    queue = fnrec.stats.queues(state.stats)
    assert len(queue["length_queue"]) == 2 * (T // 6)
    assert not queue["terminated_queue"].any() and (queue["length_queue"] == 6).all()
    assert not np.asarray(terminated).any() and np.asarray(truncated).sum() == 2 * (T // 6)


def test_capture_and_export_with_xminigrid_renderer(tmp_path):
    env, params = make(max_steps=12)
    capture = fnrec.capture.episode_capture(12, max_episodes=3, watch=(0,), trigger=lambda i: i < 3)
    rec = recorder(env, fnrec.Recording(capture=capture), num_envs=2, params=params)
    state, _ = rec.init(jax.random.PRNGKey(0))  # uint32 keys: numpy-convertible
    state, _, _, ended = scan_rollout(
        rec.step, state, actions(2, seed=4), jax.random.split(jax.random.PRNGKey(1), T)
    )
    result = fnrec.export_videos(
        state.capture, tmp_path, lambda ts: env.render(params, ts), on_device=False, fps=10
    )
    assert [v.episode_id for v in result.videos] == [0, 1, 2]
    mask = np.asarray(ended.mask)[:, 0]
    assert [v.length for v in result.videos] == np.asarray(ended.length)[:, 0][mask][:3].tolist()
    for video in result.videos:
        frames = decode(video.path)
        assert len(frames) == video.length + 1
        assert frames[0].ndim == 3 and frames[0].shape[2] == 3


def test_bad_input_names_the_argument():
    env, params = make()
    with pytest.raises(ValueError, match="`env` must not reset itself, got GymAutoResetWrapper"):
        recorder(GymAutoResetWrapper(env), params=params)

    class OtherFamilyEnv:
        def reset(self, key): ...
        def step(self, state, action): ...

    with pytest.raises(TypeError, match="`env` must be a xminigrid Environment"):
        recorder(OtherFamilyEnv())
    rec = recorder(env, num_envs=3, params=params)
    state, _ = rec.init(jax.random.key(0))
    with pytest.raises(
        ValueError, match=r"`action` must have one entry per env, shape \(3, \.\.\.\)"
    ):
        rec.step(state, jnp.zeros(2, jnp.int32), jax.random.key(1))
    with pytest.raises(ValueError, match="`key` must be ONE PRNG key"):
        rec.init(jax.random.split(jax.random.key(0), 3))
    with pytest.raises(TypeError, match="`state` must be the Recorded state"):
        rec.step(state.env_state, jnp.zeros(3, jnp.int32), jax.random.key(1))


def test_docstring_example():
    module = importlib.import_module("fnrec.adapters.xminigrid")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
