"""The demo (`python -m fnrec demo`) runs end to end and its videos match its statistics."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import decode

from fnrec.__main__ import main
from fnrec.host.demo import run_demo


def test_demo_records_statistics_and_videos(tmp_path, capsys):
    result = run_demo(
        num_envs=16, num_steps=300, max_episode_steps=100, video_folder=str(tmp_path),
        max_videos=2, watch_env=15,
    )  # fmt: skip
    queues = result["queues"]
    assert result["episode_count"] >= len(queues["return_queue"]) > 0
    assert np.all(queues["length_queue"] <= 100)
    # CartPole's reward is 1 a step, so a return equals its length.
    np.testing.assert_array_equal(queues["return_queue"], queues["length_queue"])
    assert [p.name for p in result["videos"]] == [
        "rl-video-episode-0.mp4",
        "rl-video-episode-1.mp4",
    ]
    for path in result["videos"]:
        frames = decode(path)
        assert frames[0].shape == (400, 600, 3)
        assert 2 <= len(frames) <= 101  # reset frame + one per step, time limit 100
    out = capsys.readouterr().out
    assert "episodes finished" in out and "video of env 15, episode 1" in out


def test_command_line_runs_the_demo(tmp_path, capsys):
    main(["demo", "--envs", "4", "--steps", "50", "--video-folder", str(tmp_path), "--videos", "1"])
    assert "M env-steps/s" in capsys.readouterr().out
    assert (tmp_path / "rl-video-episode-0.mp4").exists()


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--envs", "0"], ["--envs", ">= 1", "0"]),
        (["--steps", "x"], ["--steps", "integer", "'x'"]),
        (["--envs", "4", "--watch-env", "5"], ["--watch-env", "--envs=4", "5"]),
        (["--max-episode-steps", "-1"], ["--max-episode-steps", ">= 1"]),
    ],
)
def test_command_line_rejects_bad_arguments(argv, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err
