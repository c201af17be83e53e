"""Cost of logging a jitted PPO run to TensorBoard, W&B and MLflow (target: at most 1.05x).

PPO (``fnrec.demo.ppo``) learns fnrec's CartPole in one jitted program, recorded by fnrec: the
statistics, every episode's history, and chosen episodes (every 50th by global id) streamed to a
``fnrec.VideoStream`` that renders and encodes mp4s in the background. Two programs, compiled
once each; their variants run interleaved, round after round, in one process:

- no trackers: the history kept in the state, the summaries computed but not sent, the videos
  written by the stream;
- trackers: the same recording, and ``fnrec.trackers.Trackers([TensorBoard, WandB (offline),
  MLflow])`` fed from inside the program: the summary after every update (``on_update``), every
  episode (the history's ``stream=``, ``flush="full"``, the staged rest after the run), every
  video as it is written (``Trackers.watch``), and the configuration.
- each tracker alone, fed the same way: its share of the cost (its own writer process
  included).

A round's time runs from the call of the compiled program until everything is written: the
videos (both variants) and, with trackers, ``Trackers.close()`` (every item written to the three
trackers). Creating the trackers (W&B's run, MLflow's run) is outside it and reported apart.
MLflow logs to a tracking server this script starts on 127.0.0.1 (SQLite store, artifacts served
into a temporary folder) unless ``--mlflow URI`` names one. Ratio: median (and interquartile range)
of per-round ratios to the run without trackers.

Run: python benchmarks/trackers_overhead.py [--updates 60] [--rounds 7]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
from _results import command_line, machine_line, spread, write_section

import fnrec
from fnrec.demo.ppo import PPOConfig, make_train
from fnrec.envs import CartPole
from fnrec.render import cartpole

FPS = 50
EVERY = 50  # a video of every 50th episode


class Relay:
    """The host end of the program's callbacks, pointed at a new target every round (so that
    the program is compiled once, not once per round's trackers)."""

    def __init__(self) -> None:
        self.trackers: fnrec.trackers.Trackers | None = None
        self.videos: Callable[[Any], None] | None = None
        self.env_steps_per_update = 0

    def episodes(self, chunk: Any) -> None:
        if self.trackers is not None:
            self.trackers.episodes(chunk)

    def update(self, index: Any, metrics: Any) -> None:  # as Trackers.on_update's callback
        if self.trackers is not None:
            self.trackers.scalars(metrics, (int(index) + 1) * self.env_steps_per_update)

    def video(self, episode: Any) -> None:
        self.videos(episode)


def make_program(args: argparse.Namespace, relay: Relay, with_trackers: bool):
    """The compiled training program of a variant."""
    num_envs = args.envs
    total = num_envs * args.steps_per_update * args.updates
    history = (
        fnrec.history.episode_history(max(1024, num_envs), stream=relay.episodes, flush="full")
        if with_trackers
        else fnrec.history.episode_history(total // 8 + num_envs)  # every episode, kept
    )
    recording = fnrec.Recording(
        statistics=fnrec.stats.episode_statistics(100),
        capture=fnrec.capture.episode_capture(
            args.max_episode_steps,
            watch=None,
            trigger=fnrec.schedules.every(EVERY),
            stream=relay.video,
        ),
        history=history,
        max_episode_steps=args.max_episode_steps,
    )
    rec = fnrec.adapters.funcenv.recorder(CartPole(), recording, num_envs)
    config = PPOConfig(num_envs=num_envs, num_steps=args.steps_per_update, num_updates=args.updates)

    def metrics(state: Any) -> dict[str, Any]:
        return {**fnrec.stats.summary(state.stats), "episodes": state.stats.episode_count}

    train = make_train(
        config,
        rec.init,
        rec.step,
        4,
        2,
        metrics_fn=metrics,
        on_update=relay.update if with_trackers else None,
    )
    key = jax.random.key(0)
    return jax.jit(train).lower(key).compile(), key, config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def mlflow_server(folder: Path):
    """An MLflow tracking server on 127.0.0.1 (SQLite store, served artifacts); its URI."""
    port = _free_port()
    command = [
        sys.executable, "-m", "mlflow", "server",
        "--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}",
        "--artifacts-destination", str(folder / "artifacts"), "--serve-artifacts",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
    ]  # fmt: skip
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"}
    with open(folder / "server.log", "wb") as log:
        server = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        uri = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 300
            while True:
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(f"{uri}/health", timeout=2) as answer,
                ):
                    if answer.status == 200:
                        break
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mlflow server did not start; see {folder}/server.log")
                time.sleep(0.25)
            yield uri
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


TRACKERS = ("tensorboard", "wandb", "mlflow")
# The variants: which trackers each logs to (all three is the target's; one at a time shows
# each tracker's share, its own writer process included: W&B's service, MLflow's server).
VARIANTS = {
    "no trackers": (),
    "TensorBoard only": ("tensorboard",),
    "W&B (offline) only": ("wandb",),
    "MLflow (server) only": ("mlflow",),
    "all three": TRACKERS,
}


def make_tracker(kind: str, folder: Path, uri: str) -> fnrec.trackers.Tracker:
    if kind == "tensorboard":
        return fnrec.trackers.TensorBoard(folder / "tb")
    if kind == "wandb":
        return fnrec.trackers.WandB("fnrec-bench", folder / "wb", mode="offline")
    return fnrec.trackers.MLflow(uri, "fnrec-bench")


def run_round(
    args: argparse.Namespace,
    program: Any,
    relay: Relay,
    folder: Path,
    uri: str,
    kinds: tuple[str, ...],
    config: PPOConfig,
) -> tuple[float, float, Any]:
    """One run of a variant: (seconds until everything is written, tracker setup seconds,
    the trackers' report or None)."""
    compiled, key = program
    stream = fnrec.VideoStream(folder / "videos", cartpole, fps=FPS)
    setup = 0.0
    trackers = None
    relay.videos = stream
    if kinds:
        start = time.perf_counter()
        trackers = fnrec.trackers.Trackers([make_tracker(k, folder, uri) for k in kinds])
        trackers.config({"ppo": config, "envs": args.envs})
        relay.videos = trackers.watch(stream)
        setup = time.perf_counter() - start
    relay.trackers = trackers
    start = time.perf_counter()
    result = jax.block_until_ready(compiled(key))
    report = None
    if trackers is not None:
        trackers.episodes(fnrec.history_chunk(result.env_state.history))  # the staged rest
        report = trackers.close()  # closes the watched stream: every video written and logged
    else:
        stream.close()
    seconds = time.perf_counter() - start
    relay.trackers = None
    return seconds, setup, report


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--envs", type=int, default=32)
    parser.add_argument("--steps-per-update", type=int, default=64)
    parser.add_argument("--updates", type=int, default=60)
    parser.add_argument("--max-episode-steps", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--mlflow", metavar="URI", default=None, help="default: start a server")
    parser.add_argument(
        "--no-write", action="store_true", help="print the table; leave RESULTS.md alone"
    )
    args = parser.parse_args()
    os.environ.setdefault("WANDB_SILENT", "true")
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        tmp = Path(tmp)
        for name in ("WANDB_CONFIG_DIR", "WANDB_CACHE_DIR", "WANDB_DATA_DIR"):
            os.environ.setdefault(name, str(tmp / name.lower()))
        if args.mlflow is None:
            (tmp / "mlflow").mkdir()
            uri = stack.enter_context(mlflow_server(tmp / "mlflow"))
        else:
            uri = args.mlflow
        relay = Relay()
        relay.env_steps_per_update = args.envs * args.steps_per_update
        programs = {}  # one program with trackers' callbacks, one without
        for with_trackers in (False, True):
            program, key, config = make_program(args, relay, with_trackers)
            programs[with_trackers] = (program, key)
        times: dict[str, list[float]] = {name: [] for name in VARIANTS}
        setups: list[float] = []
        report = None
        for round_ in range(args.rounds + 1):  # round 0: warm-up (caches, first files)
            for index, (name, kinds) in enumerate(VARIANTS.items()):
                folder = tmp / f"variant-{index}-{round_}"
                program = programs[bool(kinds)]
                seconds, setup, got = run_round(args, program, relay, folder, uri, kinds, config)
                if round_:
                    times[name].append(seconds)
                    if kinds == TRACKERS:
                        setups.append(setup)
                        report = got
            done = ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items() if v and round_)
            print(f"round {round_}: {done or 'warm-up'}", flush=True)
        base = times["no trackers"]
        rows = []
        for name, values in times.items():
            ratio = spread([a / b for a, b in zip(values, base, strict=True)])
            rows.append(f"| {name} | {statistics.median(values):.2f} | {ratio} |")
            print(rows[-1], flush=True)
    written = report.written if report is not None else {}
    episodes = written.get("tensorboard", {}).get("episodes", 0)
    videos = written.get("tensorboard", {}).get("video", 0)
    steps = args.envs * args.steps_per_update * args.updates
    body = "\n".join(
        [
            "## Trackers: a jitted PPO run logged to TensorBoard, W&B and MLflow "
            "(`trackers_overhead.py`)",
            "",
            f"PPO on {args.envs} fnrec CartPoles, {args.updates} updates x "
            f"{args.steps_per_update} steps ({steps:,} env-steps), one jitted program, fnrec "
            f"recording (statistics, history, a video of every {EVERY}th episode encoded by a "
            "VideoStream in every variant). With trackers: the summary after every update, "
            f"every episode ({episodes:,}) and every video ({videos}) to TensorBoard, W&B "
            "(offline) and MLflow (a local tracking server, SQLite store), all three (the "
            "target's variant) and each alone; time until everything is written. "
            f"{args.rounds} interleaved rounds after warm-up, one process; ratio: median "
            "(interquartile range) of per-round ratios. W&B's service process and MLflow's "
            "server run on the same cores as the training.",
            "",
            "| variant | s / run | vs no trackers (IQR) |",
            "|---|---:|---:|",
            *rows,
            "",
            f"Creating the three trackers (outside the timed run): median "
            f"{statistics.median(setups):.2f} s."
            if setups
            else "",
            "",
            f"Command: `{command_line()}`",
            "",
            f"Machine: {machine_line()}",
        ]
    )
    if args.no_write:
        print(body)
    else:
        write_section("trackers_overhead", body)


if __name__ == "__main__":
    main()
