"""One process of a 2-process JAX program (``jax.distributed.initialize`` on 127.0.0.1, CPU
devices, gloo collectives): fnrec's statistics, history and capture over CartPole envs sharded
over every process's devices, checked against the same run on this process's first device.

Run by tests/test_multiprocess.py (``python multiprocess_worker.py PROCESS_ID PORT OUT``); it
writes OUT (JSON): what the host readers read on this process, and which leaves differ from the
one-device run.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import jax

PROCESSES, DEVICES_PER_PROCESS = 2, 2
N, STEPS, LIMIT = 8, 120, 40


def _scalars(summary):
    return {name: float(value) for name, value in summary.items()}


def main(process_id: int, port: int, out: str) -> None:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.config.update("jax_num_cpu_devices", DEVICES_PER_PROCESS)
    jax.distributed.initialize(
        f"127.0.0.1:{port}", num_processes=PROCESSES, process_id=process_id,
        initialization_timeout=120,
    )  # fmt: skip
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    import fnrec
    from fnrec._processes import gathered
    from fnrec.envs import CartPole

    capture = fnrec.capture.episode_capture(LIMIT, max_episodes=6, watch=(0, 5))
    history = fnrec.history.episode_history(256)
    recording = fnrec.Recording(capture=capture, history=history, max_episode_steps=LIMIT)
    env = fnrec.adapters.FuncEnvAdapter(CartPole(), recording, num_envs=N)
    # Streamed history and capture: their callbacks run on one device, so in one process.
    chunks, videos = [], []
    streaming = fnrec.Recording(
        history=fnrec.history.episode_history(N, stream=chunks.append),
        capture=fnrec.capture.episode_capture(LIMIT, watch=(0, 5), stream=videos.append),
        max_episode_steps=LIMIT,
    )

    def rollout(env, resume=False):
        def go(state, key):
            def body(state, key):
                actions = jax.random.randint(key, (N,), 0, 2)
                return env.step(state, actions, key).state, None

            return jax.lax.scan(body, state, jax.random.split(key, STEPS))[0]

        if resume:  # on from a given state
            return lambda state, seed: go(state, jax.random.key(seed))
        return lambda seed: go(env.initial(jax.random.key(seed)), jax.random.key(seed))

    run = rollout(env)

    mesh = Mesh(np.array(jax.devices()), ("envs",))
    shapes = jax.eval_shape(run, 0)

    def sharding(leaf):  # the env axis split over every process's devices
        env_axis = leaf.ndim > 0 and leaf.shape[0] == N
        return NamedSharding(mesh, P("envs") if env_axis else P())

    sharded = jax.jit(run, out_shardings=jax.tree.map(sharding, shapes))(np.int32(0))
    spans = [not x.is_fully_addressable for x in jax.tree.leaves(sharded)]
    with jax.default_device(jax.local_devices()[0]):
        single = jax.device_get(jax.jit(run)(np.int32(0)))

    whole = jax.device_get(gathered(sharded))
    differ = [
        jax.tree_util.keystr(path)
        for (path, a), b in zip(
            jax.tree_util.tree_leaves_with_path(whole), jax.tree.leaves(single), strict=True
        )
        if not np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    ]
    run_streamed = rollout(fnrec.adapters.FuncEnvAdapter(CartPole(), streaming, num_envs=N))
    shardings = jax.tree.map(sharding, jax.eval_shape(run_streamed, 0))
    streamed = jax.jit(run_streamed, out_shardings=shardings)(np.int32(0))
    jax.block_until_ready(streamed)
    jax.effects_barrier()
    streamed_ids = fnrec.episode_log(chunks).episode_id.tolist() if chunks else []
    queues = fnrec.stats.queues(sharded.stats)
    log = fnrec.episode_log(sharded.history)
    captured = fnrec.read_capture(sharded.capture)
    # Export: every process reads the whole capture, process 0 alone writes each video.
    folder = Path(out).parent / "videos"
    exported = fnrec.export_videos(sharded.capture, folder, fnrec.render.cartpole, fps=50)
    # A multi-process checkpoint (orbax, each process writing its shards), restored onto the
    # same shardings; the resumed run equals the uninterrupted one.
    checkpoint = Path(out).parent / "checkpoint"
    fnrec.checkpoint.save(checkpoint, sharded, format="orbax")
    restored = fnrec.checkpoint.restore(checkpoint, like=sharded)
    go_on = jax.jit(rollout(env, resume=True), out_shardings=jax.tree.map(sharding, shapes))
    resumed, uninterrupted = go_on(restored, np.int32(1)), go_on(sharded, np.int32(1))
    resumed_differ = [
        jax.tree_util.keystr(path)
        for (path, a), b in zip(
            jax.tree_util.tree_leaves_with_path(gathered(resumed)),
            jax.tree.leaves(gathered(uninterrupted)),
            strict=True,
        )
        if not np.array_equal(np.asarray(a), np.asarray(b), equal_nan=True)
    ]
    result = {
        "process": jax.process_index(),
        "devices": [jax.device_count(), jax.local_device_count()],
        "spanning_leaves": sum(spans),
        "differ": differ,
        "episode_count": fnrec.stats.episode_count(sharded.stats),
        "length_queue": queues["length_queue"].tolist(),
        "log": [log.episode_id.tolist(), log.env.tolist(), log.length.tolist()],
        "captured": [[e.episode_id, e.env, e.length] for e in captured.episodes],
        "single_count": fnrec.stats.episode_count(single.stats),
        "streamed_ids": streamed_ids,
        "streamed_videos": [[e.episode_id, e.env, e.length, len(e.items)] for e in videos],
        "streamed_count": fnrec.stats.episode_count(streamed.stats),
        "single_queue": fnrec.stats.queues(single.stats)["length_queue"].tolist(),
        "summary": _scalars(fnrec.stats.summary(sharded.stats, last=10, percentiles=(50,))),
        "single_summary": _scalars(fnrec.stats.summary(single.stats, last=10, percentiles=(50,))),
        "exported": [[v.path.name, v.episode_id, v.length] for v in exported.videos],
        "restored_sharded": all(
            a.sharding == b.sharding
            for a, b in zip(jax.tree.leaves(restored), jax.tree.leaves(sharded), strict=True)
        ),
        "resumed_differ": resumed_differ,
        "resumed_count": fnrec.stats.episode_count(resumed.stats),
        "ok": bool(jnp.all(jnp.asarray(True))),
    }
    with open(out, "w") as file:
        json.dump(result, file)
    jax.distributed.shutdown()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), sys.argv[3])
