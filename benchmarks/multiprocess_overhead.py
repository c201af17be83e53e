"""Cost per step of fnrec in a 2-process JAX program against one process (CPU devices).

The same jitted rollout (fnrec's CartPole through ``FuncEnvAdapter`` with statistics, capture of
two watched envs and a history; random actions) runs with its envs sharded over 4 CPU devices:

- one process holding the 4 devices;
- two processes on 127.0.0.1 holding 2 devices each (``jax.distributed.initialize``, gloo
  collectives), as a multi-host run is laid out;
- for scale, one process and one device.

Each configuration runs in fresh interpreters: warm-up, then ``--rounds`` timed runs; the table
gives the median milliseconds per step and the ratio to the one-process, 4-device run. The
machine's cores are shared by all devices (2 cores here), so the figures show what crossing a
process boundary adds, not what more hosts would gain.

Run: python benchmarks/multiprocess_overhead.py [--envs 64] [--steps 500] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _results import command_line, machine_line, write_section


def worker(process_id: int, processes: int, devices: int, port: int, args: list[str]) -> None:
    """One process: the rollout sharded over every process's devices, timed; prints JSON."""
    import jax

    envs, steps, rounds = (int(a) for a in args[:3])
    per_env = args[3] == "per_env"
    jax.config.update("jax_num_cpu_devices", devices)
    if processes > 1:
        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        jax.distributed.initialize(
            f"127.0.0.1:{port}", num_processes=processes, process_id=process_id
        )
    import numpy as np
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    import fnrec
    from fnrec.envs import CartPole

    capture = fnrec.capture.episode_capture(200, max_episodes=8, watch=(0,) if per_env else (0, 1))
    history = fnrec.history.episode_history(steps // 5 if per_env else envs * steps // 5)
    recording = fnrec.Recording(capture=capture, history=history, max_episode_steps=200)
    env = fnrec.adapters.FuncEnvAdapter(CartPole(), recording, num_envs=None if per_env else envs)
    initial = jax.vmap(env.initial) if per_env else env.initial
    step = jax.vmap(env.step) if per_env else env.step

    def run(seed):
        key = jax.random.key(seed)

        def body(state, key):
            actions = jax.random.randint(key, (envs,), 0, 2)
            keys = jax.random.split(key, envs) if per_env else key
            return step(state, actions, keys).state, None

        first = initial(jax.random.split(key, envs) if per_env else key)
        return jax.lax.scan(body, first, jax.random.split(key, steps))[0]

    mesh = Mesh(np.array(jax.devices()), ("envs",))

    def sharding(leaf):
        return NamedSharding(mesh, P("envs") if leaf.ndim and leaf.shape[0] == envs else P())

    jitted = jax.jit(run, out_shardings=jax.tree.map(sharding, jax.eval_shape(run, 0)))
    jax.block_until_ready(jitted(np.int32(0)))
    times = []
    for r in range(rounds):
        start = time.perf_counter()
        jax.block_until_ready(jitted(np.int32(r + 1)))
        times.append((time.perf_counter() - start) / steps)
    if jax.process_index() == 0:
        print(json.dumps(times), flush=True)
    if processes > 1:
        jax.distributed.shutdown()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def launch(processes: int, devices: int, args: list[str]) -> list[float]:
    """Seconds per step of each timed round, from process 0."""
    port = _free_port()
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)
    code = "import sys; sys.path.insert(0, {!r}); import multiprocess_overhead as m; m.worker({})"
    here = str(Path(__file__).resolve().parent)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                code.format(here, f"{i}, {processes}, {devices}, {port}, {args!r}"),
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(processes)
    ]
    outputs = [p.communicate(timeout=900) for p in procs]
    for p, (_, err) in zip(procs, outputs, strict=True):
        if p.returncode != 0:
            raise RuntimeError(err[-3000:])
    return json.loads(outputs[0][0].strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--envs", type=int, default=64)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    work = [str(args.envs), str(args.steps), str(args.rounds)]
    configs = {
        "1 process, 4 devices": (1, 4),
        "2 processes, 2 devices each": (2, 2),
        "1 process, 1 device": (1, 1),
    }
    rows = []
    for layout in ("shared", "per_env"):
        times = {name: launch(p, d, [*work, layout]) for name, (p, d) in configs.items()}
        base = statistics.median(times["1 process, 4 devices"])
        rows += [
            f"| {layout} | {name} | {statistics.median(t) * 1e3:.3f} | "
            f"{statistics.median(t) / base:.2f} |"
            for name, t in times.items()
        ]
    body = "\n".join(
        [
            "## Multi-process: one rollout sharded over 2 processes (`multiprocess_overhead.py`)",
            "",
            f"fnrec's CartPole, {args.envs} envs, statistics + capture + history, "
            f"{args.steps} steps in one jitted scan, envs sharded over every process's CPU "
            "devices; shared: one queue, capture (2 watched envs) and history over the batch "
            "(`num_envs=N`); per_env: `jax.vmap` of one env's (no collective). Median of "
            f"{args.rounds} runs after warm-up, each configuration in fresh interpreters. All "
            "devices share the machine's cores.",
            "",
            "| layout | configuration | ms per step | vs 1 process, 4 devices |",
            "|---|---|---:|---:|",
            *rows,
            "",
            f"Command: `{command_line()}`",
            "",
            f"Machine: {machine_line()}",
        ]
    )
    write_section("multiprocess_overhead", body)


if __name__ == "__main__":
    main()
