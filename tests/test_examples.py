"""The examples/ scripts, run in a shortened form, their outputs checked (videos decoded back).

Marked ``plain`` (CI runs them once, on a plain install), but for the one that needs tensorboardX.
"""

from __future__ import annotations

import csv
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import decode
from examples_loader import EXAMPLES, load

import fnrec

# The examples train: their time is running, not compiling.
pytestmark = pytest.mark.xla_optimized


@pytest.mark.plain
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


@pytest.mark.plain
def test_record_training_in_jit_help():
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "record_training_in_jit.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in ("--episodes", "--every", "--out", "--envs", "--max-episode-steps"):
        assert option in done.stdout
    assert "(default: 10000)" in done.stdout  # every example's --help shows its defaults


def episode_number(path: Path) -> int:
    return int(path.stem.rsplit("-", 1)[1])


@pytest.mark.plain
def test_evaluate(tmp_path):
    example = load("evaluate")
    out = tmp_path / "eval"
    args = ["--episodes", "3", "--max-episode-steps", "40", "--epsilon", "0.9", "--out", str(out)]
    result = example.main([*args, "--seed", "1"])
    lengths, returns, times = result["length_queue"], result["return_queue"], result["time_queue"]
    assert result["episode_count"] == len(lengths) == len(returns) == len(times) == 3
    assert returns == [float(n) for n in lengths]  # CartPole: reward 1 per step
    assert all(1 <= n <= 40 for n in lengths) and all(t > 0 for t in times)
    assert min(lengths) < 40 == max(lengths)  # seed 1: terminated and truncated episodes
    videos = sorted(out.glob("*.mp4"), key=episode_number)
    assert [p.name for p in videos] == [f"eval-episode-{i}.mp4" for i in range(3)]
    assert sorted(result["videos"], key=episode_number) == videos
    for path, length in zip(videos, lengths, strict=True):  # every episode, every frame
        frames = decode(path)
        assert len(frames) == length + 1, path.name
        assert frames[0].shape == (400, 600, 3)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no partial files


@pytest.mark.plain
def test_train_python_loop(tmp_path):
    example = load("train_python_loop")
    out = tmp_path / "train"
    result = example.main(["--episodes", "30", "--every", "10", "--out", str(out)])
    with (out / "episodes.csv").open() as file:
        rows = list(csv.reader(file))
    assert rows[0] == ["episode", "return", "length", "time", "terminated"]
    rows = rows[1:]
    assert [int(r[0]) for r in rows] == list(range(30))
    returns = [float(r[1]) for r in rows]
    lengths = [int(r[2]) for r in rows]
    times = [float(r[3]) for r in rows]
    assert returns == [float(n) for n in lengths]  # CartPole: reward 1 per step
    assert all(r[4] == "1" for r in rows)  # random actions: all fall well before 500 steps
    # The CSV rows (from info["episode"]) are what the statistics queues hold, in order.
    assert result["episode_count"] == 30
    assert result["return_queue"] == returns
    assert result["length_queue"] == lengths
    assert result["time_queue"] == times
    videos = sorted(out.glob("*.mp4"), key=episode_number)
    assert [p.name for p in videos] == [f"training-episode-{i}.mp4" for i in (0, 10, 20)]
    for path in videos:
        frames = decode(path)
        assert len(frames) == lengths[episode_number(path)] + 1, path.name
        assert frames[0].shape == (400, 600, 3)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


def read_scalars(path: Path) -> dict[str, dict[int, float]]:
    """tag -> {step: value} of the scalars in a TensorBoard event file (TFRecord framing).

    Each record: uint64 length, uint32 masked CRC-32C of the length, the serialized ``Event``,
    uint32 masked CRC-32C of it (all little-endian); the CRCs are checked.
    """
    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.record_writer import masked_crc32c

    data, offset, scalars = path.read_bytes(), 0, {}
    while offset < len(data):
        header = data[offset : offset + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[offset + 8 : offset + 12])
        assert header_crc == masked_crc32c(header), f"bad length CRC at byte {offset}"
        payload = data[offset + 12 : offset + 12 + length]
        (payload_crc,) = struct.unpack("<I", data[offset + 12 + length : offset + 16 + length])
        assert payload_crc == masked_crc32c(payload), f"bad record CRC at byte {offset}"
        offset += 16 + length
        event = Event.FromString(payload)
        for value in event.summary.value:
            steps = scalars.setdefault(value.tag, {})
            assert event.step not in steps, f"{value.tag} written twice at step {event.step}"
            steps[event.step] = value.simple_value
    return scalars


def test_tensorboard_logging(tmp_path):
    pytest.importorskip("tensorboardX")
    example = load("tensorboard_logging")
    args = ["--updates", "4", "--envs", "8", "--steps-per-update", "32"]
    result = example.main([*args, "--max-episode-steps", "60", "--logdir", str(tmp_path)])
    scalars = read_scalars(result["event_file"])
    metrics, log = result["metrics"], result["log"]
    every = result["env_steps_per_update"]
    assert every == 8 * 32
    steps = [(update + 1) * every for update in range(4)]

    # stats/*: written from inside the jitted run, equal to what the scan stacked per update.
    count = metrics["count"]
    assert count[-1] > 0
    assert scalars["stats/count"] == dict(zip(steps, count.astype(float).tolist(), strict=True))
    assert scalars["stats/episodes"] == dict(
        zip(steps, metrics["episodes"].astype(float).tolist(), strict=True)
    )
    for tag in example.SUMMARY_TAGS:
        want = {s: v for s, v, n in zip(steps, metrics[tag].tolist(), count, strict=True) if n > 0}
        assert scalars[f"stats/{tag}"] == want, tag  # float32 both ways: exactly equal
    assert np.isnan(metrics["return_mean"][count == 0]).all()

    # ... and they are the statistics: the last update's summary is over the final queue, which
    # holds the last episodes of the history, and "episodes" counts the whole history.
    queue = fnrec.stats.queues(result["stats"])
    assert (
        len(log.episode_id)
        == int(metrics["episodes"][-1])
        == fnrec.stats.episode_count(result["stats"])
    )
    np.testing.assert_array_equal(queue["return_queue"], log.episode_return[-100:])
    last = {tag: values[steps[-1]] for tag, values in scalars.items() if tag.startswith("stats/")}
    assert last["stats/count"] == len(queue["return_queue"])
    np.testing.assert_allclose(last["stats/return_mean"], queue["return_queue"].mean(), 1e-6)
    assert last["stats/return_min"] == queue["return_queue"].min()
    assert last["stats/return_max"] == queue["return_queue"].max()
    np.testing.assert_allclose(last["stats/length_mean"], queue["length_queue"].mean(), 1e-6)
    np.testing.assert_allclose(
        last["stats/terminated_fraction"], queue["terminated_queue"].mean(), 1e-6
    )

    # episode/*: every episode of the history, by id.
    ids = log.episode_id.tolist()
    assert scalars["episode/return"] == dict(zip(ids, log.episode_return.tolist(), strict=True))
    assert scalars["episode/length"] == dict(
        zip(ids, log.length.astype(float).tolist(), strict=True)
    )


@pytest.mark.plain
@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("evaluate", ("--episodes", "--out", "--max-episode-steps", "--epsilon")),
        ("train_python_loop", ("--episodes", "--every", "--out", "--max-episode-steps")),
        ("gymnax_rollout", ("--envs", "--steps", "--every", "--videos", "--out")),
        ("brax_rollout", ("--envs", "--steps", "--episode-length", "--every", "--out")),
        ("tensorboard_logging", ("--updates", "--envs", "--steps-per-update", "--logdir")),
        ("trackers", ("--tensorboard DIR", "--wandb-offline DIR", "--mlflow URI", "--updates")),
    ],
)
def test_examples_run_as_scripts(name, options):
    """`python examples/NAME.py --help` works (without the optional packages, too)."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py"), "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for option in options:
        assert option in done.stdout


def test_trackers_to_tensorboard(tmp_path):
    """`examples/trackers.py --tensorboard DIR`: the summaries under fnrec/ at env-steps, one
    scalar per finished episode, and the videos (mp4, 50 fps) in DIR's event file."""
    pytest.importorskip("tensorboardX")
    example = load("trackers")
    args = ["--updates", "4", "--envs", "8", "--steps-per-update", "32", "--every", "6"]
    result = example.main([*args, "--max-episode-steps", "60", "--tensorboard", str(tmp_path)])
    (event_file,) = tmp_path.glob("events.out.tfevents.*")
    scalars = read_scalars(event_file)
    metrics, log, every = result["metrics"], result["log"], result["env_steps_per_update"]
    steps = [(update + 1) * every for update in range(4)]
    assert result["report"].ok, str(result["report"])

    # Summaries, from inside the jitted run, equal to what the scan stacked per update.
    count = metrics["count"]
    assert scalars["fnrec/count"] == dict(zip(steps, count.astype(float).tolist(), strict=True))
    assert scalars["fnrec/episodes"] == dict(
        zip(steps, metrics["episodes"].astype(float).tolist(), strict=True)
    )
    for tag in ("return_mean", "return_min", "return_max", "length_mean", "terminated_fraction"):
        want = {s: v for s, v, n in zip(steps, metrics[tag].tolist(), count, strict=True) if n > 0}
        assert scalars[f"fnrec/{tag}"] == want, tag

    # Every finished episode: one scalar each, at its id; none missing (the last were staged).
    assert int(metrics["episodes"][-1]) == len(log.episode_id) > 20
    ids = log.episode_id.tolist()
    assert ids == list(range(len(ids)))
    assert scalars["fnrec/episode/return"] == dict(
        zip(ids, log.episode_return.tolist(), strict=True)
    )
    assert scalars["fnrec/episode/length"] == dict(
        zip(ids, log.length.astype(float).tolist(), strict=True)
    )

    # The videos: episodes 0, 6, 12, ... as mp4 at 50 fps, the same bytes as the files written.
    videos = fnrec.trackers.read_videos(event_file)
    assert sorted(v.metadata["episode"] for v in videos) == list(range(0, len(ids), 6))
    for video in videos:
        episode = video.metadata["episode"]
        path = tmp_path / "videos" / f"rl-video-episode-{episode}.mp4"
        assert video.mp4 == path.read_bytes() and video.metadata["fps"] == 50
        assert video.metadata["return"] == log.episode_return[episode]
        assert len(decode(path)) == log.length[episode] + 1


@pytest.mark.plain
def test_trackers_needs_a_tracker_and_names_a_missing_extra(tmp_path):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "trackers.py")], capture_output=True, text=True
    )
    assert done.returncode == 2 and "name at least one tracker: --tensorboard DIR" in done.stderr
    code = (
        "import runpy, sys; sys.modules['wandb'] = None; "
        f"sys.argv = ['trackers.py', '--wandb-offline', {str(tmp_path / 'wb')!r}]; "
        f"runpy.run_path({str(EXAMPLES / 'trackers.py')!r}, run_name='__main__')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "fnrec.trackers.WandB: wandb is not installed; run pip install 'fnrec[wandb]'"
    )


@pytest.mark.plain
def test_tensorboard_logging_without_tensorboardx(tmp_path):
    """A missing tensorboardX is one line naming the extra, and nothing is written."""
    code = (
        "import runpy, sys; sys.modules['tensorboardX'] = None; "
        f"sys.argv = ['tensorboard_logging.py', '--logdir', {str(tmp_path / 'tb')!r}]; "
        f"runpy.run_path({str(EXAMPLES / 'tensorboard_logging.py')!r}, run_name='__main__')"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.strip() == (
        "TensorBoard logging: tensorboardX is not installed; run pip install 'fnrec[tensorboard]'"
    )
    assert not (tmp_path / "tb").exists()


@pytest.mark.plain
def test_outcome_videos(tmp_path):
    """The 3 lowest and 3 highest returns of the whole run are filmed, named by their global
    ids, every frame there; the CSV has every episode and its discounted return."""
    example = load("outcome_videos")
    out = tmp_path / "run"
    settings = ["--envs", "8", "--steps", "32", "--updates", "3", "--max-episode-steps", "100"]
    example.main([*settings, "--out", str(out)])
    with (out / "episodes.csv").open() as file:
        rows = list(csv.reader(file))
    header = ["episode", "env", "return", "length", "terminated", "discounted_return"]
    assert rows[0] == header
    episodes = [dict(zip(header, r, strict=True)) for r in rows[1:]]
    assert [int(e["episode"]) for e in episodes] == list(range(len(episodes)))
    for e in episodes:  # CartPole pays 1 per step: the discounted return follows the length
        length = int(e["length"])
        assert float(e["return"]) == length <= 100
        np.testing.assert_allclose(
            float(e["discounted_return"]), (1 - 0.99**length) / 0.01, rtol=1e-5
        )
    by_return = sorted(episodes, key=lambda e: (float(e["return"]), int(e["episode"])))
    highest = sorted(episodes, key=lambda e: (-float(e["return"]), int(e["episode"])))[:3]
    kept = {int(e["episode"]) for e in by_return[:3] + highest}
    videos = sorted(out.glob("*.mp4"), key=episode_number)
    assert [p.name for p in videos] == [f"rl-video-episode-{i}.mp4" for i in sorted(kept)]
    for path in videos:
        length = int(episodes[episode_number(path)]["length"])
        assert len(decode(path)) == length + 1, path.name
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no partial files
