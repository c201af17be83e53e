"""fnrec.adapters.BraxAdapter with real brax (and MuJoCo Playground if installed).

Run in the brax environment (brax>=0.12; optional: playground).
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

brax_envs = pytest.importorskip("brax.envs")
from brax.envs.wrappers import training  # noqa: E402
from conformance import Rollout, assert_matches_reference  # noqa: E402

import fnrec  # noqa: E402
from fnrec.adapters import BraxAdapter  # noqa: E402

EPISODE_LENGTH = 20


def rollout(env, num_envs, num_steps, batched, seed=0):
    """Random actions in one jitted lax.scan; returns the final state and each step's info."""
    action_size = env.action_size
    if batched:
        state = jax.jit(env.reset)(jax.random.split(jax.random.PRNGKey(seed), num_envs))
        step = env.step
    else:
        state = jax.jit(jax.vmap(env.reset))(jax.random.split(jax.random.PRNGKey(seed), num_envs))
        step = jax.vmap(env.step)

    def body(state, key):
        action = jax.random.uniform(key, (num_envs, action_size), minval=-1, maxval=1)
        state = step(state, action)
        info = {k: state.info[k] for k in ("episode", "_episode", "truncation", "episode_metrics")}
        info["reward"] = state.reward
        return state, (info, state.done)

    keys = jax.random.split(jax.random.PRNGKey(seed + 1), num_steps)
    return jax.jit(lambda s: jax.lax.scan(body, s, keys))(state)


def check_against_episode_wrapper(info, done):
    """Our finished episodes equal brax EpisodeWrapper's own sum_reward/length at done steps."""
    mask = np.asarray(info["_episode"])
    assert mask.any()
    np.testing.assert_array_equal(mask, np.asarray(done) != 0)
    metrics = info["episode_metrics"]
    np.testing.assert_allclose(
        np.asarray(info["episode"]["r"])[mask], np.asarray(metrics["sum_reward"])[mask], rtol=1e-6
    )
    np.testing.assert_array_equal(
        np.asarray(info["episode"]["l"])[mask], np.asarray(metrics["length"])[mask]
    )
    truncated = np.asarray(info["truncation"]) != 0
    np.testing.assert_array_equal(np.asarray(info["episode"]["l"])[truncated], EPISODE_LENGTH)
    return mask


@pytest.mark.parametrize("batched", [True, False], ids=["vmapwrapper", "jaxvmap"])
def test_inverted_pendulum(batched, x64):
    env = brax_envs.get_environment("inverted_pendulum", backend="generalized")
    if batched:  # EpisodeWrapper + VmapWrapper + AutoResetWrapper, as brax's trainers use
        env = training.wrap(env, episode_length=EPISODE_LENGTH)
    else:
        env = training.AutoResetWrapper(training.EpisodeWrapper(env, EPISODE_LENGTH, 1))
    env = BraxAdapter(env, fnrec.Recording(fnrec.stats.episode_statistics(1000)))
    num_envs = 4
    state, (info, done) = rollout(env, num_envs, 80, batched)
    mask = check_against_episode_wrapper(info, done)
    stats = state.info["episode_stats"]
    trunc = np.asarray(info["truncation"]) != 0
    term = (np.asarray(done) != 0) & ~trunc
    ended = fnrec.EpisodeEnded(mask, info["episode"]["r"], info["episode"]["l"], term, trunc)
    rollout_ = Rollout(info["reward"], term, trunc, ended, stats)
    assert assert_matches_reference(rollout_, "same_step", 1000) == mask.sum() > 0
    if batched:  # one queue for the batch, in step then env-index order
        queues = fnrec.stats.queues(stats)
        np.testing.assert_array_equal(
            queues["length_queue"], np.asarray(info["episode"]["l"])[mask]
        )
        np.testing.assert_allclose(queues["return_queue"], np.asarray(info["episode"]["r"])[mask])
        assert fnrec.stats.episode_count(stats) == mask.sum()
        np.testing.assert_array_equal(
            queues["terminated_queue"], ~(np.asarray(info["truncation"]) != 0)[mask]
        )
    else:  # jax.vmap: one queue per env
        for i, queue in enumerate(fnrec.stats.queues(stats)):
            np.testing.assert_array_equal(
                queue["length_queue"], np.asarray(info["episode"]["l"])[:, i][mask[:, i]]
            )
    # The wrapper passes brax's attributes through.
    assert env.action_size == 1 and env.observation_size == 4


def test_errors():
    env = brax_envs.get_environment("inverted_pendulum", backend="generalized")
    with pytest.raises(TypeError, match="brax Env"):
        BraxAdapter(object())
    with pytest.raises(ValueError, match="buffer_length"):
        BraxAdapter(env, fnrec.Recording(fnrec.stats.episode_statistics(0)))
    with pytest.raises(
        ValueError, match=r"must reset itself: wrap it with brax\.envs\.training\.wrap"
    ):
        BraxAdapter(env)
    env = training.AutoResetWrapper(training.EpisodeWrapper(env, EPISODE_LENGTH, 1))
    state = env.reset(jax.random.PRNGKey(0))
    with pytest.raises(ValueError, match="this wrapper's reset"):
        BraxAdapter(env).step(state, np.zeros(1))
    with pytest.raises(ValueError, match="`params` must be None for brax"):
        fnrec.adapters.brax.recorder(env, params={})
    adapter = BraxAdapter(env)
    for key in (None, 5, np.zeros(2, np.float32)):
        with pytest.raises(TypeError, match="`rng` must be a PRNG key"):
            adapter.reset(key)
    recorded = adapter.reset(jax.random.PRNGKey(0))
    for action in (None, "left", {"a": 1}):
        with pytest.raises(TypeError, match="`action` must be an array"):
            adapter.step(recorded, action)
    listed = adapter.step(recorded, [0.5])  # a list is an array
    np.testing.assert_array_equal(
        listed.obs, adapter.step(recorded, np.array([0.5], np.float32)).obs
    )


def test_mujoco_playground():
    pytest.importorskip("mujoco_playground")
    from mujoco_playground import registry, wrapper

    env = registry.load("CartpoleBalance")
    env = wrapper.wrap_for_brax_training(env, episode_length=EPISODE_LENGTH)
    env = BraxAdapter(env, fnrec.Recording(fnrec.stats.episode_statistics(100)))
    state, (info, done) = rollout(env, 2, 45, batched=True)
    mask = check_against_episode_wrapper(info, done)
    assert fnrec.stats.episode_count(state.info["episode_stats"]) == mask.sum() == 4


def test_docstring_example():
    import doctest

    import fnrec.adapters.brax

    result = doctest.testmod(fnrec.adapters.brax)
    assert result.attempted > 0 and result.failed == 0
