"""examples/brax_rollout.py, run in a shortened form: statistics, capture and videos checked."""

from __future__ import annotations

import csv

import numpy as np
import pytest

pytest.importorskip("brax.envs")
from conftest import decode
from examples_loader import load


def test_brax_rollout(tmp_path):
    example = load("brax_rollout")
    out = tmp_path / "brax"
    args = ["--envs", "4", "--steps", "120", "--episode-length", "30", "--every", "3"]
    result = example.main([*args, "--videos", "3", "--noise", "4", "--out", str(out)])
    log, queues, summary = result["log"], result["queues"], result["summary"]

    count = len(log.episode_id)
    assert count >= 10
    np.testing.assert_array_equal(log.episode_id, np.arange(count))
    np.testing.assert_array_equal(log.episode_return, log.length)  # reward 1 per step
    assert log.length.max() <= 30 and log.terminated.any()
    # The queue holds the last (at most 100) episodes of the log; the summary is over them.
    last = slice(max(0, count - 100), count)
    np.testing.assert_array_equal(queues["return_queue"], log.episode_return[last])
    np.testing.assert_array_equal(queues["length_queue"], log.length[last])
    np.testing.assert_array_equal(queues["terminated_queue"], log.terminated[last])
    assert summary["count"] == min(count, 100)
    np.testing.assert_allclose(summary["return_mean"], log.episode_return[last].mean(), 1e-6)
    assert summary["return_min"] == log.episode_return[last].min()
    assert summary["return_max"] == log.episode_return[last].max()
    np.testing.assert_allclose(summary["length_mean"], log.length[last].mean(), 1e-6)
    np.testing.assert_allclose(summary["terminated_fraction"], log.terminated[last].mean())

    with (out / "episodes.csv").open() as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["episode", "env", "return", "length", "terminated"]
    assert [int(r[1]) for r in rows[1:]] == log.env.tolist()
    assert [int(r[3]) for r in rows[1:]] == log.length.tolist()

    captured = result["captured"]
    assert (captured.dropped_full, captured.dropped_too_long) == (0, 0)
    assert [e.episode_id for e in captured.episodes] == [0, 3, 6]
    for episode in captured.episodes:
        i = episode.episode_id
        assert (episode.env, episode.length) == (log.env[i], log.length[i])
        assert episode.items.shape == (log.length[i] + 1, 4)  # [x, x_dot, theta, theta_dot]
        assert not np.allclose(episode.items[-1], episode.items[0])  # the final frame is kept
        # brax's pendulum terminates when the pole leans past 0.2 rad: seen in the last frame.
        assert (abs(episode.items[-1][2]) > 0.2) == log.terminated[i]
        assert (abs(episode.items[:-1, 2]) <= 0.2).all()

    videos = result["videos"]
    assert [v.episode_id for v in videos] == [0, 3, 6]
    assert sorted(p.name for p in out.glob("*.mp4")) == [
        f"rl-video-episode-{i}.mp4" for i in (0, 3, 6)
    ]
    for video in videos:
        frames = decode(video.path)
        assert len(frames) == log.length[video.episode_id] + 1, video.path.name
        assert frames[0].shape == (400, 600, 3)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
