"""fnrec.stats inside a sharded program: envs split over 4 (host-platform) devices."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import os
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    import fnrec

    n, steps = 64, 200
    rng = np.random.default_rng(0)
    rewards = jnp.asarray(rng.normal(size=(steps, n)), jnp.float32)
    dones = jnp.asarray(rng.random((steps, n)) < 0.1)

    def rollout(stats, rewards, dones):
        def body(stats, x):
            stats, ended = fnrec.stats.step(stats, x[0], x[1], False)
            return stats, ended.mask
        return jax.lax.scan(body, stats, (rewards, dones))

    mesh = Mesh(np.array(jax.devices()), ("envs",))
    per_env, replicated = NamedSharding(mesh, P("envs")), NamedSharding(mesh, P())
    stats = fnrec.stats.init(n, buffer_length=50)
    sharded = jax.tree.map(
        lambda x: jax.device_put(x, per_env if x.shape == (n,) else replicated), stats
    )
    expected, _ = jax.jit(rollout)(stats, rewards, dones)
    over_steps = NamedSharding(mesh, P(None, "envs"))
    result, _ = jax.jit(rollout)(
        sharded, jax.device_put(rewards, over_steps), jax.device_put(dones, over_steps)
    )
    assert len(jax.devices()) == 4
    assert result.running_return.sharding.spec == P("envs"), result.running_return.sharding
    for name, values in fnrec.stats.queues(expected).items():
        np.testing.assert_array_equal(fnrec.stats.queues(result)[name], values)
    assert fnrec.stats.episode_count(result) == fnrec.stats.episode_count(expected) > 50
    print("ok")
    """
)


def test_sharded_batch_gives_the_same_queue_as_one_device():
    # A fresh interpreter: the device count is fixed when JAX starts.
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
