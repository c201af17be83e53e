"""Env-steps per second: a jitted, vmapped FuncEnv CartPole rollout with fnrec statistics, against
Gymnasium's ``make_vec("CartPole-v1", vectorization_mode="sync")`` + ``RecordEpisodeStatistics``.

Run from the repository root in the main environment:
    PYTHONPATH=. python benchmarks/env_throughput.py [--quick]
Writes the ``env_throughput`` section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import sys

import gymnasium as gym
import jax
import numpy as np
from _results import command_line, machine_line, median_time, write_section
from gymnasium.envs.phys2d.cartpole import CartPoleFunctional
from gymnasium.wrappers.vector import RecordEpisodeStatistics

import fnrec
from fnrec.adapters import FuncEnvAdapter

NUM_ENVS = (1, 16, 256, 4096)
REPEATS = 5


def fnrec_rollout(num_envs: int, num_steps: int):
    """A jitted lax.scan of `num_steps` batched steps (random actions drawn in-graph)."""
    recording = fnrec.Recording(max_episode_steps=500)
    env = FuncEnvAdapter(CartPoleFunctional(), recording, num_envs=num_envs)

    @jax.jit
    def run(key):
        state = env.initial(key)

        def body(state, key):
            action_key, step_key = jax.random.split(key)
            action = jax.random.randint(action_key, (num_envs,), 0, 2)
            return env.step(state, action, step_key).state, None

        state, _ = jax.lax.scan(body, state, jax.random.split(key, num_steps))
        return state.stats

    def once():
        stats = jax.block_until_ready(run(jax.random.key(0)))
        assert fnrec.stats.episode_count(stats) > 0 or num_envs * num_steps < 500

    return once


def gymnasium_rollout(num_envs: int, num_steps: int):
    """Gymnasium's sync vector CartPole with vector RecordEpisodeStatistics, precomputed actions."""
    env = RecordEpisodeStatistics(
        gym.make_vec("CartPole-v1", num_envs=num_envs, vectorization_mode="sync")
    )
    actions = np.random.default_rng(0).integers(0, 2, (num_steps, num_envs))

    def once():
        env.reset(seed=0)
        for action in actions:
            env.step(action)

    return once


def main() -> None:
    quick = "--quick" in sys.argv
    scale = 10 if quick else 1
    rows = []
    for num_envs in NUM_ENVS:
        fn_steps = max(200, 1_000_000 // num_envs) // scale
        gym_steps = max(10, 20_000 // num_envs) // scale
        fn_time = median_time(fnrec_rollout(num_envs, fn_steps), REPEATS)
        gym_time = median_time(gymnasium_rollout(num_envs, gym_steps), REPEATS)
        fn_rate = num_envs * fn_steps / fn_time
        gym_rate = num_envs * gym_steps / gym_time
        rows.append((num_envs, fn_rate, gym_rate))
        print(
            f"{num_envs:5d} envs: fnrec {fn_rate:,.0f}/s, gymnasium {gym_rate:,.0f}/s", flush=True
        )
    lines = [
        "## Env throughput: FuncEnv CartPole + fnrec statistics vs Gymnasium sync vector env",
        "",
        "Env-steps per second (median of 5 timed runs after 1 warm-up, one process). fnrec: "
        "`fnrec.adapters.FuncEnvAdapter(CartPoleFunctional(), "
        "fnrec.Recording(max_episode_steps=500), num_envs=N)`, `step` in one jitted `lax.scan` "
        "with in-graph random actions (one shared queue, same-step autoreset; compile excluded "
        "by the warm-up). Gymnasium: "
        '`RecordEpisodeStatistics(make_vec("CartPole-v1", num_envs=N, '
        'vectorization_mode="sync"))`, a Python loop over precomputed random actions.',
        "",
        "| envs | fnrec env-steps/s | Gymnasium env-steps/s | speed-up |",
        "|---:|---:|---:|---:|",
    ]
    lines += [f"| {n} | {f:,.0f} | {g:,.0f} | {f / g:,.1f}x |" for n, f, g in rows]
    lines += [
        "",
        f"Command: `{command_line()}`",
        "",
        f"Machine: {machine_line()}.",
    ]
    write_section("env_throughput", "\n".join(lines))


if __name__ == "__main__":
    main()
