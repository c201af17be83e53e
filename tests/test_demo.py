"""The demo (`fnrec demo`): trains, records, and everything it writes agrees with its log.

Marked ``plain``: CI runs these on a plain install only, except the first test, which also runs
where matplotlib is installed (the learning curve is drawn there).
"""

from __future__ import annotations

import csv
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
from conftest import decode

import fnrec
import fnrec.host.demo as demo_module
from fnrec.__main__ import main
from fnrec._optional import MissingDependency
from fnrec.host.demo import check_out, run_demo

# The demo trains and films: its time is running, not compiling.
pytestmark = pytest.mark.xla_optimized

HAVE_MATPLOTLIB = importlib.util.find_spec("matplotlib") is not None
SMALL = dict(num_envs=8, num_updates=6, steps_per_update=32, every=5, max_videos=4)


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("demo")
    return out, run_demo(out=out, quiet=True, **SMALL)


def test_writes_log_csv_plot_and_videos_that_agree(small_run):
    out, result = small_run
    log = result.log
    assert len(log.episode_id) >= 16
    np.testing.assert_array_equal(log.episode_id, np.arange(len(log.episode_id)))
    np.testing.assert_array_equal(log.episode_return, log.length)  # CartPole: 1 a step
    with open(out / "episodes.csv") as file:
        rows = list(csv.DictReader(file))
    assert [int(r["episode"]) for r in rows] == log.episode_id.tolist()
    assert [float(r["return"]) for r in rows] == log.episode_return.tolist()
    # every 5th episode by global id, at most 4
    videos = result.videos.videos
    assert [v.episode_id for v in videos] == [0, 5, 10, 15]
    for video in videos:
        assert video.path == out / "videos" / f"rl-video-episode-{video.episode_id}.mp4"
        assert video.env == log.env[video.episode_id]
        assert video.length == log.length[video.episode_id]
        assert video.terminated == log.terminated[video.episode_id]
        frames = decode(video.path)
        assert len(frames) == video.length + 1 and frames[0].shape == (400, 600, 3)
    assert result.videos.dropped_full == len(range(20, len(log.episode_id), 5))
    if HAVE_MATPLOTLIB:
        picture = iio.imread(result.plot)
        assert result.plot == out / "learning_curve.png" and picture.shape[:2] == (600, 800)
        assert picture[..., :3].std() > 10  # not blank
    else:  # a plain install: the demo runs, without the picture
        assert result.plot is None and not (out / "learning_curve.png").exists()
    assert not list(out.rglob("*partial*"))


@pytest.mark.plain
def test_is_deterministic_for_a_seed(small_run, tmp_path):
    out, first = small_run
    again = run_demo(out=tmp_path, quiet=True, **SMALL)
    for a, b in zip(first.log, again.log, strict=True):
        np.testing.assert_array_equal(a, b)
    assert (out / "episodes.csv").read_bytes() == (tmp_path / "episodes.csv").read_bytes()
    other = run_demo(out=tmp_path / "seed1", quiet=True, seed=1, **SMALL)
    assert not np.array_equal(other.log.length[:10], first.log.length[:10])


@pytest.mark.plain
def test_the_default_run_learns(tmp_path):
    """The defaults (what `fnrec demo` runs): early episodes fail fast, late ones balance."""
    result = run_demo(out=tmp_path, quiet=True)
    returns = result.log.episode_return
    assert returns[:50].mean() < 40 and returns[-50:].mean() > 150
    ids = [v.episode_id for v in result.videos.videos]
    assert ids[:4] == [0, 1, 8, 27] and max(ids) >= 343  # failing early, balancing late
    assert result.videos.videos[-1].length > 100


@pytest.mark.plain
def test_command_line_prints_progress_summary_and_paths(tmp_path, capsys):
    main(["demo", "--out", str(tmp_path), "--envs", "8", "--updates", "10",
          "--steps-per-update", "32", "--videos", "3"])  # fmt: skip
    out, err = capsys.readouterr()
    assert "compiled in" in out and "\r" not in err  # progress: whole lines on stderr (no tty)
    # Live progress from inside the jitted run: at most a line per tenth, the last at 100%.
    lines = [line for line in err.splitlines() if "demo:" in line]
    assert 1 <= len(lines) <= 11
    assert all(re.match(r"fnrec demo: [\d,]+/2,560 env-steps \(\d+%\) ", line) for line in lines)
    assert lines[-1].startswith("fnrec demo: 2,560/2,560 env-steps (100%) ")
    assert re.search(r", [\d,]+ steps/s, [\d,]+ episodes, return [\d.]+ \(last \d+: ", lines[-1])
    assert err.splitlines()[-1].startswith("fnrec export_videos: 3/3 videos (100%)")
    assert "| updates | env-steps | episodes | mean return |" in out
    assert f"Written to {tmp_path}/" in out
    assert ("learning_curve.png" in out) == HAVE_MATPLOTLIB
    # the capped cubic schedule: episodes 0, 1, 8
    for name in ("rl-video-episode-0.mp4", "rl-video-episode-1.mp4", "rl-video-episode-8.mp4"):
        assert f"videos/{name}" in out and (tmp_path / "videos" / name).exists()


@pytest.mark.plain
def test_quiet_prints_nothing(tmp_path, capsys):
    run_demo(out=tmp_path, quiet=True, num_envs=4, num_updates=2, steps_per_update=16)
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


@pytest.mark.plain
def test_without_matplotlib_the_plot_is_skipped_with_one_line(tmp_path, capsys, monkeypatch):
    def missing(log, path, **kwargs):
        raise MissingDependency(
            "learning-curve plots: matplotlib is not installed; run pip install 'fnrec[plots]'"
        )

    monkeypatch.setattr(demo_module, "learning_curve", missing)
    result = run_demo(out=tmp_path, num_envs=4, num_updates=2, steps_per_update=16)
    assert result.plot is None and not (tmp_path / "learning_curve.png").exists()
    assert "no learning curve: learning-curve plots: matplotlib is not installed; run pip" in (
        capsys.readouterr().out
    )
    assert (tmp_path / "episodes.csv").exists()


@pytest.mark.plain
def test_help_states_every_option_with_its_default(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    assert "Trains PPO" in text and "episodes.csv" in text and "videos/*.mp4" in text
    for option, default in [
        ("--out", "fnrec-demo"), ("--envs", "32"), ("--updates", "60"),
        ("--steps-per-update", "64"), ("--videos", "12"), ("--max-episode-steps", "500"),
        ("--seed", "0"), ("--every", "capped cubic"), ("--quiet", ""),
    ]:  # fmt: skip
        assert option in text and default in text


@pytest.mark.plain
def test_a_file_as_out_fails_at_once(tmp_path, capsys, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("keep me")
    monkeypatch.setattr(demo_module, "make_train", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--out", str(blocker)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "--out" in err and "a-file" in err and "existing file" in err
    assert blocker.read_text() == "keep me"
    with pytest.raises(NotADirectoryError, match="existing file"):
        run_demo(out=blocker / "below")


@pytest.mark.plain
@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--envs", "0"], ["--envs", ">= 1", "0"]),
        (["--updates", "x"], ["--updates", "integer", "'x'"]),
        (["--every", "0"], ["--every", ">= 1"]),
        (["--max-episode-steps", "-1"], ["--max-episode-steps", ">= 1"]),
        (["--envs", "3", "--steps-per-update", "3"], ["= 9 must be a multiple of 4"]),
        (["--seed", str(2**70)], ["--seed", "below 2**32"]),
    ],
)
def test_command_line_rejects_bad_arguments(argv, words, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", *argv])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    for word in words:
        assert word in err


@pytest.mark.plain
def test_an_earlier_run_is_not_replaced_unless_asked(tmp_path, capsys, monkeypatch):
    (tmp_path / "episodes.csv").write_text("earlier run")
    monkeypatch.setattr(demo_module, "make_train", lambda *a, **k: pytest.fail("trained"))
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--out", str(tmp_path)])
    assert exit_info.value.code == 2
    assert "holds an earlier run (episodes.csv)" in capsys.readouterr().err
    assert (tmp_path / "episodes.csv").read_text() == "earlier run"
    assert check_out(tmp_path, overwrite=True) == tmp_path


@pytest.mark.plain
def test_version_bare_command_and_a_subcommands_own_usage(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0 and capsys.readouterr().out.startswith("fnrec ")
    main([])  # a bare `fnrec` prints its help
    assert "demo" in capsys.readouterr().out
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--bad-option"])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "usage: fnrec demo" in err and "unrecognized arguments: --bad-option" in err
    assert {"RecordVideo", "VideoWriter", "export_videos", "Episode"} <= set(dir(fnrec))


@pytest.mark.plain
def test_python_dash_m_and_the_console_script_start():
    script = Path(sys.executable).parent / "fnrec"
    for command in ([sys.executable, "-m", "fnrec", "--help"], [str(script), "demo", "--help"]):
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        assert "demo" in done.stdout
