"""Cost of streaming every episode's statistics out of a brax training run (needs ``fnrec[brax]``).

A streamed history (``fnrec.history.episode_history(capacity, stream=fn)``) sends the finished
episodes to the host through ``jax.debug.callback``. ``flush="ended"`` (the default) calls back on
every step that ends an episode, so nothing is left in a state that a trainer such as brax's
``ppo.train`` drops when it returns; ``flush="full"`` calls back once per full chunk and leaves
the last partial chunk in the final state. Both are timed against the same run without a
history, in one process, after warm-up, interleaved round after round; ratios are per round
(median and interquartile range).

- rollout: a jitted ``lax.scan`` of brax's ``inverted_pendulum`` (generalized backend, brax's
  training wrappers, episode length 1000) through ``fnrec.adapters.BraxAdapter`` with random
  actions. The pole falls within a few dozen steps, so at 1024 envs nearly every step ends an
  episode: the worst case for ``"ended"``, and no network or gradient to hide the cost.
- ppo.train: brax's own PPO trainer on the same env, timed as a whole (compilation included, the
  same for every variant) and by brax's ``training/sps`` after the first epoch.

Run: python benchmarks/streaming_overhead.py [--envs 1024] [--steps 100] [--rounds 7]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import time

import jax
import numpy as np
from _results import command_line, machine_line, spread, write_section
from brax import envs as brax_envs
from brax.envs.wrappers import training

import fnrec

EPISODE_LENGTH = 1000


def _history(variant: str, num_envs: int, sink: list) -> fnrec.history.EpisodeHistory | None:
    if variant == "no history":
        return None
    flush = "ended" if "ended" in variant else "full"
    return fnrec.history.episode_history(4 * num_envs, stream=sink.append, flush=flush)


VARIANTS = ["no history", 'stream, flush="ended"', 'stream, flush="full"']


def _adapter(env, variant: str, num_envs: int, sink: list, episode_length: int = EPISODE_LENGTH):
    wrapped = training.wrap(env, episode_length, 1)
    history = _history(variant, num_envs, sink)
    return fnrec.adapters.BraxAdapter(wrapped, fnrec.Recording(history=history))


def make_rollout(variant: str, num_envs: int, steps: int, sink: list):
    """A jitted rollout of `steps` random-action steps; returns a function of a key."""
    env = _adapter(brax_envs.get_environment("inverted_pendulum", backend="generalized"),
                   variant, num_envs, sink)  # fmt: skip

    @jax.jit
    def run(key):
        state = env.reset(jax.random.split(key, num_envs))

        def body(state, key):
            action = jax.random.uniform(key, (num_envs, env.action_size), minval=-1, maxval=1)
            state = env.step(state, action)
            return state, state.done.sum()

        state, ended = jax.lax.scan(body, state, jax.random.split(key, steps))
        return ended.sum()

    return run


def bench_rollouts(num_envs: int, steps: int, rounds: int) -> tuple[list[str], float]:
    sinks = {variant: [] for variant in VARIANTS}
    runs = {v: make_rollout(v, num_envs, steps, sinks[v]) for v in VARIANTS}
    key = jax.random.key(0)
    for run in runs.values():
        run(key).block_until_ready()
        jax.effects_barrier()
    times = {v: [] for v in VARIANTS}
    ended = 0
    for r in range(rounds):
        for v in VARIANTS:
            start = time.perf_counter()
            ended = int(runs[v](jax.random.fold_in(key, r)))
            jax.effects_barrier()
            times[v].append(time.perf_counter() - start)
    rows = []
    base = times["no history"]
    for v in VARIANTS:
        ratios = [t / b for t, b in zip(times[v], base, strict=True)]
        ratio = "1" if v == "no history" else spread(ratios)
        ms = statistics.median(times[v]) * 1e3
        rows.append(f"| rollout | {num_envs} | {v} | {ms:,.1f} ms | {ratio} |")
    return rows, ended / steps


def _ppo_run(variant: str, num_envs: int, timesteps: int) -> tuple[float, float, int]:
    """(seconds for the whole ppo.train call, brax's last training/sps, episodes streamed)."""
    from brax.training.agents.ppo import networks
    from brax.training.agents.ppo import train as ppo

    sink: list = []
    made: list = []

    def wrap_env_fn(env, episode_length, action_repeat, randomization_fn=None):
        made.append(env)
        kind = variant if len(made) == 1 else "no history"  # brax's eval env: statistics only
        return _adapter(env, kind, num_envs, sink, episode_length)

    sps: list[float] = []
    start = time.perf_counter()
    ppo.train(
        brax_envs.get_environment("inverted_pendulum", backend="generalized"),
        num_timesteps=timesteps,
        num_envs=num_envs,
        episode_length=EPISODE_LENGTH,
        unroll_length=10,
        batch_size=num_envs // 4,
        num_minibatches=4,
        num_updates_per_batch=2,
        num_evals=3,
        num_eval_envs=16,
        wrap_env_fn=wrap_env_fn,
        network_factory=functools.partial(
            networks.make_ppo_networks,
            policy_hidden_layer_sizes=(32, 32),
            value_hidden_layer_sizes=(32, 32),
        ),
        progress_fn=lambda step, metrics: sps.append(float(metrics.get("training/sps", np.nan))),
        seed=0,
    )
    jax.effects_barrier()
    elapsed = time.perf_counter() - start
    streamed = sum(len(chunk.episode_id) for chunk in sink)
    return elapsed, sps[-1], streamed


def bench_ppo(num_envs: int, timesteps: int, rounds: int) -> list[str]:
    variants = VARIANTS[:2]
    _ppo_run(variants[0], num_envs, timesteps)  # warm caches (imports, brax's system)
    wall = {v: [] for v in variants}
    sps = {v: [] for v in variants}
    streamed = 0
    for _ in range(rounds):
        for v in variants:
            seconds, rate, count = _ppo_run(v, num_envs, timesteps)
            wall[v].append(seconds)
            sps[v].append(rate)
            streamed = max(streamed, count)
    rows = []
    for v in variants:
        wall_ratio = [t / b for t, b in zip(wall[v], wall["no history"], strict=True)]
        sps_ratio = [b / s for s, b in zip(sps[v], sps["no history"], strict=True)]
        first = v == "no history"
        rows.append(
            f"| ppo.train ({timesteps:,} steps) | {num_envs} | {v} | "
            f"{statistics.median(wall[v]):.1f} s, {statistics.median(sps[v]):,.0f} steps/s | "
            f"{'1' if first else spread(wall_ratio)} (whole call); "
            f"{'1' if first else spread(sps_ratio)} (steps/s after the first epoch) |"
        )
    rows.append(f"| | | episodes streamed per run | {streamed:,} | |")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--envs", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=100, help="rollout steps")
    parser.add_argument("--rounds", type=int, default=7, help="rollout rounds")
    parser.add_argument("--ppo-timesteps", type=int, default=300_000)
    parser.add_argument("--ppo-rounds", type=int, default=3)
    args = parser.parse_args()
    rows, ends = bench_rollouts(args.envs, args.steps, args.rounds)
    rows += bench_ppo(args.envs, args.ppo_timesteps, args.ppo_rounds) if args.ppo_rounds else []
    body = "\n".join(
        [
            "## Streaming every episode out of a brax run (`streaming_overhead.py`)",
            "",
            "brax's `inverted_pendulum` (generalized backend) through `BraxAdapter`, with no "
            "history, a streamed history that calls back on every step that ends an episode "
            '(`flush="ended"`, the default: nothing left behind when `ppo.train` returns), and '
            'one that calls back per full chunk of 4N (`flush="full"`). Ratios: median '
            "(interquartile range) of per-round ratios to no history, interleaved after "
            f"warm-up. In the rollout about {ends:,.0f} of {args.envs} envs end an episode per "
            "step.",
            "",
            "| run | envs | variant | time | vs no history (IQR) |",
            "|---|---:|---|---:|---:|",
            *rows,
            "",
            f"Command: `{command_line()}` (in the brax venv)",
            "",
            f"Machine: {machine_line()}",
        ]
    )
    write_section("streaming_overhead", body)


if __name__ == "__main__":
    main()
