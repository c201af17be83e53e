"""Host side: read a capture state (``fnrec.capture``) into numpy episodes, in store order."""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import numpy as np

from fnrec.capture import CaptureState, read_settings
from fnrec.episodes import Episode, to_host


class CaptureSummary(NamedTuple):
    """What a capture state holds, read on the host.

    Attributes:
      episodes: the stored episodes, in the order they ended (``items`` trimmed to
        ``length + 1`` frames).
      dropped_full: triggered episodes dropped because the store was full.
      dropped_too_long: triggered episodes dropped for being longer than ``max_episode_steps``.
    """

    episodes: list[Episode]
    dropped_full: int
    dropped_too_long: int


def read_capture(state: CaptureState) -> CaptureSummary:
    """Host side: the stored episodes of a capture state, as numpy arrays.

    Only the stored rows are copied from the device. A state vmapped over environments (one
    capture per env) gives every instance's episodes, with ``env`` its flattened index.

    Args:
      state: a CaptureState (from ``episode_capture(...).init``/``step``), possibly vmapped.

    Returns:
      A CaptureSummary.

    Raises:
      ValueError: the state's settings disagree with its buffers, naming the setting.
    """
    if not isinstance(state, CaptureState):
        raise TypeError(
            f"`state` must be a CaptureState (fnrec.capture), got {type(state).__name__}"
        )
    read_settings(state)
    batch_shape = tuple(np.shape(state.num_stored))
    num_stored = np.asarray(jax.device_get(state.num_stored)).reshape(-1)
    table = jax.device_get(state.stored)
    instances = int(np.prod(batch_shape, dtype=np.int64))
    table = jax.tree.map(
        lambda x: np.asarray(x).reshape(instances, *np.shape(x)[len(batch_shape) :]), table
    )
    dropped_full = int(np.sum(jax.device_get(state.dropped_full)))
    dropped_too_long = int(np.sum(jax.device_get(state.dropped_too_long)))
    watched = bool(np.asarray(jax.device_get(state.watched)).reshape(-1)[0])
    ids_per_env = bool(batch_shape) or (watched and state.row.shape[-1] > 1)
    episodes = []
    for instance, count in enumerate(num_stored.tolist()):
        if count == 0:
            continue
        rows = table.row[instance, :count]
        items = _rows(state, batch_shape, instance, rows)
        for k in range(count):
            length = int(table.length[instance, k])
            env = int(table.env[instance, k]) if not batch_shape else instance
            episodes.append(
                Episode(
                    episode_id=int(table.episode_id[instance, k]),
                    env=env,
                    episode_return=float(table.episode_return[instance, k]),
                    length=length,
                    terminated=bool(table.terminated[instance, k]),
                    truncated=bool(table.truncated[instance, k]),
                    items=jax.tree.map(lambda x, k=k, n=length + 1: x[k, :n], items),
                    ids_per_env=ids_per_env,
                )
            )
    return CaptureSummary(episodes, dropped_full, dropped_too_long)


def _rows(
    state: CaptureState, batch_shape: tuple[int, ...], instance: int, rows: np.ndarray
) -> Any:
    """The given rows of one instance's buffers, gathered on the device, copied to numpy.

    Rows number ``items`` then ``stored_items`` (the store's own rows, when it has them).
    """
    num_rows = np.shape(jax.tree.leaves(state.items)[0])[len(batch_shape)]
    copied = np.shape(jax.tree.leaves(state.stored_items)[0])[len(batch_shape)] > 0
    buffers, rows = (state.stored_items, rows - num_rows) if copied else (state.items, rows)

    def take(x: jax.Array) -> np.ndarray:
        x = x.reshape(-1, *x.shape[len(batch_shape) :]) if batch_shape else x[None]
        return to_host(x[instance][rows])

    return jax.tree.map(take, buffers)
