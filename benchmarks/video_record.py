"""Gymnasium's RecordVideo (moviepy) against fnrec.RecordVideo on one long CartPole episode.

Both record the same frames: CartPole-v1 (pygame, 400x600) seeded 0, driven by a balancing
controller that keeps the pole up until the time limit, every frame recorded (reset + each step).
Measures the wall time of rollout + recording (median after a warm-up, both in this process, runs
alternating between the recorders), the file size, and the peak RSS growth (sampled) of a
5,000-frame episode, each recorder in a fresh subprocess.

Usage: python benchmarks/video_record.py [--steps 500] [--rss-frames 5000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from functools import partial
from pathlib import Path

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import gymnasium as gym

import fnrec
from benchmarks._results import command_line, machine_line, median_time, write_section

RECORDERS = {"gymnasium": gym.wrappers.RecordVideo, "fnrec": fnrec.RecordVideo}


def record_episode(recorder: str, steps: int, folder: Path) -> Path:
    """Runs one CartPole episode of `steps` steps under `recorder`; returns the saved video."""
    env = gym.make("CartPole-v1", render_mode="rgb_array", max_episode_steps=steps)
    env = RECORDERS[recorder](env, str(folder), episode_trigger=lambda e: True)
    obs, _ = env.reset(seed=0)
    done, taken = False, 0
    while not done:
        x, x_dot, theta, theta_dot = obs
        action = int(theta + 0.5 * theta_dot + 0.05 * x + 0.1 * x_dot > 0)
        obs, _, terminated, truncated, _ = env.step(action)
        done, taken = terminated or truncated, taken + 1
    env.close()
    if terminated or taken != steps:
        raise RuntimeError(f"the controller dropped the pole after {taken} of {steps} steps")
    return folder / "rl-video-episode-0.mp4"


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

    with tempfile.TemporaryDirectory() as folder:
        record_episode(recorder, 5, Path(folder) / "warmup")  # pygame and imports warmed up
        before = process.memory_info().rss
        sampler = threading.Thread(target=sample)
        sampler.start()
        record_episode(recorder, frames - 1, Path(folder) / "long")
        stop.set()
        sampler.join()
    print((peak[0] - before) / 2**20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--rss-frames", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], int(args.child[1]))
        return

    # Alternate the recorders run by run, so that both see the same background load.
    times: dict[str, list[float]] = {name: [] for name in RECORDERS}
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(args.repeats + 1):
            for name in RECORDERS:
                folder = Path(tmp) / f"{name}-{repeat}"
                seconds = median_time(partial(record_episode, name, args.steps, folder), 1, 0)
                times[name].append(seconds)
        for name in RECORDERS:
            size = (Path(tmp) / f"{name}-0" / "rl-video-episode-0.mp4").stat().st_size
            rows[name] = [statistics.median(times[name][1:]), size]  # run 0 is the warm-up
            print(f"{name}: {rows[name][0]:.3f} s, {size / 1024:.0f} KiB", flush=True)
    for name in RECORDERS:
        rows[name].append(rss_growth_mb(name, args.rss_frames))
        print(f"{name}: peak RSS growth {rows[name][2]:.0f} MB", flush=True)

    gym_time = rows["gymnasium"][0]
    lines = [
        f"## RecordVideo: {args.steps}-step CartPole episode ({args.steps + 1} frames, 400x600)",
        "",
        f"| recorder | rollout + record (median of {args.repeats}) | vs Gymnasium | file size | "
        f"peak RSS growth, {args.rss_frames}-frame episode |",
        "|---|---|---|---|---|",
    ]
    for name, (seconds, size, rss) in rows.items():
        label = "Gymnasium RecordVideo (moviepy)" if name == "gymnasium" else "fnrec.RecordVideo"
        lines.append(
            f"| {label} | {seconds:.2f} s | {seconds / gym_time:.2f}x | {size / 1024:.0f} KiB | "
            f"{rss:.0f} MB |"
        )
    lines += [
        "",
        "Targets: fnrec at most 0.6x Gymnasium's wall time; peak RSS growth under 50 MB for 5,000 "
        f"frames. fnrec encodes with libx264 preset `{fnrec.host.video_writer.DEFAULT_PRESET}`, "
        f"crf {fnrec.host.video_writer.DEFAULT_CRF}; moviepy uses libx264 at its defaults.",
        "",
        f"Command: `{command_line()}`",
        "",
        f"Machine: {machine_line()}",
    ]
    write_section("video_record", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
