"""GymnaxAdapter over bare gymnax envs: equal to gymnax's own step, and capture + export."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

gymnax = pytest.importorskip("gymnax")
from capture_reference import ReferenceCapture  # noqa: E402
from conftest import assert_same_video  # noqa: E402
from gymnax.wrappers.purerl import LogWrapper  # noqa: E402

import fnrec  # noqa: E402
from fnrec.adapters import GymnaxAdapter  # noqa: E402


@pytest.mark.parametrize("name", ["CartPole-v1", "Acrobot-v1", "Breakout-MinAtar"])
def test_bare_env_steps_exactly_as_gymnax(name):
    """The recorder calls step_env/reset_env itself, jitted as gymnax's step is (params traced,
    not folded as Python floats): every step equals gymnax's own, bit for bit."""
    env, params = gymnax.make(name)
    if name in ("CartPole-v1", "Acrobot-v1"):  # short time limit: truncations happen too
        params = params.replace(max_steps_in_episode=25)
    adapter = GymnaxAdapter(env)
    assert adapter.bare
    num_actions = env.action_space(params).n

    def body(carry, key):
        ours, theirs = carry
        action_key, step_key = jax.random.split(key)
        action = jax.random.randint(action_key, (), 0, num_actions)
        a = adapter.step(step_key, ours._replace(env_state=theirs), action, params)
        b = env.step(step_key, theirs, action, params)
        return (a[1], b[1]), (a, b)

    key = jax.random.key(3)
    _, ours = adapter.reset(key, params)
    _, theirs = env.reset(key, params)
    for x, y in zip(jax.tree.leaves(ours.env_state), jax.tree.leaves(theirs), strict=True):
        np.testing.assert_array_equal(x, y)
    keys = jax.random.split(jax.random.key(4), 300)
    _, (a, b) = jax.jit(lambda c: jax.lax.scan(body, c, keys))((ours, theirs))
    close = np.testing.assert_array_equal
    for x, y in zip(jax.tree.leaves(a[1].env_state), jax.tree.leaves(b[1]), strict=True):
        close(x, y)
    close(a[0], b[0])
    close(a[5]["final_observation"], b[5]["final_observation"])
    for i in (2, 3, 4):  # reward, terminated, truncated
        np.testing.assert_array_equal(a[i], b[i])
    assert np.asarray(a[3] | a[4]).sum() > 2


def test_capture_watched_env_and_export(tmp_path):
    env, params = gymnax.make("CartPole-v1")
    params = params.replace(max_steps_in_episode=30)
    num_envs, num_steps, limit = 6, 120, 30
    trigger = fnrec.schedules.every(2)
    capture = fnrec.capture.episode_capture(limit, 8, watch=(1, 4), trigger=trigger)
    adapter = GymnaxAdapter(env, fnrec.Recording(capture=capture), num_envs=num_envs)
    obs, state = adapter.reset(jax.random.key(0), params)

    def body(state, key):
        action_key, step_key = jax.random.split(key)
        action = jax.random.randint(action_key, (num_envs,), 0, 2)
        obs, state, _, _, _, info = adapter.step(step_key, state, action, params)
        ended = fnrec.stats.EpisodeEnded(
            info["_episode"], info["episode"]["r"], info["episode"]["l"],
            info["terminated"] & info["_episode"], info["truncated"] & info["_episode"],
        )  # fmt: skip
        return state, (ended, info["final_observation"], obs)

    keys = jax.random.split(jax.random.key(1), num_steps)
    state, (ended, finals, afters) = jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)
    ended, finals, afters = jax.device_get((ended, finals, afters))
    reference = ReferenceCapture(num_envs, limit, 8, (1, 4), trigger)
    reference.init(list(np.asarray(obs)))
    for t in range(num_steps):
        step_ended = [tuple(np.asarray(f)[t, e].item() for f in ended) for e in range(num_envs)]
        reference.step(step_ended, list(finals[t]), list(afters[t]), "same_step")
    assert len(reference.stored) >= 4

    # fnrec.render.cartpole draws gymnax's EnvState and the observation (the same numbers) alike.
    result = fnrec.export_videos(state.capture, tmp_path, fnrec.render.cartpole, fps=50)
    assert [(v.env, v.episode_id, v.length) for v in result.videos] == [
        (e["env"], e["episode_id"], e["length"]) for e in reference.stored[:8]
    ]
    render = jax.jit(jax.vmap(fnrec.render.cartpole))
    for video, want in zip(result.videos, reference.stored, strict=False):
        assert video.path.name == f"rl-video-env-{video.env}-episode-{video.episode_id}.mp4"
        assert_same_video(video.path, list(np.asarray(render(jnp.asarray(want["frames"])))))


def test_capture_behind_gymnax_wrappers_is_refused():
    env, _ = gymnax.make("CartPole-v1")
    capture = fnrec.capture.episode_capture(10)
    with pytest.raises(
        ValueError, match=r"needs the env state before gymnax's autoreset.*LogWrapper"
    ):
        GymnaxAdapter(LogWrapper(env), fnrec.Recording(capture=capture))
    with pytest.raises(ValueError, match="autoreset_mode='same_step'"):
        fnrec.adapters.gymnax.recorder(
            env, fnrec.Recording(fnrec.stats.episode_statistics(autoreset_mode="next_step"))
        )


def test_shared_layout_equals_vmapped_gymnax_over_split_keys():
    """num_envs=N is, env for env, gymnax's own step vmapped over jax.random.split(key, N)."""
    env, params = gymnax.make("CartPole-v1")
    params = params.replace(max_steps_in_episode=25)
    shared = GymnaxAdapter(env, num_envs=5)
    key = jax.random.key(7)
    _, ours = shared.reset(key, params)
    _, theirs = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, 5), params)
    step = jax.jit(lambda s, a, k: shared.step(k, s, a, params))
    their_step = jax.jit(jax.vmap(env.step, in_axes=(0, 0, 0, None)))
    for t in range(60):
        key = jax.random.fold_in(key, t)
        action = jnp.arange(5) % 2 if t % 2 else jnp.zeros(5, jnp.int32)
        a = step(ours, action, key)
        b = their_step(jax.random.split(key, 5), theirs, action, params)
        ours, theirs = a[1], b[1]
        # two separately compiled programs may fuse (and round) differently in the last bit
        for x, y in zip(jax.tree.leaves(ours.env_state), jax.tree.leaves(theirs), strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(a[3], b[3])
        np.testing.assert_array_equal(a[4], b[4])
