"""A jitted rollout of brax's inverted pendulum with in-graph statistics and captured videos.

brax's ``inverted_pendulum`` is wrapped as brax's trainers wrap it (``brax.envs.training.wrap``:
``VmapWrapper`` over N envs, ``EpisodeWrapper`` for the time limit, ``AutoResetWrapper``), then
in ``fnrec.adapters.BraxAdapter``, outermost. Every step also updates, inside the program:

- the episode statistics in ``state.info["episode_stats"]`` (one queue of the last 100 episodes
  over the batch), with the episodes that ended in ``state.info["episode"]``/``["_episode"]``;
  truncation is read from brax's ``info["truncation"]``;
- the capture of every K-th episode by global id (V of them) in
  ``state.info["episode_capture"]``: per frame, the cart and pole positions and velocities of
  the physics state before brax's autoreset replaces it (so the final frame is kept).

The rollout is one ``jax.jit``-compiled ``lax.scan``. After it, the host prints the statistics
(``fnrec.stats.summary``, the queues) and what the capture holds (``fnrec.read_capture``), and
writes::

    DIR/<prefix>-episode-<id>.mp4   V videos (length + 1 frames), drawn by fnrec.render.cartpole
                                    (pure JAX, on the device: no MuJoCo renderer, no display)
    DIR/episodes.csv                episode,env,return,length,terminated (every episode)

Run (in a venv with brax): ``python examples/brax_rollout.py --envs 16 --steps 1000 --out DIR``
"""

from __future__ import annotations

import argparse
import time
import warnings
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
    parser.add_argument("--envs", type=at_least(1), default=16, help="N: envs stepped in parallel")
    parser.add_argument("--steps", type=at_least(1), default=1000, help="steps of every env")
    parser.add_argument("--episode-length", type=at_least(1), default=200, help="time limit")
    parser.add_argument("--every", type=at_least(1), default=10, help="K: film ids 0, K, 2K, ...")
    parser.add_argument("--videos", type=at_least(1), default=3, help="V: how many to film")
    parser.add_argument(
        "--noise", type=float, default=0.3, help="the policy's noise (larger: shorter episodes)"
    )
    parser.add_argument("--backend", default="generalized", help="brax physics backend")
    parser.add_argument("--out", type=Path, default=Path("videos/brax"), help="output folder")
    parser.add_argument("--name-prefix", default="rl-video", help="video file name prefix")
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def as_cartpole(pipeline_state) -> jax.Array:
    """brax's inverted pendulum state in fnrec.render.cartpole's [x, x_dot, theta, theta_dot]."""
    q, qd = pipeline_state.q, pipeline_state.qd
    return jnp.stack([q[0], qd[0], q[1], qd[1]])


def policy(obs: jax.Array, key: jax.Array, noise: float) -> jax.Array:
    """A noisy PD controller on obs = [x, theta, x_dot, theta_dot]: replace with your agent."""
    x, theta, x_dot, theta_dot = jnp.moveaxis(obs, -1, 0)
    push = x + 20.0 * theta + x_dot + 3.0 * theta_dot
    push = push + noise * jax.random.normal(key, push.shape)
    return jnp.clip(push, -3.0, 3.0)[..., None]


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    envs = require("brax.envs", "the brax rollout example")
    num_envs, every, num_videos, limit = args.envs, args.every, args.videos, args.episode_length
    with warnings.catch_warnings():  # brax warns that its pipelines are no longer maintained
        warnings.simplefilter("ignore", UserWarning)
        brax_env = envs.get_environment("inverted_pendulum", backend=args.backend)
    every_kth = fnrec.schedules.every(every)
    recording = fnrec.Recording(
        statistics=fnrec.stats.episode_statistics(buffer_length=100),  # same-step autoreset
        capture=fnrec.capture.episode_capture(
            limit,
            max_episodes=num_videos,
            watch=None,  # global ids over the batch
            trigger=lambda i: every_kth(i) & (i < every * num_videos),
            content=as_cartpole,  # keep 4 numbers per frame, not the whole physics state
        ),
    )
    env = fnrec.adapters.BraxAdapter(envs.training.wrap(brax_env, episode_length=limit), recording)

    @jax.jit
    def rollout(key: jax.Array):
        def body(state, key):
            state = env.step(state, policy(state.obs, key, args.noise))
            info = state.info
            mask = info["_episode"]
            truncated = info["truncation"] != 0
            ended = fnrec.stats.EpisodeEnded(
                mask, info["episode"]["r"], info["episode"]["l"], mask & ~truncated,
                mask & truncated,
            )  # fmt: skip
            return state, ended

        reset_key, key = jax.random.split(key)
        state = env.reset(jax.random.split(reset_key, num_envs))
        state, ended = jax.lax.scan(body, state, jax.random.split(key, args.steps))
        return state, ended, fnrec.stats.summary(state.info["episode_stats"])

    start = time.perf_counter()
    state, ended, summary = jax.block_until_ready(rollout(jax.random.PRNGKey(args.seed)))
    elapsed = time.perf_counter() - start

    stats = state.info["episode_stats"]
    summary = {k: v.item() for k, v in jax.device_get(summary).items()}
    queues = fnrec.stats.queues(stats)
    captured = fnrec.read_capture(state.info["episode_capture"])
    args.out.mkdir(parents=True, exist_ok=True)
    log = fnrec.episode_log(ended)
    csv_path = log.write_csv(args.out / "episodes.csv")
    result = fnrec.export_videos(
        state.info["episode_capture"],
        args.out,
        fnrec.render.cartpole,
        fps=round(1 / float(brax_env.dt)),  # 25: brax steps 0.04 s
        name_prefix=args.name_prefix,
    )

    print(
        f"brax inverted_pendulum ({args.backend}), {num_envs} envs x {args.steps} steps in one "
        f"jitted scan: {elapsed:.1f} s (compile included); {fnrec.stats.episode_count(stats)} "
        f"episodes"
    )
    print(
        f"  fnrec.stats.summary (last {summary['count']} episodes): "
        f"return mean {summary['return_mean']:.1f} (min {summary['return_min']:.0f}, max "
        f"{summary['return_max']:.0f}), length mean {summary['length_mean']:.1f}, "
        f"terminated {summary['terminated_fraction']:.0%}"
    )
    print(f"  return_queue (last 5): {np.round(queues['return_queue'][-5:], 2).tolist()}")
    print(f"  length_queue (last 5): {queues['length_queue'][-5:].tolist()}")
    print(
        f"  capture: {len(captured.episodes)} episodes stored "
        f"{[(e.episode_id, e.env, e.length) for e in captured.episodes]} (id, env, length), "
        f"{captured.dropped_full} dropped (store full), {captured.dropped_too_long} too long"
    )
    print(f"  in {args.out}/: {csv_path.name} (every episode) and {len(result.videos)} videos:")
    for video in result.videos:
        ending = "terminated" if video.terminated else "truncated"
        print(f"    {video.path.name}: episode {video.episode_id}, {video.length} steps, {ending}")
    return {
        "summary": summary,
        "queues": queues,
        "log": log,
        "csv": csv_path,
        "captured": captured,
        "videos": result.videos,
    }


if __name__ == "__main__":
    try:
        main()
    except MissingDependency as error:  # one line naming the extra, not a traceback
        raise SystemExit(str(error)) from None
