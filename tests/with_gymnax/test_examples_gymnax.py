"""examples/gymnax_rollout.py, run in a shortened form: statistics, CSV and videos checked."""

from __future__ import annotations

import csv

import numpy as np
import pytest

pytest.importorskip("gymnax")
from conftest import decode
from examples_loader import load


def test_gymnax_rollout(tmp_path):
    example = load("gymnax_rollout")
    out = tmp_path / "gymnax"
    args = ["--envs", "16", "--steps", "300", "--every", "5", "--videos", "3", "--noise", "1"]
    result = example.main([*args, "--max-episode-steps", "40", "--out", str(out)])
    log, queues, summary = result["log"], result["queues"], result["summary"]

    # Every episode is in the log, in id order; the queue holds the last 100 of them.
    count = len(log.episode_id)
    assert count > 100  # the queue has wrapped
    np.testing.assert_array_equal(log.episode_id, np.arange(count))
    np.testing.assert_array_equal(log.episode_return, log.length)  # reward 1 per step
    assert log.length.max() <= 40 and (~log.terminated).any() and log.terminated.any()
    np.testing.assert_array_equal(queues["return_queue"], log.episode_return[-100:])
    np.testing.assert_array_equal(queues["length_queue"], log.length[-100:])
    np.testing.assert_array_equal(queues["terminated_queue"], log.terminated[-100:])

    # fnrec.stats.summary, computed in-graph, equals the same numbers computed from the queue.
    assert summary["count"] == 100
    np.testing.assert_allclose(summary["return_mean"], log.episode_return[-100:].mean(), 1e-6)
    assert summary["return_min"] == log.episode_return[-100:].min()
    assert summary["return_max"] == log.episode_return[-100:].max()
    np.testing.assert_allclose(summary["length_mean"], log.length[-100:].mean(), 1e-6)
    np.testing.assert_allclose(summary["terminated_fraction"], log.terminated[-100:].mean())
    # ... and after every step: the count follows the episodes ended so far.
    summaries = result["summaries"]
    assert len(summaries["count"]) == 300
    ended_so_far = np.searchsorted(log.step, np.arange(300), side="right")
    np.testing.assert_array_equal(summaries["count"], np.minimum(ended_so_far, 100))
    assert np.isnan(summaries["return_mean"][summaries["count"] == 0]).all()

    with (out / "episodes.csv").open() as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["episode", "env", "return", "length", "terminated"]
    assert [int(r[3]) for r in rows[1:]] == log.length.tolist()

    assert result["dropped"] == (0, 0)
    videos = result["videos"]
    assert [v.episode_id for v in videos] == [0, 5, 10]
    assert sorted(p.name for p in out.glob("*.mp4")) == [
        f"rl-video-episode-{i}.mp4" for i in (0, 10, 5)
    ]
    for video in videos:
        i = video.episode_id
        assert (video.env, video.length, video.terminated) == (
            log.env[i], log.length[i], log.terminated[i],
        )  # fmt: skip
        frames = decode(video.path)
        assert len(frames) == log.length[i] + 1, video.path.name
        assert frames[0].shape == (400, 600, 3)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]
