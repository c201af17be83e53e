"""An adapter in a sharded program: envs split over 4 host-platform devices, checked against one.

A test gives a module-level factory ``factory(per_env, n) -> Layout`` (the adapter-specific
part: how to build the state and step it, in the shared-queue layout with ``num_envs=n`` and in
the per-env layout under ``jax.vmap``) and calls ``check(factory)``. A fresh interpreter with 4
host devices (the device count is fixed when JAX starts) imports the factory's module by path
and, for both layouts, runs ``steps`` steps in one jitted ``lax.scan`` on one device and with
every leaf that has the env axis first sharded ``P("envs")``, then checks:

- every leaf of the sharded result equals the one-device result (keys by their key data), and
  every env-axis leaf of the statistics is still sharded ``P("envs")``;
- episodes ended (more than one per env on average) and the capture, if any, stored some;
- the compiled run (and, unless ``compile_step=False``, the step compiled alone) has no
  all-gather, and no collective of an array with an env-sized dimension.

``check`` returns the collectives the compiled step keeps, per layout, and prints them.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

DEVICES = 4
RTOL, ATOL = 1e-5, 1e-6
LAYOUTS = {"shared": False, "per_env": True}
_COLLECTIVE = re.compile(
    r"= (.+?) (all-gather|all-reduce|all-to-all|collective-permute|reduce-scatter|"
    r"collective-broadcast|ragged-all-to-all)(?:-start)?\("
)


class Layout(NamedTuple):
    """One layout of an adapter, as the sharded run needs it.

    Attributes:
      init: key -> the adapter's state (all envs).
      step: (state, key) -> the state after one step of every env (actions drawn from the key,
        or fixed).
      stats: state -> its ``fnrec.stats.EpisodeStats``.
      capture: state -> its capture state, or None for an adapter without capture.
      rounding: None, or a predicate on a leaf's path (``jax.tree_util.keystr``) naming the
        env's own float leaves whose computation XLA may round differently for a shard of the
        batch (brax's physics): those are compared with ``RTOL``/``ATOL``, every other leaf
        exactly.
    """

    init: Callable[[Any], Any]
    step: Callable[[Any, Any], Any]
    stats: Callable[[Any], Any]
    capture: Callable[[Any], Any] | None = None
    rounding: Callable[[str], bool] | None = None


def check(
    factory: Callable[[bool, int], Layout],
    n: int = 16,
    steps: int = 40,
    compile_step: bool = True,
    gathers_allowed: bool = False,
    layouts: tuple[str, ...] = tuple(LAYOUTS),
    timeout: float = 900,
) -> dict[str, list[str]]:
    """Runs ``factory``'s adapter sharded and unsharded in a fresh interpreter, both layouts.

    Args:
      factory: a module-level function ``(per_env, n) -> Layout``.
      n: the number of envs, a multiple of 4 (no other leaf should have a first axis of n).
      steps: steps per run (enough for more than n episodes to end).
      compile_step: also compile the step alone and check its HLO (the compiled run, whose
        loop body is the step, is always checked); False saves a compile per layout for envs
        whose compile dominates.
      layouts: which of ``"shared"`` and ``"per_env"`` to run.
      timeout: seconds before the subprocess is stopped.
      gathers_allowed: check results only, not the collectives (for a known gap: global-id
        capture keeps every env's rows in one table that is not split along the env axis).

    Returns:
      ``{"shared": [...], "per_env": [...]}``: the collectives left in the compiled step (the
      compiled run's with ``compile_step=False``), as ``"<op> <shape>"``.
    """
    module = Path(inspect.getfile(factory)).resolve()
    paths = [str(Path(__file__).resolve().parent), str(module.parent)]
    call = (
        f"main({str(module)!r}, {factory.__name__!r}, {n}, {steps}, {compile_step}, "
        f"{layouts!r}, {gathers_allowed})"
    )
    code = f"import sys; sys.path[:0] = {paths!r}; import sharding_check; sharding_check.{call}"
    flags = os.environ.get("XLA_FLAGS", "")
    flags += f" --xla_force_host_platform_device_count={DEVICES}"
    env = {
        **os.environ,
        "XLA_FLAGS": flags.strip(),
        "JAX_PLATFORMS": "cpu",
    }
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=timeout
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("ok "), done.stdout[-2000:]
    kept = json.loads(last[3:])
    assert sorted(kept) == sorted(layouts), kept
    for layout, ops in kept.items():
        print(f"{factory.__name__} {layout}: {ops}")
    return kept


def collectives(hlo: str) -> list[tuple[str, list[list[int]]]]:
    """The collectives of compiled HLO text: (op, the dimensions of each array it moves)."""
    found = []
    for shape, op in _COLLECTIVE.findall(hlo):
        dims = re.findall(r"\[([\d,]*)\]", shape)
        shape = re.sub(r"\{[\d,]*\}|/\*index=\d+\*/", "", shape)
        found.append((f"{op} {shape}", [[int(d) for d in s.split(",") if d] for s in dims]))
    return found


def main(
    path: str,
    name: str,
    n: int,
    steps: int,
    compile_step: bool,
    layouts: tuple[str, ...],
    gathers_allowed: bool = False,
) -> None:
    """The subprocess side of ``check``."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from jax.sharding import Mesh, NamedSharding
    from jax.sharding import PartitionSpec as P

    import fnrec

    assert len(jax.devices()) == DEVICES, jax.devices()
    spec = importlib.util.spec_from_file_location("sharded_adapter_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    factory = getattr(module, name)
    mesh = Mesh(np.array(jax.devices()), ("envs",))

    def env_axis(x: Any) -> bool:
        return bool(x.ndim and x.shape[0] == n and x.size)

    def shard(tree: Any) -> Any:
        def put(x: Any) -> Any:
            return jax.device_put(x, NamedSharding(mesh, P("envs") if env_axis(x) else P()))

        return jax.tree.map(put, tree)

    def raw(x: Any) -> Any:
        return jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else x

    def no_env_sized_collective(hlo: str, what: str) -> list[str]:
        found = collectives(hlo)
        if gathers_allowed:
            return sorted({op for op, _ in found})
        assert not [op for op, _ in found if op.startswith("all-gather")], (what, found)
        moved = [op for op, shapes in found if any(n in dims for dims in shapes)]
        assert not moved, (what, moved)  # nothing env-sized crosses devices
        return sorted({op for op, _ in found})

    kept = {}
    for layout in layouts:
        per_env = LAYOUTS[layout]
        env = factory(per_env, n)

        def run(state: Any, keys: Any, env: Layout = env) -> Any:
            return jax.lax.scan(lambda s, k: (env.step(s, k), None), state, keys)[0]

        keys = jax.random.split(jax.random.key(1), steps)
        start = jax.jit(env.init)(jax.random.key(0))
        assert any(env_axis(x) for x in jax.tree.leaves(env.stats(start))), layout
        expected = jax.jit(run)(start, keys)
        compiled = jax.jit(run).lower(shard(start), keys).compile()
        result = compiled(shard(start), keys)
        assert jax.tree.structure(result) == jax.tree.structure(expected), layout
        pairs = zip(
            jax.tree_util.tree_leaves_with_path(result), jax.tree.leaves(expected), strict=True
        )
        for (path, a), b in pairs:
            where, a, b = f"{layout} {jax.tree_util.keystr(path)}", np.asarray(raw(a)), raw(b)
            if env.rounding is not None and env.rounding(jax.tree_util.keystr(path)):
                assert a.dtype.kind == "f", where
                np.testing.assert_allclose(a, np.asarray(b), RTOL, ATOL, err_msg=where)
            else:
                np.testing.assert_array_equal(a, np.asarray(b), where)
        stats = env.stats(result)
        assert stats.running_return.sharding.spec == P("envs"), (layout, stats.running_return)
        for leaf in jax.tree.leaves(stats):
            if env_axis(leaf):
                assert leaf.sharding.spec == P("envs"), (layout, leaf.shape, leaf.sharding)
        count = fnrec.stats.episode_count(stats)
        assert (sum(count) if per_env else count) > n, (layout, count)
        if env.capture is not None:
            assert int(np.sum(env.capture(result).num_stored)) > 0, layout

        kept[layout] = no_env_sized_collective(compiled.as_text(), f"{layout} run")
        if compile_step:
            step_hlo = jax.jit(env.step).lower(shard(start), keys[0]).compile().as_text()
            kept[layout] = no_env_sized_collective(step_hlo, f"{layout} step")
    print("ok", json.dumps(kept))
