"""Host side: the tracker interface, and ``Trackers``, which feeds trackers in the background.

A ``Tracker`` writes to one experiment tracker (TensorBoard, Weights & Biases, MLflow, files).
It has six methods, each called from one worker thread only, so an implementation needs no
locks: ``log_config``, ``log_scalars``, ``log_episodes``, ``log_video``, ``log_image`` and
``close``. Subclass it to add another tracker.

``Trackers([tracker, ...])`` is what a training run calls: inside a jitted program (``tap``, which
calls back every K steps; ``scalars`` through ``jax.debug.callback``; ``episodes`` as the
``stream=`` of ``fnrec.history.episode_history``; ``watch`` of a ``VideoStream``), from a host
loop, or after the run (an ``EpisodeLog``, ``export_videos``' result, a learning curve). Each call
converts its arguments to plain Python and numpy values, puts them in a bounded queue and
returns; one worker thread hands them to every tracker. A tracker that raises never stops the
run: the first failure of each kind warns (a RuntimeWarning naming the tracker and the error),
later ones are counted, and ``close()`` waits for the queue, closes the trackers and returns a
``TrackerReport`` of what was written and what failed.
"""

from __future__ import annotations

import abc
import json
import math
import queue
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, NamedTuple

import jax
import numpy as np
from jax import lax

from fnrec import counter
from fnrec.episodes import Episode
from fnrec.history import HistoryChunk, HistoryState
from fnrec.host.episode_log import EpisodeLog, episode_log
from fnrec.stats import EpisodeStats, merged, summary

KINDS = ("config", "scalars", "episodes", "video", "image")
_LABELS = {  # kind -> (one, several)
    "config": ("config", "configs"),
    "scalars": ("scalar row", "scalar rows"),
    "episodes": ("episode", "episodes"),
    "video": ("video", "videos"),
    "image": ("image", "images"),
    "close": ("close", "closes"),
}


def _counted(kinds: dict[str, int]) -> str:
    return ", ".join(f"{n:,} {_LABELS[k][n != 1]}" for k, n in kinds.items() if n)


WhenFull = Literal["block", "drop"]


class Video(NamedTuple):
    """An mp4 file to log, with what it shows.

    Attributes:
      path: the mp4 file (as fnrec writes it: ``export_videos``, ``VideoStream``, ``RecordVideo``).
      fps: its frames per second (trackers that play it keep this rate).
      step: the x axis value to log it at (the episode id when it shows an episode).
      episode: the episode it shows (``fnrec.Episode``), or None.
      tag: its name in the tracker, under the tracker's prefix (``"video"``: ``fnrec/video``).
    """

    path: Path
    fps: float
    step: int
    episode: Episode | None = None
    tag: str = "video"


class Tracker(abc.ABC):
    """One experiment tracker; ``Trackers`` calls its methods from one worker thread.

    Every tag a tracker writes starts with its `prefix` (``fnrec/return_mean``,
    ``fnrec/episode/return``). Scalars' x axis is the step their caller gives (env-steps for the
    statistics' summary); episodes' x axis is the episode id.

    Args:
      prefix: the start of every tag ("" for none).

    Example::

        >>> class Printer(Tracker):
        ...     name = "printer"
        ...     def log_scalars(self, values, step):
        ...         print(step, {self.tag(k): v for k, v in values.items()})
        ...     def log_episodes(self, episodes):
        ...         print(len(episodes.episode_id), "episodes")
        ...     def log_video(self, video):
        ...         print(video.path.name)
        >>> with Trackers([Printer()]) as trackers:
        ...     trackers.scalars({"return_mean": 9.5}, step=128)
        128 {'fnrec/return_mean': 9.5}
    """

    name: str = "tracker"

    def __init__(self, prefix: str = "fnrec") -> None:
        if not isinstance(prefix, str):
            raise TypeError(f"`prefix` must be a str, got {type(prefix).__name__}")
        self.prefix = prefix.strip("/")

    def tag(self, name: str) -> str:
        """`name` under this tracker's prefix (``"return_mean"`` -> ``"fnrec/return_mean"``)."""
        return f"{self.prefix}/{name}" if self.prefix else name

    def log_config(self, config: Mapping[str, Any]) -> None:  # noqa: B027 (optional to implement)
        """Records the run's configuration (plain JSON values; nested mappings allowed)."""

    @abc.abstractmethod
    def log_scalars(self, values: Mapping[str, float], step: int) -> None:
        """Writes scalars (finite floats, untagged names) at x-axis value `step`."""

    @abc.abstractmethod
    def log_episodes(self, episodes: EpisodeLog) -> None:
        """Writes one entry per finished episode (return, length, ending) at its episode id."""

    @abc.abstractmethod
    def log_video(self, video: Video) -> None:
        """Writes an mp4 video (kept as mp4, at its fps)."""

    def log_image(self, path: Path, tag: str, step: int) -> None:  # noqa: B027
        """Writes a PNG image (a learning curve); by default trackers skip images."""

    def flush(self) -> None:  # noqa: B027 (optional to implement)
        """Sends what the tracker buffered. ``Trackers`` calls it after each burst of items
        (what was queued within its ``gather_seconds``), so that a tracker behind a server can
        send a burst in one request; what was logged counts as written once this returns."""

    def close(self) -> None:  # noqa: B027
        """Flushes and closes; called once, after everything queued was written."""

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


def episode_columns(episodes: EpisodeLog) -> dict[str, np.ndarray]:
    """The per-episode scalars a tracker writes, by untagged name (a helper for trackers).

    Returns:
      ``{"episode/return": float32[n], "episode/length": int64[n], "episode/terminated":
      int64[n] (1 or 0), "episode/env": int64[n]}`` and ``"episode/<name>": float32[n]`` for
      each per-episode metric recorded (``fnrec.stats.metric``), in id order.
    """
    metrics = getattr(episodes, "metrics", {}) or {}
    return {
        "episode/return": np.asarray(episodes.episode_return, np.float32),
        "episode/length": np.asarray(episodes.length, np.int64),
        "episode/terminated": np.asarray(episodes.terminated, np.int64),
        "episode/env": np.asarray(episodes.env, np.int64),
        **{f"episode/{k}": np.asarray(v, np.float32) for k, v in sorted(metrics.items())},
    }


class TrackerReport(NamedTuple):
    """What ``Trackers.close()`` reports.

    Attributes:
      written: tracker name -> kind -> items written (``"episodes"`` counts episodes; the
        other kinds count calls: one ``scalars`` call, one video).
      failed: tracker name -> kind -> items whose write raised.
      errors: the first error of each tracker and kind, as text.
      dropped: items never queued (the queue was full and ``when_full="drop"``).
      waited_seconds: how long callers waited for room in the queue (``when_full="block"``).
    """

    written: dict[str, dict[str, int]]
    failed: dict[str, dict[str, int]]
    errors: list[str]
    dropped: int
    waited_seconds: float

    @property
    def ok(self) -> bool:
        """Whether everything was written by every tracker."""
        return not self.dropped and not any(any(k.values()) for k in self.failed.values())

    def __str__(self) -> str:
        lines = []
        for name, kinds in self.written.items():
            done = _counted(kinds) or "nothing"
            failed = _counted(self.failed[name])
            lines.append(f"{name}: wrote {done}" + (f"; FAILED {failed}" if failed else ""))
        if self.dropped:
            lines.append(f"dropped {self.dropped:,} items (the queue was full)")
        return "\n".join(lines)


def _to_float(value: Any) -> float | None:
    """A finite Python float, or None (NaN: the summary of no episode; not written)."""
    if isinstance(value, counter.Counter64):  # an exact count (episodes, env-steps)
        return float(counter.to_int(value))
    number = float(np.asarray(value).reshape(()))
    return number if math.isfinite(number) else None


def _plain(value: Any) -> Any:
    """`value` as JSON-able Python (numpy and jax scalars and arrays, paths, tuples)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and not hasattr(value, "_fields"):
        return [_plain(v) for v in value]
    if hasattr(value, "_asdict"):  # a NamedTuple (PPOConfig, VideoSettings)
        return _plain(value._asdict())
    if isinstance(value, (str, bool, int, float)) or value is None:
        return value
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        array = np.asarray(value)
        return array.item() if array.ndim == 0 else array.tolist()
    return repr(value)


class Trackers:
    """Logs to several trackers from a background thread with a bounded queue.

    Every method returns once its item is queued (it converts arrays to numpy first, so it can be
    called from ``jax.debug.callback``); one worker thread writes each item to every tracker, in
    the order the items were queued. Use it as a context manager, or call ``close()``.

    Args:
      trackers: the trackers (``fnrec.trackers.TensorBoard``, ``WandB``, ``MLflow``, ``Files``,
        or any ``Tracker``).
      max_pending: items the queue holds; then a call waits (``when_full="block"``, nothing is
        lost) or the item is dropped and counted (``"drop"``, the run never waits).
      when_full: ``"block"`` or ``"drop"``.
      gather_seconds: after taking an item, the worker gathers what else is queued for up to
        this long (at most ``max_pending`` items) and writes it as one burst, flushed once
        (``Tracker.flush``): a tracker behind a server sends a burst in one request. Items
        reach the trackers up to this much later; ``close()`` ends the wait at once. 0 writes
        what is queued at that moment.

    Example::

        >>> import jax, jax.numpy as jnp, fnrec
        >>> class Ids(Tracker):
        ...     name = "ids"
        ...     seen = []
        ...     def log_scalars(self, values, step): pass
        ...     def log_episodes(self, episodes): self.seen += episodes.episode_id.tolist()
        ...     def log_video(self, video): pass
        >>> trackers = Trackers([Ids()])
        >>> history = fnrec.history.episode_history(4, stream=trackers.episodes)
        >>> stats, log = fnrec.stats.init(2), history.init(2)
        >>> stats, ended = fnrec.stats.step(stats, 1.0, jnp.array([True, True]), False)
        >>> log = jax.jit(history.step)(log, ended)
        >>> print(trackers.close())
        ids: wrote 2 episodes
        >>> trackers.trackers[0].seen
        [0, 1]
    """

    def __init__(
        self,
        trackers: Sequence[Tracker],
        *,
        max_pending: int = 1024,
        when_full: WhenFull = "block",
        gather_seconds: float = 1.0,
    ) -> None:
        trackers = list(trackers)
        bad = [t for t in trackers if not isinstance(t, Tracker)]
        if not trackers or bad:
            raise TypeError(
                "`trackers` must be a non-empty sequence of fnrec.trackers.Tracker, got "
                f"{[type(t).__name__ for t in trackers] or 'an empty sequence'}"
            )
        names = [t.name for t in trackers]
        if len(set(names)) != len(names):
            raise ValueError(f"`trackers` must have distinct names, got {names}")
        if isinstance(max_pending, bool) or not isinstance(max_pending, int) or max_pending < 1:
            raise ValueError(f"`max_pending` must be an int >= 1, got {max_pending!r}")
        if when_full not in ("block", "drop"):
            raise ValueError(f"`when_full` must be 'block' or 'drop', got {when_full!r}")
        if (
            isinstance(gather_seconds, bool)
            or not isinstance(gather_seconds, (int, float))
            or not 0 <= gather_seconds < float("inf")
        ):
            raise ValueError(
                f"`gather_seconds` must be a finite number >= 0, got {gather_seconds!r}"
            )
        self.gather_seconds = float(gather_seconds)
        self._max_pending = max_pending
        self._gathered = 0  # items taken from the queue, not yet written
        self.trackers = trackers
        self.when_full = when_full
        self.closed = False
        self._queue: queue.Queue[tuple[str, Any] | None] = queue.Queue(max_pending)
        self._written = {t.name: dict.fromkeys(KINDS, 0) for t in trackers}
        self._failed = {t.name: dict.fromkeys((*KINDS, "close"), 0) for t in trackers}
        self._errors: list[str] = []
        self._dropped = 0
        self._waited = 0.0
        self._lock = threading.Lock()
        self._watched: list[WatchedVideos] = []
        self._report: TrackerReport | None = None
        self._thread = threading.Thread(target=self._work, name="fnrec-trackers", daemon=True)
        self._thread.start()

    # The calls: each converts its input and queues it.

    def config(self, config: Mapping[str, Any]) -> None:
        """Logs the run's configuration (a mapping; NamedTuples, arrays and paths are converted).

        Args:
          config: e.g. ``{"ppo": PPOConfig(...), "num_envs": 32, "seed": 0}``.
        """
        if not isinstance(config, Mapping):
            raise TypeError(f"`config` must be a mapping, got {type(config).__name__}")
        plain = _plain(config)
        json.dumps(plain)  # fails here, in the caller, if something cannot be written
        self._put("config", plain)

    def scalars(self, values: Mapping[str, Any], step: Any) -> None:
        """Logs scalars at x-axis value `step` (env-steps, for the statistics' summary).

        Callable from ``jax.debug.callback`` (numpy or jax scalars). Non-finite values (the
        NaN of ``fnrec.stats.summary`` before any episode ended) are left out.

        Args:
          values: name -> scalar (``fnrec.stats.summary(stats)``, a loss, ...).
          step: the x-axis value, an int >= 0.
        """
        if not isinstance(values, Mapping):
            raise TypeError(f"`values` must be a mapping of names to scalars, got {values!r}")
        step = int(np.asarray(step).reshape(()))
        if step < 0:
            raise ValueError(f"`step` must be an int >= 0, got {step}")
        finite = {str(k): f for k, v in values.items() if (f := _to_float(v)) is not None}
        if finite:
            self._put("scalars", (finite, step))

    def tap(
        self,
        stats: EpisodeStats,
        step: Any = None,
        every: int = 1,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        """Inside jit: logs ``fnrec.stats.summary(stats)`` after every `every` steps.

        The scalars (the summary, ``episodes``: the exact episode count, and `extra`) leave the
        program through ``jax.debug.callback`` only on those steps, and are logged at the
        statistics' env-steps (all envs together).

        Args:
          stats: the statistics (``state.stats`` of a recorder's state; one shared queue).
          step: the loop's step index from 0 (traced); None logs on every call.
          every: log after steps ``every - 1``, ``2 * every - 1``, ... (a Python int >= 1).
          extra: more traced scalars to log with them (a loss, a learning rate).
        """
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"`every` must be an int >= 1, got {every!r}")
        stats = merged(stats)  # one queue, also from rings kept per shard
        values = {**summary(stats), "episodes": stats.episode_count, **(extra or {})}

        def send() -> None:
            jax.debug.callback(self._tapped, values, stats.env_steps)

        if step is None or every == 1:
            send()
        else:
            lax.cond(step % every == every - 1, send, lambda: None)

    def _tapped(self, values: Mapping[str, Any], env_steps: counter.Counter64) -> None:
        self.scalars(values, counter.to_int(env_steps))

    def episodes(
        self, episodes: HistoryChunk | HistoryState | EpisodeLog | list[HistoryChunk]
    ) -> None:
        """Logs every finished episode: one entry each, at its episode id.

        Pass this method as the ``stream=`` of ``fnrec.history.episode_history`` (episodes leave
        the jitted run as they end), or call it after the run with a history's state or an
        ``EpisodeLog``.

        Args:
          episodes: a ``HistoryChunk`` (or a list), a ``HistoryState`` or an ``EpisodeLog``.
        """
        log = episodes if isinstance(episodes, EpisodeLog) else episode_log(episodes)
        if len(log.episode_id):
            self._put("episodes", log)

    def video(
        self,
        path: str | Path,
        fps: float,
        *,
        step: int | None = None,
        episode: Episode | None = None,
        tag: str = "video",
    ) -> None:
        """Logs an mp4 file (kept as mp4, at `fps`).

        Args:
          path: the mp4 (e.g. one of ``export_videos(...).videos``' paths, a RecordVideo file).
          fps: its frames per second.
          step: the x-axis value (default: the episode's id, else 0).
          episode: the ``fnrec.Episode`` it shows, if any.
          tag: its name in the trackers (under their prefix).
        """
        path = Path(path)
        if path.suffix.lower() != ".mp4" or not path.is_file():
            raise ValueError(f"`path` must be an existing .mp4 file, got {str(path)!r}")
        fps = float(fps)
        if not math.isfinite(fps) or fps <= 0:
            raise ValueError(f"`fps` must be a positive number, got {fps!r}")
        if step is None:
            step = episode.episode_id if episode is not None else 0
        self._put("video", Video(path, fps, int(step), episode, tag))

    def videos(self, videos: Iterable[Episode] | Any, fps: float) -> int:
        """Logs the videos of written episodes (``export_videos(...)`` or its ``.videos``).

        Args:
          videos: an ``ExportResult``, or ``fnrec.Episode`` values with a ``path``.
          fps: the videos' frames per second (the ``fps=`` they were written with).

        Returns:
          How many videos were queued.
        """
        episodes = list(getattr(videos, "videos", videos))
        for episode in episodes:
            if not isinstance(episode, Episode) or episode.path is None:
                raise TypeError(
                    "`videos` must be an ExportResult or fnrec.Episode values with a path, got "
                    f"{episode!r}"
                )
            self.video(episode.path, fps, episode=episode)
        return len(episodes)

    def image(self, path: str | Path, tag: str, step: int = 0) -> None:
        """Logs a PNG image (a learning curve) under `tag`.

        Args:
          path: the PNG file.
          tag: its name in the trackers (under their prefix).
          step: the x-axis value.
        """
        path = Path(path)
        if path.suffix.lower() != ".png" or not path.is_file():
            raise ValueError(f"`path` must be an existing .png file, got {str(path)!r}")
        self._put("image", (path, str(tag), int(step)))

    def learning_curve(self, log: EpisodeLog, path: str | Path, **kwargs: Any) -> Path:
        """Draws ``fnrec.learning_curve(log, path, **kwargs)`` (matplotlib) and logs the PNG.

        Returns:
          The PNG's path.
        """
        from fnrec.host.plots import learning_curve

        written = learning_curve(log, path, **kwargs)
        self.image(written, "learning_curve", int(log.episode_id[-1]) if len(log.episode_id) else 0)
        return written

    def on_update(
        self, env_steps_per_update: int, names: Iterable[str] | None = None
    ) -> Callable[[Any, Mapping[str, Any]], None]:
        """A host function for a trainer's per-update callback ``(update_index, metrics)``
        (``fnrec.demo.ppo.make_train(on_update=...)``): logs `metrics` at the env-steps so far.

        Args:
          env_steps_per_update: env-steps per update (envs x rollout steps).
          names: the metrics to log (default: all).

        Returns:
          ``callback(update_index, metrics)``.
        """
        keep = None if names is None else set(names)

        def callback(index: Any, metrics: Mapping[str, Any]) -> None:
            step = (int(np.asarray(index)) + 1) * env_steps_per_update
            picked = {k: v for k, v in metrics.items() if keep is None or k in keep}
            self.scalars(picked, step)

        return callback

    def watch(self, stream: Any) -> WatchedVideos:
        """Wraps a ``fnrec.VideoStream`` so that each video it finishes is logged.

        Pass the result as the capture's ``stream=``; it hands every episode to `stream` and,
        on each call and at ``close()``, logs the videos `stream` finished since (at its fps).
        ``close()`` closes `stream`.

        Returns:
          A callable for ``fnrec.capture.episode_capture(stream=...)``.
        """
        watched = WatchedVideos(stream, self)
        self._watched.append(watched)
        return watched

    @property
    def pending(self) -> int:
        """Items queued or gathered and not yet written (approximate)."""
        return self._queue.qsize() + self._gathered

    @property
    def videos_waiting(self) -> int:
        """Episodes handed to watched video streams whose videos are not written yet."""
        return sum(w.waiting for w in self._watched)

    # The worker.

    def _put(self, kind: str, item: Any) -> None:
        if self.closed:
            raise RuntimeError(f"Trackers is closed; this {kind} item is not logged")
        if self.when_full == "drop":
            try:
                self._queue.put_nowait((kind, item))
            except queue.Full:
                with self._lock:
                    self._dropped += 1
            return
        try:
            self._queue.put_nowait((kind, item))
        except queue.Full:
            start = time.perf_counter()
            self._queue.put((kind, item))
            with self._lock:
                self._waited += time.perf_counter() - start

    def _work(self) -> None:
        ended = False
        while not ended and (entry := self._queue.get()) is not None:
            # And what is queued within `gather_seconds` (close() ends it): one flush for all.
            burst, deadline = [entry], time.monotonic() + self.gather_seconds
            self._gathered = 1
            while len(burst) < self._max_pending:
                try:
                    entry = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
                except queue.Empty:
                    break
                if entry is None:
                    ended = True
                    break
                burst.append(entry)
                self._gathered = len(burst)
            for tracker in self.trackers:
                logged = dict.fromkeys(KINDS, 0)
                for kind, item in burst:
                    self._call(tracker, kind, item, logged)
                self._flush(tracker, logged)
            self._gathered = 0

    def _flush(self, tracker: Tracker, logged: dict[str, int]) -> None:
        """Flushes `tracker`; the items it took since the last flush are written, or failed."""
        try:
            tracker.flush()
        except Exception as error:
            for kind, count in logged.items():
                if count:
                    self._failure(tracker, kind, count, error)
        else:
            for kind, count in logged.items():
                self._written[tracker.name][kind] += count

    def _call(self, tracker: Tracker, kind: str, item: Any, logged: dict[str, int]) -> None:
        count = len(item.episode_id) if kind == "episodes" else 1
        try:
            if kind == "config":
                tracker.log_config(item)
            elif kind == "scalars":
                tracker.log_scalars(*item)
            elif kind == "episodes":
                tracker.log_episodes(item)
            elif kind == "video":
                tracker.log_video(item)
            else:
                tracker.log_image(*item)
        except Exception as error:  # reported; the run goes on
            self._failure(tracker, kind, count, error)
        else:
            logged[kind] += count

    def _failure(self, tracker: Tracker, kind: str, count: int, error: BaseException) -> None:
        first = not self._failed[tracker.name][kind]
        self._failed[tracker.name][kind] += count
        if first:
            text = (
                f"{tracker.name} ({type(tracker).__name__}) {kind}: {type(error).__name__}: {error}"
            )
            self._errors.append(text)
            warnings.warn(
                f"fnrec.trackers: {text}; training goes on (later {kind} failures of this "
                "tracker are counted, see Trackers.close())",
                RuntimeWarning,
                stacklevel=1,
            )

    def close(self) -> TrackerReport:
        """Closes watched video streams, writes everything queued, closes the trackers.

        Returns:
          A ``TrackerReport`` (also when called again).
        """
        if self._report is not None:
            return self._report
        jax.effects_barrier()  # callbacks of a program still running arrive first
        for watched in self._watched:
            watched.finish()
        self.closed = True
        self._queue.put(None)
        self._thread.join()
        for tracker in self.trackers:
            try:
                tracker.close()
            except Exception as error:
                self._failure(tracker, "close", 1, error)
        self._report = TrackerReport(
            written={k: dict(v) for k, v in self._written.items()},
            failed={k: dict(v) for k, v in self._failed.items()},
            errors=list(self._errors),
            dropped=self._dropped,
            waited_seconds=self._waited,
        )
        return self._report

    def __enter__(self) -> Trackers:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class WatchedVideos:
    """A ``VideoStream`` whose finished videos are logged to ``Trackers`` (see ``watch``).

    Attributes:
      stream: the wrapped stream.
      sent: episodes handed to the stream so far.
    """

    def __init__(self, stream: Any, trackers: Trackers) -> None:
        for needed in ("videos", "failures", "settings", "close"):
            if not hasattr(stream, needed):
                raise TypeError(
                    f"`stream` must be a fnrec.VideoStream, got {type(stream).__name__} "
                    f"(no {needed!r})"
                )
        self.stream = stream
        self.sent = 0
        self._trackers = trackers
        self._logged = 0
        self._lock = threading.Lock()

    @property
    def waiting(self) -> int:
        """Episodes sent whose videos are neither written nor failed yet."""
        return max(0, self.sent - len(self.stream.videos) - len(self.stream.failures))

    def __call__(self, episode: Episode) -> None:
        """Hands `episode` to the stream and logs the videos finished since the last call."""
        self.sent += 1
        self.stream(episode)
        self._log_new()

    def _log_new(self) -> None:
        with self._lock:
            written = list(self.stream.videos)
            new, self._logged = written[self._logged :], len(written)
        for video in new:
            self._trackers.video(video.path, self.stream.settings.fps, episode=video)

    def finish(self) -> None:
        """Closes the stream (a failed video is warned about, not raised) and logs the rest."""
        try:
            self.stream.close()
        except Exception as error:  # the stream warned already; its other videos are logged
            warnings.warn(
                f"fnrec.trackers: the video stream to {self.stream.folder} failed "
                f"({type(error).__name__}: {error}); its written videos are logged",
                RuntimeWarning,
                stacklevel=2,
            )
        self._log_new()
