"""fnrec inside a 2-process JAX program: two processes on 127.0.0.1 (``jax.distributed``, CPU
devices, gloo), CartPole envs sharded over both processes' devices (tests/multiprocess_worker.py).

The in-graph results equal a one-device run's, leaf for leaf; every process's host readers
(queues, episode count, the history's episode log, the captured episodes) read the same, whole
state, which is the one-device run's. A streamed history delivers every episode once (its
callback runs on one device, in one process). `export_videos` writes each video once (process
0), and both processes return the same videos; an orbax checkpoint saved by both processes
restores onto the same shardings, and the run resumed from it equals the uninterrupted one.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import decode

# The collectives between processes, as users compile them.
pytestmark = pytest.mark.xla_optimized

WORKER = Path(__file__).with_name("multiprocess_worker.py")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_two_processes_read_the_one_device_result(tmp_path):
    port = _free_port()
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    env.pop("XLA_FLAGS", None)  # the worker sets its own device count
    outs = [tmp_path / f"process-{i}.json" for i in range(2)]
    workers = [
        subprocess.Popen(
            [sys.executable, str(WORKER), str(i), str(port), str(out)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i, out in enumerate(outs)
    ]
    try:
        logs = [worker.communicate(timeout=240)[0] for worker in workers]
    finally:
        for worker in workers:
            worker.kill()
    for worker, log in zip(workers, logs, strict=True):
        assert worker.returncode == 0, log[-4000:]
    first, second = (json.loads(out.read_text()) for out in outs)
    assert [first["process"], second["process"]] == [0, 1]
    assert first["devices"] == [4, 2]
    assert first["spanning_leaves"] > 0  # the state really lives in both processes
    assert first["differ"] == [] and second["differ"] == []
    for key in ("episode_count", "length_queue", "log", "captured", "summary"):
        assert first[key] == second[key], key
    assert first["episode_count"] == first["single_count"] >= 16
    assert first["length_queue"] == first["single_queue"]
    assert first["summary"] == first["single_summary"]  # summary(last=N) over the merged queue
    ids, envs, lengths = first["log"]
    assert len(lengths) == len(ids) and min(lengths) >= 1
    assert ids == list(range(first["episode_count"]))
    assert sorted(set(envs)) == list(range(8))
    assert len(first["captured"]) >= 2 and {e[1] for e in first["captured"]} <= {0, 5}
    # A streamed history's callback runs in one process: every episode arrives once, in order.
    streamed = first["streamed_ids"] + second["streamed_ids"]
    assert streamed == list(range(first["streamed_count"])) and len(streamed) >= 16
    videos = first["streamed_videos"] + second["streamed_videos"]
    assert len(videos) >= 2 and len({(v[0], v[1]) for v in videos}) == len(videos)
    assert all(items == length + 1 for _, _, length, items in videos)
    # Export: both processes return the same videos; each file was written once, by process 0.
    assert first["exported"] == second["exported"]
    assert [v[1:] for v in first["exported"]] == [e[::2] for e in first["captured"]]
    names = sorted(v[0] for v in first["exported"])
    assert sorted(p.name for p in (tmp_path / "videos").iterdir()) == names
    for name, _, length in first["exported"]:
        assert len(decode(tmp_path / "videos" / name)) == length + 1
    # A multi-process orbax checkpoint: restored onto the same shardings, resumed == uninterrupted.
    for result in (first, second):
        assert result["restored_sharded"] and result["resumed_differ"] == []
        assert result["resumed_count"] > first["episode_count"]
