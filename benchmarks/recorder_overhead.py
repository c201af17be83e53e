"""The recorder path against the bare scan: gymnax CartPole, 1000 steps, every layout users use.

One process. Each variant is a jitted ``lax.scan`` of 1000 random-action steps of N gymnax
CartPoles (gymnax 1.x):

- bare gymnax: ``jax.vmap(env.step)``, no statistics (the floor);
- gymnax's ``LogWrapper`` under ``jax.vmap`` (what purejaxrl does);
- ``fnrec.adapters.gymnax.recorder(env, num_envs=N)``: the family's recorder, one shared queue
  (fnrec's autoreset with gymnax's keys, statistics in the state);
- ``jax.vmap`` of ``fnrec.adapters.gymnax.recorder(env)``: one queue per env;
- ``fnrec.adapters.GymnaxAdapter(env)`` under ``jax.vmap``: the drop-in shell.

Compiled and warmed up first, then interleaved rounds; medians of per-round ratios to the bare
scan (and to LogWrapper) go to benchmarks/RESULTS.md. The target: the recorder path within 1.05x
of the bare scan.

Run (needs gymnax: the families venv): python benchmarks/recorder_overhead.py [--envs 16 256 2048]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnax
import jax
from _results import command_line, machine_line, spread, write_section
from gymnax.wrappers.purerl import LogWrapper

import fnrec

STEPS = 1000


def gymnax_api(env, params, num_envs: int, stats: str | None = None) -> Callable:
    """A rollout of a gymnax-API env (its own vmap, keys split per env); `stats` "shared" or
    "per_env" adds fnrec.stats by hand on top (what the recorder does, minus the recorder)."""
    reset = jax.vmap(env.reset, in_axes=(0, None))
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    if stats == "shared":
        init, update = (lambda: fnrec.stats.init(num_envs)), fnrec.stats.step
    elif stats == "per_env":
        init = lambda: jax.vmap(lambda _: fnrec.stats.init(None))(jax.numpy.arange(num_envs))  # noqa: E731
        update = jax.vmap(fnrec.stats.step)

    def rollout(key):
        _, state = reset(jax.random.split(key, num_envs), params)
        kept = None if stats is None else init()

        def body(carry, _):
            state, kept, key = carry
            key, action_key, step_key = jax.random.split(key, 3)
            action = jax.random.randint(action_key, (num_envs,), 0, 2)
            out = step(jax.random.split(step_key, num_envs), state, action, params)
            if stats is not None:
                kept = update(kept, out[2], out[3], out[4])[0]
            return (out[1], kept, key), None

        return jax.lax.scan(body, (state, kept, key), None, length=STEPS)[0]

    return rollout


def recorder_api(rec: fnrec.Recorder, num_envs: int, per_env: bool) -> Callable:
    """A rollout of a recorder: one batched recorder, or jax.vmap of an unbatched one."""
    init, step = (jax.vmap(rec.init), jax.vmap(rec.step)) if per_env else (rec.init, rec.step)

    def keys(key):
        return jax.random.split(key, num_envs) if per_env else key

    def rollout(key):
        state, _ = init(keys(key))

        def body(carry, _):
            state, key = carry
            key, action_key, step_key = jax.random.split(key, 3)
            action = jax.random.randint(action_key, (num_envs,), 0, 2)
            return (step(state, action, keys(step_key)).state, key), None

        return jax.lax.scan(body, (state, key), None, length=STEPS)[0]

    return rollout


def variants(num_envs: int) -> dict[str, Callable]:
    env, params = gymnax.make("CartPole-v1")
    recorder = fnrec.adapters.gymnax.recorder
    return {
        "bare gymnax (no statistics)": gymnax_api(env, params, num_envs),
        "gymnax LogWrapper (vmap)": gymnax_api(LogWrapper(env), params, num_envs),
        "bare gymnax + fnrec.stats shared, by hand": gymnax_api(env, params, num_envs, "shared"),
        "bare gymnax + fnrec.stats per-env, by hand": gymnax_api(env, params, num_envs, "per_env"),
        "fnrec recorder, shared (num_envs=N)": recorder_api(
            recorder(env, num_envs=num_envs, params=params), num_envs, per_env=False
        ),
        "fnrec recorder, per-env (vmap)": recorder_api(
            recorder(env, params=params), num_envs, per_env=True
        ),
        "fnrec GymnaxAdapter shell (vmap)": gymnax_api(
            fnrec.adapters.GymnaxAdapter(env), params, num_envs
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--envs", type=int, nargs="+", default=[16, 256, 2048])
    parser.add_argument("--rounds", type=int, default=9)
    args = parser.parse_args()
    rows = []
    key = jax.random.key(0)
    for num_envs in args.envs:
        runs = {name: jax.jit(fn) for name, fn in variants(num_envs).items()}
        for run in runs.values():  # compile and warm up
            jax.block_until_ready(run(key))
            jax.block_until_ready(run(key))
        times: dict[str, list[float]] = {name: [] for name in runs}
        for _ in range(args.rounds):
            for name, run in runs.items():
                start = time.perf_counter()
                jax.block_until_ready(run(key))
                times[name].append(time.perf_counter() - start)
        bare, log = times["bare gymnax (no statistics)"], times["gymnax LogWrapper (vmap)"]
        by_hand = {
            "shared": times["bare gymnax + fnrec.stats shared, by hand"],
            "per-env": times["bare gymnax + fnrec.stats per-env, by hand"],
        }
        for name, t in times.items():
            median = statistics.median(t)
            to_bare = [a / b for a, b in zip(t, bare, strict=True)]
            to_log = [a / b for a, b in zip(t, log, strict=True)]
            layout = "shared" if "shared" in name else "per-env" if "fnrec" in name else None
            to_hand = "-"
            if layout is not None and "by hand" not in name:
                to_hand = spread([a / b for a, b in zip(t, by_hand[layout], strict=True)])
            rate = num_envs * STEPS / median / 1e6
            rows.append(
                f"| {num_envs} | {name} | {median * 1e3:.1f} | {rate:.2f} | {spread(to_bare)} | "
                f"{spread(to_log)} | {to_hand} |"
            )
            print(rows[-1], flush=True)
    body = "\n".join(
        [
            "## The recorder path vs the bare scan: gymnax CartPole (`recorder_overhead.py`)",
            "",
            f"{STEPS} random-action steps of N envs in one jitted `lax.scan`; the recorder keeps "
            "the statistics (100 episodes, same-step) and does gymnax's autoreset itself, with "
            "gymnax's keys (bit-identical trajectories). Interleaved rounds after warm-up, one "
            "process. Time: median over rounds. Ratios: median (IQR) of per-round ratios. The "
            "last column isolates the recorder's own cost: the recorder against the bare scan "
            "with the same `fnrec.stats` updated by hand (same layout).",
            "",
            "| envs | variant | ms / rollout | M env-steps/s | vs bare scan (IQR) "
            "| vs LogWrapper (IQR) | vs the same statistics by hand (IQR) |",
            "|---:|---|---:|---:|---:|---:|---:|",
            *rows,
            "",
            f"Command: `{command_line()}`",
            "",
            f"Machine: {machine_line()}",
        ]
    )
    write_section("recorder_overhead", body)


if __name__ == "__main__":
    main()
