"""Gymnasium host envs over the gymnax adapter: the guide's loops, RecordVideo, env checker."""

from __future__ import annotations

import gymnasium as gym
import jax
import numpy as np
import pytest

gymnax = pytest.importorskip("gymnax")
from conftest import decode  # noqa: E402
from gymnasium.utils.env_checker import check_env  # noqa: E402

import fnrec  # noqa: E402
from fnrec.adapters.gymnax import recorder  # noqa: E402


def cartpole(limit=30):
    env, params = gymnax.make("CartPole-v1")
    return env, params.replace(max_steps_in_episode=limit)


def test_vector_env_over_gymnax_reports_what_the_adapter_records():
    env, params = cartpole()
    envs = fnrec.FunctionalVectorEnv(recorder(env, num_envs=4, params=params))
    assert envs.num_envs == 4 and envs.single_action_space == gym.spaces.Discrete(2)
    assert envs.single_observation_space.shape == (4,)
    assert envs.metadata["autoreset_mode"] == gym.vector.AutoresetMode.SAME_STEP
    obs, _ = envs.reset(seed=0)
    assert obs.shape == (4, 4)
    lengths = []
    for _ in range(100):
        obs, _, terminated, truncated, info = envs.step(envs.action_space.sample())
        if "episode" in info:
            mask = info["_episode"]
            np.testing.assert_array_equal(mask, terminated | truncated)
            lengths.extend(info["episode"]["l"][mask].tolist())
            assert (info["episode"]["t"][mask] >= 0).all()
            assert "final_obs" in info and info["_final_obs"].any()
    assert len(lengths) == envs.episode_count > 4
    assert list(envs.length_queue) == lengths[-100:]
    assert max(lengths) <= 30


def test_single_env_passes_gymnasiums_checker():
    env, params = cartpole()
    single = fnrec.FunctionalEnv(recorder(env, params=params))
    check_env(single, skip_render_check=True)


def test_record_video_over_gymnax_keeps_final_frames(tmp_path):
    env, params = cartpole(limit=12)
    envs = fnrec.FunctionalVectorEnv(
        recorder(env, num_envs=2, params=params),
        render_mode="rgb_array",
        render=jax.jit(fnrec.render.cartpole),  # gymnax's EnvState, drawn by fnrec
        metadata={"render_fps": 50},
    )
    envs = fnrec.wrappers.vector.RecordVideo(envs, tmp_path, episode_trigger=lambda i: i < 2)
    envs.reset(seed=0)
    env0_lengths = []
    for _ in range(30):
        *_, info = envs.step(np.zeros(2, np.int64))
        if "episode" in info and info["_episode"][0]:
            env0_lengths.append(int(info["episode"]["l"][0]))
    envs.close()
    videos = sorted(tmp_path.glob("*.mp4"))
    assert [p.name for p in videos] == ["rl-video-episode-0.mp4", "rl-video-episode-1.mp4"]
    # Env 0's first two episodes, from the reset frame to the final frame before the autoreset.
    assert [len(decode(p)) for p in videos] == [n + 1 for n in env0_lengths[:2]]


def test_host_errors_name_the_argument():
    env, params = cartpole()
    with pytest.raises(ValueError, match="bound in the recorder"):
        fnrec.FunctionalVectorEnv(recorder(env, num_envs=2), recording=fnrec.Recording())
    with pytest.raises(ValueError, match="bound in the recorder"):
        fnrec.FunctionalVectorEnv(recorder(env, num_envs=2), params=params)
    with pytest.raises(ValueError, match="needs a batch"):
        fnrec.FunctionalVectorEnv(recorder(env, params=params))
    with pytest.raises(ValueError, match="unbatched recorder"):
        fnrec.FunctionalEnv(recorder(env, num_envs=2, params=params))
    with pytest.raises(ValueError, match="needs `render`"):
        fnrec.FunctionalEnv(recorder(env, params=params), render_mode="rgb_array")
    # A shell is not a recorder: the message names the fix.
    with pytest.raises(TypeError, match=r"must be a fnrec\.Recorder .*pass its \.recorder\(\)"):
        fnrec.FunctionalVectorEnv(fnrec.adapters.GymnaxAdapter(env, num_envs=2))
