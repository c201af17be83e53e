"""Statistics and capture in a sharded program: cost with 1, 2 and 4 devices.

For each device count a fresh process (the count is fixed when JAX starts; on a CPU machine
``--xla_force_host_platform_device_count``) shards N CartPole envs (fnrec's flax-free functional
CartPole) along one mesh axis and runs a jitted ``lax.scan`` of 500 steps, in three variants:

- bare: the env vmapped by hand, no statistics (the baseline);
- shared: ``FuncEnvAdapter(num_envs=N)`` with one shared queue and a capture of env 0;
- shared, global ids: the same with a capture of every 250th episode of the batch
  (``watch=None``, 64 stored episodes: rows for every env, split with the env axis);
- per_env: ``jax.vmap`` of the unbatched adapter (a queue and capture per env);
- stats: ``FuncEnvAdapter(num_envs=N)`` with the shared queue only (no capture), in one ring;
- stats_rings: the same with ``episode_statistics(shards=D)``: one ring per device, sharded
  with the env axis (no collective in the step).

Within each process the variants are compiled and warmed up, then run interleaved round after
round; a ratio is the median of per-round ratios against bare with the same device count. On a
CPU the host "devices" share the same cores, so the figures show correctness and the overhead
of the collectives, not a speed-up.

Run: python benchmarks/sharded_overhead.py [--envs 1024 8192] [--devices 1 2 4] [--rounds 7]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

STEPS = 500

CHILD = """
import os, json, statistics, sys, time
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count={devices}"
import jax, jax.numpy as jnp, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
import fnrec
from fnrec.envs import CartPole

n, steps, rounds = {envs}, {steps}, {rounds}
mesh = Mesh(np.array(jax.devices()), ("envs",))
cartpole = CartPole()

def shard(tree):
    def put(x):  # the env axis, and the rings of shards=D, split over the devices
        spec = P("envs") if x.ndim and x.shape[0] in (n, len(jax.devices())) and x.size else P()
        return jax.device_put(x, NamedSharding(mesh, spec))
    return jax.tree.map(put, tree)

def actions(state_obs):
    return (state_obs[..., 2] > 0).astype(jnp.int32)   # push towards the pole's lean

def bare():
    def init(key):
        return jax.vmap(cartpole.initial)(jax.random.split(key, n))
    def step(s, key):
        a = actions(s)
        keys = jax.random.split(key, n)
        nxt = jax.vmap(cartpole.transition)(s, a, keys)
        done = jax.vmap(cartpole.terminal)(nxt, keys)
        fresh = jax.vmap(cartpole.initial)(keys)
        return jnp.where(done[:, None], fresh, nxt)
    return init, step

def shared(capture=None):
    capture = capture or fnrec.capture.episode_capture(500)
    recording = fnrec.Recording(capture=capture, max_episode_steps=500)
    env = fnrec.adapters.FuncEnvAdapter(cartpole, recording, num_envs=n)
    return env.initial, lambda s, k: env.step(s, actions(s.env_state), k).state

def shared_global():
    every = fnrec.schedules.every(250)
    return shared(fnrec.capture.episode_capture(500, 64, watch=None, trigger=every))

def per_env():
    recording = fnrec.Recording(capture=fnrec.capture.episode_capture(500), max_episode_steps=500)
    env = fnrec.adapters.FuncEnvAdapter(cartpole, recording)
    init = lambda k: jax.vmap(env.initial)(jax.random.split(k, n))
    step = lambda s, k: jax.vmap(env.step)(s, actions(s.env_state), jax.random.split(k, n)).state
    return init, step

def stats(shards=None):
    statistics = fnrec.stats.episode_statistics(100, shards=shards)
    recording = fnrec.Recording(statistics, max_episode_steps=500)
    env = fnrec.adapters.FuncEnvAdapter(cartpole, recording, num_envs=n)
    return env.initial, lambda s, k: env.step(s, actions(s.env_state), k).state

def stats_rings():
    return stats(shards=len(jax.devices()))

runs = {{}}
keys = jax.random.split(jax.random.key(1), steps)
variants = (("bare", bare), ("shared", shared), ("shared_global", shared_global),
            ("per_env", per_env), ("stats", stats), ("stats_rings", stats_rings))
for name, make in variants:
    init, step = make()
    body = lambda s, k, step=step: (step(s, k), None)
    run = jax.jit(lambda s, keys, body=body: jax.lax.scan(body, s, keys)[0])
    start = shard(init(jax.random.key(0)))
    jax.block_until_ready(run(start, keys))   # compile and warm up
    runs[name] = (run, start)

times = {{name: [] for name in runs}}
for _ in range(rounds):
    for name, (run, start) in runs.items():
        begin = time.perf_counter()
        jax.block_until_ready(run(start, keys))
        times[name].append(time.perf_counter() - begin)
ratios = {{name: statistics.median(t / b for t, b in zip(times[name], times["bare"]))
          for name in runs if name != "bare"}}
print(json.dumps({{"bare": statistics.median(times["bare"]), **ratios,
                   "platform": jax.devices()[0].platform, "count": len(jax.devices())}}))
"""


def main() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from _results import command_line, machine_line, write_section

    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--envs", type=int, nargs="+", default=[1024, 8192])
    parser.add_argument("--devices", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()

    rows = []
    for envs in args.envs:
        for devices in args.devices:
            code = CHILD.format(devices=devices, envs=envs, steps=STEPS, rounds=args.rounds)
            done = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, env=os.environ
            )
            if done.returncode != 0:
                raise SystemExit(done.stderr[-3000:])
            result = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append((envs, devices, result))
            print(envs, devices, result, flush=True)

    lines = [
        f"## Sharded rollouts: CartPole, {STEPS} steps, envs split over 1/2/4 devices",
        "",
        "| envs | devices | bare env (median) | shared queue + capture vs bare | "
        "shared queue + global-id capture vs bare | per-env queues + captures (vmap) vs bare | "
        "shared queue alone, one ring vs bare | shared queue alone, a ring per device "
        "(`shards`) vs bare |",
        "|---:|---:|---|---|---|---|---|---|",
    ]
    for envs, devices, r in rows:
        lines.append(
            f"| {envs} | {devices} ({r['platform']}) | {r['bare'] * 1e3:.0f} ms | "
            f"{r['shared']:.2f}x | {r['shared_global']:.2f}x | {r['per_env']:.2f}x | "
            f"{r['stats']:.2f}x | {r['stats_rings']:.2f}x |"
        )
    lines += [
        "",
        f"Medians of {args.rounds} interleaved rounds after a warm-up, one process per device "
        "count; ratios are per-round against the bare env on the same devices. Every leaf with "
        "the env axis first is sharded (and the rings' axis with `shards`), the rest "
        "replicated. On a CPU the host devices share "
        "the same cores: this shows the collectives' overhead, not a speed-up.",
        "",
        f"Command: `{command_line()}`",
        "",
        machine_line(),
    ]
    write_section("sharded_overhead", "\n".join(lines))


if __name__ == "__main__":
    main()
