"""Host side: turn captured episodes (``fnrec.capture``) into mp4 videos, after or during a run.

``export_videos(capture_state, folder, render)`` writes one ``<prefix>-episode-<id>.mp4`` per
stored episode. ``VideoStream(folder, render)`` is the ``stream=`` callable of
``fnrec.capture.episode_capture``: episodes reach it from inside the jitted program as they end,
and a background thread renders and writes them while training goes on.

A renderer maps ONE env state (as kept by the capture) to an HxWx3 frame. With
``on_device=True`` (default) it must be jittable: it runs as ``jax.jit(jax.vmap(render))`` over
chunks of frames on the device (``fnrec.render.cartpole``). With ``on_device=False`` it is called
on the host, frame by frame, with numpy states (a FuncEnv's ``render_image`` through
``FuncEnvRenderer``, pygame, MuJoCo's renderer). Without a renderer the captured items must
already be frames (``episode_capture(content=renderer)``).
"""

from __future__ import annotations

import contextlib
import functools
import os
import queue
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from fnrec._processes import on_process_zero
from fnrec.capture import CaptureState, read_settings
from fnrec.episodes import Episode
from fnrec.host.captured import read_capture
from fnrec.host.frames import Yuv420Frame, rgb_to_yuv420
from fnrec.host.progress import Progress
from fnrec.host.video_recorder import make_video_folder
from fnrec.host.video_settings import (
    DEFAULT_FPS,
    DEFAULT_NAME_PREFIX,
    VideoSettings,
    video_settings,
)
from fnrec.host.video_writer import VideoWriteError, VideoWriter
from fnrec.host.videos_in_flight import VideosInFlight

Renderer = Callable[[Any], Any]


class ExportResult(NamedTuple):
    """What ``export_videos`` wrote and what the capture could not keep.

    Attributes:
      videos: the episodes written, each a ``fnrec.Episode`` with its video's ``path``, in the order
        they ended.
      dropped_full: triggered episodes dropped because the capture's store was full.
      dropped_too_long: triggered episodes dropped for being longer than ``max_episode_steps``.
    """

    videos: list[Episode]
    dropped_full: int
    dropped_too_long: int


class FuncEnvRenderer:
    """A host renderer from a Gymnasium FuncEnv's ``render_init``/``render_image``.

    Args:
      func_env: the FuncEnv (unwrapped, as the capture keeps its states).
      params: its params (None for the defaults).
      **render_kwargs: passed to ``render_init``.

    Use ``on_device=False``; call ``close()`` when done (or use it as a context manager).
    """

    def __init__(self, func_env: Any, params: Any = None, **render_kwargs: Any) -> None:
        self.func_env = func_env
        self.params = getattr(func_env, "default_params", None) if params is None else params
        self.render_state = func_env.render_init(**render_kwargs)

    def __call__(self, env_state: Any) -> np.ndarray:
        self.render_state, image = self.func_env.render_image(
            env_state, self.render_state, self.params
        )
        return np.array(image, copy=True)

    def close(self) -> None:
        """Closes the render state (pygame surfaces); safe to call twice."""
        if self.render_state is not None:
            self.func_env.render_close(self.render_state)
            self.render_state = None

    def __enter__(self) -> FuncEnvRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_chunk(chunk: Any) -> int:
    if isinstance(chunk, bool) or not isinstance(chunk, (int, np.integer)) or chunk < 1:
        raise ValueError(f"`chunk` must be an int >= 1, got {chunk!r}")
    return int(chunk)


class _Frames:
    """Turns an episode's items into frames with the chosen renderer."""

    def __init__(self, render: Renderer | None, on_device: bool, chunk: int) -> None:
        if render is not None and not callable(render):
            raise TypeError(f"`render` must be None or a callable, got {type(render).__name__}")
        if isinstance(render, FuncEnvRenderer) and on_device:
            raise ValueError(
                "`render` is a FuncEnvRenderer, which draws on the host (pygame): pass "
                "on_device=False"
            )
        self.render = render
        self.on_device = on_device
        self.chunk = chunk
        self._batched = _batched(render) if render is not None and on_device else None
        self._yuv420: bool | None = None  # known at the first chunk: frames converted on device

    def __call__(self, items: Any) -> Iterator[np.ndarray | Yuv420Frame]:
        count = len(jax.tree.leaves(items)[0])
        if self.render is None:
            (frames,) = jax.tree.leaves(items) if len(jax.tree.leaves(items)) == 1 else (None,)
            if frames is None:
                raise ValueError(
                    "`render` is None, so the captured items must be frames (one array per "
                    "frame); they are a pytree of several arrays: pass a renderer"
                )
            yield from frames
        elif self._batched is None:
            for index in range(count):
                yield self.render(jax.tree.map(lambda x, i=index: x[i], items))
        else:
            # Each chunk is dispatched before the previous one is handed out: the device renders
            # chunk k + 1 while the encoder takes chunk k (at most two chunks held at once).
            previous = None
            for start in range(0, count, self.chunk):
                part = jax.tree.map(lambda x, s=start: x[s : s + self.chunk], items)
                size = len(jax.tree.leaves(part)[0])
                if size < self.chunk:  # one compiled shape for every chunk
                    pad = self.chunk - size
                    part = jax.tree.map(lambda x, pad=pad: _pad_last(x, pad), part)
                rendered = self._on_device(part), size
                if previous is not None:
                    yield from self._rows(*previous)
                previous = rendered
            if previous is not None:
                yield from self._rows(*previous)

    def _on_device(self, part: Any) -> Any:
        assert self._batched is not None
        try:
            frames = self._batched(part)
        except (jax.errors.TracerArrayConversionError, jax.errors.ConcretizationTypeError) as e:
            raise TypeError(
                "`render` is not jittable, but on_device=True runs it as "
                "jax.jit(jax.vmap(render)): pass on_device=False to call it on the host, frame by "
                f"frame ({type(e).__name__}: {str(e).splitlines()[0]})"
            ) from None
        if self._yuv420 is None:
            self._yuv420 = _encodable(frames)
        return _to_yuv420(frames) if self._yuv420 else frames

    def _rows(self, frames: Any, size: int) -> Iterator[np.ndarray | Yuv420Frame]:
        rows = np.asarray(frames)[:size]
        return map(Yuv420Frame, rows) if self._yuv420 else iter(rows)


@functools.partial(jax.jit, static_argnums=0)
def _render_batch(render: Renderer, part: Any) -> Any:
    return jax.vmap(render)(part)


# A program of its own: fused into the renderer's program XLA's CPU code is 3-5x slower.
_to_yuv420 = jax.jit(jax.vmap(rgb_to_yuv420))


def _batched(render: Renderer) -> Callable[[Any], Any]:
    """``jax.jit(jax.vmap(render))``, compiled once per renderer and chunk shape for every
    export and stream (jit's own cache, keyed by the renderer; an unhashable renderer compiles
    once per call)."""
    try:
        hash(render)
    except TypeError:
        return jax.jit(jax.vmap(render))
    return functools.partial(_render_batch, render)


def _encodable(frames: Any) -> bool:
    """Whether rendered frames can be converted to yuv420p on the device: uint8 [n, H, W, 3]
    with H and W even (others go to the writer as they are: it converts, pads or explains)."""
    if not isinstance(frames, jax.Array):
        return False
    shape = frames.shape
    return (
        frames.dtype == np.uint8
        and len(shape) == 4
        and shape[-1] == 3
        and all(side > 0 and side % 2 == 0 for side in shape[1:3])
    )


def _pad_last(x: Any, pad: int) -> Any:
    """`x` with its last row repeated `pad` times (jax for a PRNG key leaf, else numpy)."""
    if isinstance(x, jax.Array):  # a jax.random.key leaf (read_capture keeps those on device)
        return jnp.concatenate([x, jnp.repeat(x[-1:], pad, 0)])
    return np.concatenate([x, np.repeat(x[-1:], pad, 0)])


class _Videos:
    """Writes episodes one after another, each finishing in the background while the next one
    renders (a bounded number at once); keeps the written ones in order, and the failures."""

    def __init__(
        self, folder: Path, frames: _Frames, settings: VideoSettings, rank_in_name: bool = False
    ) -> None:
        self.folder = folder
        self.rank_in_name = rank_in_name
        self.frames = frames
        self.settings = settings
        self.written: list[Episode] = []
        self.failures: list[VideoWriteError] = []
        self._in_flight = VideosInFlight()
        self._pending: dict[int, Episode] = {}

    def write(self, episode: Episode, repeat: int = 0) -> list[Episode]:
        """Renders and encodes one episode (atomically, as every fnrec video).

        Returns:
          The videos that finished meanwhile, in order.

        Raises:
          What rendering raises, and the ValueError of a frame the writer cannot take; the
          video is then discarded.
        """
        path = self.path_of(episode, repeat)
        writer = self.settings.writer(path)
        with contextlib.ExitStack() as on_error:
            on_error.callback(writer.abort)
            for frame in self.frames(episode.items):
                writer.append(frame)
            on_error.pop_all()
        self._pending[id(writer)] = episode._replace(items=None, path=path)
        return self._sort(self._in_flight.add(writer))

    def path_of(self, episode: Episode, repeat: int = 0) -> Path:
        """Where `episode`'s video goes."""
        env = episode.env if episode.ids_per_env else None
        rank = episode.rank if self.rank_in_name else None
        name = self.settings.file_name(episode.episode_id, env=env, repeat=repeat, rank=rank)
        return self.folder / name

    def finish(self) -> list[Episode]:
        """Waits for every video in flight; returns those that finished, in order."""
        return self._sort(self._in_flight.collect(wait=True))

    def _sort(self, finished: list[VideoWriter]) -> list[Episode]:
        done = []
        for writer in finished:
            video = self._pending.pop(id(writer))
            if writer.error is not None:
                self.failures.append(writer.error)
            elif writer.written is not None:
                self.written.append(video)
                done.append(video)
        return done


def _refuse_replacing(folder: Path, existing: list[Path], overwrite: bool) -> None:
    """Raises FileExistsError for videos of an earlier run that writing would replace."""
    if existing and not overwrite:
        names = ", ".join(p.name for p in existing[:3]) + (" ..." if len(existing) > 3 else "")
        raise FileExistsError(
            f"`video_folder` {folder} already holds {len(existing)} video(s) this would replace "
            f"({names}), from an earlier run: choose another video_folder or name_prefix, or "
            "pass overwrite=True to replace them"
        )


def export_videos(
    capture_state: CaptureState,
    video_folder: str | os.PathLike[str],
    render: Renderer | None = None,
    *,
    on_device: bool = True,
    fps: float = DEFAULT_FPS,
    name_prefix: str = DEFAULT_NAME_PREFIX,
    settings: VideoSettings | None = None,
    progress: bool = False,
    chunk: int = 64,
    overwrite: bool = False,
    rank_in_name: bool = False,
) -> ExportResult:
    """Writes one mp4 per stored episode of a capture state, ``<prefix>-episode-<id>.mp4``.

    Where ids count each env's own episodes and several envs are captured (several watched
    envs, or one capture per env under ``jax.vmap``), the name says the env too:
    ``<prefix>-env-<env>-episode-<id>.mp4``.

    Args:
      capture_state: a CaptureState after the run (possibly vmapped: one capture per env).
      video_folder: where the videos go (created if missing).
      render: a renderer of one captured env state (see the module docstring), or None when the
        captured items are frames.
      on_device: True: `render` is jittable and runs batched on the device; False: it runs on
        the host, frame by frame, with numpy states.
      fps: frames per second of the videos.
      name_prefix: the file name prefix.
      settings: the encoder, preset, crf (and fps, name_prefix, given once): a
        `fnrec.VideoSettings`.
      progress: show progress on stderr (``fnrec.host.progress.Progress``): a tqdm bar in a
        terminal where tqdm is installed (the ``progress`` extra), else whole lines, about one
        per 10% of the videos.
      chunk: frames rendered per device call (bounds device memory).
      overwrite: replace videos of an earlier run of the same names; by default they are
        refused (FileExistsError, before anything is rendered).
      rank_in_name: name each video of a ranked store (``keep=``) with its rank too,
        ``<prefix>-rank-<rank>-episode-<id>.mp4`` (1: the best kept); needs a ranked store.

    Returns:
      An ExportResult: the videos (each a ``fnrec.Episode`` with its ``path``) in the
      order the episodes ended, and the counts of dropped episodes. Each video finishes encoding
      in the background while the next one renders; all are written when this returns. If a
      video fails, no later one is started, the videos before it are finished, the failed one
      leaves no file, and its error (naming the video) is raised.
    """
    checked = video_settings(settings, fps, name_prefix)
    frames = _Frames(render, on_device, _check_chunk(chunk))
    summary = read_capture(capture_state)
    if not isinstance(rank_in_name, bool):
        raise TypeError(f"`rank_in_name` must be a bool, got {rank_in_name!r}")
    if rank_in_name and read_settings(capture_state).ranked is None:
        raise ValueError(
            "`rank_in_name=True` needs a ranked store (episode_capture(keep=best(...), "
            "worst(...) or most_recent())); this capture stores episodes in the order they end"
        )
    folder = make_video_folder(video_folder)
    videos = _Videos(folder, frames, checked, rank_in_name)
    paths = [videos.path_of(episode) for episode in summary.episodes]
    # Every process read the whole state; process 0 alone writes (each video exactly once).
    count = on_process_zero(
        lambda: _write_all(videos, summary.episodes, paths, overwrite, progress),
        "fnrec.export_videos",
    )
    written = videos.written or [
        episode._replace(items=None, path=path)
        for episode, path in zip(summary.episodes[:count], paths, strict=False)
    ]
    return ExportResult(written, summary.dropped_full, summary.dropped_too_long)


def _write_all(
    videos: _Videos, episodes: list[Episode], paths: list[Path], overwrite: bool, progress: bool
) -> int:
    """Writes every episode's video (refusing to replace an earlier run's); returns how many."""
    _refuse_replacing(videos.folder, [p for p in paths if p.exists()], overwrite)
    meter = Progress(len(episodes), "fnrec export_videos", unit="videos", enabled=progress)
    frames_written = 0

    def written(video: Episode) -> None:
        nonlocal frames_written
        frames_written += video.length + 1
        rate = frames_written / max(meter.seconds, 1e-9)
        meter.update(detail=f"{frames_written:,} frames ({rate:,.0f} frames/s)")

    with meter:
        try:
            for episode in episodes:
                for video in videos.write(episode):
                    written(video)
                if videos.failures:
                    break
        finally:
            for video in videos.finish():  # also after an error: videos already ended are kept
                written(video)
    if videos.failures:
        raise videos.failures[0]
    return len(videos.written)


class VideoStream:
    """Receives episodes streamed out of a jitted run and writes them in a background thread.

    Pass it as ``fnrec.capture.episode_capture(..., stream=VideoStream(folder, render))``. Each
    call (from ``jax.debug.callback``, only on steps where a chosen episode ends) copies the
    episode and returns at once; one worker thread renders and encodes, so training goes on.
    At most `max_pending` episodes wait (then the callback, and so the run, waits): memory stays
    bounded. A capture that starts again (an env reset inside a trainer, such as each of brax's
    evaluations) sends its ids again: a name this stream already wrote gets ``-repeat-<k>``
    (``eval-episode-0-repeat-1.mp4``), so that no video is overwritten. A video that fails (disk
    full, bad frame) never stops the run: the worker warns, naming the video and the reason,
    goes on with the next episodes, and ``close()`` raises the first failure after every other
    video is written.

    Args:
      video_folder: where the videos go (created if missing).
      render: as in ``export_videos``.
      on_device: as in ``export_videos``.
      fps: frames per second.
      name_prefix: the file name prefix.
      settings: as in ``export_videos``.
      max_pending: episodes waiting for the worker before a call blocks.
      chunk: frames rendered per device call.
      overwrite: write into a folder that holds videos of this prefix from an earlier run
        (replacing those of the same names); by default it is refused (FileExistsError), as
        the names of the episodes to come are not known yet.

    Attributes:
      videos: the Episode of every video written so far, in the order they were written.
      failures: the errors of the videos that failed so far.
    """

    def __init__(
        self,
        video_folder: str | os.PathLike[str],
        render: Renderer | None = None,
        *,
        on_device: bool = True,
        fps: float = DEFAULT_FPS,
        name_prefix: str = DEFAULT_NAME_PREFIX,
        settings: VideoSettings | None = None,
        max_pending: int = 8,
        chunk: int = 64,
        overwrite: bool = False,
    ) -> None:
        self.settings = video_settings(settings, fps, name_prefix)
        if isinstance(max_pending, bool) or not isinstance(max_pending, int) or max_pending < 1:
            raise ValueError(f"`max_pending` must be an int >= 1, got {max_pending!r}")
        self.folder = make_video_folder(video_folder)
        earlier = sorted(self.folder.glob(f"{self.settings.name_prefix}-*.mp4"))
        _refuse_replacing(self.folder, earlier, overwrite)
        self._videos = _Videos(
            self.folder, _Frames(render, on_device, _check_chunk(chunk)), self.settings
        )
        self.videos: list[Episode] = self._videos.written
        self.failures: list[BaseException] = []
        self._queue: queue.Queue[Episode | None] = queue.Queue(max_pending)
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._work, name="fnrec-video-stream", daemon=True)
        self._thread.start()
        self.closed = False

    def __call__(self, episode: Episode) -> None:
        """Queues one streamed episode (called by the capture through ``jax.debug.callback``)."""
        if self.closed:
            raise RuntimeError(
                f"VideoStream to {self.folder} is closed; it takes no episodes (episode "
                f"{episode.episode_id} of env {episode.env} is not written)"
            )
        self._queue.put(episode)

    def _work(self) -> None:
        seen: dict[tuple[int, int | None], int] = {}
        while (episode := self._queue.get()) is not None:
            key = (episode.episode_id, episode.env if episode.ids_per_env else None)
            repeat = seen[key] = seen.get(key, -1) + 1
            try:
                self._videos.write(episode, repeat)
            except Exception as error:  # reported, never stops the run
                self._failed(
                    f"episode {episode.episode_id} (env {episode.env}) was not written: {error}",
                    error,
                )
            self._report()
        self._videos.finish()
        self._report()

    def _report(self) -> None:
        """Warns about the videos that failed in the background since the last report."""
        while self._videos.failures:
            error = self._videos.failures.pop(0)
            self._failed(str(error), error)

    def _failed(self, message: str, error: Exception) -> None:
        warnings.warn(f"fnrec.VideoStream: {message}", RuntimeWarning, stacklevel=1)
        with self._lock:
            self.failures.append(error)

    def close(self) -> list[Episode]:
        """Waits for every queued video, stops the worker and raises the first failure, if any.

        Returns:
          Every video written.
        """
        if not self.closed:
            self.closed = True
            jax.effects_barrier()  # callbacks still running in a dispatched program arrive first
            self._queue.put(None)
            self._thread.join()
        if self.failures:
            raise self.failures[0]
        return list(self.videos)

    def __enter__(self) -> VideoStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
