"""An adapter with capture in a sharded program: envs split over 4 (host-platform) devices.

Results equal one device's, leaf for leaf, in both layouts (one shared queue and capture; one
per env under jax.vmap); the compiled step gathers no env-sized array.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import os, re
    os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=4"
    import jax, jax.numpy as jnp, numpy as np
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
    import fnrec
    from fnrec.demo import CartPole

    n, steps = 32, 120
    mesh = Mesh(np.array(jax.devices()), ("envs",))

    def shard(tree):
        def put(x):
            spec = P("envs") if x.ndim and x.shape[0] == n and x.size else P()
            return jax.device_put(x, NamedSharding(mesh, spec))
        return jax.tree.map(put, tree)

    def raw(x):
        return jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else x

    for per_env in (False, True):
        capture = fnrec.capture.episode_capture(60, max_episodes=4)
        if per_env:
            env = fnrec.adapters.FuncEnvAdapter(CartPole(), capture=capture, max_episode_steps=40)
            init = lambda k: jax.vmap(env.initial)(jax.random.split(k, n))
            step = lambda s, k: jax.vmap(env.step)(
                s, jnp.zeros(n, jnp.int32), jax.random.split(k, n)).state
        else:
            env = fnrec.adapters.FuncEnvAdapter(
                CartPole(), capture=capture, max_episode_steps=40, num_envs=n)
            init = env.initial
            step = lambda s, k: env.step(s, jnp.zeros(n, jnp.int32), k).state

        def run(state, keys):
            return jax.lax.scan(lambda s, k: (step(s, k), None), state, keys)[0]

        keys = jax.random.split(jax.random.key(1), steps)
        start = init(jax.random.key(0))
        expected = jax.jit(run)(start, keys)
        result = jax.jit(run)(shard(start), keys)
        assert len(jax.devices()) == 4
        for got, want in zip(jax.tree.leaves(result), jax.tree.leaves(expected), strict=True):
            np.testing.assert_array_equal(np.asarray(raw(got)), np.asarray(raw(want)))
        assert result.stats.running_return.sharding.spec == P("envs")
        count = fnrec.stats.episode_count(result.stats)
        assert (sum(count) if per_env else count) > n
        assert int(np.sum(result.capture.num_stored)) > 0

        hlo = jax.jit(step).lower(shard(start), keys[0]).compile().as_text()
        ops = re.findall(
            r"= (\\S+) (all-gather|all-reduce|all-to-all|collective-permute|reduce-scatter)\\(",
            hlo)
        assert not [s for s, op in ops if op == "all-gather"], ops
        sizes = [[int(d) for d in re.findall(r"\\d+", s.split("[")[1].split("]")[0])]
                 for s, _ in ops]
        assert all(n not in dims for dims in sizes), ops   # nothing env-sized crosses devices
        print("per_env" if per_env else "shared", sorted({f"{op} {s}" for s, op in ops}))
    print("ok")
    """
)


def test_sharded_adapter_with_capture_equals_one_device_and_gathers_nothing_env_sized():
    # A fresh interpreter: the device count is fixed when JAX starts.
    done = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok")
