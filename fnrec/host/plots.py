"""Host side: learning curves from an episode log (matplotlib, the ``plots`` extra), as PNG."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from fnrec._optional import require
from fnrec.host.atomic import write_atomically
from fnrec.host.episode_log import EpisodeLog


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """The mean of the last `window` values at each point (fewer at the start).

    Args:
      values: a 1-D array.
      window: the window, >= 1.

    Returns:
      A float64 array like `values`.
    """
    values = np.asarray(values, np.float64)
    if isinstance(window, bool) or not isinstance(window, int) or window < 1:
        raise ValueError(f"`window` must be an int >= 1, got {window!r}")
    sums = np.cumsum(np.concatenate([[0.0], values]))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def learning_curve(
    log: EpisodeLog,
    path: str | os.PathLike[str],
    window: int = 50,
    title: str = "Learning curve",
    recorded: list[int] | None = None,
    metrics: Sequence[str] = (),
) -> Path:
    """Writes a PNG of episode return and length (and chosen metrics) over episodes.

    Each episode is a dot (terminated: filled, truncated: hollow), with the moving average of the
    last `window` episodes as a line; the episodes on video are marked. Each metric named in
    `metrics` gets a panel of its own below, drawn the same way (episodes whose metric is NaN,
    such as a "first" metric whose flag never held, are left out).

    Args:
      log: every episode of the run (``fnrec.episode_log``).
      path: the PNG file to write (its folder must exist).
      window: the moving average's window, in episodes.
      title: the figure's title.
      recorded: ids of the episodes on video, marked on the curves.
      metrics: names of the log's per-episode metrics (``log.metrics``) to draw.

    Returns:
      The path written.
    """
    if not isinstance(log, EpisodeLog):
        raise TypeError(
            f"`log` must be an EpisodeLog (fnrec.episode_log), got {type(log).__name__}"
        )
    if isinstance(metrics, str) or not all(name in log.metrics for name in metrics):
        raise ValueError(
            f"`metrics` must be a sequence of the log's metric names {sorted(log.metrics)}, "
            f"got {metrics!r}"
        )
    matplotlib = require("matplotlib", "learning-curve plots")
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    path = Path(path)
    panels = [(log.episode_return, "return"), (log.length, "length")]
    panels += [(log.metrics[name], name) for name in metrics]
    figure, axes = plt.subplots(len(panels), 1, figsize=(8, 3 * len(panels)), sharex=True)
    try:
        for axis, (values, label) in zip(axes, panels, strict=True):
            values = np.asarray(values, np.float64)
            known = ~np.isnan(values)
            ids, values = log.episode_id[known], values[known]
            ended = np.asarray(log.terminated, bool)[known]
            axis.scatter(ids[ended], values[ended], s=4, alpha=0.35, label="terminated")
            axis.scatter(ids[~ended], values[~ended], s=8, alpha=0.6, facecolors="none",
                         edgecolors="tab:green", label="truncated")  # fmt: skip
            axis.plot(ids, moving_average(values, window), color="black", lw=1.5,
                      label=f"mean of last {window}")  # fmt: skip
            for episode in recorded or []:
                axis.axvline(episode, color="tab:red", alpha=0.25, lw=0.8)
            axis.set_ylabel(f"episode {label}")
            axis.grid(alpha=0.3)
        axes[0].legend(loc="upper left", fontsize=8)
        axes[0].set_title(title)
        axes[-1].set_xlabel(
            "episode (in the order they ended)" + ("; red: on video" if recorded else "")
        )
        figure.tight_layout()
        write_atomically(path, lambda file: figure.savefig(file, format="png", dpi=100))
    finally:
        plt.close(figure)
    return path
