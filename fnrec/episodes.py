"""`Episode`: the one record fnrec gives of a finished episode, wherever it reaches the host.

A captured episode (``fnrec.read_capture``, a capture's ``stream=`` callable), a written video
(``fnrec.export_videos``, ``fnrec.VideoStream``) and a row of an episode log
(``fnrec.EpisodeLog.episodes``) are all an ``Episode``: the same fields under the same names,
with the parts only some of them have (``items``, ``path``, ``step``) left None elsewhere.
Traced code describes finished episodes as arrays (``fnrec.stats.EpisodeEnded``, a history's
columns) with the same field names.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class Episode(NamedTuple):
    """One finished episode, on the host.

    Attributes:
      episode_id: the episode's id: global (in the order episodes ended, env-index order within
        a step), or the env's own count where ids count each env's episodes (see
        `ids_per_env`).
      env: the env's index in the batch (flattened, C order, for several env axes).
      episode_return: its return, as the statistics computed it.
      length: its steps (a captured episode has ``length + 1`` frames).
      terminated: ended by termination.
      truncated: ended by truncation.
      step: the step on which it ended (the index along the stacked axis), where known.
      items: the captured items (a pytree with leaves ``[length + 1, ...]``), for a captured
        episode.
      path: the video written of it, for an exported or streamed episode.
      ids_per_env: True when ids count each env's own episodes and several envs are captured:
        then (env, episode_id), not the id alone, names the episode.
      metrics: ``{name: float}``, the episode's metrics (``fnrec.stats.Metric``), where
        recorded; else None.
      rank: its rank in a ranked capture store (1: the best kept, by the store's order; ties
        to the earlier id), with the ``score`` it was ranked by; else None.
      score: the value a ranked store ranked it by; else None.
    """

    episode_id: int
    env: int
    episode_return: float
    length: int
    terminated: bool
    truncated: bool
    step: int | None = None
    items: Any = None
    path: Path | None = None
    ids_per_env: bool = False
    metrics: dict[str, float] | None = None
    rank: int | None = None
    score: float | None = None


def to_host(x: Any) -> Any:
    """A captured leaf as numpy; a PRNG key leaf (``jax.random.key``) stays a jax key array."""
    if isinstance(x, jax.Array) and jnp.issubdtype(x.dtype, jax.dtypes.prng_key):
        return x
    return np.asarray(jax.device_get(x))


def received(
    items: Any,
    episode_id: Any,
    env: Any,
    length: Any,
    episode_return: Any,
    terminated: Any,
    truncated: Any,
    ids_per_env: bool,
) -> Episode:
    """The Episode of values a host callback received: Python scalars, and ``items`` trimmed to
    the episode's ``length + 1`` frames."""
    length = int(np.asarray(length))
    return Episode(
        episode_id=int(np.asarray(episode_id)),
        env=int(np.asarray(env)),
        episode_return=float(np.asarray(episode_return)),
        length=length,
        terminated=bool(np.asarray(terminated)),
        truncated=bool(np.asarray(truncated)),
        items=jax.tree.map(lambda x: to_host(x)[: length + 1], items),
        ids_per_env=ids_per_env,
    )
