"""fnrec.adapters.jumanji.recorder with real jumanji (1.1.2): bare envs and AutoResetWrapper."""

from __future__ import annotations

import doctest
import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

jumanji = pytest.importorskip("jumanji")
from conftest import decode  # noqa: E402
from families_reference import assert_matches, run_reference, scan_rollout  # noqa: E402
from jumanji.environments import LevelBasedForaging, Snake  # noqa: E402
from jumanji.environments.routing.snake.viewer import SnakeViewer  # noqa: E402
from jumanji.wrappers import (  # noqa: E402
    AutoResetWrapper,
    MultiToSingleWrapper,
    VmapAutoResetWrapper,
    VmapWrapper,
)

import fnrec  # noqa: E402
from fnrec.adapters.jumanji import recorder  # noqa: E402

N, T = 3, 60


def snake():
    return Snake(num_rows=5, num_cols=5, time_limit=30)


def lbf():
    """LevelBasedForaging ends its own time limit with a LAST step of discount 1: truncation."""
    return MultiToSingleWrapper(LevelBasedForaging(time_limit=7))


def jumanji_step(env):
    """The plain loop's step: jumanji's own TimeStep, read as dm_env defines it."""
    step = jax.jit(env.step)

    def run(state, action):
        state, ts = step(state, action)
        last = int(ts.step_type) == 2
        return state, float(ts.reward), last and float(ts.discount) == 0, last and ts.discount > 0

    return run


def jumanji_reset(env):
    reset = jax.jit(env.reset)
    return lambda key: reset(key)[0]


def actions_for(env, num_envs, seed=0):
    spec = env.action_spec
    rng = np.random.default_rng(seed)
    shape = (T,) + (() if num_envs is None else (num_envs,)) + tuple(spec.shape)
    return jnp.asarray(rng.integers(0, np.asarray(spec.num_values).max(), shape), jnp.int32)


@pytest.mark.parametrize("make", [snake, lbf], ids=["snake", "lbf"])
@pytest.mark.parametrize("layout", ["shared", "per_env"])
@pytest.mark.parametrize("mode", ["same_step", "next_step"])
def test_bare_env_equals_plain_loop(make, layout, mode):
    env = make()
    limit = 12 if make is snake else None  # fnrec's time limit on top of Snake's own
    stats = fnrec.stats.episode_statistics(8, autoreset_mode=mode)
    rec = recorder(
        env, fnrec.Recording(stats, max_episode_steps=limit),
        num_envs=N if layout == "shared" else None,
    )  # fmt: skip
    reset_key, step_keys = jax.random.key(1), jax.random.split(jax.random.key(2), T)
    actions = actions_for(env, N)
    if layout == "shared":
        state, _ = rec.init(reset_key)
        step = rec.step
    else:
        state, _ = jax.vmap(rec.init)(jax.random.split(reset_key, N))
        vmapped = jax.vmap(rec.step)
        step = lambda s, a, k: vmapped(s, a, jax.random.split(k, N))  # noqa: E731
    state, terminated, truncated, ended = scan_rollout(step, state, actions, step_keys)
    ref = run_reference(
        jumanji_reset(env), jumanji_step(env), reset_key, step_keys, np.asarray(actions), N,
        mode, limit,
    )  # fmt: skip
    assert assert_matches(ref, state.stats, terminated, truncated, ended) >= 4


def test_env_time_limit_reads_as_truncation():
    """LBF's time limit: LAST with discount 1. Misread as termination, this test fails."""
    rec = recorder(lbf(), num_envs=2)
    state, _ = rec.init(jax.random.key(0))
    zeros = jnp.zeros((T, 2, 2), jnp.int32)  # stay put: nothing is eaten, the limit ends it
    state, terminated, truncated, _ = scan_rollout(
        rec.step, state, zeros, jax.random.split(jax.random.key(1), T)
    )
    queue = fnrec.stats.queues(state.stats)
    assert len(queue["length_queue"]) >= 8
    assert not queue["terminated_queue"].any()
    assert (queue["length_queue"] == 7).all()
    assert not np.asarray(terminated).any()
    assert np.asarray(truncated).sum() == len(queue["length_queue"])


@pytest.mark.parametrize("layout", ["unbatched", "shared", "per_env", "vmap_wrapper"])
def test_autoreset_wrapper_equals_plain_loop(layout):
    """An env that resets itself is recorded as it steps; the reference steps the same wrapper."""
    base = lbf() if layout != "per_env" else snake()
    env = VmapAutoResetWrapper(base) if layout == "vmap_wrapper" else AutoResetWrapper(base)
    num_envs = None if layout in ("unbatched", "per_env") else N
    rec = recorder(env, num_envs=num_envs)
    assert fnrec.adapters.jumanji.env_fns(env, num_envs).resets_itself
    reset_key, step_keys = jax.random.key(3), jax.random.split(jax.random.key(4), T)
    actions = actions_for(base, None if layout == "unbatched" else N, seed=1)
    # stepped without a key: a jumanji env that resets itself draws from none
    if layout == "per_env":
        state, _ = jax.vmap(rec.init)(jax.random.split(reset_key, N))
        step = lambda s, a, k: jax.vmap(rec.step)(s, a)  # noqa: E731
    else:
        state, _ = rec.init(reset_key)
        step = lambda s, a, k: rec.step(s, a)  # noqa: E731
    state, terminated, truncated, ended = scan_rollout(step, state, actions, step_keys)
    ref_env = AutoResetWrapper(base)
    ref = run_reference(
        jumanji_reset(ref_env), jumanji_step(ref_env), reset_key, step_keys, np.asarray(actions),
        None if layout == "unbatched" else N, self_resetting=True,
    )  # fmt: skip
    assert assert_matches(ref, state.stats, terminated, truncated, ended) >= 3


def test_capture_and_export_with_jumanji_viewer(tmp_path):
    limit = 16
    env = Snake(num_rows=5, num_cols=5, time_limit=limit)
    capture = fnrec.capture.episode_capture(
        limit, max_episodes=3, watch=(0,), trigger=lambda i: i < 3
    )
    rec = recorder(env, fnrec.Recording(capture=capture), num_envs=2)
    # PRNGKey: uint32 keys in jumanji's State, so the captured states convert to numpy
    state, _ = rec.init(jax.random.PRNGKey(0))
    actions = actions_for(env, 2, seed=3)
    state, _, _, ended = scan_rollout(
        rec.step, state, actions, jax.random.split(jax.random.PRNGKey(1), T)
    )
    viewer = SnakeViewer(render_mode="rgb_array")
    result = fnrec.export_videos(
        state.capture, tmp_path, lambda s: viewer.render(s)[..., :3], on_device=False, fps=10
    )
    viewer.close()
    assert [v.episode_id for v in result.videos] == [0, 1, 2]
    env0 = np.asarray(ended.mask)[:, 0]
    lengths = np.asarray(ended.length)[:, 0][env0][:3]
    assert [v.length for v in result.videos] == lengths.tolist()
    for video in result.videos:
        frames = decode(video.path)
        assert len(frames) == video.length + 1
        assert frames[0].shape[2] == 3


def test_bad_input_names_the_argument():
    class NotJumanji:
        def reset(self, key): ...
        def step(self, state, action): ...

    with pytest.raises(TypeError, match="`env` must be a jumanji Environment"):
        recorder(NotJumanji())
    with pytest.raises(ValueError, match="`num_envs` must be the batch size"):
        recorder(VmapAutoResetWrapper(snake()))
    with pytest.raises(ValueError, match="vmapped but does not reset itself"):
        recorder(VmapWrapper(snake()), num_envs=2)
    with pytest.raises(
        ValueError, match=r"`recording\.capture` needs the state before jumanji's autoreset"
    ):
        recorder(
            AutoResetWrapper(snake()), fnrec.Recording(capture=fnrec.capture.episode_capture(10))
        )
    with pytest.raises(ValueError, match="`max_episode_steps` needs fnrec to reset"):
        recorder(AutoResetWrapper(snake()), fnrec.Recording(max_episode_steps=10))
    next_step = fnrec.Recording(fnrec.stats.episode_statistics(autoreset_mode="next_step"))
    with pytest.raises(ValueError, match="autoreset_mode='same_step'"):
        recorder(AutoResetWrapper(snake()), next_step)
    with pytest.raises(ValueError, match="`params` must be None for jumanji"):
        recorder(snake(), params={"time_limit": 3})
    rec = recorder(snake(), num_envs=3)
    state, _ = rec.init(jax.random.key(0))
    with pytest.raises(
        ValueError, match=r"`action` must have one entry per env, shape \(3, \.\.\.\)"
    ):
        rec.step(state, jnp.zeros(2, jnp.int32), jax.random.key(1))
    # A bare env needs a key for its resets: without one, the step draws from the state's own,
    # and a state that carries none names the fix.
    out = rec.step(state, jnp.zeros(3, jnp.int32))
    assert not np.array_equal(jax.random.key_data(out.state.key), jax.random.key_data(state.key))
    with pytest.raises(ValueError, match="`key` is None and `state` carries no key"):
        rec.step(state._replace(key=None), jnp.zeros(3, jnp.int32))
    with pytest.raises(ValueError, match="`key` must be ONE PRNG key"):
        rec.init(jax.random.split(jax.random.key(0), 3))
    with pytest.raises(TypeError, match="`state` must be the Recorded state"):
        rec.step(state.env_state, jnp.zeros(3, jnp.int32), jax.random.key(1))


def test_docstring_example():
    module = importlib.import_module("fnrec.adapters.jumanji")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
