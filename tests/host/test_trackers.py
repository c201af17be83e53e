"""fnrec.trackers against the real libraries: TensorBoard (read back with TensorBoard's own
reader), W&B offline (the run's .wandb file read back), MLflow (a real tracking server on
127.0.0.1 with a SQLite store, read back through MlflowClient), and plain files.

One small jitted run (fnrec's CartPole, random actions, 4 envs) is recorded once per module:
its history streams every episode to the trackers from inside the program, a callback sends the
summary every 25 steps, a capture streams two episodes to a watched ``VideoStream``. Each
tracker's test replays that run into its tracker and compares what the tracker holds with it.
"""

from __future__ import annotations

import contextlib
import doctest
import hashlib
import importlib.util
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
import warnings
from pathlib import Path
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fnrec
from fnrec import trackers as T
from fnrec._optional import MissingDependency

NUM_ENVS, STEPS, EVERY = 4, 120, 25


class Memory(T.Tracker):
    """Keeps every call, in order, to replay into a real tracker."""

    name = "memory"

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[str, tuple]] = []

    def log_config(self, config):
        self.calls.append(("config", (config,)))

    def log_scalars(self, values, step):
        self.calls.append(("scalars", (values, step)))

    def log_episodes(self, episodes):
        self.calls.append(("episodes", (episodes,)))

    def log_video(self, video):
        self.calls.append(("video", (video,)))

    def log_image(self, path, tag, step):
        self.calls.append(("image", (path, tag, step)))


class Failing(T.Tracker):
    name = "failing"

    def fail(self, *args):
        raise ConnectionError("the server went away")

    log_config = log_scalars = log_episodes = log_video = log_image = fail


class Run(NamedTuple):
    """What the jitted run produced and logged: the reference the trackers are checked against."""

    scalars: list[tuple[dict, int]]  # every summary sent, by step
    log: fnrec.EpisodeLog  # every episode (from the stacked per-step `ended`)
    videos: list[fnrec.Episode]  # the streamed videos
    png: Path
    calls: list[tuple[str, tuple]]  # what the trackers received, in order
    report: T.TrackerReport
    warned: list[str]


CONFIG = {"ppo": {"lr": 2.5e-3, "epochs": 4}, "envs": NUM_ENVS, "name": "test"}


@pytest.fixture(scope="module")
def run(tmp_path_factory, mlflow_process) -> Run:
    """One jitted run (compiled once for the module) logging to a Memory and a Failing tracker."""
    from fnrec.envs import CartPole
    from fnrec.render import cartpole

    folder = tmp_path_factory.mktemp("run")
    memory = Memory()
    trackers = T.Trackers([memory, Failing()])
    stream = fnrec.VideoStream(folder / "videos", cartpole, fps=50)
    recording = fnrec.Recording(
        statistics=fnrec.stats.episode_statistics(
            100, metrics=[fnrec.stats.discounted_return(0.9)]
        ),
        capture=fnrec.capture.episode_capture(
            60, watch=None, trigger=lambda i: i < 2, stream=trackers.watch(stream)
        ),
        history=fnrec.history.episode_history(64, stream=trackers.episodes),
        max_episode_steps=60,
    )
    rec = fnrec.adapters.funcenv.recorder(CartPole(), recording, NUM_ENVS)
    sent = []

    def send(summary: dict, step: int) -> None:
        trackers.scalars(summary, step)
        sent.append(({k: np.asarray(v).item() for k, v in summary.items()}, int(step)))

    def body(carry, i):
        state, key = carry
        key, act, step_key = jax.random.split(key, 3)
        out = rec.step(state, jax.random.randint(act, (NUM_ENVS,), 0, 2), step_key)
        summary = fnrec.stats.summary(out.state.stats)
        due = (i + 1) % EVERY == 0
        jax.lax.cond(
            due, lambda: jax.debug.callback(send, summary, (i + 1) * NUM_ENVS), lambda: None
        )
        return (out.state, key), out.ended

    @jax.jit
    def train(key):
        state, _ = rec.init(key)
        return jax.lax.scan(body, (state, key), jnp.arange(STEPS))[1]

    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        trackers.config(CONFIG)
        ended = jax.block_until_ready(train(jax.random.key(3)))
        jax.effects_barrier()
        log = fnrec.episode_log(ended)
        png = trackers.learning_curve(log, folder / "curve.png")
        report = trackers.close()
    return Run(
        sorted(sent, key=lambda pair: pair[1]),
        log,
        list(stream.videos),
        png,
        memory.calls,
        report,
        [str(w.message) for w in warned if issubclass(w.category, RuntimeWarning)],
    )


def replay(run: Run, tracker: T.Tracker) -> T.TrackerReport:
    """Feeds `tracker` what the run's trackers received, through a new Trackers."""
    with T.Trackers([tracker]) as trackers:
        for kind, args in run.calls:
            if kind == "video":
                (v,) = args
                trackers.video(v.path, v.fps, step=v.step, episode=v.episode, tag=v.tag)
            elif kind == "image":
                trackers.image(*args)
            else:
                getattr(trackers, kind)(*args)
    report = trackers.close()
    assert report.ok, str(report)
    check_report(report, run, tracker.name)
    return report


def check_report(report: T.TrackerReport, run: Run, name: str) -> None:
    written = report.written[name]
    assert written["episodes"] == len(run.log.episode_id) > 10
    assert written["scalars"] == len(run.scalars) == STEPS // EVERY
    assert written["video"] == 2 and written["image"] == 1 and written["config"] == 1


def summary_rows(run: Run) -> list[tuple[str, float, int]]:
    """(name, value, step) of every finite summary scalar sent."""
    return [
        (name, value, step)
        for values, step in run.scalars
        for name, value in values.items()
        if np.isfinite(value)
    ]


@pytest.mark.fault
def test_the_run_reaches_the_trackers_from_inside_jit(run):
    """Every episode (streamed history), every summary (callback) and both videos (a watched
    VideoStream) arrive, and the failing tracker never stopped the run."""
    check_report(run.report, run, "memory")
    logged = [args[0] for kind, args in run.calls if kind == "episodes"]
    assert np.concatenate([e.episode_id for e in logged]).tolist() == run.log.episode_id.tolist()
    np.testing.assert_array_equal(
        np.concatenate([e.episode_return for e in logged]), run.log.episode_return
    )
    steps = [args[1] for kind, args in run.calls if kind == "scalars"]
    assert sorted(steps) == [step for _, step in run.scalars]
    videos = [args[0] for kind, args in run.calls if kind == "video"]
    assert sorted(v.episode.episode_id for v in videos) == [0, 1]
    assert {v.path for v in videos} == {v.path for v in run.videos}
    assert {v.fps for v in videos} == {50.0}
    # The failing tracker: one warning per kind, naming it and the error; the rest counted.
    failed = run.report.failed["failing"]
    assert failed["episodes"] == len(run.log.episode_id) and failed["scalars"] == len(steps)
    assert not run.report.ok and "failing: wrote nothing; FAILED" in str(run.report)
    kinds = ("config", "scalars", "episodes", "video", "image")
    assert len(run.warned) == len(kinds) == len(run.report.errors)
    for kind in kinds:
        assert any(
            f"failing (Failing) {kind}: ConnectionError: the server went away" in w
            for w in run.warned
        ), kind


# TensorBoard


def test_tensorboard_event_file_read_back_with_tensorboards_reader(run, tmp_path):
    pytest.importorskip("tensorboardX")
    accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    tracker = T.TensorBoard(tmp_path / "tb")
    replay(run, tracker)

    events = accumulator.EventAccumulator(
        str(tracker.event_file),
        size_guidance={accumulator.SCALARS: 0, accumulator.TENSORS: 0, accumulator.IMAGES: 0},
    )
    events.Reload()
    for name, value, step in summary_rows(run):
        got = {e.step: e.value for e in events.Scalars(f"fnrec/{name}")}
        assert got[step] == pytest.approx(value, rel=1e-6), (name, step)
    returns = events.Scalars("fnrec/episode/return")
    assert [e.step for e in returns] == run.log.episode_id.tolist()  # one per episode, id order
    np.testing.assert_allclose([e.value for e in returns], run.log.episode_return, rtol=1e-6)
    lengths = events.Scalars("fnrec/episode/length")
    assert [int(e.value) for e in lengths] == run.log.length.tolist()
    terminated = events.Scalars("fnrec/episode/terminated")
    assert [bool(e.value) for e in terminated] == run.log.terminated.tolist()
    discounted = events.Scalars("fnrec/episode/discounted_return")  # a per-episode metric
    assert [e.value for e in discounted] == run.log.metrics["discounted_return"].tolist()

    # The videos: mp4 bytes as written, with their fps and episode, through TensorBoard's reader.
    (video_event,) = [
        e for e in events.Tensors("fnrec/video") if e.step == run.videos[0].episode_id
    ]
    assert video_event.tensor_proto.string_val[0] == run.videos[0].path.read_bytes()
    metadata = events.SummaryMetadata("fnrec/video")
    assert metadata.plugin_data.plugin_name == "fnrec_video"
    read = T.read_videos(tmp_path / "tb")
    assert sorted(v.metadata["episode"] for v in read) == [0, 1]
    assert {v.metadata["fps"] for v in read} == {50.0}
    for video in read:
        assert video.mp4[4:8] == b"ftyp"  # an mp4, not a GIF
    (image,) = events.Images("fnrec/learning_curve")
    assert image.encoded_image_string == run.png.read_bytes()
    config = events.Tensors("fnrec/config/text_summary")[0].tensor_proto.string_val[0].decode()
    assert json.loads(config.strip("`\n")) == CONFIG


# W&B, offline


def wandb_records(folder: Path) -> list:
    """The records of an offline run's .wandb file (W&B's LevelDB-style log of protobufs)."""
    from wandb.proto import wandb_internal_pb2

    (path,) = folder.glob("run-*.wandb")
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    records, pending, block = [], b"", 32768
    offset = 7  # ":W&B", magic, version
    while offset + 7 <= len(data):
        if block - offset % block < 7:  # too little room left for a header: padding
            offset += block - offset % block
            continue
        length, kind = struct.unpack("<HB", data[offset + 4 : offset + 7])
        chunk = data[offset + 7 : offset + 7 + length]
        offset += 7 + length
        if kind == 0:  # zero padding
            continue
        pending += chunk
        if kind in (1, 4):  # full, last
            record = wandb_internal_pb2.Record()
            record.ParseFromString(pending)
            records.append(record)
            pending = b""
    return records


def test_wandb_offline_run_folder_read_back(run, tmp_path, monkeypatch):
    pytest.importorskip("wandb")
    for name in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
        monkeypatch.setenv(name, str(tmp_path / name.lower()))
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    tracker = T.WandB("fnrec-test", tmp_path / "wb", mode="offline")
    replay(run, tracker)

    folder = tracker.folder
    assert folder.name.startswith("offline-run-")
    # W&B's service process writes the log: it may complete a moment after finish() returns.
    deadline = time.monotonic() + 30
    while not any(r.WhichOneof("record_type") == "exit" for r in wandb_records(folder)):
        assert time.monotonic() < deadline, "the offline run's log has no exit record"
        time.sleep(0.1)
    rows = []
    config, axes = {}, {}
    for record in wandb_records(folder):
        kind = record.WhichOneof("record_type")
        if kind == "history":  # media are nested: ("fnrec/video", "path")
            row: dict = {}
            for item in record.history.item:
                key, *inner = list(item.nested_key) or [item.key]
                value = json.loads(item.value_json)
                if inner:
                    row.setdefault(key, {})[inner[0]] = value
                else:
                    row[key] = value
            rows.append(row)
        elif kind == "config":
            config |= {u.key: json.loads(u.value_json) for u in record.config.update}
        elif kind == "metric" and record.metric.step_metric:  # define_metric: the x axes
            axes[record.metric.name] = record.metric.step_metric
    assert config["ppo"] == CONFIG["ppo"] and config["envs"] == NUM_ENVS
    assert axes["fnrec/episode/return"] == axes["fnrec/episode/discounted_return"]
    assert axes["fnrec/episode/return"] == "fnrec/episode/id"
    assert axes["fnrec/return_mean"] == "fnrec/env_steps"
    episodes = [r for r in rows if "fnrec/episode/return" in r]
    assert [int(r["fnrec/episode/id"]) for r in episodes] == run.log.episode_id.tolist()
    np.testing.assert_allclose(
        [float(r["fnrec/episode/return"]) for r in episodes], run.log.episode_return, rtol=1e-6
    )
    assert [int(r["fnrec/episode/length"]) for r in episodes] == run.log.length.tolist()
    np.testing.assert_allclose(
        [r["fnrec/episode/discounted_return"] for r in episodes],
        run.log.metrics["discounted_return"],
        rtol=1e-6,
    )
    for name, value, step in summary_rows(run):
        (row,) = [r for r in rows if r.get("fnrec/env_steps") == step]
        assert float(row[f"fnrec/{name}"]) == pytest.approx(value, rel=1e-6)
    videos = [r["fnrec/video"] for r in rows if "fnrec/video" in r]
    assert len(videos) == 2 and all(v["_type"] == "video-file" for v in videos)
    written = {hashlib.sha256(v.path.read_bytes()).hexdigest() for v in run.videos}
    for video in videos:
        stored = folder / "files" / video["path"]
        assert stored.suffix == ".mp4"
        assert hashlib.sha256(stored.read_bytes()).hexdigest() in written  # not re-encoded
    images = [r["fnrec/learning_curve"] for r in rows if "fnrec/learning_curve" in r]
    assert len(images) == 1 and (folder / "files" / images[0]["path"]).is_file()


# Files


def test_files_jsonl_and_csv(run, tmp_path):
    replay(run, T.Files(tmp_path / "files"))
    folder = tmp_path / "files"
    lines = [json.loads(x) for x in (folder / "scalars.jsonl").read_text().splitlines()]
    assert [line["step"] for line in lines] == [step for _, step in run.scalars]
    for name, value, step in summary_rows(run):
        (line,) = [x for x in lines if x["step"] == step]
        assert line[f"fnrec/{name}"] == pytest.approx(value, rel=1e-6)
    # The same CSV as EpisodeLog.write_csv (the metric's column included), plus truncated.
    run.log.write_csv(tmp_path / "reference.csv")
    ours = (folder / "episodes.csv").read_text().splitlines()
    reference = (tmp_path / "reference.csv").read_text().splitlines()
    assert ours[0] == "episode,env,return,length,terminated,discounted_return,truncated"
    assert [line.rsplit(",", 1)[0] for line in ours] == reference
    assert [int(line.rsplit(",", 1)[1]) for line in ours[1:]] == run.log.truncated.tolist()
    media = [json.loads(x) for x in (folder / "media.jsonl").read_text().splitlines()]
    videos = [m for m in media if m["kind"] == "video"]
    assert sorted(m["episode"] for m in videos) == [0, 1] and {m["fps"] for m in videos} == {50.0}
    for m in videos:
        original = next(v.path for v in run.videos if v.episode_id == m["episode"])
        assert (folder / m["path"]).read_bytes() == original.read_bytes()
    assert json.loads((folder / "config.json").read_text()) == CONFIG


# The worker: failures, a full queue, missing libraries


class Slow(T.Tracker):
    name = "slow"

    def __init__(self, seconds):
        super().__init__()
        self.seconds, self.steps = seconds, []

    def log_scalars(self, values, step):
        time.sleep(self.seconds)
        self.steps.append(step)

    def log_episodes(self, episodes):
        pass

    def log_video(self, video):
        pass


def test_a_full_queue_drops_or_blocks_as_asked():
    slow = Slow(0.05)
    trackers = T.Trackers([slow], max_pending=2, when_full="drop")
    start = time.perf_counter()
    for step in range(20):
        trackers.scalars({"x": 1.0}, step)
    assert time.perf_counter() - start < 0.5  # the caller never waited for the tracker
    report = trackers.close()
    assert report.dropped > 0 and report.dropped + len(slow.steps) == 20
    assert slow.steps == sorted(slow.steps)

    slow = Slow(0.02)
    with T.Trackers([slow], max_pending=2) as trackers:
        for step in range(10):
            trackers.scalars({"x": 1.0}, step)
    report = trackers.close()
    assert slow.steps == list(range(10)) and report.dropped == 0 and report.waited_seconds > 0
    with pytest.raises(RuntimeError, match="closed"):
        trackers.scalars({"x": 1.0}, 11)


class Buffering(T.Tracker):
    """Sends on flush, as a tracker behind a server does; its first flush waits for `go`."""

    name = "buffering"

    def __init__(self, fail_flush: int | None = None):
        super().__init__()
        self.flushing, self.go = threading.Event(), threading.Event()
        self.fail_flush = fail_flush
        self.buffer, self.flushed = [], []

    def log_scalars(self, values, step):
        self.buffer.append(step)

    def log_episodes(self, episodes):
        pass

    def log_video(self, video):
        pass

    def flush(self):
        self.flushing.set()
        assert self.go.wait(10)
        sent, self.buffer = self.buffer, []
        if len(self.flushed) == self.fail_flush:
            self.flushed.append(None)
            raise ConnectionError("the server went away")
        self.flushed.append(sent)


def queue_while_the_first_flush_waits(tracker: Buffering, steps: int) -> T.Trackers:
    trackers = T.Trackers([tracker], gather_seconds=0)
    trackers.scalars({"x": 1.0}, 0)
    assert tracker.flushing.wait(10)  # the worker took step 0 alone and waits in its flush
    for step in range(1, steps):
        trackers.scalars({"x": 1.0}, step)
    tracker.go.set()
    return trackers


def test_what_is_queued_at_once_is_flushed_at_once_and_counted_when_sent():
    tracker = Buffering()
    report = queue_while_the_first_flush_waits(tracker, 10).close()
    assert tracker.flushed == [[0], list(range(1, 10))]  # one flush (one request) for nine
    assert report.written["buffering"]["scalars"] == 10 and report.ok

    tracker = Buffering(fail_flush=1)  # the second burst is lost on the way to the server
    with pytest.warns(RuntimeWarning, match=r"buffering \(Buffering\) scalars: ConnectionError"):
        report = queue_while_the_first_flush_waits(tracker, 6).close()
    assert tracker.flushed == [[0], None]
    assert report.failed["buffering"]["scalars"] == 5
    assert report.written["buffering"]["scalars"] == 1


def test_items_queued_within_gather_seconds_are_one_burst_and_close_ends_the_wait():
    tracker = Buffering()
    tracker.go.set()
    trackers = T.Trackers([tracker], gather_seconds=30)
    for step in range(5):
        trackers.scalars({"x": 1.0}, step)
        time.sleep(0.05)  # spread out: each would be a burst of its own without the wait
    assert trackers.pending == 5 and tracker.flushed == []
    start = time.monotonic()
    report = trackers.close()
    assert time.monotonic() - start < 10  # close() does not wait out the 30 s
    assert tracker.flushed == [list(range(5))] and report.written["buffering"]["scalars"] == 5


def test_bad_arguments_name_the_argument(tmp_path):
    with pytest.raises(TypeError, match="`trackers` must be a non-empty sequence"):
        T.Trackers([])
    with pytest.raises(ValueError, match="`trackers` must have distinct names"):
        T.Trackers([Slow(0), Slow(0)])
    with pytest.raises(ValueError, match="`when_full` must be 'block' or 'drop', got 'wait'"):
        T.Trackers([Slow(0)], when_full="wait")
    for bad in (-1, float("nan"), float("inf"), "1", True):
        with pytest.raises(ValueError, match=r"`gather_seconds` must be a finite number >= 0, got"):
            T.Trackers([Slow(0)], gather_seconds=bad)
    with T.Trackers([Slow(0)]) as trackers:
        with pytest.raises(ValueError, match=r"`path` must be an existing \.mp4 file"):
            trackers.video(tmp_path / "nope.mp4", 30)
        with pytest.raises(ValueError, match="`step` must be an int >= 0, got -1"):
            trackers.scalars({"x": 1}, -1)
        with pytest.raises(TypeError, match="`config` must be a mapping"):
            trackers.config([1])


def test_tap_logs_the_summary_every_k_steps_at_the_env_steps():
    """``Trackers.tap`` inside jit: a callback after every 40th step only, at the exact env-steps,
    with the summary the statistics had then."""
    memory = Memory()
    trackers = T.Trackers([memory])
    done = jax.random.uniform(jax.random.key(1), (200, NUM_ENVS)) < 0.2

    @jax.jit
    def program(stats):
        def body(stats, xs):
            i, d = xs
            stats, _ = fnrec.stats.step(stats, 1.0, d, False)
            trackers.tap(stats, i, every=40, extra={"lr": 0.5})
            return stats, fnrec.stats.summary(stats)

        return jax.lax.scan(body, stats, (jnp.arange(200), done))

    stats, summaries = program(fnrec.stats.init(NUM_ENVS))
    trackers.close()
    logged = [args for kind, args in memory.calls if kind == "scalars"]
    assert [step for _, step in logged] == [40 * k * NUM_ENVS for k in range(1, 6)]
    for k, (values, _) in enumerate(logged):
        at = 40 * (k + 1) - 1
        want = {name: float(v[at]) for name, v in summaries.items()}
        assert values == pytest.approx({**want, "lr": 0.5, "episodes": values["episodes"]})
    assert logged[-1][0]["episodes"] == fnrec.stats.episode_count(stats)
    with pytest.raises(ValueError, match="`every` must be an int >= 1, got 0"):
        trackers.tap(stats, 0, every=0)


def test_videos_of_an_export_and_images_after_the_run(run, tmp_path):
    """``videos`` takes export_videos' result (or its Episodes) with their fps; ``image`` a PNG."""
    export = fnrec.ExportResult(run.videos, dropped_full=0, dropped_too_long=0)
    with T.Trackers([T.Files(tmp_path / "files")]) as trackers:
        assert trackers.videos(export, fps=50) == 2
        trackers.image(run.png, "curve", step=7)
        with pytest.raises(TypeError, match=r"`videos` must be an ExportResult or fnrec\.Episode"):
            trackers.videos([run.log.episodes()[0]], fps=50)  # no path: not a video
        with pytest.raises(ValueError, match=r"`path` must be an existing \.png file"):
            trackers.image(run.videos[0].path, "curve")
        with pytest.raises(ValueError, match=r"`fps` must be a positive number, got 0\.0"):
            trackers.video(run.videos[0].path, 0)
    media = [json.loads(x) for x in (tmp_path / "files" / "media.jsonl").read_text().splitlines()]
    assert [(m["kind"], m.get("episode"), m["step"]) for m in media] == [
        ("video", v.episode_id, v.episode_id) for v in run.videos
    ] + [("image", None, 7)]


@pytest.mark.parametrize(
    ("cls", "module", "extra"),
    [("TensorBoard", "tensorboardX", "tensorboard"), ("WandB", "wandb", "wandb"),
     ("MLflow", "mlflow", "mlflow")],
)  # fmt: skip
def test_a_missing_library_names_the_extra(cls, module, extra, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(MissingDependency, match=rf"pip install 'fnrec\[{extra}\]'"):
        getattr(T, cls)(str(tmp_path))


def test_docstring_examples():
    for module in ("fnrec.host.trackers.base", "fnrec.host.trackers.files"):
        result = doctest.testmod(sys.modules[module], optionflags=doctest.ELLIPSIS)
        assert result.attempted > 0 and result.failed == 0, module


@pytest.mark.fault
def test_an_unreachable_tracking_server_warns_and_the_run_goes_on(tmp_path, monkeypatch):
    """MLflow whose server went away: the failures are reported, the other tracker writes."""
    pytest.importorskip("mlflow")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    nobody = f"http://127.0.0.1:{_free_port()}"  # nothing listens there
    tracker = T.MLflow(nobody, run_id="0" * 32)  # an existing run: nothing asked yet
    trackers = T.Trackers([tracker, T.Files(tmp_path / "files")])
    with pytest.warns(RuntimeWarning, match=r"mlflow \(MLflow\) scalars: MlflowException"):
        trackers.scalars({"x": 1.0}, 1)
        trackers.scalars({"x": 2.0}, 2)
        report = trackers.close()
    assert report.failed["mlflow"]["scalars"] == 2 and report.written["files"]["scalars"] == 2


# MLflow: a real tracking server (SQLite store, served artifacts), started once for the module.


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def mlflow_process(tmp_path_factory):
    """A tracking server process (SQLite store, artifacts served into a temporary folder),
    started when the module's first test starts, so that it boots while the others run; it is
    stopped when the module ends. None without mlflow."""
    if importlib.util.find_spec("mlflow") is None:
        yield None
        return
    folder = tmp_path_factory.mktemp("mlflow")
    port = _free_port()
    log = open(folder / "server.log", "wb")  # noqa: SIM115
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
        "--artifacts-destination", str(folder / "artifacts"), "--serve-artifacts",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    # No job runner: MLflow 3 would start seven background worker processes for it.
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    server = subprocess.Popen(
        command, stdout=log, stderr=subprocess.STDOUT, cwd=folder, env=env, start_new_session=True
    )
    try:
        yield server, f"http://127.0.0.1:{port}", folder / "server.log"
    finally:  # the server and the processes it started (its own session's group)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
        assert server.returncode is not None  # stopped


@pytest.fixture(scope="module")
def mlflow_server(mlflow_process):
    """The tracking server's URI, once it answers."""
    pytest.importorskip("mlflow")
    server, uri, log = mlflow_process
    deadline = time.monotonic() + 180
    while True:
        try:
            with urllib.request.urlopen(f"{uri}/health", timeout=2) as answer:
                if answer.status == 200:
                    return uri
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"mlflow server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.25)


def test_mlflow_against_a_tracking_server(run, mlflow_server, tmp_path):
    from mlflow import MlflowClient

    tracker = T.MLflow(mlflow_server, "fnrec-test", run_name="trackers-test")
    replay(run, tracker)

    client = MlflowClient(mlflow_server)
    got = client.get_run(tracker.run_id)
    assert got.info.status == "FINISHED" and got.info.run_name == "trackers-test"
    assert got.data.params["ppo.lr"] == "0.0025" and got.data.params["envs"] == str(NUM_ENVS)
    returns = client.get_metric_history(tracker.run_id, "fnrec/episode/return")
    returns = sorted(returns, key=lambda m: m.step)
    assert [m.step for m in returns] == run.log.episode_id.tolist()
    np.testing.assert_allclose([m.value for m in returns], run.log.episode_return, rtol=1e-6)
    discounted = client.get_metric_history(tracker.run_id, "fnrec/episode/discounted_return")
    np.testing.assert_allclose(
        [m.value for m in sorted(discounted, key=lambda m: m.step)],
        run.log.metrics["discounted_return"],
        rtol=1e-6,
    )
    for name, value, step in summary_rows(run):
        history = {
            m.step: m.value for m in client.get_metric_history(tracker.run_id, f"fnrec/{name}")
        }
        assert history[step] == pytest.approx(value, rel=1e-6)
    listed = {Path(f.path).name for f in client.list_artifacts(tracker.run_id, "fnrec/videos")}
    assert listed == {v.path.name for v in run.videos}
    video = run.videos[0]
    local = client.download_artifacts(
        tracker.run_id, f"fnrec/videos/{video.path.name}", str(tmp_path / "dl")
    )
    assert Path(local).read_bytes() == video.path.read_bytes()
    config = client.download_artifacts(tracker.run_id, "fnrec/config.json", str(tmp_path / "dl"))
    assert json.loads(Path(config).read_text()) == CONFIG
