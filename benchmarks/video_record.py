"""Recording cost: fnrec.RecordVideo (each encoder) and Gymnasium's RecordVideo against rendering.

Two rollouts of CartPole-v1 (pygame, 400x600), each run three ways in this process, interleaved
round by round (round 0 is the warm-up), medians of the per-round times and ratios:
  * long: one 500-step episode (a balancing controller), every frame recorded (501 frames);
  * short: 500 steps of the constant action 0, about 50 episodes of ~10 steps, every episode
    recorded (each its own video, as the guide's evaluation workflow does).
The baseline is the same rollout calling `env.render()` wherever RecordVideo captures a frame
(after each reset and each step), without writing anything: the ratio is what recording adds to
rendering. Also: the per-video cost of each encoder path by frame count (600x400 frames, one
`VideoWriter` closed and waited for, median), and the peak RSS growth of a 5,000-frame episode,
each recorder in a fresh subprocess.

Usage: python benchmarks/video_record.py [--steps 500] [--rounds 7] [--rss-frames 5000]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gymnasium as gym
import numpy as np

import fnrec
from benchmarks._results import command_line, machine_line, write_section
from fnrec.host.video_writer import DEFAULT_CRF, DEFAULT_PRESET, pyav_available


class RenderOnly(gym.Wrapper):
    """The baseline: renders where RecordVideo would capture, keeps nothing."""

    def reset(self, **kwargs):
        out = self.env.reset(**kwargs)
        self.env.render()
        return out

    def step(self, action):
        out = self.env.step(action)
        self.env.render()
        return out


def recorders() -> dict[str, Callable[[gym.Env, Path], gym.Env]]:
    """Name -> wrapper factory (env, folder) for every way of running the rollout."""
    every = {"episode_trigger": lambda e: True}
    made: dict[str, Callable[[gym.Env, Path], gym.Env]] = {
        "render only": lambda env, folder: RenderOnly(env),
        "fnrec, ffmpeg program": lambda env, folder: fnrec.RecordVideo(
            env, folder, settings=fnrec.VideoSettings(encoder="ffmpeg"), **every
        ),
    }
    if pyav_available():
        made["fnrec, pyav"] = lambda env, folder: fnrec.RecordVideo(
            env, folder, settings=fnrec.VideoSettings(encoder="pyav"), **every
        )
    made["Gymnasium (moviepy)"] = lambda env, folder: gym.wrappers.RecordVideo(
        env, str(folder), **every
    )
    return made


def rollout(wrap: Callable[[gym.Env, Path], gym.Env], kind: str, steps: int, folder: Path) -> int:
    """Runs one rollout under `wrap`, closes it (waiting for every video); returns episodes."""
    env = gym.make("CartPole-v1", render_mode="rgb_array", max_episode_steps=steps)
    env = wrap(env, folder)
    obs, _ = env.reset(seed=0)
    episodes = 1
    for _ in range(steps):
        if kind == "long":
            x, x_dot, theta, theta_dot = obs
            action = int(theta + 0.5 * theta_dot + 0.05 * x + 0.1 * x_dot > 0)
        else:
            action = 0
        obs, _, terminated, truncated, _ = env.step(action)
        if terminated or truncated:
            if kind == "long":
                break
            obs, _ = env.reset()
            episodes += 1
    env.close()
    if kind == "long" and (terminated or not truncated):
        raise RuntimeError("the controller dropped the pole before the time limit")
    return episodes


def check_videos(folder: Path, episodes: int) -> None:
    """Every episode's video is there, complete; no temporary file is left."""
    import imageio.v2 as iio

    names = sorted(p.name for p in folder.iterdir())
    if any(n.startswith(".") for n in names):
        raise RuntimeError(f"temporary files left in {folder}: {names}")
    videos = [folder / f"rl-video-episode-{i}.mp4" for i in range(episodes)]
    if len(names) != episodes or not all(v.exists() for v in videos):
        raise RuntimeError(f"expected {episodes} videos in {folder}, found {names}")
    with iio.get_reader(videos[0]) as reader:
        if sum(1 for _ in reader) < 2:
            raise RuntimeError(f"{videos[0]} has too few frames")


def per_video_ms(encoder: str, frames: int, repeats: int, folder: Path) -> float:
    """Median time of writing one `frames`-frame 400x600 video with `encoder`, waited for."""
    base = np.full((400, 600, 3), 255, np.uint8)
    base[300:330, 250:350] = 0
    sent = [np.roll(base, 7 * i, axis=1) for i in range(frames)]
    times = []
    for repeat in range(repeats + 1):
        start = time.perf_counter()
        with fnrec.VideoWriter(folder / f"{encoder}-{frames}.mp4", fps=50, encoder=encoder) as w:
            for frame in sent:
                w.append(frame)
        if repeat:
            times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times)


def rss_growth_mb(recorder: str, frames: int) -> float:
    """Peak RSS growth (MB) of recording a `frames`-frame episode, in a fresh subprocess."""
    done = subprocess.run(
        [sys.executable, __file__, "--child", recorder, str(frames)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(done.stdout.strip().splitlines()[-1])


def child(recorder: str, frames: int) -> None:
    import threading

    import psutil

    process, peak, stop = psutil.Process(), [0], threading.Event()

    def sample() -> None:  # current RSS every 5 ms; ru_maxrss would hide growth under import peaks
        while not stop.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            stop.wait(0.005)

    wrap = recorders()[recorder]
    with tempfile.TemporaryDirectory() as folder:
        rollout(wrap, "long", 5, Path(folder) / "warmup")  # pygame and imports warmed up
        before = process.memory_info().rss
        sampler = threading.Thread(target=sample)
        sampler.start()
        rollout(wrap, "long", frames - 1, Path(folder) / "long")
        stop.set()
        sampler.join()
    print((peak[0] - before) / 2**20)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--rss-frames", type=int, default=5000)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return

    made = recorders()
    kinds = ("long", "short")
    times = {(kind, name): [] for kind in kinds for name in made}
    episodes = {}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds + 1):  # round 0 warms up
            for kind in kinds:
                for name, wrap in made.items():
                    folder = Path(tmp) / f"{kind}-{name}-{round_}".replace(" ", "_")
                    start = time.perf_counter()
                    count = rollout(wrap, kind, args.steps, folder)
                    seconds = time.perf_counter() - start
                    if name != "render only":
                        check_videos(folder, count)
                    episodes[kind] = count
                    if round_:
                        times[kind, name].append(seconds)
            print(f"round {round_} done", flush=True)
        encoders = ["ffmpeg"] + (["pyav"] if pyav_available() else [])
        per_video = {
            (encoder, frames): per_video_ms(encoder, frames, 9, Path(tmp))
            for encoder in encoders
            for frames in (1, 10, 30)
        }
    rss = {name: rss_growth_mb(name, args.rss_frames) for name in made if name != "render only"}

    lines = [
        f"## RecordVideo: CartPole-v1 (pygame, 400x600), {args.steps} steps, "
        "every episode recorded",
        "",
        "| recorder | one 500-step episode (501 frames) | vs render only | "
        f"{episodes['short']} short episodes, each its own video | vs render only | "
        f"peak RSS growth, {args.rss_frames}-frame episode |",
        "|---|---|---|---|---|---|",
    ]
    for name in made:
        cells = []
        for kind in kinds:
            own, base = times[kind, name], times[kind, "render only"]
            ratio = statistics.median(a / b for a, b in zip(own, base, strict=True))
            cells += [f"{statistics.median(own):.2f} s", f"{ratio:.2f}x"]
        memory = f"{rss[name]:.0f} MB" if name in rss else "—"
        lines.append(f"| {name} | {' | '.join(cells)} | {memory} |")
    lines += [
        "",
        "Per-video cost (one 400x600 video written and waited for, median of 9):",
        "",
        "| encoder | 1 frame | 10 frames | 30 frames |",
        "|---|---|---|---|",
    ]
    for encoder in encoders:
        cells = [f"{per_video[encoder, frames]:.0f} ms" for frames in (1, 10, 30)]
        lines.append(f"| {encoder} | {' | '.join(cells)} |")
    lines += [
        "",
        f"Medians of {args.rounds} interleaved rounds after a warm-up round; a ratio is the "
        "median of the per-round ratios. Every fnrec run is checked: one complete video per "
        "episode, no temporary file left. Targets (issue 14): every short episode recorded at "
        "most 1.5x render only, the long episode at most 1.1x. fnrec encodes with libx264 preset "
        f"`{DEFAULT_PRESET}`, crf {DEFAULT_CRF}; moviepy uses libx264 at its defaults.",
        "",
        f"Command: `{command_line()}`",
        "",
        f"Machine: {machine_line()}",
    ]
    write_section("video_record", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
