"""Host side: read a capture state (``fnrec.capture``) into numpy episodes, in store order."""

from __future__ import annotations

import math
import warnings
from typing import Any, NamedTuple

import jax
import numpy as np

from fnrec._processes import gathered
from fnrec.capture import ID_LIMIT, CaptureState, read_settings
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
    state = gathered(state)  # a multi-process state: read whole, on every process
    settings = read_settings(state)
    batch_shape = tuple(np.shape(state.num_stored))
    num_stored = np.asarray(jax.device_get(state.num_stored)).reshape(-1)
    table = jax.device_get(state.stored)
    instances = int(np.prod(batch_shape, dtype=np.int64))
    table = jax.tree.map(
        lambda x: np.asarray(x).reshape(instances, *np.shape(x)[len(batch_shape) :]), table
    )
    dropped_full = int(np.sum(jax.device_get(state.dropped_full)))
    dropped_too_long = int(np.sum(jax.device_get(state.dropped_too_long)))
    _check_table(state, batch_shape, num_stored, table, settings.row_length - 1)
    watched = bool(np.asarray(jax.device_get(state.watched)).reshape(-1)[0])
    _warn_unnumbered(state, watched)
    ids_per_env = bool(batch_shape) or (watched and state.row.shape[-1] > 1)
    # The envs one instance was made for (vmapped over groups of N: N; one capture per env: 1).
    envs_per_instance = math.prod(state.env_axes.shape[len(batch_shape) : -1])
    episodes = []
    for instance, count in enumerate(num_stored.tolist()):
        if count == 0:
            continue
        rows = table.row[instance, :count]
        items = _rows(state, batch_shape, instance, rows)
        ranks = _ranks(settings.ranked, table.score[instance, :count], table.episode_id[instance])
        for k in range(count):
            length = int(table.length[instance, k])
            env = instance * envs_per_instance + int(table.env[instance, k])
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
                    rank=None if ranks is None else int(ranks[k]),
                    score=None if ranks is None else float(table.score[instance, k]),
                )
            )
    return CaptureSummary(episodes, dropped_full, dropped_too_long)


def _warn_unnumbered(state: CaptureState, watched: bool) -> None:
    """Warns where the capture ran out of int32 ids (its later episodes were not offered)."""
    counts = jax.device_get(state.own_episodes if watched else state.episodes_ended)
    if np.any(np.asarray(counts) >= ID_LIMIT):
        warnings.warn(
            f"fnrec.read_capture: the capture numbered {ID_LIMIT:,} episodes ("
            + ("of one watched env" if watched else "of the batch")
            + ", the most int32 ids hold); the episodes after those were not numbered and not "
            "offered to its trigger or store. Capture over fewer episodes (a capture per "
            "stretch of the run, or watch=(env,)) to record later ones",
            RuntimeWarning,
            stacklevel=3,
        )


def _ranks(order: str | None, scores: np.ndarray, ids: np.ndarray) -> np.ndarray | None:
    """Each stored episode's rank (1: best) in a ranked store, ties to the earlier id (to the
    later one for the order "latest"); NaN scores rank last. None for a store filled in order."""
    if order is None:
        return None
    key = np.where(np.isnan(scores), -np.inf, -scores if order == "smallest" else scores)
    ids = ids[: len(scores)].astype(np.int64)
    order_of = np.lexsort((-ids if order == "latest" else ids, -key))
    ranks = np.empty(len(scores), np.int64)
    ranks[order_of] = np.arange(1, len(scores) + 1)
    return ranks


def _check_table(
    state: CaptureState,
    batch_shape: tuple[int, ...],
    num_stored: np.ndarray,
    table: Any,
    max_length: int,
) -> None:
    """Raises unless the store's table is one a capture can have written: counts within the
    store, rows within the buffers, lengths within a row (else another row's frames, or none,
    would be read as the episode's)."""
    slots = table.row.shape[1]
    first = [jax.tree.leaves(state.items)[:1], jax.tree.leaves(state.stored_items)[:1]]
    rows = sum(np.shape(x)[len(batch_shape)] for leaves in first for x in leaves)
    problems = []
    if np.any((num_stored < 0) | (num_stored > slots)):
        problems.append(f"stored count {num_stored.tolist()} outside [0, {slots}]")
    used = np.arange(slots)[None, :] < np.clip(num_stored, 0, slots)[:, None]
    if first[0] and np.any(used & ((table.row < 0) | (table.row >= rows))):
        problems.append(f"a stored row index outside [0, {rows})")
    if np.any(used & ((table.length < 0) | (table.length > max_length))):
        problems.append(f"a stored length outside [0, {max_length}] (max_length)")
    if problems:
        raise ValueError(
            "`state` is not one a capture wrote (damaged, or edited): " + "; ".join(problems)
        )


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
