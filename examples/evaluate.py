"""Gymnasium's "Recording Agents" evaluation workflow: every evaluation episode filmed.

A functional CartPole (``fnrec.envs.CartPole``, step for step Gymnasium's phys2d CartPole,
without flax) runs through fnrec's host env ``fnrec.FunctionalEnv``, a ``gymnasium.Env`` whose
statistics (return, length and wall-clock time queues) are kept by fnrec, wrapped in
``fnrec.RecordVideo(..., episode_trigger=lambda e: True)``: every episode is written as it ends,
with exactly length + 1 frames (the reset frame, then one per step)::

    DIR/<prefix>-episode-<id>.mp4   ids 0 .. N-1

The agent is a balancing controller (push towards where the pole falls), with an optional chance
of a random action so that episodes differ; replace ``agent`` with yours.

Run: ``python examples/evaluate.py --episodes 4 --out DIR``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

import fnrec
from fnrec._cli import at_least
from fnrec.envs import CartPole


def _probability(text: str) -> float:
    value = float(text)
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {value}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--episodes", type=at_least(1), default=4, help="evaluation episodes")
    parser.add_argument("--out", type=Path, default=Path("videos/eval"), help="video folder")
    parser.add_argument("--max-episode-steps", type=at_least(1), default=500, help="time limit")
    parser.add_argument(
        "--epsilon", type=_probability, default=0.2, help="chance of a random action per step"
    )
    parser.add_argument("--name-prefix", default="eval", help="video file name prefix")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def agent(obs: np.ndarray, rng: np.random.Generator, epsilon: float) -> int:
    """Pushes the cart towards where the pole falls; a random push with chance `epsilon`."""
    if rng.random() < epsilon:
        return int(rng.integers(2))
    _, _, theta, theta_dot = obs
    return int(theta + 0.5 * theta_dot > 0)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    num_eval_episodes = args.episodes
    env = fnrec.FunctionalEnv(
        CartPole(),
        fnrec.Recording(
            fnrec.stats.episode_statistics(num_eval_episodes, "disabled"),
            max_episode_steps=args.max_episode_steps,
        ),
        render_mode="rgb_array",  # CartPole's render_image: fnrec.render.cartpole, jitted
        metadata={"render_fps": 50},
    )
    env = fnrec.RecordVideo(
        env, video_folder=args.out, name_prefix=args.name_prefix, episode_trigger=lambda e: True
    )
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()
    for episode_num in range(num_eval_episodes):
        obs, _ = env.reset(seed=args.seed + episode_num)
        episode_over = False
        while not episode_over:
            action = agent(obs, rng, args.epsilon)
            obs, _, terminated, truncated, _ = env.step(action)
            episode_over = terminated or truncated
    env.close()
    elapsed = time.perf_counter() - start

    stats = env.unwrapped  # the FunctionalEnv: Gymnasium's RecordEpisodeStatistics attributes
    print(f"{num_eval_episodes} evaluation episodes of CartPole in {elapsed:.1f} s")
    print(f"Episode time taken: {stats.time_queue}")
    print(f"Episode total rewards: {stats.return_queue}")
    print(f"Episode lengths: {stats.length_queue}")
    print(f"  {len(env.saved_videos)} videos in {args.out}/")
    return {
        "videos": list(env.saved_videos),
        "time_queue": list(stats.time_queue),
        "return_queue": list(stats.return_queue),
        "length_queue": list(stats.length_queue),
        "episode_count": stats.episode_count,
    }


if __name__ == "__main__":
    main()
