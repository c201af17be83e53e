"""Whole-training cost of fnrec's statistics: PPO on gymnax CartPole, LogWrapper vs fnrec.

One process, one seed. The same PPO (``fnrec.demo.ppo``, one jitted program: rollouts and
minibatch updates) trains on gymnax CartPole-v1 with the envs' statistics kept three ways:

- gymnax's own ``LogWrapper`` under ``jax.vmap``, over ``FlattenObservationWrapper(env)``: what
  purejaxrl does;
- fnrec per-env: ``jax.vmap`` of ``GymnaxAdapter(FlattenObservationWrapper(env))``, the
  one-line swap (one queue per env);
- fnrec shared: ``GymnaxAdapter(FlattenObservationWrapper(env), num_envs=N)`` (one queue);
- fnrec shared over the bare env: ``GymnaxAdapter(env, num_envs=N)``, which steps gymnax's
  ``step_env``/``reset_env`` through fnrec's core (the path capture needs).

fnrec's batching rule steps env i of a num_envs=N adapter as the vmapped one steps it with key
``split(key, N)[i]``; over a wrapped env the recorder calls gymnax's own ``step`` as LogWrapper
does, and over the bare env it jits ``step_env``/``reset_env`` as gymnax's ``step`` does (params
traced, not folded as Python floats): all four end with bit-identical policy parameters
(asserted), and the bare-env path also equals its per-env twin. The variants are timed
interleaved, after warm-up, median of several rounds; the ratios go to benchmarks/RESULTS.md.

Run (needs gymnax: see README): python benchmarks/training_overhead.py [--envs 16 256] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any, NamedTuple

import gymnax
import jax
import numpy as np
from _results import command_line, machine_line, write_section
from gymnax.wrappers.purerl import FlattenObservationWrapper, LogWrapper

import fnrec
from fnrec.demo.ppo import PPOConfig, make_train


class Out(NamedTuple):
    state: Any
    obs: Any
    reward: Any
    terminated: Any
    truncated: Any


def vmapped(env: Any, params: Any, num_envs: int) -> tuple[Any, Any]:
    """(reset, step) of `num_envs` copies of a gymnax-API env under ``jax.vmap``, keys split."""
    reset = jax.vmap(env.reset, in_axes=(0, None))
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    def batch_reset(key):
        obs, state = reset(jax.random.split(key, num_envs), params)
        return state, obs

    def batch_step(state, action, key):
        obs, state, reward, term, trunc, _ = step(
            jax.random.split(key, num_envs), state, action, params
        )
        return Out(state, obs, reward, term, trunc)

    return batch_reset, batch_step


def variants(num_envs: int) -> dict[str, tuple[Any, Any]]:
    """name -> (reset, step) of the batch, each with its own way of keeping statistics."""
    bare, params = gymnax.make("CartPole-v1")
    env = FlattenObservationWrapper(bare)  # purejaxrl's chain
    shared = fnrec.adapters.GymnaxAdapter(env, num_envs=num_envs).recorder(params)
    core = fnrec.adapters.GymnaxAdapter(bare, num_envs=num_envs).recorder(params)
    return {
        "gymnax LogWrapper (vmap)": vmapped(LogWrapper(env), params, num_envs),
        "fnrec per-env (vmap)": vmapped(fnrec.adapters.GymnaxAdapter(env), params, num_envs),
        "fnrec shared (num_envs=N)": (shared.init, shared.step),
        "fnrec shared, bare env (core path)": (core.init, core.step),
    }


def bare_per_env(num_envs: int) -> tuple[Any, Any]:
    """jax.vmap of GymnaxAdapter(bare env): the per-env twin of the core-path variant."""
    bare, params = gymnax.make("CartPole-v1")
    return vmapped(fnrec.adapters.GymnaxAdapter(bare), params, num_envs)


def same(a: Any, b: Any, name: str) -> None:
    """Asserts bit-identical policy parameters."""
    for x, y in zip(jax.tree.leaves(a.params), jax.tree.leaves(b.params), strict=True):
        np.testing.assert_array_equal(x, y, err_msg=name)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--envs", type=int, nargs="+", default=[16, 256])
    parser.add_argument("--updates", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rows = []
    key = jax.random.key(0)
    for num_envs in args.envs:
        config = PPOConfig(num_envs=num_envs, num_steps=64, num_updates=args.updates)
        trains = {
            name: jax.jit(make_train(config, reset, step, 4, 2))
            for name, (reset, step) in variants(num_envs).items()
        }
        results = {name: jax.block_until_ready(train(key)) for name, train in trains.items()}
        names = list(results)
        for name in names[1:]:  # the same training, whatever keeps the statistics
            same(results[name], results[names[0]], name)
        # The core path, per env and shared, against each other (same program, same floats).
        per_env_core = jax.jit(make_train(config, *bare_per_env(num_envs), 4, 2))(key)
        same(results[names[3]], per_env_core, names[3])
        times: dict[str, list[float]] = {name: [] for name in trains}
        for _ in range(args.rounds):
            for name, train in trains.items():
                start = time.perf_counter()
                jax.block_until_ready(train(key))
                times[name].append(time.perf_counter() - start)
        first = next(iter(times))
        steps = config.num_envs * config.num_steps * config.num_updates
        for name, t in times.items():
            ratios = [a / b for a, b in zip(t, times[first], strict=True)]
            q1, q2, q3 = statistics.quantiles(ratios, n=4)
            median = statistics.median(t)
            rows.append(
                f"| {num_envs} | {name} | {median:.2f} | {steps / median / 1e3:.0f} | "
                f"{q2:.3f} ({q1:.3f}-{q3:.3f}) |"
            )
            print(rows[-1], flush=True)
    body = "\n".join(
        [
            "## Whole training: PPO on gymnax CartPole, LogWrapper vs fnrec "
            "(`training_overhead.py`)",
            "",
            f"`fnrec.demo.ppo` ({args.updates} updates of 64 steps per env, 4 epochs of 4 "
            "minibatches), one jitted program per variant, over purejaxrl's "
            "`FlattenObservationWrapper(env)` (the bare-env core path over the bare env); all "
            "four end with bit-identical policy parameters (asserted). "
            "Time: median of "
            f"{args.rounds} interleaved rounds after warm-up; ratio: median (IQR) of per-round "
            "ratios to gymnax's LogWrapper.",
            "",
            "| envs | statistics | s / training | k env-steps/s | vs LogWrapper (IQR) |",
            "|---:|---|---:|---:|---:|",
            *rows,
            "",
            f"Command: `{command_line()}`",
            "",
            f"Machine: {machine_line()}",
        ]
    )
    write_section("training_overhead", body)


if __name__ == "__main__":
    main()
