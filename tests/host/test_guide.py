"""Gymnasium's "Recording Agents" guide: its two scripts (examples/guide/) run on fnrec and on
Gymnasium with only the imports swapped, and give the same kind of output."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import decode

# The guide's scripts run thousands of episodes.
pytestmark = pytest.mark.xla_optimized

GUIDE = Path(__file__).parent.parent.parent / "examples" / "guide"
FNREC_IMPORTS = "import fnrec as gym\nfrom fnrec import RecordEpisodeStatistics, RecordVideo\n"
GYMNASIUM_IMPORTS = (
    "import gymnasium as gym\nfrom gymnasium.wrappers import RecordEpisodeStatistics, RecordVideo\n"
)


def run(script: str, folder: Path, gymnasium: bool) -> subprocess.CompletedProcess:
    """The guide script `script` run in `folder`, with Gymnasium's imports when `gymnasium`."""
    text = (GUIDE / script).read_text()
    assert text.count(FNREC_IMPORTS) == 1  # the only difference from Gymnasium's
    if gymnasium:
        pytest.importorskip("moviepy")  # Gymnasium's RecordVideo writes with it
        text = text.replace(FNREC_IMPORTS, GYMNASIUM_IMPORTS)
    folder.mkdir()
    (folder / script).write_text(text)
    done = subprocess.run(
        [sys.executable, script], cwd=folder, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def queue(output: str, name: str) -> list[float]:
    found = re.search(rf"^{name}: \[(.*)\]$", output, re.M)
    assert found, output
    return [float(x) for x in re.findall(r"[-\d.e]+", found.group(1))]


@pytest.mark.parametrize("gymnasium", [False, True], ids=["fnrec", "gymnasium"])
def test_evaluation_script(tmp_path, gymnasium):
    done = run("evaluate.py", tmp_path / "run", gymnasium)
    lengths = [int(x) for x in re.findall(r"^Episode \d: (\d+) steps", done.stdout, re.M)]
    assert len(lengths) == 4
    assert queue(done.stdout, "Episode lengths") == lengths
    assert queue(done.stdout, "Episode rewards") == [float(n) for n in lengths]
    assert len(queue(done.stdout, "Episode durations")) == 4
    videos = sorted((tmp_path / "run" / "cartpole-agent").glob("*.mp4"))
    assert [p.name for p in videos] == [f"eval-episode-{i}.mp4" for i in range(4)]
    for path, length in zip(videos, lengths, strict=True):
        frames = decode(path)
        if gymnasium:  # moviepy's writer sometimes drops the last frame of a short clip
            assert len(frames) in (length, length + 1)
        else:  # the reset's frame and one per step, every one
            assert len(frames) == length + 1
        assert frames[0].shape == (400, 600, 3)


@pytest.mark.parametrize("gymnasium", [False, True], ids=["fnrec", "gymnasium"])
def test_training_script(tmp_path, gymnasium):
    done = run("training.py", tmp_path / "run", gymnasium)
    logged = re.findall(
        r"^Episode (\d+): reward=([\d.]+), length=(\d+), time=[\d.]+s$", done.stderr, re.M
    )
    assert [int(e) for e, _, _ in logged] == list(range(10_000))
    assert all(float(r) == float(n) for _, r, n in logged)  # CartPole: 1 per step
    assert len(re.findall(r"Average reward over last 100 episodes", done.stdout)) == 10
    videos = {p.name for p in (tmp_path / "run" / "cartpole-training").glob("*.mp4")}
    assert videos == {f"training-episode-{i}.mp4" for i in range(0, 10_000, 250)}
