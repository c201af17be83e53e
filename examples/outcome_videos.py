"""Videos chosen by outcome: the three worst and three best episodes of a whole PPO run.

PPO trains on a batch of CartPoles in ONE jitted program. Inside it, fnrec records every
episode's statistics with a per-episode metric (the discounted return, gamma 0.99), keeps every
episode in a history, and keeps two ranked capture stores: the 3 episodes with the highest
return and the 3 with the lowest, each replacing a lesser one in-graph as the run goes (fixed
memory: nothing is decided before an episode's outcome is known). After the run, the host
writes::

    DIR/episodes.csv                  episode,env,return,length,terminated,discounted_return
    DIR/<prefix>-episode-<id>.mp4     one video per kept episode (global id, length + 1 frames)

Run: ``python examples/outcome_videos.py --out DIR`` (about a minute on two CPU cores).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax

import fnrec
from fnrec._cli import at_least
from fnrec.demo import ppo
from fnrec.envs import CartPole

GAMMA = 0.99
KEPT = 3  # episodes per ranked store


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--out", type=Path, default=Path("videos/outcome"), help="output folder")
    parser.add_argument("--envs", type=at_least(1), default=32, help="envs stepped in parallel")
    parser.add_argument("--steps", type=at_least(1), default=64, help="env steps per update")
    parser.add_argument("--updates", type=at_least(1), default=60, help="PPO updates")
    parser.add_argument("--max-episode-steps", type=at_least(1), default=500, help="time limit")
    parser.add_argument("--name-prefix", default="rl-video", help="video file name prefix")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    num_envs, limit = args.envs, args.max_episode_steps
    config = ppo.PPOConfig(num_envs=num_envs, num_steps=args.steps, num_updates=args.updates)
    # Every episode is at least one step long: this many history rows hold the whole run.
    capacity = num_envs * args.steps * args.updates

    def ranked(keep: fnrec.capture.Ranked) -> fnrec.capture.EpisodeCapture:
        # Global ids over the batch; every episode is a candidate; rows hold the longest one.
        return fnrec.capture.episode_capture(limit, KEPT, watch=None, keep=keep)

    best, worst = ranked(fnrec.capture.best("episode_return")), ranked(fnrec.capture.worst())
    recording = fnrec.Recording(
        statistics=fnrec.stats.episode_statistics(
            100, metrics=[fnrec.stats.discounted_return(GAMMA)]
        ),
        capture=best,
        history=fnrec.history.episode_history(capacity),
        max_episode_steps=limit,
    )
    rec = fnrec.adapters.funcenv.recorder(CartPole(), recording, num_envs)
    worst = worst.following(recording.autoreset_mode)

    # The trainer steps (recorder state, second store) pairs; the recorder films the best
    # episodes, and the worst store follows the same steps (the frame after each step is the
    # state before the same-step reset: info["final_state"]).
    def reset(key: jax.Array) -> tuple:
        state, obs = rec.init(key)
        return (state, worst.init(state.env_state, num_envs)), obs

    def step(carry: tuple, action: jax.Array, key: jax.Array):
        state, kept = carry
        out = rec.step(state, action, key)
        kept = worst.step(kept, out.ended, out.info["final_state"], out.state.env_state)
        return out._replace(state=(out.state, kept))

    train = jax.jit(ppo.make_train(config, reset, step, obs_size=4, num_actions=2))
    start = time.perf_counter()
    result = jax.block_until_ready(train(jax.random.key(args.seed)))
    elapsed = time.perf_counter() - start
    state, worst_state = result.env_state

    args.out.mkdir(parents=True, exist_ok=True)
    log = fnrec.episode_log(state.history)
    csv_path = log.write_csv(args.out / "episodes.csv")
    videos = []
    for capture_state in (state.capture, worst_state):
        exported = fnrec.export_videos(
            capture_state, args.out, fnrec.render.cartpole, fps=50, name_prefix=args.name_prefix
        )
        videos += exported.videos
    videos = sorted(set(videos))
    dropped = int(state.history.dropped)
    print(
        f"PPO on {num_envs} CartPoles, {args.updates} updates in one jitted program: "
        f"{len(log.episode_id)} episodes in {elapsed:.1f} s (compile included)"
        + (f", {dropped} not in the history (full)" if dropped else "")
    )
    print(f"  returns from {log.episode_return.min():.0f} to {log.episode_return.max():.0f}")
    for name, capture_state in (("highest", state.capture), ("lowest", worst_state)):
        kept = sorted(fnrec.read_capture(capture_state).episodes, key=lambda e: e.rank)
        shown = ", ".join(f"#{e.rank} {e.episode_id} ({e.episode_return:.0f})" for e in kept)
        print(f"  {name} returns: episodes {shown}")
    print(f"  {len(videos)} videos and {csv_path} in {args.out}/")
    return {"videos": videos, "log": log, "csv": csv_path}


if __name__ == "__main__":
    main()
