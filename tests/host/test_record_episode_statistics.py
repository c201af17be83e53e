"""fnrec.RecordEpisodeStatistics: Gymnasium's wrapper, stacking over fnrec envs without counting
twice; Gymnasium's own over an fnrec env gets a clear error."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import fnrec
from fnrec.wrappers.vector import RecordEpisodeStatistics as VectorStatistics


def play(env, steps, seed=0):
    env.reset(seed=seed)
    infos = []
    rng = np.random.default_rng(seed)
    for _ in range(steps):
        _, _, terminated, truncated, info = env.step(int(rng.integers(0, 2)))
        if terminated or truncated:
            infos.append(info)
            env.reset()
    return infos


def test_over_an_fnrec_env_queues_what_the_env_reports():
    env = fnrec.RecordEpisodeStatistics(fnrec.make("CartPole-v1"), buffer_length=3)
    assert isinstance(env, gym.wrappers.RecordEpisodeStatistics)
    infos = play(env, 300)
    assert env.episode_count == len(infos) == env.unwrapped.episode_count > 3
    assert list(env.length_queue) == [i["episode"]["l"] for i in infos[-3:]]
    assert list(env.return_queue) == [i["episode"]["r"] for i in infos[-3:]]
    assert list(env.time_queue) == [i["episode"]["t"] for i in infos[-3:]]
    assert env.episode_lengths == env.unwrapped.episode_lengths  # the in-graph one


def test_over_a_gymnasium_env_it_is_gymnasiums():
    ours = fnrec.RecordEpisodeStatistics(gym.make("CartPole-v1"), buffer_length=5)
    theirs = gym.wrappers.RecordEpisodeStatistics(gym.make("CartPole-v1"), buffer_length=5)
    a, b = play(ours, 300), play(theirs, 300)
    assert [i["episode"]["l"] for i in a] == [i["episode"]["l"] for i in b]
    assert list(ours.return_queue) == list(theirs.return_queue)
    assert ours.episode_count == theirs.episode_count


@pytest.mark.parametrize("order", ["video inside", "video outside"])
def test_stacked_with_record_video_either_way(tmp_path, order):
    env = fnrec.make("CartPole-v1", render_mode="rgb_array")
    if order == "video inside":
        env = fnrec.RecordEpisodeStatistics(
            fnrec.RecordVideo(env, tmp_path, episode_trigger=lambda i: i < 2), buffer_length=4
        )
    else:
        env = fnrec.RecordVideo(
            fnrec.RecordEpisodeStatistics(env, buffer_length=4), tmp_path,
            episode_trigger=lambda i: i < 2,
        )  # fmt: skip
    infos = play(env, 150)
    env.close()
    assert env.episode_count == len(infos)
    assert list(env.length_queue) == [i["episode"]["l"] for i in infos[-4:]]
    assert sorted(p.name for p in tmp_path.glob("*.mp4")) == [
        "rl-video-episode-0.mp4", "rl-video-episode-1.mp4"
    ]  # fmt: skip


def test_stats_key_moves_the_statistics():
    env = fnrec.RecordEpisodeStatistics(fnrec.make("CartPole-v1"), stats_key="stats")
    infos = play(env, 100)
    assert "stats" in infos[0] and "episode" not in infos[0]


def test_vector_over_an_fnrec_env():
    envs = VectorStatistics(fnrec.make_vec("CartPole-v1", 4), buffer_length=6)
    envs.reset(seed=0)
    finished = 0
    for _ in range(100):
        *_, info = envs.step(np.random.default_rng(finished).integers(0, 2, 4))
        finished += int(info.get("_episode", np.zeros(4, bool)).sum())
    assert envs.episode_count == finished == envs.unwrapped.episode_count
    assert len(envs.length_queue) == 6
    assert list(envs.length_queue) == [int(x) for x in envs.unwrapped.length_queue][-6:]


@pytest.mark.parametrize("wrapped", [False, True], ids=["bare", "under RecordVideo"])
def test_gymnasiums_own_wrapper_over_an_fnrec_env_is_refused_clearly(tmp_path, wrapped):
    env = fnrec.make("CartPole-v1", render_mode="rgb_array")
    if wrapped:
        env = fnrec.RecordVideo(env, tmp_path)
    with pytest.raises(TypeError, match=r"use fnrec\.RecordEpisodeStatistics"):
        gym.wrappers.RecordEpisodeStatistics(env).reset(seed=0)
    vector = gym.wrappers.vector.RecordEpisodeStatistics(fnrec.make_vec("CartPole-v1", 2))
    with pytest.raises(TypeError, match=r"fnrec\.wrappers\.vector\.RecordEpisodeStatistics"):
        vector.reset(seed=0)
