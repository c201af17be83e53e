"""A vmapped, jitted rollout of gymnax's CartPole-v1 with in-graph statistics and captured videos.

``fnrec.adapters.GymnaxAdapter(env, num_envs=N)`` vmaps gymnax's ``step_env``/``reset_env`` over
a batch of N CartPoles and does gymnax's same-step autoreset, with gymnax's keys; every step
also updates, inside the program:

- the episode statistics: one queue of the last 100 episodes over the batch (Gymnasium's vector
  order), read in-graph with ``fnrec.stats.summary`` after every step (stacked by the scan);
- the capture of every K-th episode by global id (ids 0, K, ..., (V - 1) K: V videos), which
  keeps gymnax's ``EnvState`` per frame, the final frame before the reset included.

The whole rollout is one ``jax.jit``-compiled ``lax.scan``. After it, the host writes::

    DIR/<prefix>-episode-<id>.mp4   V videos (length + 1 frames), rendered on the device by
                                    fnrec.render.cartpole (it reads gymnax's EnvState)
    DIR/episodes.csv                episode,env,return,length,terminated (every episode)

(``jax.vmap(adapter.step)`` over an unbatched adapter works too: one queue per env, as gymnax's
``LogWrapper``; ``fnrec.stats.summary`` then pools the envs' queues.)

Run (in a venv with gymnax): ``python examples/gymnax_rollout.py --envs 64 --steps 1000 --out DIR``
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import fnrec
from fnrec._cli import at_least
from fnrec._optional import MissingDependency, require


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--envs", type=at_least(1), default=64, help="N: envs stepped in parallel")
    parser.add_argument("--steps", type=at_least(1), default=1000, help="steps of every env")
    parser.add_argument("--every", type=at_least(1), default=25, help="K: film ids 0, K, 2K, ...")
    parser.add_argument("--videos", type=at_least(1), default=4, help="V: how many to film")
    parser.add_argument("--max-episode-steps", type=at_least(1), default=500, help="time limit")
    parser.add_argument("--out", type=Path, default=Path("videos/gymnax"), help="output folder")
    parser.add_argument("--name-prefix", default="rl-video", help="video file name prefix")
    parser.add_argument(
        "--noise", type=float, default=0.3, help="the policy's noise (larger: shorter episodes)"
    )
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def policy(obs: jax.Array, key: jax.Array, noise: float) -> jax.Array:
    """A noisy balancing controller: replace with your agent."""
    push = obs[..., 2] + 0.5 * obs[..., 3] + noise * jax.random.normal(key, obs.shape[:-1])
    return (push > 0).astype(jnp.int32)


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    gymnax = require("gymnax", "the gymnax rollout example")
    num_envs, every, num_videos = args.envs, args.every, args.videos
    gymnax_env, params = gymnax.make("CartPole-v1")
    params = params.replace(max_steps_in_episode=args.max_episode_steps)
    every_kth = fnrec.schedules.every(every)
    recording = fnrec.Recording(
        statistics=fnrec.stats.episode_statistics(buffer_length=100),  # same-step autoreset
        capture=fnrec.capture.episode_capture(
            args.max_episode_steps,
            max_episodes=num_videos,
            watch=None,  # global ids over the batch
            trigger=lambda i: every_kth(i) & (i < every * num_videos),
        ),
    )
    env = fnrec.adapters.GymnaxAdapter(gymnax_env, recording, num_envs=num_envs)

    @jax.jit
    def rollout(key: jax.Array):
        def body(carry, key):
            state, obs = carry
            act_key, step_key = jax.random.split(key)
            obs, state, _, _, _, info = env.step(
                step_key, state, policy(obs, act_key, args.noise), params
            )
            mask = info["_episode"]
            ended = fnrec.stats.EpisodeEnded(
                mask, info["episode"]["r"], info["episode"]["l"],
                info["terminated"] & mask, info["truncated"] & mask,
            )  # fmt: skip
            return (state, obs), (ended, fnrec.stats.summary(state.stats))

        reset_key, key = jax.random.split(key)
        obs, state = env.reset(reset_key, params)
        keys = jax.random.split(key, args.steps)
        (state, _), (ended, summaries) = jax.lax.scan(body, (state, obs), keys)
        return state, ended, summaries

    start = time.perf_counter()
    state, ended, summaries = jax.block_until_ready(rollout(jax.random.key(args.seed)))
    elapsed = time.perf_counter() - start

    summaries = {k: np.asarray(v) for k, v in jax.device_get(summaries).items()}
    summary = {k: v[-1].item() for k, v in summaries.items()}  # after the last step
    queues = fnrec.stats.queues(state.stats)
    args.out.mkdir(parents=True, exist_ok=True)
    log = fnrec.episode_log(ended)
    csv_path = log.write_csv(args.out / "episodes.csv")
    result = fnrec.export_videos(
        state.capture, args.out, fnrec.render.cartpole, fps=50, name_prefix=args.name_prefix
    )

    print(
        f"gymnax CartPole-v1, {num_envs} envs x {args.steps} steps in one jitted scan: "
        f"{elapsed:.1f} s (compile included); {fnrec.stats.episode_count(state.stats)} episodes"
    )
    print(
        f"  fnrec.stats.summary (last {summary['count']} episodes): "
        f"return mean {summary['return_mean']:.1f} (min {summary['return_min']:.0f}, max "
        f"{summary['return_max']:.0f}), length mean {summary['length_mean']:.1f}, "
        f"terminated {summary['terminated_fraction']:.0%}"
    )
    quarters = np.linspace(0, args.steps, 5).astype(int)[1:] - 1
    curve = ", ".join(f"{summaries['return_mean'][t]:.1f}" for t in quarters)
    print(f"  return mean of the queue after steps {(quarters + 1).tolist()}: {curve}")
    print(f"  return_queue (last 5): {queues['return_queue'][-5:].tolist()}")
    print(f"  length_queue (last 5): {queues['length_queue'][-5:].tolist()}")
    print(f"  in {args.out}/: {csv_path.name} (every episode) and {len(result.videos)} videos:")
    for video in result.videos:
        ending = "terminated" if video.terminated else "truncated"
        print(
            f"    {video.path.name}: episode {video.episode_id} (env {video.env}), "
            f"{video.length} steps, {ending}"
        )
    if result.dropped_full or result.dropped_too_long:
        print(
            f"  dropped: {result.dropped_full} (store full), {result.dropped_too_long} (too long)"
        )
    return {
        "summary": summary,
        "summaries": summaries,
        "queues": queues,
        "log": log,
        "csv": csv_path,
        "videos": result.videos,
        "dropped": (result.dropped_full, result.dropped_too_long),
    }


if __name__ == "__main__":
    try:
        main()
    except MissingDependency as error:  # one line naming the extra, not a traceback
        raise SystemExit(str(error)) from None
