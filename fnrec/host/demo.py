"""The demo: a jitted, vmapped CartPole rollout with statistics recorded in-graph and videos after.

One ``jax.jit``-compiled ``lax.scan`` steps a batch of Gymnasium's functional CartPole through
``fnrec.adapters.FuncEnvAdapter`` (shared queue, time limit, same-step autoreset) under a
noisy balancing controller (env i's noise grows with i, so episodes end both ways). The scan also
returns one watched env's states (16 bytes a step), so that chosen episodes of that env are
rendered afterwards with the jittable renderer, in batches, and streamed to mp4 files.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import fnrec
from fnrec.host.video_writer import VideoWriter

_RENDER_CHUNK = 64  # frames rendered per jitted call: bounds device memory for long episodes


def _controller(obs: jax.Array, noise: jax.Array) -> jax.Array:
    """A linear balancing policy; `noise` decides how often it fails."""
    x, x_dot, theta, theta_dot = obs[..., 0], obs[..., 1], obs[..., 2], obs[..., 3]
    return (theta + 0.5 * theta_dot + 0.05 * x + 0.1 * x_dot + noise > 0).astype(jnp.int32)


def _rollout_fn(env: Any, num_envs: int, num_steps: int, watch: int):
    noise_scale = jnp.linspace(0.0, 1.0, num_envs)  # env i fails more often as i grows

    @jax.jit
    def rollout(key):
        init_key, key = jax.random.split(key)
        state = env.initial(init_key)
        obs = env.observation(state, None)

        def body(carry, key):
            state, obs = carry
            noise_key, step_key = jax.random.split(key)
            noise = noise_scale * jax.random.normal(noise_key, (num_envs,))
            out = env.step(state, _controller(obs, noise), step_key)
            info = out.info
            watched = (info["final_obs"][watch], out.obs[watch], info["_episode"][watch])
            return (out.state, out.obs), watched

        (state, _), watched = jax.lax.scan(body, (state, obs), jax.random.split(key, num_steps))
        return state, obs[watch], watched

    return rollout


def _split_episodes(first_obs: np.ndarray, watched: tuple[np.ndarray, ...]) -> list[np.ndarray]:
    """Splits the watched env's states into episodes: reset frame, then one after every step.

    The last, unfinished episode is kept too, as Gymnasium's RecordVideo saves an open video.
    """
    final_obs, next_obs, done = watched
    episodes, current = [], [first_obs]
    for t in range(len(done)):
        current.append(final_obs[t])
        if done[t]:
            episodes.append(np.stack(current))
            current = [next_obs[t]]
    if len(current) > 1:
        episodes.append(np.stack(current))
    return episodes


def _write_video(states: np.ndarray, path: Path, fps: int) -> int:
    render = jax.jit(jax.vmap(fnrec.render.cartpole))
    with VideoWriter(path, fps=fps) as writer:
        for start in range(0, len(states), _RENDER_CHUNK):
            for frame in np.asarray(render(jnp.asarray(states[start : start + _RENDER_CHUNK]))):
                writer.append(frame)
    return len(states)


def run_demo(
    num_envs: int = 256,
    num_steps: int = 1000,
    max_episode_steps: int = 500,
    video_folder: str = "videos",
    max_videos: int = 3,
    watch_env: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Runs the demo and prints what it recorded.

    Args:
      num_envs: environments stepped in parallel (one shared queue of the last 100 episodes).
      num_steps: steps per environment.
      max_episode_steps: the time limit (truncation).
      video_folder: where the watched env's chosen episodes are written as mp4 files.
      max_videos: at most this many videos, chosen by the capped cubic schedule on episode ids.
      watch_env: the env whose episodes are filmed; default num_envs // 4 (a moderately noisy one).
      seed: PRNG seed.

    Returns:
      The queues, the episode count and the video paths.
    """
    from gymnasium.envs.phys2d.cartpole import CartPoleFunctional, CartPoleJaxEnv

    env = fnrec.adapters.FuncEnvAdapter(
        CartPoleFunctional(), max_episode_steps=max_episode_steps, num_envs=num_envs
    )
    watch = num_envs // 4 if watch_env is None else watch_env
    if not 0 <= watch < num_envs:
        raise ValueError(f"`watch_env` must be in [0, {num_envs}), got {watch_env}")
    rollout = _rollout_fn(env, num_envs, num_steps, watch)
    key = jax.random.key(seed)
    jax.block_until_ready(rollout(key))  # compile
    start = time.perf_counter()
    state, first_obs, watched = jax.block_until_ready(rollout(key))
    elapsed = time.perf_counter() - start

    queues = fnrec.stats.queues(state.stats)
    count = fnrec.stats.episode_count(state.stats)
    terminated = int(np.sum(queues["terminated_queue"]))
    print(f"CartPole (Gymnasium FuncEnv) x {num_envs} envs x {num_steps} steps, time limit "
          f"{max_episode_steps}, one jitted lax.scan")  # fmt: skip
    print(f"  {num_envs * num_steps / elapsed / 1e6:.2f} M env-steps/s with statistics "
          f"({elapsed * 1e3:.0f} ms after compile)")  # fmt: skip
    print(f"  episodes finished: {count}")
    if len(queues["return_queue"]):
        print(f"  last {len(queues['return_queue'])} episodes: mean return "
              f"{np.mean(queues['return_queue']):.1f}, mean length "
              f"{np.mean(queues['length_queue']):.1f}, {terminated} terminated, "
              f"{len(queues['return_queue']) - terminated} truncated")  # fmt: skip

    episodes = _split_episodes(np.asarray(first_obs), jax.device_get(watched))
    chosen = [i for i in range(len(episodes)) if fnrec.capped_cubic_video_schedule(i)]
    folder = Path(video_folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    fps = int(CartPoleJaxEnv.metadata.get("render_fps", 50))
    for episode_id in chosen[:max_videos]:
        path = folder / f"rl-video-episode-{episode_id}.mp4"
        frames = _write_video(episodes[episode_id], path, fps)
        paths.append(path)
        print(f"  video of env {watch}, episode {episode_id}: {path} ({frames} frames)")
    return {"queues": queues, "episode_count": count, "videos": paths}
