"""PPO in one jitted program, logged to TensorBoard, Weights & Biases and/or MLflow as it trains.

PPO (``fnrec.demo.ppo``, pure JAX) learns fnrec's functional CartPole through
``fnrec.adapters.funcenv.recorder`` in ONE jitted program; fnrec records inside it, and what it
records leaves the program through host callbacks only when something is due:

- after every update, ``fnrec.stats.summary`` (the last 100 episodes) and the episode count, as
  scalars ``fnrec/<name>`` at the env-steps so far;
- every finished episode (``fnrec.history``, streamed in chunks when its staging buffer fills),
  as ``fnrec/episode/return``, ``/length``, ``/terminated``, ``/env`` at its episode id;
- the chosen episodes (``fnrec.capture``, the capped cubic schedule by default), encoded to mp4
  at 50 fps by a ``fnrec.VideoStream`` in the background and logged as mp4 when written;

and after the run, a learning curve (with matplotlib) and the run's configuration. Writing
happens in a background thread (``fnrec.trackers.Trackers``); a tracker that fails warns and
training goes on. Live progress shows on stderr (``fnrec.LiveProgress``).

Trackers (any combination, at least one)::

    --tensorboard DIR     pip install 'fnrec[tensorboard]'  view: tensorboard --logdir DIR
    --wandb-offline DIR   pip install 'fnrec[wandb]'        later: wandb sync DIR/wandb/offline-*
    --mlflow URI          pip install 'fnrec[mlflow]'       http://127.0.0.1:5000, sqlite:///f.db

Run: ``python examples/trackers.py --tensorboard runs/ppo --updates 60``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

import jax
import numpy as np

import fnrec
from fnrec._cli import at_least
from fnrec._optional import MissingDependency
from fnrec.demo.ppo import PPOConfig, make_train
from fnrec.envs import CartPole
from fnrec.render import cartpole

FPS = 50  # CartPole's own render rate
_SHORTEST_EPISODE = 8  # CartPole's shortest episode


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = parser.add_argument
    add("--tensorboard", type=Path, metavar="DIR", help="TensorBoard log folder")
    add("--wandb-offline", type=Path, metavar="DIR", help="W&B offline run folder (no network)")
    add("--mlflow", metavar="URI", help="MLflow tracking URI (a server, or sqlite:///file.db)")
    add("--wandb-project", default="fnrec", help="W&B project")
    add("--mlflow-experiment", default="fnrec", help="MLflow experiment")
    add("--updates", type=at_least(1), default=60, help="PPO updates")
    add("--envs", type=at_least(1), default=32, help="envs stepped in parallel")
    add("--steps-per-update", type=at_least(1), default=64, help="rollout length per update")
    add("--max-episode-steps", type=at_least(1), default=500, help="time limit (longest video)")
    add("--every", type=at_least(1), default=None, metavar="K",
        help="record episodes 0, K, 2K, ... (default: the capped cubic schedule)")  # fmt: skip
    add("--video-dir", type=Path, default=None,
        help="where the mp4s are written (default: DIR/videos of --tensorboard or "
             "--wandb-offline, else fnrec-videos)")  # fmt: skip
    add("--seed", type=int, default=0, help="PRNG seed")
    add("--quiet", action="store_true", help="no live progress")
    args = parser.parse_args(argv)
    if not (args.tensorboard or args.wandb_offline or args.mlflow):
        parser.error(
            "name at least one tracker: --tensorboard DIR, --wandb-offline DIR, --mlflow URI"
        )
    if (args.envs * args.steps_per_update) % 4:
        parser.error("--envs x --steps-per-update must be a multiple of 4 (PPO's minibatches)")
    return args


def make_trackers(args: argparse.Namespace) -> list[fnrec.trackers.Tracker]:
    """The trackers named on the command line (each imports its library now)."""
    chosen: list[fnrec.trackers.Tracker] = []
    if args.tensorboard:
        chosen.append(fnrec.trackers.TensorBoard(args.tensorboard))
    if args.wandb_offline:
        chosen.append(fnrec.trackers.WandB(args.wandb_project, args.wandb_offline, mode="offline"))
    if args.mlflow:
        chosen.append(fnrec.trackers.MLflow(args.mlflow, args.mlflow_experiment))
    return chosen


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    chosen = make_trackers(args)  # a missing library fails here, before anything is compiled
    video_dir = args.video_dir or (
        (args.tensorboard or args.wandb_offline) / "videos"
        if (args.tensorboard or args.wandb_offline)
        else Path("fnrec-videos")
    )
    num_envs, num_updates = args.envs, args.updates
    env_steps_per_update = num_envs * args.steps_per_update
    total_steps = env_steps_per_update * num_updates
    config = PPOConfig(num_envs=num_envs, num_steps=args.steps_per_update, num_updates=num_updates)

    trackers = fnrec.trackers.Trackers(chosen)
    trackers.config({"ppo": config, "env": "fnrec.envs.CartPole", **vars(args)})
    chunks: list[fnrec.history.HistoryChunk] = []  # kept for the learning curve

    def episodes(chunk: fnrec.history.HistoryChunk) -> None:  # the history's stream
        chunks.append(chunk)
        trackers.episodes(chunk)

    videos = fnrec.VideoStream(video_dir, cartpole, fps=FPS, overwrite=True)
    recording = fnrec.Recording(
        statistics=fnrec.stats.episode_statistics(buffer_length=100),
        capture=fnrec.capture.episode_capture(
            args.max_episode_steps,
            watch=None,
            trigger=None if args.every is None else fnrec.schedules.every(args.every),
            stream=trackers.watch(videos),
        ),
        # Staged episodes leave when the buffer might not fit the next step: a callback every
        # 1024 / envs steps at most; what is staged at the end is read from the final state.
        history=fnrec.history.episode_history(max(1024, num_envs), stream=episodes, flush="full"),
        max_episode_steps=args.max_episode_steps,
    )
    rec = fnrec.adapters.funcenv.recorder(CartPole(), recording, num_envs)
    live = fnrec.LiveProgress(
        total_steps,
        "fnrec trackers",
        videos_waiting=lambda: trackers.videos_waiting,
        enabled=not args.quiet,
    )
    log_update = trackers.on_update(env_steps_per_update)
    show_update = live.on_update(env_steps_per_update)

    def on_update(index: Any, metrics: dict[str, Any]) -> None:  # host, once per update
        log_update(index, metrics)
        show_update(index, metrics)

    def metrics(state: Any) -> dict[str, Any]:  # traced: inside the jitted program
        # "episodes": the exact 64-bit count (a Counter64), converted on the host.
        return {**fnrec.stats.summary(state.stats), "episodes": state.stats.episode_count}

    train = make_train(config, rec.init, rec.step, 4, 2, metrics_fn=metrics, on_update=on_update)
    key = jax.random.key(args.seed)
    start = time.perf_counter()
    compiled = jax.jit(train).lower(key).compile()
    compile_seconds = time.perf_counter() - start
    start = time.perf_counter()
    with live:
        result = jax.block_until_ready(compiled(key))
    train_seconds = time.perf_counter() - start

    staged = fnrec.history_chunk(result.env_state.history)  # the last, unsent episodes
    episodes(staged)
    log = fnrec.episode_log(chunks)
    try:
        videos.close()  # every video written (trackers.close() logs those not logged yet)
    except Exception as error:  # the stream warned already; the others are logged
        print(f"a video failed: {error}")
    recorded = [v.episode_id for v in videos.videos]
    curve = None
    try:
        curve = trackers.learning_curve(
            log, video_dir / "learning_curve.png", title="PPO on CartPole", recorded=recorded
        )
    except MissingDependency as error:  # matplotlib is optional: say so, log the rest
        print(f"no learning curve: {error}")
    report = trackers.close()
    written = [v.path for v in videos.videos]
    print(
        f"PPO on {num_envs} CartPoles, {num_updates} updates ({total_steps:,} env-steps) in one "
        f"jitted program: compiled in {compile_seconds:.1f} s, trained in {train_seconds:.1f} s; "
        f"{len(log.episode_id):,} episodes, {len(written)} videos in {video_dir}"
    )
    print(report)
    stacked = dict(jax.device_get(result.metrics))
    count = stacked["episodes"]  # a Counter64 of [updates] words
    stacked["episodes"] = (np.asarray(count.hi, np.int64) << 32) | np.asarray(count.lo, np.int64)
    stacked = {k: np.asarray(v) for k, v in stacked.items()}
    return {
        "trackers": {t.name: t for t in chosen},
        "report": report,
        "log": log,
        "videos": list(videos.videos),
        "metrics": stacked,
        "env_steps_per_update": env_steps_per_update,
        "curve": curve,
    }


if __name__ == "__main__":
    try:
        main()
    except MissingDependency as error:  # one line naming the extra, not a traceback
        raise SystemExit(str(error)) from None
