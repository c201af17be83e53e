"""Overhead of fnrec's episode statistics in a jitted, vmapped lax.scan rollout of gymnax CartPole.

Compares, in one process, a 1000-step random-action rollout of gymnax CartPole-v1 at several
batch sizes:
- no statistics;
- a LogWrapper-style baseline (per-env masked arithmetic keeping only the last finished
  episode, terminated and truncated merged, as purejaxrl does);
- a naive shared ring (cumulative sum of the done flags and a scatter into the ring every step);
- fnrec.stats in both layouts users use, each with buffer_length 1, 10 and 100: one shared
  queue for the batch (``init(N, B)``), and one queue per env (``jax.vmap`` over ``init(None,
  B)``, as LogWrapper is used under vmap); terminated/truncated kept apart.

Each variant is compiled and warmed up first; then the variants run interleaved, round after
round, and the median per variant is reported, so that load on the machine hits all alike.

Run (needs gymnax: see README): python benchmarks/stats_overhead.py [--envs 16 256 4096]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import gymnax
import jax
import jax.numpy as jnp
from _results import command_line, machine_line, spread, write_section

import fnrec

STEPS = 1000
BUFFER_LENGTH = 100


def _log_wrapper_init(n: int):
    zf, zi = jnp.zeros(n, jnp.float32), jnp.zeros(n, jnp.int32)
    return (zf, zi, zf, zi)


def _log_wrapper_step(carry, reward, terminated, truncated):
    """purejaxrl's LogWrapper arithmetic: only the last finished episode per env."""
    returns, lengths, last_returns, last_lengths = carry
    done = (terminated | truncated).astype(jnp.float32)
    new_returns, new_lengths = returns + reward, lengths + 1
    return (
        new_returns * (1 - done),
        (new_lengths * (1 - done)).astype(jnp.int32),
        last_returns * (1 - done) + new_returns * done,
        (last_lengths * (1 - done) + new_lengths * done).astype(jnp.int32),
    )


def _naive_ring_init(n: int):
    return (
        jnp.zeros(n, jnp.float32),
        jnp.zeros(n, jnp.int32),
        jnp.zeros(BUFFER_LENGTH, jnp.float32),
        jnp.zeros(BUFFER_LENGTH, jnp.int32),
        jnp.zeros((), jnp.int32),
    )


def _naive_ring_step(carry, reward, terminated, truncated):
    """Shared ring by cumulative sum of dones and a scatter of all envs, every step."""
    returns, lengths, ring_returns, ring_lengths, head = carry
    done = terminated | truncated
    returns, lengths = returns + reward, lengths + 1
    rank = jnp.cumsum(done, dtype=jnp.int32)
    count = rank[-1]
    keep = done & (rank > count - BUFFER_LENGTH)
    slot = jnp.where(keep, (head + rank - 1) % BUFFER_LENGTH, BUFFER_LENGTH)
    ring_returns = ring_returns.at[slot].set(returns, mode="drop")
    ring_lengths = ring_lengths.at[slot].set(lengths, mode="drop")
    return (
        jnp.where(done, 0.0, returns),
        jnp.where(done, 0, lengths),
        ring_returns,
        ring_lengths,
        (head + count) % BUFFER_LENGTH,
    )


def _fnrec_step(stats, reward, terminated, truncated):
    stats, _ = fnrec.stats.step(stats, reward, terminated, truncated)
    return stats


def _per_env_init(buffer_length: int) -> Callable:
    """One queue per env: ``jax.vmap`` over unbatched statistics (as users vmap LogWrapper)."""
    return lambda n: jax.vmap(lambda _: fnrec.stats.init(None, buffer_length))(jnp.arange(n))


def variants(buffer_lengths: list[int]) -> dict[str, tuple[Callable | None, Callable | None]]:
    """Every layout users use: the shared queue and per-env (vmapped) queues, several B."""
    table: dict[str, tuple[Callable | None, Callable | None]] = {
        "no statistics": (None, None),
        "LogWrapper-style": (_log_wrapper_init, _log_wrapper_step),
        "naive shared ring": (_naive_ring_init, _naive_ring_step),
    }
    for b in buffer_lengths:
        table[f"fnrec.stats shared, B={b}"] = (
            lambda n, b=b: fnrec.stats.init(n, b),
            _fnrec_step,
        )
    for b in buffer_lengths:
        table[f"fnrec.stats per-env (vmap), B={b}"] = (_per_env_init(b), jax.vmap(_fnrec_step))
    return table


def make_rollout(num_envs: int, init: Callable | None, update: Callable | None):
    """A jitted rollout of `num_envs` CartPoles for STEPS steps with the given statistics."""
    env, params = gymnax.make("CartPole-v1")
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def rollout(key):
        _, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(key, num_envs), params)
        extra = None if init is None else init(num_envs)

        def body(carry, _):
            state, key, extra = carry
            key, action_key, step_key = jax.random.split(key, 3)
            action = jax.random.randint(action_key, (num_envs,), 0, 2)
            _, state, reward, terminated, truncated, _ = step(
                jax.random.split(step_key, num_envs), state, action, params
            )
            if update is not None:
                extra = update(extra, reward, terminated, truncated)
            return (state, key, extra), None

        carry, _ = jax.lax.scan(body, (state, key, extra), None, length=STEPS)
        return carry

    return jax.jit(rollout)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--envs", type=int, nargs="+", default=[16, 256, 4096])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--buffer-lengths", type=int, nargs="+", default=[1, 10, 100])
    args = parser.parse_args()
    table = variants(args.buffer_lengths)

    key = jax.random.key(0)
    rows = []
    for num_envs in args.envs:
        rollouts = {name: make_rollout(num_envs, *fns) for name, fns in table.items()}
        for fn in rollouts.values():  # compile and warm up
            jax.block_until_ready(fn(key))
            jax.block_until_ready(fn(key))
        times: dict[str, list[float]] = {name: [] for name in rollouts}
        for _ in range(args.rounds):
            for name, fn in rollouts.items():
                start = time.perf_counter()
                jax.block_until_ready(fn(key))
                times[name].append(time.perf_counter() - start)
        median = {name: statistics.median(t) for name, t in times.items()}
        for name, t in median.items():
            # Ratios per round (variants run back to back), so slow phases of the machine cancel.
            vs_none = spread(
                [a / b for a, b in zip(times[name], times["no statistics"], strict=True)]
            )
            vs_log = spread(
                [a / b for a, b in zip(times[name], times["LogWrapper-style"], strict=True)]
            )
            rows.append(
                f"| {num_envs} | {name} | {t * 1e3:.1f} | {num_envs * STEPS / t / 1e6:.2f} "
                f"| {vs_none} | {vs_log} |"
            )
            print(rows[-1], flush=True)

    body = "\n".join(
        [
            "## Statistics overhead in a jitted gymnax CartPole rollout (`stats_overhead.py`)",
            "",
            f"{STEPS} steps, random actions; B is buffer_length (the naive ring keeps "
            f"{BUFFER_LENGTH}); shared: `fnrec.stats.init(N, B)`, one queue; per-env: "
            "`jax.vmap` over `fnrec.stats.init(None, B)`, one queue per env, as LogWrapper under "
            f"vmap. {args.rounds} interleaved rounds after warm-up, one process. Time: median "
            "over rounds. Ratios: median (and interquartile range) of the per-round ratios.",
            "",
            "| envs | variant | ms / rollout | M env-steps/s | vs no statistics (IQR) "
            "| vs LogWrapper-style (IQR) |",
            "|---:|---|---:|---:|---:|---:|",
            *rows,
            "",
            f"Command: `{command_line()}`",
            "",
            f"Machine: {machine_line()}",
        ]
    )
    write_section("stats_overhead", body)


if __name__ == "__main__":
    main()
