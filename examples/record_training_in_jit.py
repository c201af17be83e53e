"""Gymnasium's training workflow in one jitted program: every K-th episode filmed, every one logged.

A batch of CartPoles steps inside ONE jitted ``lax.while_loop`` until E episodes have ended.
Episodes are numbered as Gymnasium's vector ``RecordEpisodeStatistics`` numbers them (the order
they end, env-index order within a step); ``fnrec.capture`` keeps every K-th one (ids 0, K, 2K,
... below E) inside the program, and ``fnrec.history`` keeps every episode's statistics. After
the run, the host writes::

    DIR/<prefix>-episode-<id>.mp4   one video per recorded id (length + 1 frames)
    DIR/episodes.csv                episode,env,return,length,terminated (one row per episode)

Run: ``python examples/record_training_in_jit.py --episodes 10000 --every 250 --out DIR``
(fnrec.envs.CartPole is step for step Gymnasium's phys2d CartPole, without flax).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import jax
import jax.numpy as jnp

import fnrec
from fnrec._cli import at_least
from fnrec.envs import CartPole


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument(
        "--episodes", type=at_least(1), default=10_000, help="E: stop after E episodes"
    )
    parser.add_argument(
        "--every", type=at_least(1), default=250, help="K: record ids 0, K, 2K, ..."
    )
    parser.add_argument("--out", type=Path, default=Path("videos/training"), help="output folder")
    parser.add_argument("--envs", type=at_least(1), default=256, help="envs stepped in parallel")
    parser.add_argument("--max-episode-steps", type=at_least(1), default=500, help="time limit")
    parser.add_argument("--name-prefix", default="rl-video", help="video file name prefix")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def policy(obs: jax.Array, key: jax.Array) -> jax.Array:
    """A noisy balancing controller: replace with your agent."""
    push = obs[..., 2] + 0.5 * obs[..., 3] + 0.3 * jax.random.normal(key, obs.shape[:-1])
    return (push > 0).astype(jnp.int32)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    num_envs, episodes, every = args.envs, args.episodes, args.every
    every_kth = fnrec.schedules.every(every)
    slots = math.ceil(episodes / every)  # ids 0, K, 2K, ... below E
    recording = fnrec.Recording(
        statistics=fnrec.stats.episode_statistics(buffer_length=100),
        capture=fnrec.capture.episode_capture(
            args.max_episode_steps,
            max_episodes=slots,
            watch=None,  # global ids, over the whole batch
            trigger=lambda episode_id: every_kth(episode_id) & (episode_id < episodes),
        ),
        history=fnrec.history.episode_history(episodes + num_envs),
        max_episode_steps=args.max_episode_steps,
    )
    rec = fnrec.adapters.funcenv.recorder(CartPole(), recording, num_envs)

    @jax.jit
    def train(key: jax.Array):
        def not_done(carry):
            return carry[0].history.count < episodes

        def step(carry):
            state, obs, key = carry
            key, act_key, step_key = jax.random.split(key, 3)
            out = rec.step(state, policy(obs, act_key), step_key)
            return out.state, out.obs, key

        init_key, key = jax.random.split(key)
        state, obs = rec.init(init_key)
        return jax.lax.while_loop(not_done, step, (state, obs, key))[0]

    start = time.perf_counter()
    state = jax.block_until_ready(train(jax.random.key(args.seed)))
    elapsed = time.perf_counter() - start

    args.out.mkdir(parents=True, exist_ok=True)
    log = fnrec.episode_log(state.history)
    log = type(log)(*(field[:episodes] for field in log))  # exactly E episodes
    csv_path = log.write_csv(args.out / "episodes.csv")
    result = fnrec.export_videos(
        state.capture,
        args.out,
        fnrec.render.cartpole,
        fps=50,
        name_prefix=args.name_prefix,
        progress=True,  # exporting takes most of the run: say how far it is
    )
    videos = result.videos
    steps = fnrec.counter.to_int(state.stats.env_steps) // num_envs
    print(
        f"{episodes} episodes of CartPole on {num_envs} envs in one jitted while_loop: "
        f"{steps} steps of every env in {elapsed:.1f} s (compile included)"
    )
    print(f"  mean return {log.episode_return.mean():.1f}, {int(log.terminated.sum())} terminated")
    print(f"  {len(videos)} videos (every {every}th episode) and {csv_path} in {args.out}/")
    if result.dropped_full or result.dropped_too_long:
        print(
            f"  dropped: {result.dropped_full} (store full), {result.dropped_too_long} (too long)"
        )
    return {"videos": videos, "log": log, "csv": csv_path}


if __name__ == "__main__":
    main()
