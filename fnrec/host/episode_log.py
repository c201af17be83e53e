"""Host side: every episode of a jitted run, in the order Gymnasium's vector wrapper reports them.

``lax.scan`` stacks the per-step ``EpisodeEnded`` into leaves of shape [T, N]; ``episode_log``
turns them into one row per finished episode, numbered in the order the episodes ended, env-index
order within a step (the ids of fnrec's shared queue, of global-id capture and of Gymnasium's
vector ``RecordEpisodeStatistics``, which reports them one by one).
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import IO, Any, NamedTuple

import jax
import numpy as np

from fnrec._processes import gathered
from fnrec.episodes import Episode
from fnrec.history import HistoryChunk, HistoryState, history_chunk
from fnrec.host.atomic import write_atomically
from fnrec.stats import EpisodeEnded

CSV_HEADER = ("episode", "env", "return", "length", "terminated")


class _LogColumns(NamedTuple):
    episode_id: np.ndarray
    env: np.ndarray
    step: np.ndarray
    episode_return: np.ndarray
    length: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray


class EpisodeLog(_LogColumns):
    """One entry per finished episode, in id order (numpy arrays of equal length).

    The columns are the fields of ``fnrec.Episode``; ``episodes()`` gives the rows as such.

    Attributes:
      episode_id: int64, the global episode id.
      env: int64, the env index (flattened, C order, for several env axes).
      step: int64, the step (index along the stacked axis) on which the episode ended; -1
        where unknown (read from a history, which keeps no steps).
      episode_return: float32, its return.
      length: int64, its steps.
      terminated: bool, ended by termination.
      truncated: bool, ended by truncation.
      metrics: ``{name: float32}``, each per-episode metric (``fnrec.stats.Metric``) recorded;
        a keyword, not a tuple item (``tuple(log)`` is the seven columns above).
    """

    def __new__(
        cls,
        episode_id: np.ndarray,
        env: np.ndarray,
        step: np.ndarray,
        episode_return: np.ndarray,
        length: np.ndarray,
        terminated: np.ndarray,
        truncated: np.ndarray,
        metrics: dict[str, np.ndarray] | None = None,
    ) -> EpisodeLog:
        self = super().__new__(
            cls, episode_id, env, step, episode_return, length, terminated, truncated
        )
        self._metrics = {} if metrics is None else dict(metrics)
        return self

    @property
    def metrics(self) -> dict[str, np.ndarray]:
        """Each metric's column, ``{name: float32[n]}``."""
        return self.__dict__.get("_metrics", {})

    def _replace(self, **changes: Any) -> EpisodeLog:
        metrics = changes.pop("metrics", self.metrics)
        return EpisodeLog(*super()._replace(**changes), metrics=metrics)

    def episodes(self) -> list[Episode]:
        """The rows, each a ``fnrec.Episode`` (``step`` None where unknown), in id order."""
        columns = zip(*(np.asarray(c).tolist() for c in self), strict=True)
        names = list(self.metrics)
        values = zip(*(np.asarray(self.metrics[n]).tolist() for n in names), strict=True)
        rows = values if names else ([] for _ in self.episode_id)
        return [
            Episode(
                i, e, r, n, t, u, step=None if s < 0 else s,
                metrics=dict(zip(names, m, strict=True)) if names else None,
            )
            for (i, e, s, r, n, t, u), m in zip(columns, rows, strict=True)
        ]  # fmt: skip

    def write_csv(self, path: str | os.PathLike[str]) -> Path:
        """Writes ``episode,env,return,length,terminated`` and a column per metric, one row per
        episode, in id order.

        Returns and metrics are written with the fewest digits that read back as the same
        float32 (NaN as ``nan``). The file appears under `path` only once complete (written
        under a temporary name, then renamed).

        Returns:
          The path written.
        """

        def write(file: IO[str]) -> None:
            writer = csv.writer(file)
            names = list(self.metrics)
            writer.writerow((*CSV_HEADER, *names))
            for row in zip(
                self.episode_id.tolist(),
                self.env.tolist(),
                map(_shortest, self.episode_return),
                self.length.tolist(),
                (int(t) for t in self.terminated),
                *(map(_shortest, np.asarray(self.metrics[n], np.float32)) for n in names),
                strict=True,
            ):
                writer.writerow(row)

        return write_atomically(path, write, text=True)


def _shortest(value: np.floating) -> str:
    """A float32 in the fewest digits that read back as the same float32."""
    return np.format_float_positional(value, unique=True, trim="-")


def episode_log(
    ended: EpisodeEnded | HistoryState | HistoryChunk | list[HistoryChunk],
    first_episode: int = 0,
    *,
    time_axis: int = 0,
) -> EpisodeLog:
    """Host side: the finished episodes of a run, in id order.

    Stacked steps are checked against their own lengths: an env's next episode cannot be
    longer than the steps between its two ends. A stack
    read along the wrong axis (a ``jax.vmap`` of a scan gives [N, T], not [T, N]) or one step's
    [N] batch read as N steps fails that check with an error instead of a wrong log.

    Args:
      ended: an ``EpisodeEnded`` whose leaves are [T] (one env), [T, N] (a batch, shared or
        vmapped statistics) or [T, *E] (several env axes), as ``lax.scan`` stacks them; or a
        ``HistoryState`` (``fnrec.history``: what it holds); or streamed ``HistoryChunk`` values
        (one or a list, in the order they arrived).
      first_episode: the id of the first episode in stacked `ended` (the episode count before
        the run, for a run made of several scans); ignored for a history (it has its ids).
      time_axis: the steps' axis of stacked `ended`: 0 for ``lax.scan`` over a batch, 1 for
        ``jax.vmap`` of a per-env scan ([N, T]).

    Returns:
      An EpisodeLog (``step`` is -1 for episodes read from a history: it keeps no steps).
    """
    if isinstance(ended, HistoryState):
        ended = history_chunk(ended)
    if isinstance(ended, HistoryChunk):
        ended = [ended]
    if isinstance(ended, list) and all(isinstance(c, HistoryChunk) for c in ended):
        return _from_chunks(ended)
    if not isinstance(ended, EpisodeEnded):
        raise TypeError(
            "`ended` must be the EpisodeEnded of fnrec.stats.step (stacked by lax.scan), a "
            f"HistoryState or HistoryChunks, got {type(ended).__name__}"
        )
    if isinstance(first_episode, bool) or not isinstance(first_episode, (int, np.integer)):
        raise TypeError(f"`first_episode` must be an int >= 0, got {first_episode!r}")
    if first_episode < 0:
        raise ValueError(f"`first_episode` must be an int >= 0, got {first_episode!r}")
    host = jax.device_get(gathered(ended))
    mask = np.asarray(host.mask)
    if mask.ndim < 1:
        raise ValueError(
            "`ended` must be stacked over steps (leaves [T] or [T, N]), got a single step of "
            f"shape {mask.shape}"
        )
    if isinstance(time_axis, bool) or not isinstance(time_axis, (int, np.integer)):
        raise TypeError(f"`time_axis` must be an int, got {time_axis!r}")
    if not -mask.ndim <= time_axis < mask.ndim:
        raise ValueError(
            f"`time_axis` must be an axis of `ended`'s leaves (shape {mask.shape}), got {time_axis}"
        )
    steps = mask.shape[time_axis]

    def by_step(field: np.ndarray) -> np.ndarray:
        return np.moveaxis(np.asarray(field), time_axis, 0).reshape(steps, -1)

    step, env = np.nonzero(by_step(mask))  # row-major: step order, then env-index order
    length = by_step(host.length)[step, env].astype(np.int64)
    _check_steps_match_lengths(step, env, length, mask.shape, time_axis)
    count = len(step)
    return EpisodeLog(
        episode_id=np.arange(first_episode, first_episode + count, dtype=np.int64),
        env=env.astype(np.int64),
        step=step.astype(np.int64),
        episode_return=by_step(host.episode_return)[step, env].astype(np.float32),
        length=length,
        terminated=by_step(host.terminated)[step, env].astype(bool),
        truncated=by_step(host.truncated)[step, env].astype(bool),
        metrics={
            name: by_step(values)[step, env].astype(np.float32)
            for name, values in host.metrics.items()
        },
    )


def _check_steps_match_lengths(
    step: np.ndarray, env: np.ndarray, length: np.ndarray, shape: tuple[int, ...], axis: int
) -> None:
    """Raises if an env's next episode is longer than the steps between its two ends."""
    order = np.lexsort((step, env))
    step, env, length = step[order], env[order], length[order]
    same_env = env[1:] == env[:-1]
    gap = step[1:] - step[:-1]
    # The next episode is the `gap` steps after the end (one fewer with next-step autoreset,
    # fewer still if the env was reset by hand); never more.
    wrong = same_env & (length[1:] > gap)
    if not wrong.any():
        return
    k = int(np.argmax(wrong))
    raise ValueError(
        f"`ended` (leaves of shape {shape}, steps along time_axis={axis}) is not a stack of "
        f"steps: env {env[k]}'s episodes end on steps {step[k]} and {step[k + 1]}, but the "
        f"second is {length[k + 1]} steps long, more than the {gap[k]} between them. A jax.vmap of "
        "a per-env scan stacks [N, T]: pass time_axis=1. One step of a batch ([N]) needs its "
        "time axis: jax.tree.map(lambda x: x[None], ended)."
    )


def _from_chunks(chunks: list[HistoryChunk]) -> EpisodeLog:
    def cat(field: str, dtype: type) -> np.ndarray:
        parts = [np.asarray(getattr(c, field)) for c in chunks]
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    episode_id = cat("episode_id", np.int64)
    return EpisodeLog(
        episode_id=episode_id,
        env=cat("env", np.int64),
        step=np.full(len(episode_id), -1, np.int64),
        episode_return=cat("episode_return", np.float32),
        length=cat("length", np.int64),
        terminated=cat("terminated", bool),
        truncated=cat("truncated", bool),
        metrics={
            name: np.concatenate([np.asarray(c.metrics[name]) for c in chunks]).astype(np.float32)
            for name in (chunks[0].metrics if chunks else {})
        },
    )
