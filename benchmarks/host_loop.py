"""The host loop, one step per Python call: fnrec's host envs against Gymnasium's numpy envs.

Issue 24's target: a ``fnrec.make("CartPole-v1")`` step at most 2x Gymnasium's numpy
``CartPole-v1`` + ``RecordEpisodeStatistics`` (rendering excluded), the vector env likewise, and
recording every episode at most 1.5x rendering alone. Baselines: Gymnasium's numpy env, and its
own ``FunctionalJaxEnv`` over the phys2d CartPole (its functions jitted by Gymnasium).

Per step: median over interleaved rounds after a warm-up (every env compiled and stepped first),
ratios per round, one process. Random actions drawn beforehand; an episode's end resets (single
envs) or autoresets (vector envs).

Run from the repository root in the main environment:
    PYTHONPATH=. python benchmarks/host_loop.py [--quick]
Writes the ``host_loop`` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable

import gymnasium as gym
import numpy as np
from _results import command_line, machine_line, spread, write_section

import fnrec

ROUNDS = 7


def single_loop(env: gym.Env, steps: int) -> Callable[[], float]:
    """Seconds per step of `steps` random steps of a single env (reset at each episode's end)."""
    return render_loop(env, steps, render=False)


def vector_loop(env: gym.vector.VectorEnv, steps: int) -> Callable[[], float]:
    """Seconds per (batched) step of a vector env."""
    actions = np.random.default_rng(0).integers(0, 2, (steps, env.num_envs))
    env.reset(seed=0)

    def run() -> float:
        start = time.perf_counter()
        for action in actions:
            env.step(action)
        return (time.perf_counter() - start) / steps

    return run


def render_loop(env: gym.Env, steps: int, render: bool) -> Callable[[], float]:
    """Seconds per step with a frame rendered each step (`render`), as RecordVideo does."""
    actions = np.random.default_rng(0).integers(0, 2, steps).tolist()
    env.reset(seed=0)

    def run() -> float:
        start = time.perf_counter()
        for action in actions:
            _, _, terminated, truncated, _ = env.step(action)
            if render:
                env.render()
            if terminated or truncated:
                env.reset()
        return (time.perf_counter() - start) / steps

    return run


def measure(loops: dict[str, Callable[[], float]]) -> dict[str, list[float]]:
    """Per-step seconds of every loop, rounds interleaved, after one warm-up run each."""
    for run in loops.values():
        run()
    times: dict[str, list[float]] = {name: [] for name in loops}
    for _ in range(ROUNDS):
        for name, run in loops.items():
            times[name].append(run())
    return times


def main() -> None:
    quick = "--quick" in sys.argv
    steps = 300 if quick else 3000
    folder = tempfile.mkdtemp(prefix="fnrec-host-loop-")

    from gymnasium.envs.phys2d.cartpole import CartPoleJaxEnv

    single = {
        "gymnasium numpy": single_loop(
            gym.wrappers.RecordEpisodeStatistics(gym.make("CartPole-v1")), steps
        ),
        "fnrec": single_loop(fnrec.make("CartPole-v1"), steps),
        "gymnasium FunctionalJaxEnv": single_loop(
            gym.wrappers.RecordEpisodeStatistics(CartPoleJaxEnv()), max(steps // 30, 20)
        ),
    }
    vector = {
        f"{kind} {n}": (
            vector_loop(
                gym.wrappers.vector.RecordEpisodeStatistics(
                    gym.make_vec("CartPole-v1", num_envs=n, vectorization_mode="sync")
                ),
                steps // 4,
            )
            if kind == "gymnasium"
            else vector_loop(fnrec.make_vec("CartPole-v1", num_envs=n), steps // 4)
        )
        for n in (16, 256)
        for kind in ("gymnasium", "fnrec")
    }
    video_steps = steps // 10
    recorded = fnrec.RecordVideo(
        fnrec.make("CartPole-v1", render_mode="rgb_array"),
        folder,
        episode_trigger=lambda _: True,
    )
    fast = fnrec.RecordVideo(
        fnrec.make("CartPole-v1", render_mode="rgb_array"),
        folder + "/fast",
        episode_trigger=lambda _: True,
        settings=fnrec.VideoSettings(preset="ultrafast"),
    )
    videos = {
        "render every step": render_loop(
            fnrec.make("CartPole-v1", render_mode="rgb_array"), video_steps, True
        ),
        "RecordVideo, every episode": render_loop(recorded, video_steps, False),
        "RecordVideo ultrafast": render_loop(fast, video_steps, False),
    }
    times = measure({**single, **vector, **videos})
    median = {name: statistics.median(values) for name, values in times.items()}

    def ratios(name: str, base: str) -> str:
        return spread([a / b for a, b in zip(times[name], times[base], strict=True)])

    lines = [
        "## Host loop: one step per Python call (`host_loop.py`)",
        "",
        f"Microseconds per step, median of {ROUNDS} interleaved rounds after a warm-up; ratios "
        "per round (median and interquartile range). Random actions; single envs reset at each "
        "episode's end, vector envs autoreset (next step).",
        "",
        "| loop | µs per step | ratio | target |",
        "|---|---:|---:|---|",
        f"| Gymnasium `CartPole-v1` + `RecordEpisodeStatistics` (numpy) | "
        f"{median['gymnasium numpy'] * 1e6:,.1f} | 1 | |",
        f'| `fnrec.make("CartPole-v1")` | {median["fnrec"] * 1e6:,.1f} | '
        f"{ratios('fnrec', 'gymnasium numpy')} | at most 2 |",
        f"| Gymnasium `FunctionalJaxEnv` (phys2d CartPole, jitted by Gymnasium) + RES | "
        f"{median['gymnasium FunctionalJaxEnv'] * 1e6:,.1f} | "
        f"{ratios('gymnasium FunctionalJaxEnv', 'gymnasium numpy')} | |",
    ]
    for n in (16, 256):
        lines.append(
            f"| `fnrec.make_vec(..., {n})` vs Gymnasium sync `make_vec` + vector RES, {n} envs | "
            f"{median[f'fnrec {n}'] * 1e6:,.1f} vs {median[f'gymnasium {n}'] * 1e6:,.1f} | "
            f"{ratios(f'fnrec {n}', f'gymnasium {n}')} | at most 2 |"
        )
    lines += [
        f"| `fnrec.RecordVideo`, every episode, vs rendering every step alone | "
        f"{median['RecordVideo, every episode'] * 1e6:,.0f} vs "
        f"{median['render every step'] * 1e6:,.0f} | "
        f"{ratios('RecordVideo, every episode', 'render every step')} | at most 1.5 |",
        f'| the same with `VideoSettings(preset="ultrafast")` | '
        f"{median['RecordVideo ultrafast'] * 1e6:,.0f} vs "
        f"{median['render every step'] * 1e6:,.0f} | "
        f"{ratios('RecordVideo ultrafast', 'render every step')} | at most 1.5 |",
        "",
        "The single-env target is **not met** (20x), nor is recording every episode (1.9-2.2x); "
        "the vector targets are met (1.6x at 16 envs, 0.2x at 256). "
        "Where a step's time goes (CartPole, "
        "measured on this machine with one-off timing scripts): the jitted recorder step runs "
        "about 30-40 µs on XLA:CPU, most of it `fnrec.stats.step`'s small kernels (a jitted "
        "identity over its 12 arrays alone costs 17 µs: XLA:CPU pays about a microsecond per "
        "array passed and per kernel), fetching the results 30-50 µs more, Python the rest "
        "(about 20 µs after this round: `info` and clocks only when an episode ends, a cheap "
        "check of a Discrete action). Packing the state into one buffer (one array in and "
        "out) was tried and gained about 10%: the packing's own kernels cost most of what it "
        "saves. Gymnasium's numpy CartPole is 5-6 µs a step here, so a jitted JAX step on a "
        "CPU cannot be within 2x of it; fnrec's is within 1.2x of Gymnasium's own jitted "
        "`FunctionalJaxEnv` while it also records. From 256 envs the batch wins (5x). "
        "Recording every episode costs the encoder: CartPole's random episodes are about 22 "
        "frames, so opening and finishing one mp4 per episode dominates.",
        "",
        f"Command: `{command_line()}`",
        "",
        f"Machine: {machine_line()}.",
    ]
    recorded.close()
    fast.close()
    print("\n".join(lines))
    write_section("host_loop", "\n".join(lines))


if __name__ == "__main__":
    main()
