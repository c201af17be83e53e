"""Cost of per-episode metrics and of a ranked (best-k) capture store in a jitted rollout.

One process, every variant compiled and warmed up first, then run interleaved round after round;
ratios are per round (variants back to back), reported as median and interquartile range. The
rollout is Gymnasium's functional CartPole through ``fnrec.adapters.FuncEnvAdapter`` (statistics
on, time limit 500) for STEPS steps with a small MLP policy (4-64-64-2, sampled actions), one
adapter over the batch (``num_envs=N``, the shared queue) or ``jax.vmap`` of the unbatched one.

- Metrics: three metrics (``discounted_return(0.99)``, the largest pole angle (``"max"``) and
  ``success`` as "reached the time limit" (``"last"`` of the truncation flag)) against the same
  statistics without metrics (target: at most 1.10x).
- Ranked store: ``keep=fnrec.capture.best()`` with k = 4 (every episode a candidate, the 4
  highest returns kept, replaced in-graph) against global-id capture of every 250th episode
  into a store of 4 (target: at most 1.05x).
- Memory: bytes of the statistics state per metric (per env and per queue entry included), and
  of the capture state per kept episode (a store slot: its row of frames and its table entry).

Run: python benchmarks/metrics_overhead.py [--envs 1024] [--rounds 15] [--steps 1000]
"""

from __future__ import annotations

import argparse
import statistics
import time

import jax
import jax.numpy as jnp
from _results import command_line, machine_line, spread, write_section
from capture_overhead import jitted_rollout  # the same rollout and policy, step for step

import fnrec

LIMIT = 500
KEPT = 4
BUFFER = 100


def three_metrics() -> list[fnrec.stats.Metric]:
    return [
        fnrec.stats.discounted_return(0.99),
        fnrec.stats.metric("max_angle", lambda t: jnp.abs(t.env_state[..., 2]), "max"),
        fnrec.stats.success(lambda t: t.truncated, "last", name="reached_limit"),
    ]


def _statistics(metrics: list[fnrec.stats.Metric]) -> fnrec.stats.EpisodeStatistics:
    return fnrec.stats.episode_statistics(BUFFER, "same_step", metrics)


def make_rollout(num_envs: int, steps: int, recording: fnrec.Recording, layout: str):
    """A jitted `steps`-step rollout; returns it and the bytes of its statistics and capture."""
    fn, shapes = jitted_rollout(num_envs, steps, recording, layout)
    return fn, _nbytes(shapes.stats), _nbytes(shapes.capture)


def _nbytes(tree) -> int:
    return sum(x.size * x.dtype.itemsize for x in jax.tree.leaves(tree))


def _bytes(n: float) -> str:
    return (
        f"{n / 2**20:.2f} MiB"
        if n >= 2**20
        else f"{n / 2**10:.1f} KiB"
        if n >= 2**10
        else (f"{n:.0f} B")
    )


def _interleaved(variants: dict, rounds: int) -> dict[str, list[float]]:
    key = jax.random.key(0)
    for fn in variants.values():
        jax.block_until_ready(fn(key))
        jax.block_until_ready(fn(key))
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            start = time.perf_counter()
            jax.block_until_ready(fn(key))
            times[name].append(time.perf_counter() - start)
    return times


def bench(envs: list[int], layouts: list[str], steps: int, rounds: int) -> tuple[list, list]:
    metric_rows, store_rows = [], []
    every = fnrec.schedules.every(250)
    for layout in layouts:
        for num_envs in envs:
            plain = fnrec.Recording(_statistics([]), max_episode_steps=LIMIT)
            with_metrics = fnrec.Recording(_statistics(three_metrics()), max_episode_steps=LIMIT)
            by_id = fnrec.capture.episode_capture(LIMIT, KEPT, watch=None, trigger=every)
            ranked = fnrec.capture.episode_capture(
                LIMIT, KEPT, watch=None, keep=fnrec.capture.best()
            )
            ranked_more = fnrec.capture.episode_capture(
                LIMIT, KEPT + 1, watch=None, keep=fnrec.capture.best()
            )
            built = {
                "statistics": make_rollout(num_envs, steps, plain, layout),
                "statistics + 3 metrics": make_rollout(num_envs, steps, with_metrics, layout),
                f"global-id capture (every 250th, store of {KEPT})": make_rollout(
                    num_envs, steps, plain._replace(capture=by_id), layout
                ),
                f"best-{KEPT} store (every episode a candidate)": make_rollout(
                    num_envs, steps, plain._replace(capture=ranked), layout
                ),
            }
            _, _, more_bytes = make_rollout(
                num_envs, steps, plain._replace(capture=ranked_more), layout
            )
            times = _interleaved({name: fn for name, (fn, _, _) in built.items()}, rounds)
            names = list(built)

            def row(name: str, base: str, memory: str, times=times, where=(layout, num_envs)):
                t = statistics.median(times[name])
                ratio = spread([a / b for a, b in zip(times[name], times[base], strict=True)])
                return f"| {where[0]} | {where[1]} | {name} | {t * 1e3:.1f} | {ratio} | {memory} |"

            # Per env: with per-env queues (vmapped) each env has its own queue and store.
            per_metric = (built[names[1]][1] - built[names[0]][1]) / 3
            metric_memory = f"{_bytes(per_metric)} per metric ({per_metric / num_envs:.1f} B/env)"
            metric_rows += [row(names[0], names[0], "-"), row(names[1], names[0], metric_memory)]
            slot = more_bytes - built[names[3]][2]
            per_kept = slot if layout == "shared" else slot / num_envs
            store_rows += [
                row(names[2], names[2], _bytes(built[names[2]][2])),
                row(
                    names[3],
                    names[2],
                    f"{_bytes(built[names[3]][2])} ({_bytes(per_kept)} per kept)",
                ),
            ]
            for line in (*metric_rows[-2:], *store_rows[-2:]):
                print(line, flush=True)
    return metric_rows, store_rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--envs", type=int, nargs="+", default=[1024])
    parser.add_argument("--layouts", nargs="+", default=["shared", "vmapped"])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument(
        "--no-write", action="store_true", help="print only (a trial run): leave RESULTS.md be"
    )
    args = parser.parse_args()
    metric_rows, store_rows = bench(args.envs, args.layouts, args.steps, args.rounds)
    header = [
        "| layout | envs | variant | ms / rollout | ratio (IQR) | memory |",
        "|---|---:|---|---:|---:|---:|",
    ]
    body = "\n".join(
        [
            "## Per-episode metrics and ranked stores (`metrics_overhead.py`)",
            "",
            f"Gymnasium's functional CartPole through `FuncEnvAdapter` (statistics with a queue "
            f"of {BUFFER}, time limit {LIMIT}), {args.steps} steps, a 4-64-64-2 MLP "
            f"policy sampled every step; {args.rounds} interleaved rounds after warm-up, one "
            "process. Ratio: median (and interquartile range) of per-round ratios.",
            "",
            "Three metrics (`discounted_return(0.99)`, the largest pole angle, `success` as "
            "reaching the time limit) against the statistics alone (target: at most 1.10x); "
            "memory: the statistics state's growth per metric.",
            "",
            *header,
            *metric_rows,
            "",
            f"A best-{KEPT} store (`keep=fnrec.capture.best()`, every episode a candidate) "
            f"against global-id capture of every 250th episode into a store of {KEPT} (target: "
            "at most 1.05x); memory: the capture state, and one more store slot.",
            "",
            *header,
            *store_rows,
            "",
            f"Command: `{command_line()}`",
            "",
            f"Machine: {machine_line()}",
        ]
    )
    if args.no_write:
        print(body)
    else:
        write_section("metrics_overhead", body)


if __name__ == "__main__":
    main()
