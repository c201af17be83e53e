"""fnrec.adapters.craftax.recorder with real craftax (1.6.1): the time limit read as truncation."""

from __future__ import annotations

import doctest
import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

pytest.importorskip("craftax")
from conftest import decode
from craftax.craftax_classic.constants import BLOCK_PIXEL_SIZE_AGENT
from craftax.craftax_classic.renderer import make_craftax_pixel_renderer
from craftax.craftax_env import make_craftax_env_from_name
from families_reference import assert_matches, run_reference, scan_rollout

import fnrec
from fnrec.adapters import GymnaxAdapter
from fnrec.adapters.craftax import recorder, with_truncation

N, T, LIMIT = 2, 45, 20
NAME = "Craftax-Classic-Symbolic-v1"


def make(auto_reset=False, limit=LIMIT):
    env = make_craftax_env_from_name(NAME, auto_reset=auto_reset)
    return env, env.default_params.replace(max_timesteps=limit)


def gymnax_rollout(adapter, params, state, actions, keys):
    """A scan of gymnax's ``step(key, state, action, params)`` (5 values, craftax's own)."""

    def body(state, xs):
        action, key = xs
        _, state, _, done, info = adapter.step(key, state, action, params)
        return state, (info["terminated"], info["truncated"], done)

    return jax.jit(lambda s: jax.lax.scan(body, s, (actions, keys)))(state)


@pytest.mark.parametrize("layout", ["shared", "gymnax_signatures"])
def test_equals_craftax_own_autoreset_loop(layout):
    """The reference steps craftax's own auto-reset env; a done is a truncation when the step
    reached max_timesteps with the player alive (read off the state before the step). The
    per-env layout (``jax.vmap``) equals the shared one env for env: the conformance kit's
    ``TestCraftax`` checks that, so it is not compiled again here (craftax compiles slowly).

    "gymnax_signatures" steps ``GymnaxAdapter(with_truncation(env))`` (craftax_baselines'
    LogWrapper swap) with craftax's own ``step(key, state, action, params)``: its ``done`` is
    terminated or truncated, the two apart in its info."""
    env, params = make()
    own, _ = make(auto_reset=True)
    reset_key, keys = jax.random.key(1), jax.random.split(jax.random.key(2), T)
    actions = jnp.asarray(np.random.default_rng(0).integers(0, 17, (T, N)), jnp.int32)
    if layout == "gymnax_signatures":
        adapter = GymnaxAdapter(with_truncation(env), num_envs=N, step_api="done")
        _, state = adapter.reset(reset_key, params)
        state, (terminated, truncated, done) = gymnax_rollout(adapter, params, state, actions, keys)
    else:
        rec = recorder(env, num_envs=N, params=params)
        state, _ = rec.init(reset_key)
        state, terminated, truncated, ended = scan_rollout(rec.step, state, actions, keys)
        done = ended.mask
    own_step, own_reset = jax.jit(own.step), jax.jit(own.reset)

    def step(state, action, key):
        before = int(state.timestep)
        _, state, reward, done, _ = own_step(key, state, action, params)
        timed_out = before + 1 >= LIMIT
        return state, float(reward), bool(done) and not timed_out, bool(done) and timed_out

    ref = run_reference(
        lambda key: own_reset(key, params)[1], step, reset_key, keys, np.asarray(actions), N,
        self_resetting=True, keyed_step=True,
    )  # fmt: skip
    assert assert_matches(ref, state.stats, terminated, truncated) >= 4
    np.testing.assert_array_equal(np.asarray(done), np.asarray(terminated | truncated))
    assert np.asarray(truncated).sum() >= 4


def test_time_limit_is_truncation_and_death_is_termination():
    """Without the recorder's reading every done would be a termination (gymnax 0.0.x rule)."""
    env, params = make()
    rec = recorder(env, num_envs=N, params=params)
    state, _ = rec.init(jax.random.key(0))
    noop = jnp.zeros((LIMIT, N), jnp.int32)
    state, terminated, truncated, _ = scan_rollout(
        rec.step, state, noop, jax.random.split(jax.random.key(1), LIMIT)
    )
    queue = fnrec.stats.queues(state.stats)
    assert queue["length_queue"].tolist() == [LIMIT] * N
    assert not queue["terminated_queue"].any() and np.asarray(truncated)[-1].all()
    assert not np.asarray(terminated).any()
    # the player dies (health 0): a termination, also on the last allowed step
    for steps_before in (0, LIMIT - 1):
        env_state = state.env_state.replace(
            player_health=jnp.zeros_like(state.env_state.player_health),
            timestep=jnp.full(N, steps_before, jnp.int32),
        )
        # jitted: fnrec's core cannot cast craftax's typed-key state_rng eagerly (see notes)
        out = jax.jit(rec.step)(
            state._replace(env_state=env_state), jnp.zeros(N, jnp.int32), jax.random.key(2)
        )
        assert np.asarray(out.ended.mask).all() and np.asarray(out.terminated).all()
        assert not np.asarray(out.truncated).any()


def test_capture_and_export_with_craftax_renderer(tmp_path):
    env, params = make(limit=10)
    capture = fnrec.capture.episode_capture(10, max_episodes=2, watch=(0,), trigger=lambda i: i < 2)
    rec = recorder(env, fnrec.Recording(capture=capture), num_envs=N, params=params)
    state, _ = rec.init(jax.random.PRNGKey(0))
    actions = jnp.asarray(np.random.default_rng(1).integers(0, 17, (25, N)), jnp.int32)
    state, *_ = scan_rollout(rec.step, state, actions, jax.random.split(jax.random.PRNGKey(1), 25))
    pixels = make_craftax_pixel_renderer(BLOCK_PIXEL_SIZE_AGENT)  # craftax's smallest textures
    result = fnrec.export_videos(state.capture, tmp_path, lambda s: pixels(s).astype(jnp.uint8))
    assert [(v.episode_id, v.length, v.truncated) for v in result.videos] == [
        (0, 10, True),
        (1, 10, True),
    ]
    for video in result.videos:
        assert len(decode(video.path)) == video.length + 1


def test_bad_input_names_the_argument():
    import gymnax

    cartpole = gymnax.make("CartPole-v1")[0]
    with pytest.raises(TypeError, match="`env` must be a craftax environment"):
        recorder(cartpole)
    with pytest.raises(TypeError, match="`env` must be a craftax environment"):
        with_truncation(cartpole)
    env, params = make()
    rec = recorder(env, num_envs=2, params=params)
    state, _ = rec.init(jax.random.key(0))
    with pytest.raises(
        ValueError, match=r"`action` must have one entry per env, shape \(2, \.\.\.\)"
    ):
        rec.step(state, jnp.zeros(3, jnp.int32), jax.random.key(1))


def test_docstring_example():
    module = importlib.import_module("fnrec.adapters.craftax")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
