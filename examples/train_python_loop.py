"""Gymnasium's training workflow as a Python loop: every K-th episode filmed, every one logged.

The "Recording Agents" guide's training loop, unchanged, over fnrec's host env: a functional
CartPole (``fnrec.envs.CartPole``, step for step Gymnasium's phys2d CartPole, without flax) in
``fnrec.FunctionalEnv``, which gives ``info["episode"] = {"r", "l", "t"}`` and the statistics
queues as Gymnasium's ``RecordEpisodeStatistics`` does, wrapped in
``fnrec.RecordVideo(..., episode_trigger=lambda e: e % K == 0)``. The host writes::

    DIR/<prefix>-episode-<id>.mp4   ids 0, K, 2K, ... below E (each length + 1 frames)
    DIR/episodes.csv                episode,return,length,time,terminated (one row per episode,
                                    read from info["episode"] when it ends)

The policy is Gymnasium's ``env.action_space.sample()`` (seeded); replace it with your agent.

Why ``FunctionalEnv`` and not ``FunctionalVectorEnv``: the guide numbers the episodes of ONE env,
and so does this loop, so that "every 250th episode" means episodes 0, 250, 500, ... of the run.
A vector env steps N envs per call (about N times the env-steps per second), but
``RecordVideo`` over it counts the episodes of one sub-env (``env_index``), so "every 250th"
would mean every 250th episode of env 0, about one in 250 * N of the run. Each step here is one
jitted call and one ``jax.device_get`` (about 0.11 ms on the 2-core CPU machine;
benchmarks/RESULTS.md "Host loop", 2026-12-07): 10,000 episodes of random actions (about
220,000 steps) take under a minute. For the same workflow on a batch, with global ids and
inside one jitted program, see ``examples/record_training_in_jit.py``.

Run: ``python examples/train_python_loop.py --episodes 10000 --every 250 --out DIR``
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

import fnrec
from fnrec._cli import at_least
from fnrec.envs import CartPole

CSV_HEADER = ("episode", "return", "length", "time", "terminated")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--episodes", type=at_least(1), default=10_000, help="E: training episodes")
    parser.add_argument("--every", type=at_least(1), default=250, help="K: film ids 0, K, 2K, ...")
    parser.add_argument("--out", type=Path, default=Path("videos/python-loop"), help="folder")
    parser.add_argument("--max-episode-steps", type=at_least(1), default=500, help="time limit")
    parser.add_argument("--name-prefix", default="training", help="video file name prefix")
    parser.add_argument(
        "--print-every", type=at_least(1), default=1000, help="a progress line every N episodes"
    )
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    training_period = args.every
    env = fnrec.FunctionalEnv(
        CartPole(),
        fnrec.Recording(
            fnrec.stats.episode_statistics(buffer_length=100, autoreset_mode="disabled"),
            max_episode_steps=args.max_episode_steps,
        ),
        render_mode="rgb_array",
        metadata={"render_fps": 50},
    )
    env = fnrec.RecordVideo(
        env,
        video_folder=args.out,
        name_prefix=args.name_prefix,
        episode_trigger=lambda x: x % training_period == 0,
    )
    env.action_space.seed(args.seed)
    rows: list[tuple] = []
    start = time.perf_counter()
    steps = 0
    for episode_num in range(args.episodes):
        env.reset(seed=args.seed if episode_num == 0 else None)
        episode_over = False
        while not episode_over:
            action = env.action_space.sample()  # replace with your agent
            _, _, terminated, truncated, info = env.step(action)
            episode_over = terminated or truncated
            steps += 1
        episode = info["episode"]  # the finished episode's statistics, as Gymnasium gives them
        rows.append((episode_num, episode["r"], episode["l"], episode["t"], int(terminated)))
        if (episode_num + 1) % args.print_every == 0:
            recent = [row[1] for row in rows[-args.print_every :]]
            print(
                f"  episode {episode_num + 1:>6}: mean return of the last {len(recent)} "
                f"{np.mean(recent):6.1f}  ({time.perf_counter() - start:5.1f} s)",
                flush=True,
            )
    env.close()
    elapsed = time.perf_counter() - start

    csv_path = args.out / "episodes.csv"
    with csv_path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(CSV_HEADER)
        writer.writerows(rows)
    stats = env.unwrapped
    videos = list(env.saved_videos)
    print(
        f"{args.episodes} episodes of CartPole in a Python loop over fnrec.FunctionalEnv: "
        f"{steps} steps in {elapsed:.1f} s ({steps / elapsed:,.0f} steps/s)"
    )
    print(
        f"  queues (last {len(stats.return_queue)} episodes): mean return "
        f"{np.mean(stats.return_queue):.1f}, mean length {np.mean(stats.length_queue):.1f}, "
        f"mean time {np.mean(stats.time_queue):.4f} s"
    )
    print(
        f"  {len(videos)} videos (every {training_period}th episode) and {csv_path} in {args.out}/"
    )
    return {
        "videos": videos,
        "csv": csv_path,
        "rows": rows,
        "return_queue": list(stats.return_queue),
        "length_queue": list(stats.length_queue),
        "time_queue": list(stats.time_queue),
        "episode_count": stats.episode_count,
    }


if __name__ == "__main__":
    main()
