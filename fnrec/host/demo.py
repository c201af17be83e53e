"""The demo: PPO learns CartPole in one jitted program; fnrec records it; the host exports.

One ``jax.jit``-compiled program trains a small PPO (``fnrec.demo.ppo``, pure JAX) on a batch of
fnrec's flax-free functional CartPole (``fnrec.envs.CartPole``) through
``fnrec.adapters.funcenv.recorder``, which carries, inside the program:

- the statistics (one shared queue of the last 100 episodes, ``fnrec.stats``),
- the capture of chosen episodes by global id (the capped cubic schedule by default, so the
  videos show the agent failing early and balancing late; ``fnrec.capture``),
- every episode's return, length and ending (``fnrec.history``).

A host callback after each update feeds live progress (``fnrec.LiveProgress``, on stderr: env-steps,
steps per second, episodes, the rolling return, terminated/truncated counts; at most two updates a
second). After
the run the host prints a summary table, and writes the videos, the episode log (CSV) and a
learning-curve PNG (with matplotlib, the ``plots`` extra) into one folder. Everything runs on a
plain ``pip install fnrec``.
"""

from __future__ import annotations

import itertools
import sys
import time
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np

from fnrec import capture, history, schedules, stats
from fnrec._optional import MissingDependency
from fnrec.adapters import funcenv
from fnrec.adapters.core import Recording
from fnrec.demo.ppo import PPOConfig, make_train
from fnrec.envs import CartPole
from fnrec.host.episode_log import EpisodeLog, episode_log
from fnrec.host.export import ExportResult, export_videos
from fnrec.host.plots import learning_curve
from fnrec.host.progress import LiveProgress
from fnrec.host.video_recorder import make_video_folder
from fnrec.render import cartpole

# The fastest CartPole episode is 8 steps (the pole falls past 12 degrees), so the history holds
# every episode of a run of S env-steps with S // 8 + num_envs slots.
_SHORTEST_EPISODE = 8
_TABLE_ROWS = 6


class DemoResult(NamedTuple):
    """What ``run_demo`` produced.

    Attributes:
      log: every finished episode, in the order they ended.
      videos: the exported videos and the counts of episodes the capture could not keep.
      csv: the episode log's CSV file.
      plot: the learning-curve PNG, or None when matplotlib is not installed.
      compile_seconds: time to compile the training program.
      train_seconds: time to run it (statistics, capture and history included).
    """

    log: EpisodeLog
    videos: ExportResult
    csv: Path
    plot: Path | None
    compile_seconds: float
    train_seconds: float


_WRITES = ("episodes.csv", "learning_curve.png", "videos")


def check_out(out: str | Path, overwrite: bool = False) -> Path:
    """Creates the output folder now, so that a bad path, or one holding an earlier run, fails
    before training, not after.

    Raises:
      FileExistsError: `out` holds an earlier run's files and `overwrite` is False.
      PermissionError, NotADirectoryError: `out` cannot be written.
    """
    folder = make_video_folder(out, argument="out")
    earlier = [name for name in _WRITES if (folder / name).exists()]
    if earlier and not overwrite:
        raise FileExistsError(
            f"`out` {folder} holds an earlier run ({', '.join(earlier)}): pass another folder, "
            "or overwrite=True (--overwrite) to replace it"
        )
    probe = folder / ".fnrec-write-test"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as error:
        raise PermissionError(f"`out` must be a writable folder, got {folder} ({error})") from None
    return folder


def _summary_table(log: EpisodeLog, ends: np.ndarray, steps_per_update: int) -> str:
    """Episodes grouped by the part of training in which they ended, one row per part."""
    num_updates = len(ends)
    rows = [
        "| updates | env-steps | episodes | mean return | mean length | terminated |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    bounds = np.linspace(0, num_updates, min(_TABLE_ROWS, num_updates) + 1).round().astype(int)
    for first, last in itertools.pairwise(bounds):
        begin = int(ends[first - 1]) if first else 0
        end = int(ends[last - 1])
        part = slice(begin, end)
        count = end - begin
        returns, lengths = log.episode_return[part], log.length[part]
        cells = (
            f"{returns.mean():.1f} | {lengths.mean():.1f} | {log.terminated[part].mean():.0%}"
            if count
            else "- | - | -"
        )
        rows.append(f"| {first + 1}-{last} | {last * steps_per_update:,} | {count:,} | {cells} |")
    return "\n".join(rows)


def run_demo(
    out: str | Path = "fnrec-demo",
    num_envs: int = 32,
    num_updates: int = 60,
    steps_per_update: int = 64,
    every: int | None = None,
    max_videos: int = 12,
    max_episode_steps: int = 500,
    seed: int = 0,
    quiet: bool = False,
    overwrite: bool = False,
) -> DemoResult:
    """Trains PPO on CartPole inside one jitted program, recording it; then exports everything.

    Args:
      out: the output folder (created; an existing file there fails at once).
      num_envs: CartPoles stepped in parallel.
      num_updates: PPO updates (each a rollout of `steps_per_update` steps of every env).
      steps_per_update: rollout length per update.
      every: record episodes 0, K, 2K, ... (global ids); None: the capped cubic schedule
        (0, 1, 8, 27, ..., 1000, then every 1000th).
      max_videos: the capture's capacity in episodes; later triggered ones are counted as
        dropped.
      max_episode_steps: the time limit (truncation), also the longest video.
      seed: the PRNG seed (the run is deterministic for a seed).
      quiet: print nothing (warnings still say what was not kept).
      overwrite: replace an earlier run in `out`; by default a folder holding one is refused.

    Returns:
      A DemoResult.
    """
    folder = check_out(out, overwrite)
    echo = (lambda *a, **k: None) if quiet else print
    env_steps_per_update = num_envs * steps_per_update
    total_steps = env_steps_per_update * num_updates
    trigger = None if every is None else schedules.every(every)
    recording = Recording(
        statistics=stats.episode_statistics(buffer_length=100),
        capture=capture.episode_capture(
            max_episode_steps, max_episodes=max_videos, watch=None, trigger=trigger
        ),
        # Every episode is kept: none is shorter than CartPole's shortest or the time limit.
        history=history.episode_history(
            total_steps // min(_SHORTEST_EPISODE, max_episode_steps) + num_envs
        ),
        max_episode_steps=max_episode_steps,
    )
    fns = funcenv.recorder(CartPole(), recording, num_envs)
    config = PPOConfig(num_envs=num_envs, num_steps=steps_per_update, num_updates=num_updates)

    def metrics(state: Any) -> dict[str, Any]:
        return {**stats.summary(state.stats), "episodes": state.history.count}

    progress = LiveProgress(total_steps, "fnrec demo", enabled=not quiet)
    report = None if quiet else progress.on_update(env_steps_per_update)
    train = make_train(config, fns.init, fns.step, 4, 2, metrics_fn=metrics, on_update=report)

    schedule = "capped cubic schedule" if every is None else f"every {every}th episode"
    echo(
        f"fnrec demo: PPO on {num_envs} CartPoles, {num_updates} updates x {steps_per_update} "
        f"steps ({total_steps:,} env-steps), one jitted program; recording episodes by global "
        f"id ({schedule}, at most {max_videos}) and every episode's statistics"
    )
    key = jax.random.key(seed)
    start = time.perf_counter()
    compiled = jax.jit(train).lower(key).compile()
    compile_seconds = time.perf_counter() - start
    echo(f"  compiled in {compile_seconds:.1f} s", flush=True)  # before the progress (stderr)
    start = time.perf_counter()
    with progress:  # its clock starts with training; leaving it shows the last update
        result = jax.block_until_ready(compiled(key))
    train_seconds = time.perf_counter() - start

    state = result.env_state
    log = episode_log(state.history)
    ends = np.asarray(result.metrics["episodes"])
    echo(
        f"  trained in {train_seconds:.1f} s ({total_steps / train_seconds / 1e3:,.0f} k "
        f"env-steps/s, learning included); {len(log.episode_id):,} episodes ended\n"
    )
    echo(_summary_table(log, ends, env_steps_per_update))
    if int(state.history.dropped):  # not expected (see the capacity); said even when quiet
        dropped = int(state.history.dropped)
        warnings.warn(
            f"fnrec demo: the history kept {len(log.episode_id):,} episodes; {dropped} more are "
            "not in episodes.csv",
            RuntimeWarning,
            stacklevel=2,
        )

    csv = log.write_csv(folder / "episodes.csv")
    echo("", flush=True)  # before the export's progress line (stderr)
    videos = export_videos(
        state.capture, folder / "videos", cartpole, fps=50, progress=not quiet, overwrite=overwrite
    )
    recorded = [video.episode_id for video in videos.videos]
    try:
        plot = learning_curve(
            log,
            folder / "learning_curve.png",
            title=f"PPO on CartPole: {num_envs} envs, {num_updates} updates, seed {seed}",
            recorded=recorded,
        )
    except MissingDependency as error:
        plot = None
        echo(f"\n  no learning curve: {error}")

    echo(f"\nWritten to {folder}/:")
    echo(f"  episodes.csv          {len(log.episode_id):,} episodes, one row each")
    if plot is not None:
        echo("  learning_curve.png    return and length over episodes, videos marked")
    for video in videos.videos:
        ending = "terminated" if video.terminated else "truncated"
        echo(
            f"  videos/{video.path.name:<28} episode {video.episode_id:>5} (env "
            f"{video.env}): return {video.episode_return:.0f}, {ending}"
        )
    if videos.dropped_full or videos.dropped_too_long:
        echo(
            f"  not recorded: {videos.dropped_full} triggered episodes after the capture was full "
            f"(raise --videos), {videos.dropped_too_long} longer than the time limit"
        )
    sys.stdout.flush()
    return DemoResult(log, videos, csv, plot, compile_seconds, train_seconds)
