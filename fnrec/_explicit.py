"""Batches sharded with explicit mesh axes (``jax.make_mesh``'s default axis type).

fnrec's pure functions are written for JAX's sharding propagation (Auto axes): XLA places every
intermediate. With Explicit axes each operation must state how its result is sharded, and
gathers across the env axis (the shared queue, capture's rows) have no single answer. So a
public entry point given explicitly sharded arrays runs its body with those axes as Auto
(``jax.sharding.auto_axes``) and hands its results back explicitly sharded: a state like the
state it was given, every other result with an env axis split as the input's env axis, the
rest replicated. Inputs without Explicit axes, and calls under ``jax.vmap`` (the per-env
layout: each call sees one env), take the plain path, unchanged.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import jax
import numpy as np
from jax.sharding import AxisType, PartitionSpec

F = TypeVar("F", bound=Callable[..., Any])


def _sharding(x: Any) -> Any:
    if not isinstance(x, (jax.Array, jax.core.Tracer)):
        return None
    try:
        return jax.typeof(x).sharding
    except (AttributeError, TypeError):
        return None


def _explicit_mesh(leaves: list[Any]) -> Any:
    """The abstract mesh of the first leaf sharded over an Explicit axis, or None."""
    for x in leaves:
        mesh = getattr(_sharding(x), "mesh", None)
        if mesh is None or getattr(mesh, "empty", True):
            continue
        if any(t == AxisType.Explicit for t in mesh.axis_types):
            return getattr(mesh, "abstract_mesh", mesh)
    return None


def _env_axis(leaves: list[Any]) -> tuple[int, Any] | None:
    """(size, mesh axes) of the first input sharded along its leading axis."""
    for x in leaves:
        spec = getattr(_sharding(x), "spec", None)
        if spec and np.ndim(x) and spec[0] is not None:
            return np.shape(x)[0], spec[0]
    return None


def _spec(x: Any) -> PartitionSpec:
    return getattr(_sharding(x), "spec", None) or PartitionSpec()


def auto_within(fn: F) -> F:
    """`fn`, run with Explicit mesh axes as Auto when its array arguments have them.

    Args:
      fn: a pure function of arrays and static values (strings, numbers, None).

    Returns:
      The same function; for explicitly sharded inputs its results are explicitly sharded too
      (see the module docstring).
    """

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        leaves, treedef = jax.tree.flatten((args, kwargs))
        mesh = _explicit_mesh(leaves)
        if mesh is None:
            return fn(*args, **kwargs)
        if any(type(x).__name__ == "BatchTracer" for x in leaves):
            # Under jax.vmap (the per-env layout) fn sees one env: the mapped axis and its
            # sharding are vmap's, and nothing in fn gathers across it.
            return fn(*args, **kwargs)
        is_array = [isinstance(x, (jax.Array, jax.core.Tracer)) for x in leaves]
        arrays = [x for x, a in zip(leaves, is_array, strict=True) if a]

        def inner(*values: Any) -> Any:
            it = iter(values)
            full = [next(it) if a else x for x, a in zip(leaves, is_array, strict=True)]
            inner_args, inner_kwargs = jax.tree.unflatten(treedef, full)
            return fn(*inner_args, **inner_kwargs)

        with jax.sharding.use_abstract_mesh(mesh):
            replicated = jax.sharding.auto_axes(inner, out_sharding=PartitionSpec())
            shapes = jax.eval_shape(replicated, *arrays)
            env = _env_axis(arrays)
            first = args[0] if args else None
            same_state = (
                isinstance(shapes, tuple)
                and shapes
                and jax.tree.structure(shapes[0]) == jax.tree.structure(first)
            )

            def by_rule(leaf: Any) -> PartitionSpec:
                if env is not None and leaf.ndim and leaf.shape[0] == env[0]:
                    return PartitionSpec(env[1])
                return PartitionSpec()

            if jax.tree.structure(shapes) == jax.tree.structure(first):
                specs = jax.tree.map(_spec, first)
            elif same_state:
                parts = [jax.tree.map(_spec, first), *jax.tree.map(by_rule, tuple(shapes[1:]))]
                specs = type(shapes)(*parts) if hasattr(shapes, "_fields") else tuple(parts)
            else:
                specs = jax.tree.map(by_rule, shapes)
            return jax.sharding.auto_axes(inner, out_sharding=specs)(*arrays)

    return wrapped  # type: ignore[return-value]
