"""fnrec.adapters.navix.recorder with real navix (0.7.4): step types, both layouts, capture."""

from __future__ import annotations

import doctest
import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

navix = pytest.importorskip("navix")
from conftest import decode  # noqa: E402
from families_reference import assert_matches, run_reference, scan_rollout  # noqa: E402

import fnrec  # noqa: E402
from fnrec.adapters.navix import recorder, render  # noqa: E402

N, T = 3, 60
ENVS = ["Navix-Empty-Random-5x5-v0", "Navix-Dynamic-Obstacles-5x5-Random-v0"]


def navix_step(env):
    """The plain loop's step: navix's transition, its step type read as navix documents it."""
    step = jax.jit(env._step)

    def run(timestep, action):
        timestep = step(timestep, jnp.asarray(action))
        kind = int(timestep.step_type)
        return timestep, float(timestep.reward), kind == 2, kind == 1

    return run


def actions(num_envs, seed=0, high=3):
    shape = (T,) if num_envs is None else (T, num_envs)
    return jnp.asarray(np.random.default_rng(seed).integers(0, high, shape), jnp.int32)


@pytest.mark.parametrize("name", ENVS)
@pytest.mark.parametrize("layout", ["shared", "per_env"])
@pytest.mark.parametrize("mode", ["next_step", "same_step"])
def test_equals_plain_loop(name, layout, mode):
    env = navix.make(name, max_steps=9)
    stats = fnrec.stats.episode_statistics(8, autoreset_mode=mode)
    limit = 7 if mode == "same_step" else None  # fnrec's time limit under navix's own
    rec = recorder(
        env, fnrec.Recording(stats, max_episode_steps=limit),
        num_envs=N if layout == "shared" else None,
    )  # fmt: skip
    reset_key, step_keys = jax.random.key(1), jax.random.split(jax.random.key(2), T)
    if layout == "shared":
        state, _ = rec.init(reset_key)
        step = jax.jit(rec.step)
    else:
        state, _ = jax.vmap(rec.init)(jax.random.split(reset_key, N))
        step = lambda s, a, k: jax.vmap(rec.step)(s, a, jax.random.split(k, N))  # noqa: E731
    acts = actions(N)
    state, terminated, truncated, ended = scan_rollout(step, state, acts, step_keys)
    ref = run_reference(
        jax.jit(env.reset), navix_step(env), reset_key, step_keys, np.asarray(acts), N, mode,
        limit,
    )  # fmt: skip
    assert assert_matches(ref, state.stats, terminated, truncated, ended) >= 6
    assert ref.terminated.any() and ref.truncated.any()


def test_next_step_autoreset_steps_as_navix_own_step():
    """In "next_step" mode the step after a done resets (reward 0, not counted), as navix's own
    step does; every other step is navix's own step from the same Timestep."""
    env = navix.make("Navix-Empty-Random-5x5-v0", max_steps=6)
    rec = recorder(env)  # navix's default: "next_step" statistics
    assert rec.spec.autoreset_mode == "next_step"
    state, _ = rec.init(jax.random.PRNGKey(0))  # uint32 keys: comparable leaves
    own_step = jax.jit(env.step)
    step = jax.jit(rec.step)
    dones = 0
    for t in range(30):
        action = jnp.int32(t % 3)
        before = state.env_state
        out = step(state, action, jax.random.PRNGKey(t))
        theirs = own_step(before, action)
        if int(before.step_type) > 0:  # both reset here: reward 0, a fresh episode at t = 0
            assert int(out.state.env_state.t) == 0 and int(theirs.t) == 0
            assert float(out.reward) == 0 and not bool(out.ended.mask)
            dones += 1
        else:
            for x, y in zip(
                jax.tree.leaves(out.state.env_state), jax.tree.leaves(theirs), strict=True
            ):
                np.testing.assert_array_equal(x, y)
            assert bool(out.terminated) == bool(theirs.step_type == 2)
            assert bool(out.truncated) == bool(theirs.step_type == 1)
        state = out.state
    assert dones >= 3


def test_max_steps_reads_as_truncation():
    """navix's own time limit (step type 1). Misread as termination, this test fails."""
    env = navix.make("Navix-Empty-5x5-v0", max_steps=5)  # turning only: never at the goal
    rec = recorder(env, num_envs=2)
    state, _ = rec.init(jax.random.key(0))
    turn = jnp.zeros((T, 2), jnp.int32)
    state, terminated, truncated, _ = scan_rollout(
        rec.step, state, turn, jax.random.split(jax.random.key(1), T)
    )
    queue = fnrec.stats.queues(state.stats)
    assert len(queue["length_queue"]) == 2 * (T // 6)  # 5 steps, then the reset step
    assert not queue["terminated_queue"].any() and (queue["length_queue"] == 5).all()
    assert not np.asarray(terminated).any() and np.asarray(truncated).sum() == 2 * (T // 6)


def test_capture_and_export_with_navix_renderer(tmp_path):
    env = navix.make("Navix-Empty-Random-5x5-v0", max_steps=12)
    capture = fnrec.capture.episode_capture(12, max_episodes=3, watch=(1,), trigger=lambda i: i < 3)
    recording = fnrec.Recording(fnrec.stats.episode_statistics(autoreset_mode="same_step"), capture)
    rec = recorder(env, recording, num_envs=2)
    state, _ = rec.init(jax.random.PRNGKey(0))  # uint32 keys: the states convert to numpy
    state, _, _, ended = scan_rollout(
        rec.step, state, actions(2, seed=5), jax.random.split(jax.random.PRNGKey(1), T)
    )
    result = fnrec.export_videos(state.capture, tmp_path, render, fps=10)
    assert [v.episode_id for v in result.videos] == [0, 1, 2]
    mask = np.asarray(ended.mask)[:, 1]
    assert [v.length for v in result.videos] == np.asarray(ended.length)[:, 1][mask][:3].tolist()
    for video in result.videos:
        frames = decode(video.path)
        assert len(frames) == video.length + 1
        assert frames[0].shape == render(env.reset(jax.random.key(0))).shape  # 5x5 tiles

    # content=render keeps frames instead of states (no key in them: any key type works)
    capture = fnrec.capture.episode_capture(
        12, max_episodes=2, content=render, trigger=lambda i: i < 2
    )
    recording = fnrec.Recording(
        fnrec.stats.episode_statistics(autoreset_mode="next_step"), capture=capture
    )  # navix's default mode, as the recorder's default Recording for navix
    rec = recorder(env, recording, num_envs=2)
    state, _ = rec.init(jax.random.key(0))
    state, *_ = scan_rollout(
        rec.step, state, actions(2, seed=6), jax.random.split(jax.random.key(1), T)
    )
    result = fnrec.export_videos(state.capture, tmp_path / "frames")
    assert len(result.videos) == 2
    assert all(len(decode(v.path)) == v.length + 1 for v in result.videos)


class OtherFamilyEnv:
    """reset and step but no navix _step: another family's env."""

    def reset(self, key): ...
    def step(self, state, action): ...


def test_bad_input_names_the_argument():
    with pytest.raises(TypeError, match="`env` must be a navix Environment"):
        recorder(OtherFamilyEnv())
    with pytest.raises(ValueError, match="`params` must be None for navix"):
        recorder(navix.make("Navix-Empty-5x5-v0"), params={"max_steps": 3})
    rec = recorder(navix.make("Navix-Empty-5x5-v0"), num_envs=3)
    state, _ = rec.init(jax.random.key(0))
    with pytest.raises(
        ValueError, match=r"`action` must have one entry per env, shape \(3, \.\.\.\)"
    ):
        rec.step(state, jnp.zeros(2, jnp.int32), jax.random.key(1))
    with pytest.raises(ValueError, match=r"do not jax\.vmap it"):
        jax.vmap(rec.step, in_axes=(None, 0, None))(
            state, jnp.zeros((2, 3), jnp.int32), jax.random.key(1)
        )
    with pytest.raises(TypeError, match="`state` must be the Recorded state"):
        rec.step(state.env_state, jnp.zeros(3, jnp.int32), jax.random.key(1))


def test_docstring_example():
    module = importlib.import_module("fnrec.adapters.navix")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
