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

    def ratio(name: str, base: str) -> float:
        return statistics.median(a / b for a, b in zip(times[name], times[base], strict=True))

    def verdict() -> str:
        """What the table says against the targets, and why (the figures are this run's)."""
        single = ratio("fnrec", "gymnasium numpy")
        vectors = [ratio(f"fnrec {n}", f"gymnasium {n}") for n in (16, 256)]
        video = ratio("RecordVideo, every episode", "render every step")

        def met(value: float, target: float) -> str:
            return "met" if value <= target else "**not met**"

        return (
            f"Targets: the single env {met(single, 2)} ({single:.1f}x); the vector envs "
            f"{met(max(vectors), 2)} ({vectors[0]:.2f}x at 16 envs, {vectors[1]:.2f}x at 256); "
            f"recording every episode {met(video, 1.5)} ({video:.2f}x). Where a single step's "
            "time goes: the jitted recorder step's small kernels on XLA:CPU (each a fixed cost, "
            "see `step_kernels.py`), one transfer of the step's results (packed in-graph into "
            "one array), and Python. Gymnasium's numpy CartPole takes "
            f"{median['gymnasium numpy'] * 1e6:.1f} µs a step here, less than one jitted call "
            "costs on a CPU, so no jitted step can be within 2x of it; fnrec's step takes "
            f"{ratio('fnrec', 'gymnasium FunctionalJaxEnv'):.2f}x Gymnasium's own jitted "
            "`FunctionalJaxEnv` step while it also records. Recording every episode is bound by "
            "the encoder: every frame is converted to YUV and encoded on the core the loop "
            "leaves, and every short episode opens and finishes an mp4 of its own."
        )

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
        verdict(),
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
