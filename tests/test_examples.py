"""The examples/ scripts, run in a shortened form, their outputs checked (videos decoded back)."""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import decode

EXAMPLES = Path(__file__).parent.parent / "examples"
pytest.importorskip("gymnasium.envs.phys2d.cartpole")


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_record_training_in_jit(tmp_path):
    example = load("record_training_in_jit")
    out = tmp_path / "run"
    example.main(["--episodes", "90", "--every", "20", "--out", str(out), "--envs", "8"])
    with (out / "episodes.csv").open() as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["episode", "env", "return", "length", "terminated"]
    assert [int(r[0]) for r in rows[1:]] == list(range(90))
    assert {int(r[1]) for r in rows[1:]} <= set(range(8))
    videos = sorted(out.glob("*.mp4"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    assert [p.name for p in videos] == [f"rl-video-episode-{i}.mp4" for i in (0, 20, 40, 60, 80)]
    for path in videos:
        episode = int(path.stem.rsplit("-", 1)[1])
        length = int(rows[1 + episode][3])
        frames = decode(path)
        assert len(frames) == length + 1, path.name
        assert frames[0].shape == (400, 600, 3)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no partial files


def test_record_training_in_jit_help():
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "record_training_in_jit.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--episodes", "--every", "--out", "--envs", "--max-episode-steps"):
        assert option in done.stdout
