"""Host side: reading recorded state in a multi-process JAX program.

In a multi-process program (``jax.distributed.initialize``), an array sharded over several
processes' devices cannot be read by one process alone. Every host reader (queues, episode
counts, logs, captured episodes) first passes the state through ``gathered``, which replaces
such arrays by their whole values, gathered once (``process_allgather``): every process then
reads the same, whole state. In one process it returns the state unchanged. It is a collective
when something spans processes: every process must call the same reader on the same state, as
with any multi-process JAX code.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np


def _spans_processes(x: Any) -> bool:
    return isinstance(x, jax.Array) and not x.is_fully_addressable


def gathered(tree: Any) -> Any:
    """`tree` with every array that spans processes replaced by its whole value (numpy).

    Args:
      tree: a pytree of arrays (jax arrays, possibly sharded over several processes; numpy
        arrays) and Python values.

    Returns:
      The same pytree; arrays held in full by this process, and everything else, unchanged.

    Example::

        >>> import jax.numpy as jnp
        >>> gathered({"count": jnp.arange(3)})["count"].tolist()
        [0, 1, 2]
    """
    leaves, treedef = jax.tree.flatten(tree)
    spanning = [x for x in leaves if _spans_processes(x)]
    if not spanning:
        return tree
    from jax.experimental import multihost_utils

    whole = iter(multihost_utils.process_allgather(spanning, tiled=True))
    return jax.tree.unflatten(
        treedef, [np.asarray(next(whole)) if _spans_processes(x) else x for x in leaves]
    )


def on_process_zero(work: Callable[[], int], name: str) -> int:
    """Runs `work` on process 0 alone (in a one-process program: here); every process gets
    its result, a non-negative int. A collective, as ``gathered``.

    Args:
      work: what only one process must do (write files), returning a count.
      name: the caller, for the error the other processes raise if `work` failed.

    Returns:
      What `work` returned on process 0.

    Raises:
      What `work` raised, on process 0; a RuntimeError naming `name` on the others.
    """
    if jax.process_count() == 1:
        return work()
    result, error = -1, None
    if jax.process_index() == 0:
        try:
            result = work()
        except BaseException as raised:  # the others must still hear of it, then it is raised
            error = raised
    from jax.experimental import multihost_utils

    shared = int(multihost_utils.broadcast_one_to_all(np.int32(result)))
    if error is not None:
        raise error
    if shared < 0:
        raise RuntimeError(f"{name} failed on process 0 (its error is raised there)")
    return shared
