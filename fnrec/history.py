"""Every finished episode's statistics, kept in-graph in id order (or streamed out in chunks).

Traced side, pure. The statistics' queue keeps the last ``buffer_length`` episodes; a history
keeps EVERY episode (up to a capacity): its global id (the order episodes end, env-index order
within a step, as Gymnasium's vector ``RecordEpisodeStatistics`` numbers them), env, return,
length and termination. It is what a jitted run needs to write the guide's "statistics for every
episode", also from inside a ``lax.while_loop`` where nothing can be stacked per step.

With ``stream=fn`` the history is a staging buffer instead, and its episodes leave the program
through ``jax.debug.callback`` as ``HistoryChunk`` values of numpy arrays. ``flush="ended"`` (the
default) sends them on every step that ends an episode, so a trainer that returns no env state
(brax's ``ppo.train``) still reports every episode: nothing stays behind when it returns.
``flush="full"`` sends them only when the next step might not fit (one callback per
``capacity / num_envs`` steps at most); the episodes staged at the end are then the caller's to
read from the final state with ``history_chunk``.

Example::

    >>> import jax.numpy as jnp, fnrec
    >>> history = fnrec.history.episode_history(capacity=8)
    >>> stats, log = fnrec.stats.init(2), history.init(num_envs=2)
    >>> for done in ([False, True], [True, True]):
    ...     stats, ended = fnrec.stats.step(stats, 1.0, jnp.array(done), False)
    ...     log = history.step(log, ended)
    >>> int(log.count), log.env[:3].tolist(), log.length[:3].tolist()
    (3, [1, 0, 1], [1, 2, 1])
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import Array, lax

from fnrec import _checks, counter
from fnrec._explicit import auto_within
from fnrec._processes import gathered
from fnrec.stats import EpisodeEnded


class HistoryState(NamedTuple):
    """Finished episodes in id order; entries ``0..count-1`` are real (C is the capacity; 0
    for a history streamed with ``flush="ended"``, which stages nothing).

    Attributes:
      env: int32[C], the env index of each episode.
      episode_return: f32[C], its return.
      length: int32[C], its steps.
      terminated: bool[C], ended by termination.
      truncated: bool[C], ended by truncation.
      count: int32[], entries filled (stored, or staged when streaming).
      first_id: Counter64, the global id of entry 0 (streaming: of the first staged episode);
        64 bits, so that a long streamed run's ids never wrap.
      dropped: int32[], episodes that found the history full (never when streaming).
      metrics: ``{name: f32[C]}``, each per-episode metric (``fnrec.stats.Metric``) recorded.
    """

    env: Array
    episode_return: Array
    length: Array
    terminated: Array
    truncated: Array
    count: Array
    first_id: counter.Counter64
    dropped: Array
    metrics: dict[str, Array] = {}  # noqa: RUF012 (never mutated; a default for old states)


class HistoryChunk(NamedTuple):
    """Streamed episodes as the host callback receives them (numpy arrays, id order).

    Attributes:
      episode_id: int64[n], global ids.
      env: int64[n], env indices.
      episode_return: float32[n], returns.
      length: int64[n], lengths.
      terminated: bool[n], ended by termination.
      truncated: bool[n], ended by truncation.
      metrics: ``{name: float32[n]}``, the per-episode metrics.
    """

    episode_id: np.ndarray
    env: np.ndarray
    episode_return: np.ndarray
    length: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    metrics: dict[str, np.ndarray] = {}  # noqa: RUF012 (never mutated)


def history_chunk(state: HistoryState) -> HistoryChunk:
    """Host side: the episodes a history holds (stored, or staged and not yet streamed).

    Args:
      state: a HistoryState (device or host arrays).

    Returns:
      A HistoryChunk of those episodes, in id order.
    """
    state = jax.device_get(gathered(state))
    rows = np.arange(int(state.count))
    return _chunk(counter.to_int(state.first_id), rows, state.env[rows], state)


def _chunk(first_id: int, rows: np.ndarray, env: np.ndarray, fields: Any) -> HistoryChunk:
    """The episodes in `rows` of `fields`' columns (host arrays), numbered from `first_id`."""

    def column(x: Array, dtype: type) -> np.ndarray:
        return np.asarray(x)[rows].astype(dtype)

    return HistoryChunk(
        episode_id=np.arange(first_id, first_id + len(rows), dtype=np.int64),
        env=np.asarray(env, np.int64),
        episode_return=column(fields.episode_return, np.float32),
        length=column(fields.length, np.int64),
        terminated=column(fields.terminated, bool),
        truncated=column(fields.truncated, bool),
        metrics={name: column(values, np.float32) for name, values in fields.metrics.items()},
    )


def _pack_ended(first_id: counter.Counter64, ended: EpisodeEnded) -> Array:
    """One step's episodes as ONE uint32 array (a host callback pays per array it receives):
    ``[first_id.hi, first_id.lo, returns' bits (N), lengths (N), flags (N), each metric's bits
    (N, in name order)]``, flags bit 0 the mask, bit 1 terminated, bit 2 truncated."""

    def flat(x: Array) -> Array:
        return x.reshape(-1)

    flags = (
        flat(ended.mask).astype(jnp.uint32)
        | flat(ended.terminated).astype(jnp.uint32) << 1
        | flat(ended.truncated).astype(jnp.uint32) << 2
    )
    returns = lax.bitcast_convert_type(flat(ended.episode_return).astype(jnp.float32), jnp.uint32)
    words = jnp.stack([first_id.hi, first_id.lo]).astype(jnp.uint32)
    metrics = [
        lax.bitcast_convert_type(flat(ended.metrics[name]).astype(jnp.float32), jnp.uint32)
        for name in sorted(ended.metrics)
    ]
    return jnp.concatenate([words, returns, flat(ended.length).astype(jnp.uint32), flags, *metrics])


def _unpack_ended(packed: np.ndarray, names: tuple[str, ...] = ()) -> HistoryChunk:
    """Host side: the episodes `_pack_ended` packed (env-index order), with their ids;
    `names` are the metrics' names in name order."""
    packed = np.asarray(packed, np.uint32)
    n = (packed.size - 2) // (3 + len(names))
    first_id = (int(packed[0]) << 32) + int(packed[1])
    flags = packed[2 + 2 * n : 2 + 3 * n]
    metrics = {
        name: packed[2 + (3 + k) * n : 2 + (4 + k) * n].view(np.float32)
        for k, name in enumerate(names)
    }
    columns = EpisodeEnded(
        mask=None,
        episode_return=packed[2 : 2 + n].view(np.float32),
        length=packed[2 + n : 2 + 2 * n],
        terminated=(flags & 2) != 0,
        truncated=(flags & 4) != 0,
        metrics=metrics,
    )
    (env,) = np.nonzero(flags & 1)
    return _chunk(first_id, env, env, columns)


class EpisodeHistory(NamedTuple):
    """A history with its settings bound (made by ``episode_history``); pure functions.

    Attributes:
      init: ``(num_envs=None, metrics=()) -> HistoryState``; `metrics` are the statistics'
        (``EpisodeStatistics.metrics``, or their names), kept beside each episode.
      step: ``(state, ended) -> HistoryState``: appends the episodes that ended on the step.
      capacity: entries kept (or staged).
      stream: the host callable receiving ``HistoryChunk`` values, or None.
      flush: when a streamed history calls back: ``"ended"`` or ``"full"``.
    """

    init: Callable[..., HistoryState]
    step: Callable[[HistoryState, EpisodeEnded], HistoryState]
    capacity: int
    stream: Callable[[HistoryChunk], None] | None
    flush: Flush


Flush = Literal["ended", "full"]
FLUSHES: tuple[Flush, ...] = ("ended", "full")


def episode_history(
    capacity: int,
    stream: Callable[[HistoryChunk], None] | None = None,
    flush: Flush = "ended",
) -> EpisodeHistory:
    """Keeps every finished episode's statistics (or streams them out in chunks).

    Args:
      capacity: how many episodes are kept; later ones are counted in ``dropped``. When
        streaming, the staging size (at least the number of envs).
      stream: None, or a host callable that receives the episodes as ``HistoryChunk`` values
        (through ``jax.debug.callback``).
      flush: when streamed episodes leave: ``"ended"`` on every step that ends one (nothing is
        left behind, even in a trainer that returns no env state); ``"full"`` only when the
        next step might not fit (fewer callbacks; read what is staged at the end with
        ``history_chunk(final_state)``).

    Returns:
      An ``EpisodeHistory``.
    """
    _checks.check_int("capacity", capacity, 1, _checks.MAX_BUFFER_LENGTH, "int32 rows")
    if stream is not None and not callable(stream):
        raise TypeError(f"`stream` must be None or a callable, got {type(stream).__name__}")
    if flush not in FLUSHES:
        raise ValueError(f"`flush` must be one of {FLUSHES}, got {flush!r}")
    capacity = int(capacity)

    def init(num_envs: int | None = None, metrics: Any = ()) -> HistoryState:
        _checks.check_num_envs(num_envs)
        names = _metric_names(metrics)
        if stream is not None and (num_envs or 1) > capacity:
            raise ValueError(
                f"`capacity` must be at least num_envs={num_envs} when streaming (one step can "
                f"end every env's episode), got {capacity}"
            )
        # Streamed with flush="ended", nothing is ever staged: no rows to carry along.
        rows = 0 if stream is not None and flush == "ended" else capacity
        zeros = jnp.zeros(rows, jnp.int32)
        scalar = jnp.zeros((), jnp.int32)
        return HistoryState(
            env=zeros,
            episode_return=jnp.zeros(rows, jnp.float32),
            length=zeros,
            terminated=jnp.zeros(rows, jnp.bool_),
            truncated=jnp.zeros(rows, jnp.bool_),
            count=scalar,
            first_id=counter.zeros(),
            dropped=scalar,
            metrics={name: jnp.zeros(rows, jnp.float32) for name in names},
        )

    def step(state: HistoryState, ended: EpisodeEnded) -> HistoryState:
        if not isinstance(state, HistoryState):
            raise TypeError(
                f"`state` must be a HistoryState from episode_history(...).init, got "
                f"{type(state).__name__}"
            )
        if not isinstance(ended, EpisodeEnded):
            raise TypeError(
                f"`ended` must be the EpisodeEnded of fnrec.stats.step, got {type(ended).__name__}"
            )
        if sorted(ended.metrics) != sorted(state.metrics):
            raise ValueError(
                f"`ended` carries the metrics {sorted(ended.metrics)} but the history was made "
                f"for {sorted(state.metrics)}: init it with the statistics' metrics "
                "(history.init(num_envs, metrics=statistics.metrics); a fnrec.Recording does)"
            )
        mask = ended.mask.reshape(-1)
        if stream is not None and _checks.is_vmapped(ended.mask):
            raise ValueError(
                "`stream` needs one history over the whole batch (statistics with num_envs=N): "
                "under jax.vmap each env's history cannot tell which env it is, and it would "
                "call back on every step; keep it in the state instead (no `stream`)"
            )
        if stream is not None and mask.shape[0] > capacity:
            raise ValueError(
                f"`capacity` must be at least the number of envs stepped ({mask.shape[0]}) when "
                f"streaming (one step can end every env's episode), got {capacity}"
            )
        if stream is not None and flush == "ended":
            return _send_ended(state, ended, mask)
        slot = state.count + jnp.cumsum(mask.astype(jnp.int32)) - 1
        target = jnp.where(mask, slot, capacity)  # out of range: not written

        def put(old: Array, new: Array) -> Array:
            return old.at[target].set(new.reshape(-1).astype(old.dtype), mode="drop")

        finished = jnp.sum(mask, dtype=jnp.int32)
        envs = jnp.arange(mask.shape[0], dtype=jnp.int32)
        state = HistoryState(
            env=put(state.env, envs),
            episode_return=put(state.episode_return, ended.episode_return),
            length=put(state.length, ended.length),
            terminated=put(state.terminated, ended.terminated),
            truncated=put(state.truncated, ended.truncated),
            count=jnp.minimum(state.count + finished, capacity),
            first_id=state.first_id,
            dropped=state.dropped + jnp.maximum(state.count + finished - capacity, 0),
            metrics={name: put(state.metrics[name], ended.metrics[name]) for name in state.metrics},
        )
        if stream is None:
            return state
        return lax.cond(state.count + mask.shape[0] > capacity, _flush, lambda s: s, state)

    def _send_ended(state: HistoryState, ended: EpisodeEnded, mask: Array) -> HistoryState:
        # Nothing is staged: the step's own rows leave (N of them, whatever the capacity), on
        # the steps that end an episode, and only the ids advance.
        names = tuple(sorted(ended.metrics))

        def send() -> None:
            jax.debug.callback(
                lambda packed: _checks.delivered(stream, _unpack_ended(packed, names)),
                _pack_ended(state.first_id, ended),
            )

        finished = jnp.sum(mask, dtype=jnp.int32)
        lax.cond(finished > 0, send, lambda: None)
        return state._replace(first_id=counter.add(state.first_id, finished))

    def _flush(state: HistoryState) -> HistoryState:
        jax.debug.callback(lambda staged: _checks.delivered(stream, history_chunk(staged)), state)
        return state._replace(
            count=jnp.zeros_like(state.count), first_id=counter.add(state.first_id, state.count)
        )

    return EpisodeHistory(init, auto_within(step), capacity, stream, flush)


def _metric_names(metrics: Any) -> tuple[str, ...]:
    """The names of `metrics` (``fnrec.stats.Metric`` values or names), checked."""
    try:
        names = tuple(getattr(m, "name", m) for m in metrics)
    except TypeError:
        names = None
    if names is None or not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
        raise TypeError(
            "`metrics` must be the statistics' metrics (EpisodeStatistics.metrics) or their "
            f"distinct names, got {metrics!r}"
        )
    return names
