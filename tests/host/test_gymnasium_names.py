"""Gymnasium's attribute and method names on fnrec's RecordVideo and host envs, same meaning."""

from __future__ import annotations

import types

import gymnasium as gym
import numpy as np
import pytest
from conftest import decode
from gymnasium.vector import AutoresetMode
from gymnasium.wrappers.vector import RecordVideo as GymVectorRecordVideo

import fnrec
from fnrec.envs import CartPole
from fnrec.host.frames import grid_shape
from fnrec.wrappers.vector import RecordVideo as VectorRecordVideo

pytestmark = pytest.mark.gymnasium_api  # CI runs these again on Gymnasium 1.3


def _cartpole() -> gym.Env:
    return gym.make("CartPole-v1", render_mode="rgb_array")


def _vector(num_envs: int) -> gym.vector.VectorEnv:
    return gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync",
                        render_mode="rgb_array",
                        vector_kwargs={"autoreset_mode": AutoresetMode.NEXT_STEP})  # fmt: skip


@pytest.mark.parametrize("video_length", [0, 7])
def test_record_video_attributes_equal_gymnasiums(tmp_path, video_length):
    pytest.importorskip("moviepy")  # Gymnasium's RecordVideo imports it

    def trigger(e):
        return e % 3 == 0

    kwargs = dict(episode_trigger=trigger, video_length=video_length, name_prefix="eval")
    ours = fnrec.RecordVideo(_cartpole(), tmp_path / "ours", **kwargs)
    theirs = gym.wrappers.RecordVideo(_cartpole(), str(tmp_path / "theirs"), **kwargs)
    for name in ("episode_trigger", "step_trigger", "name_prefix", "video_length",
                 "frames_per_sec", "recording"):  # fmt: skip
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.video_folder == str(tmp_path / "ours") and isinstance(ours.video_folder, str)
    ours.close()
    theirs.close()


def test_start_and_stop_recording_by_hand(tmp_path):
    env = fnrec.RecordVideo(_cartpole(), tmp_path, episode_trigger=lambda e: False)
    env.reset(seed=0)
    env.step(0)
    env.start_recording("by-hand")  # as Gymnasium's: frames from the next step on
    assert env.recording
    for _ in range(5):
        env.step(env.action_space.sample())
    env.stop_recording()
    assert not env.recording and env.saved_videos == [tmp_path / "by-hand.mp4"]
    assert len(decode(tmp_path / "by-hand.mp4")) == 5
    env.close()


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 6, 8, 9, 12, 16])
@pytest.mark.parametrize("ratio", [(1, 1), (16, 9), (4, 1), (1, 3)])
def test_grid_shape_is_gymnasiums_for_an_aspect_ratio(count, ratio):
    probe = types.SimpleNamespace(video_aspect_ratio=ratio)
    GymVectorRecordVideo._get_concat_frame_shape(probe, count, 400, 600)
    assert grid_shape(count, 400, 600, ratio) == (probe.frame_rows, probe.frame_cols)


def test_vector_record_first_only_and_aspect_ratio(tmp_path):
    first = VectorRecordVideo(_vector(4), tmp_path / "first", record_first_only=True,
                              episode_trigger=lambda e: e == 0)  # fmt: skip
    grid = VectorRecordVideo(_vector(4), tmp_path / "grid", record_first_only=False,
                             video_aspect_ratio=(4, 1),
                             episode_trigger=lambda e: e == 0)  # fmt: skip
    square = VectorRecordVideo(_vector(4), tmp_path / "square", video_aspect_ratio=(1, 1),
                               episode_trigger=lambda e: e == 0)  # fmt: skip
    for envs in (first, grid, square):
        envs.reset(seed=0)
        for _ in range(30):
            envs.step(np.zeros(4, np.int64))
        envs.close()
    assert first.record_first_only and not first.tile
    assert decode(tmp_path / "first" / "rl-video-episode-0.mp4")[0].shape == (400, 600, 3)
    assert grid.tile and not grid.record_first_only
    assert decode(tmp_path / "grid" / "rl-video-episode-0.mp4")[0].shape == (400, 2400, 3)
    assert decode(tmp_path / "square" / "rl-video-episode-0.mp4")[0].shape == (800, 1200, 3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(record_first_only=True, tile=True), "disagree"),
        (dict(record_first_only=True, env_index=1), "records env 0"),
        (dict(video_aspect_ratio=(0, 1)), "two ints >= 1"),
        (dict(video_aspect_ratio=[16, 9]), "tuple of two ints"),
        (dict(video_aspect_ratio=(16, 9), tile=False), "needs tile=True"),
    ],
)
def test_vector_conflicting_arguments_raise(tmp_path, kwargs, message):
    with pytest.raises(ValueError, match=message):
        VectorRecordVideo(_vector(2), tmp_path, **kwargs)


def test_record_first_only_must_be_a_bool(tmp_path):
    with pytest.raises(TypeError, match="`record_first_only` must be a bool, got 'yes'"):
        VectorRecordVideo(_vector(2), tmp_path, record_first_only="yes")


def test_running_attributes_follow_gymnasiums_record_episode_statistics():
    """episode_returns/_lengths/_start_time(s), step by step, against Gymnasium's wrapper."""
    theirs = gym.wrappers.vector.RecordEpisodeStatistics(
        gym.make_vec("CartPole-v1", 2, vectorization_mode="sync",
                     wrappers=[lambda env: gym.wrappers.TimeLimit(env.unwrapped, 3)])
    )  # fmt: skip

    def limited(mode):  # the host envs' default statistics, a 3-step time limit
        return fnrec.Recording(fnrec.stats.episode_statistics(100, mode), max_episode_steps=3)

    ours = fnrec.FunctionalVectorEnv(CartPole(), 2, limited("next_step"))
    single = fnrec.FunctionalEnv(CartPole(), limited("disabled"))
    assert ours.episode_returns.tolist() == [0.0, 0.0] and single.episode_lengths == 0
    theirs.reset(seed=0)
    ours.reset(seed=0)
    single.reset(seed=0)
    for t in range(7):  # 3-step episodes (the time limit), next-step autoreset
        theirs.step(np.zeros(2, np.int64))
        ours.step(np.zeros(2, np.int64))
        np.testing.assert_array_equal(ours.episode_returns, theirs.episode_returns)
        np.testing.assert_array_equal(ours.episode_lengths, theirs.episode_lengths)
        assert ours.episode_returns.dtype == np.float32 and ours.episode_lengths.dtype == np.int64
        if t < 3:
            single.step(0)
            assert single.episode_returns == float(t + 1) and single.episode_lengths == t + 1
    assert single.episode_returns == 3.0  # the ended episode shows until reset, as Gymnasium's
    before = single.episode_start_time
    single.reset()
    assert single.episode_returns == 0.0 and single.episode_start_time > before
    assert isinstance(before, float) and ours.episode_start_times.shape == (2,)
