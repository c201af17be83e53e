"""fnrec.stats inside a sharded program: envs split over 2 and 4 (host-platform) devices.

The batch sizes include those whose shards do not hold whole 32-env words (4, 12, 96 and 1000
envs over 4 devices), where an earlier packing of the done flags all-gathered them. The shared
queue kept in one ring per device (``shards``) steps with no collective and reads as one ring.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The collectives of the sharded step, as users compile it.
pytestmark = pytest.mark.xla_optimized

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, {tests!r})
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    import fnrec
    from sharding_check import collectives

    devices, steps, buffer_length = {devices}, 200, 50
    assert len(jax.devices()) == devices, jax.devices()
    mesh = Mesh(np.array(jax.devices()), ("envs",))
    per_env, replicated = NamedSharding(mesh, P("envs")), NamedSharding(mesh, P())
    over_steps = NamedSharding(mesh, P(None, "envs"))

    def rollout(stats, rewards, dones):
        def body(stats, x):
            stats, ended = fnrec.stats.step(stats, x[0], x[1], x[2])
            return stats, ended
        return jax.lax.scan(body, stats, (rewards, dones, ~dones & (rewards > 1.5)))

    for n in {sizes}:
        rng = np.random.default_rng(n)
        rewards = jnp.asarray(rng.normal(size=(steps, n)), jnp.float32)
        dones = jnp.asarray(rng.random((steps, n)) < 0.1)
        stats = fnrec.stats.init(n, buffer_length)
        sharded = jax.tree.map(
            lambda x: jax.device_put(x, per_env if x.shape == (n,) else replicated), stats
        )
        expected, expected_ended = jax.jit(rollout)(stats, rewards, dones)
        args = (sharded, jax.device_put(rewards, over_steps), jax.device_put(dones, over_steps))
        compiled = jax.jit(rollout).lower(*args).compile()
        result, ended = compiled(*args)
        assert result.running_return.sharding.spec == P("envs"), result.running_return.sharding
        for name, values in fnrec.stats.queues(expected).items():
            np.testing.assert_array_equal(fnrec.stats.queues(result)[name], values, name)
        for a, b in zip(ended, expected_ended):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
        assert fnrec.stats.episode_count(result) == fnrec.stats.episode_count(expected) > 50
        # What crosses devices each step: the done flags packed into words, then the ring's
        # gathered slots (return bits, length and terminated as int32) in one combined op.
        ops = [op for op, _ in collectives(compiled.as_text())]
        assert len(ops) == 2 and all(op.startswith("all-reduce") for op in ops), (n, ops)
        words = -(-n // min(32, n & -n))
        assert ops[0] == f"all-reduce u32[{{words}}]", (n, ops)
        assert ops[1] == f"all-reduce (s32[{{buffer_length}}], s32[{{buffer_length}}])", (n, ops)

        # shards=devices: one ring per device, sharded with the env axis; nothing crosses
        # devices in a step, and the rings read as the one ring above (one env per shard,
        # a few, many).
        if n not in {sizes}[:2] + {sizes}[-1:]:
            continue
        rings = fnrec.stats.init(n, buffer_length, shards=devices)
        split = lambda x: per_env if x.shape[:1] in ((n,), (devices,)) else replicated
        on_devices = jax.tree.map(lambda x: jax.device_put(x, split(x)), rings)
        compiled = jax.jit(rollout).lower(on_devices, *args[1:]).compile()
        result, ended = compiled(on_devices, *args[1:])
        assert collectives(compiled.as_text()) == [], (n, collectives(compiled.as_text()))
        assert np.asarray(result.episode_count.lo).shape == (devices,)
        assert result.return_queue.sharding.spec == P("envs"), result.return_queue.sharding
        one = jax.jit(fnrec.stats.merged)(result)
        for name in ("return_queue", "length_queue", "terminated_queue", "end_queue", "queue_head"):
            np.testing.assert_array_equal(getattr(one, name), getattr(expected, name), name)
        for name, values in fnrec.stats.queues(expected).items():
            np.testing.assert_array_equal(fnrec.stats.queues(result)[name], values, name)
        assert fnrec.stats.episode_count(result) == fnrec.stats.episode_count(expected)
        for last in (None, 7):
            got = jax.jit(fnrec.stats.summary, static_argnums=1)(result, last)
            want = fnrec.stats.summary(expected, last)
            for key in want:
                np.testing.assert_array_equal(got[key], want[key], key)
        for a, b in zip(ended, expected_ended):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    print("ok")
    """
)


@pytest.mark.parametrize(("devices", "sizes"), [(4, (4, 12, 64, 96, 1000)), (2, (2, 6, 64, 4096))])
def test_sharded_batch_gives_the_same_queue_as_one_device(devices, sizes):
    # A fresh interpreter: the device count is fixed when JAX starts.
    code = SCRIPT.format(tests=str(Path(__file__).parent), devices=devices, sizes=sizes)
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count={devices}"
    env = {**os.environ, "XLA_FLAGS": flags.strip(), "JAX_PLATFORMS": "cpu"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")


EXPLICIT = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import NamedSharding, PartitionSpec as P
    import fnrec
    from fnrec.adapters import core

    mesh = jax.make_mesh((4,), ("envs",))  # Explicit axes: JAX's default
    assert all(t == jax.sharding.AxisType.Explicit for t in mesh.axis_types), mesh
    n, steps = 12, 60

    def env_step(state, action, key):
        x = state + action * 0.25 + jax.random.normal(key)
        terminated = jax.random.uniform(jax.random.fold_in(key, 1)) < 0.12
        return core.EnvStep(x, x, jnp.sin(x) + 0.1, terminated, False, {{}})

    def env_reset(key):
        x = jax.random.uniform(key, minval=-1.0, maxval=1.0)
        return core.EnvReset(x, x)

    # Metrics, and a ranked store keeping the 6 best by one of them (of every third episode).
    capture = fnrec.capture.episode_capture(
        20, 6, watch=None, trigger=lambda i: i % 3 == 0,
        keep=fnrec.capture.best("discounted_return"),
    )
    history = fnrec.history.episode_history(400)
    metrics = [fnrec.stats.discounted_return(0.9), fnrec.stats.success(lambda t: t.reward > 1.0)]
    recording = fnrec.Recording(
        fnrec.stats.episode_statistics(100, metrics=metrics), capture=capture, history=history,
        max_episode_steps=15,
    )
    rec = fnrec.recorder(core.EnvFns(env_step, env_reset), recording, num_envs=n)

    def run(state):
        def body(state, key):
            return rec.step(state, jnp.ones(n), key).state, None
        return jax.lax.scan(body, state, jax.random.split(jax.random.key(1), steps))[0]

    state, _ = jax.jit(rec.init)(jax.random.key(0))
    expected = jax.jit(run)(state)
    put = lambda x: jax.device_put(x, NamedSharding(mesh, P("envs"))) if np.ndim(x) and (
        np.shape(x)[0] == n) else x
    got = jax.jit(run)(jax.tree.map(put, state))
    assert got.stats.running_return.sharding.spec == P("envs"), got.stats.running_return.sharding
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected)):
        if jnp.issubdtype(a.dtype, jax.dtypes.prng_key):
            a, b = jax.random.key_data(a), jax.random.key_data(b)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert fnrec.stats.episode_count(got.stats) > 40
    kept = fnrec.read_capture(got.capture).episodes
    assert len(kept) == 6 and sorted(e.rank for e in kept) == [1, 2, 3, 4, 5, 6]
    assert set(fnrec.stats.queues(got.stats)) >= {{"discounted_return_queue", "success_queue"}}
    # The per-env layout (jax.vmap of one env's recorder): the same, with the actions and keys
    # sharded like the state (jax.vmap wants every mapped input split the same way).
    one = fnrec.recorder(core.EnvFns(env_step, env_reset), recording)
    split = NamedSharding(mesh, P("envs"))

    def run_per_env(state, sharded):
        def body(state, key):
            actions, keys = jnp.ones(n), jax.random.split(key, n)
            if sharded:
                actions, keys = jax.sharding.reshard((actions, keys), split)
            return jax.vmap(one.step)(state, actions, keys).state, None
        return jax.lax.scan(body, state, jax.random.split(jax.random.key(1), steps))[0]

    state, _ = jax.jit(jax.vmap(one.init))(jax.random.split(jax.random.key(0), n))
    expected = jax.jit(run_per_env, static_argnums=1)(state, False)
    got = jax.jit(run_per_env, static_argnums=1)(jax.tree.map(put, state), True)
    assert got.stats.running_return.sharding.spec == P("envs"), got.stats.running_return.sharding
    for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected)):
        if jnp.issubdtype(a.dtype, jax.dtypes.prng_key):
            a, b = jax.random.key_data(a), jax.random.key_data(b)
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert int(np.sum(np.asarray(got.capture.num_stored))) >= n
    # The shared queue in one ring per device (shards=4): the rings stay split, and read as
    # the one ring (merged, queues, summary).
    def run_stats(stats):
        def body(stats, key):
            reward = jax.random.normal(key, (n,))
            done = jax.random.uniform(jax.random.fold_in(key, 1), (n,)) < 0.3
            return fnrec.stats.step(stats, reward, done, False)[0], None
        return jax.lax.scan(body, stats, jax.random.split(jax.random.key(2), steps))[0]

    put_rings = lambda x: jax.device_put(x, split) if np.shape(x)[:1] in ((n,), (4,)) else x
    rings = jax.jit(run_stats)(jax.tree.map(put_rings, fnrec.stats.init(n, 5, shards=4)))
    one = jax.jit(run_stats)(fnrec.stats.init(n, 5))
    assert rings.return_queue.sharding.spec == P("envs", None), rings.return_queue.sharding
    merged = jax.jit(fnrec.stats.merged)(rings)
    for a, b in zip(jax.tree.leaves(merged), jax.tree.leaves(one)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert int(jax.jit(fnrec.stats.summary)(rings)["count"]) == 5
    assert fnrec.stats.episode_count(rings) == fnrec.stats.episode_count(one) > n
    print("ok")
    """
)


def test_a_jax_make_mesh_mesh_with_explicit_axes_gives_the_one_device_result():
    """jax.make_mesh's Explicit axes: both layouts (statistics with metrics, a ranked capture
    store, history through a recorder; one over the batch, and jax.vmap of one env's), and the
    shared queue in a ring per device, equal one device, stay sharded."""
    flags = f"{os.environ.get('XLA_FLAGS', '')} --xla_force_host_platform_device_count=4"
    env = {**os.environ, "XLA_FLAGS": flags.strip(), "JAX_PLATFORMS": "cpu"}
    done = subprocess.run(
        [sys.executable, "-c", EXPLICIT.format()], capture_output=True, text=True, env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
