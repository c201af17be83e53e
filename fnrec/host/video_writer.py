"""Streaming mp4 writer: frames go to ffmpeg from a background thread; the file appears atomically.

We start imageio-ffmpeg's ffmpeg binary ourselves rather than through `imageio_ffmpeg.write_frames`:
that generator never checks ffmpeg's exit status, so a video cut short by a full disk or a killed
encoder would look finished and be renamed into place.
"""

from __future__ import annotations

import contextlib
import fcntl
import math
import numbers
import os
import queue
import signal
import subprocess
import tempfile
import threading
import warnings
import weakref
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any

import imageio_ffmpeg
import numpy as np
from numpy.typing import ArrayLike

from fnrec.host.frames import describe, pad_to, padded_size, to_rgb_uint8

# The writer passes fps to ffmpeg as a fraction with denominator <= 1001: smaller rates round to 0,
# which ffmpeg rejects; above about 1,001,000 ffmpeg silently writes a lower rate.
MIN_FPS = 1 / 1001
MAX_FPS = 1_000_000
DEFAULT_PRESET = "superfast"
DEFAULT_CRF = 23
_PIPE_BYTES = 1 << 20
_END = object()  # tells the feeder thread that no more frames come


def _current_umask() -> int:
    """The process umask, read from /proc where possible (os.umask can only read by setting)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_fps(fps: Any) -> float:
    """Checks a frame rate.

    Args:
      fps: frames per second.

    Returns:
      `fps` as a float.

    Raises:
      TypeError: `fps` is not a real number (a bool, a string, None ...).
      ValueError: `fps` is NaN, infinite or outside [MIN_FPS, MAX_FPS].
    """
    if isinstance(fps, bool) or not isinstance(fps, numbers.Real):
        raise TypeError(f"fps must be a real number > 0, got {type(fps).__name__}: {fps!r}")
    if not (math.isfinite(fps) and MIN_FPS <= fps <= MAX_FPS):
        raise ValueError(
            f"fps must be a finite number in [1/1001, {MAX_FPS}] (the range ffmpeg encodes "
            f"faithfully), got {fps!r}"
        )
    return float(fps)


class VideoWriteError(RuntimeError):
    """A video could not be written. `path` is the video that failed, `reason` says why."""

    def __init__(self, path: Path, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"video {path} was not written: {reason}")


class _Encoder:
    """One ffmpeg process writing `temp_path`, fed from a bounded queue by a daemon thread."""

    def __init__(self, command: list[str], temp_path: Path, queue_frames: int):
        self.temp_path = temp_path
        self.error: OSError | None = None
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in discard())
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_frames)
        self._ended = False
        # A new session keeps a terminal's Ctrl-C away from ffmpeg: the writer decides. It is
        # asked for with start_new_session, not preexec_fn=os.setpgrp (imageio-ffmpeg's way):
        # without a Python preexec function CPython spawns ffmpeg with vfork/exec, so JAX's
        # "os.fork() was called" warning never fires and the JAX process is never forked.
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            start_new_session=True,
        )
        if hasattr(fcntl, "F_SETPIPE_SZ"):  # Linux: fewer, larger pipe writes per frame
            with contextlib.suppress(OSError):
                fcntl.fcntl(self.process.stdin.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
        self._thread = threading.Thread(target=self._feed, name=f"fnrec-{temp_path.name}")
        self._thread.daemon = True
        self._thread.start()

    def _feed(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        while (item := self._queue.get()) is not _END:
            if self.error is None:  # after a failure keep draining so that put() never blocks
                try:
                    stdin.write(item)  # type: ignore[arg-type]
                except OSError as err:
                    self.error = err
        try:
            stdin.close()
        except OSError as err:
            self.error = self.error or err

    def put(self, frame: np.ndarray) -> None:
        self._queue.put(frame)

    def _end_input(self) -> None:
        if not self._ended:
            self._ended = True
            self._queue.put(_END)
        self._thread.join()

    def finish(self) -> str | None:
        """Sends end-of-input and waits for ffmpeg; returns why it failed, or None."""
        self._end_input()
        code = self.process.wait()
        if code < 0:
            return f"the ffmpeg encoder was killed by {signal.Signals(-code).name}"
        if code > 0:
            return f"the ffmpeg encoder exited with status {code}: {self.stderr_tail()}"
        if self.error is not None:
            return f"sending frames to ffmpeg failed: {self.error}"
        return None

    def stderr_tail(self, chars: int = 600) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return text[-chars:] if text else "(no message from ffmpeg)"

    def discard(self) -> None:
        """Kills ffmpeg if it runs and removes the temporary file. Safe to call more than once."""
        if self.process.poll() is None:
            self.process.kill()
        self._end_input()
        self.process.wait()
        self._stderr.close()
        with contextlib.suppress(FileNotFoundError):
            self.temp_path.unlink()


class VideoWriter:
    """Writes one mp4 video frame by frame, never holding more than `queue_frames` frames.

    The video is encoded while frames arrive, under a temporary name in the same folder, and
    renamed to `path` only when ffmpeg finished successfully. On any failure (a bad frame, the
    encoder dying, a full disk, an exception or KeyboardInterrupt inside a `with` block) the
    temporary file is removed, no file named `path` is created, and the error names the video and
    the reason.

    Frames: uint8 HxWx3 as is; float frames in [0, 1] and grayscale HxW or HxWx1 are converted.
    A size that H.264 (yuv420p) cannot take, an odd height or width, is padded by one edge row or
    column (never resized), with one warning. Every frame must have the size of the first frame.

    Example:
      >>> with VideoWriter("videos/run.mp4", fps=50) as writer:  # doctest: +SKIP
      ...     for frame in frames:
      ...         writer.append(frame)
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        fps: float = 30,
        *,
        preset: str = DEFAULT_PRESET,
        crf: int = DEFAULT_CRF,
        queue_frames: int = 16,
    ):
        """Prepares the writer; ffmpeg starts with the first frame.

        Args:
          path: the final video file, in an existing folder; an older file is replaced on success.
          fps: frames per second, a real number in [1/1001, 1e6].
          preset: libx264 speed/size preset ("ultrafast" ... "veryslow"); faster is larger.
          crf: libx264 constant rate factor, 0 (lossless) to 51; lower is better quality.
          queue_frames: frames waiting for the encoder before `append` blocks (bounds memory).
        """
        fps = check_fps(fps)
        if queue_frames < 1:
            raise ValueError(f"queue_frames must be at least 1, got {queue_frames!r}")
        self.path = Path(path).absolute()
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"video {self.path}: folder {self.path.parent} does not exist")
        self.fps = fps
        self.preset = preset
        self.crf = crf
        self.queue_frames = queue_frames
        self.frame_count = 0
        self.closed = False
        self.written: Path | None = None
        self._first_shape: tuple[int, ...] | None = None
        self._size: tuple[int, int] = (0, 0)
        self._padded: tuple[int, int] = (0, 0)
        self._encoder: _Encoder | None = None
        self._finalizer: weakref.finalize | None = None

    def _command(self, temp_path: Path) -> list[str]:
        height, width = self._padded
        rate = str(Fraction(self.fps).limit_denominator(1001))
        return [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-y", "-nostdin", "-v", "error",
            "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-r", rate,
            "-i", "-", "-an",
            "-vcodec", "libx264", "-pix_fmt", "yuv420p",
            "-preset", self.preset, "-crf", str(self.crf),
            str(temp_path),
        ]  # fmt: skip

    def _start(self, frame: np.ndarray, shape: tuple[int, ...]) -> None:
        self._first_shape = shape
        self._size = frame.shape[:2]
        self._padded = padded_size(*self._size)
        if self._padded != self._size:
            warnings.warn(
                f"frames of size {self._size[0]}x{self._size[1]} (HxW) are padded to "
                f"{self._padded[0]}x{self._padded[1]} by repeating the last row/column: H.264 "
                "needs even sizes",
                stacklevel=4,
            )
        fd, temp = tempfile.mkstemp(
            dir=self.path.parent, prefix=f".{self.path.stem}-", suffix=f".partial{self.path.suffix}"
        )
        # mkstemp makes the file private (0600); give the video the mode a plain open() would.
        os.fchmod(fd, 0o666 & ~_current_umask())
        os.close(fd)
        temp_path = Path(temp)
        try:
            self._encoder = _Encoder(self._command(temp_path), temp_path, self.queue_frames)
        except BaseException:
            temp_path.unlink()
            raise
        self._finalizer = weakref.finalize(self, self._encoder.discard)

    def _prepare(self, frame: ArrayLike) -> np.ndarray:
        received = np.asarray(frame)
        try:
            rgb = to_rgb_uint8(received)
        except ValueError as err:
            raise ValueError(f"video {self.path}, frame {self.frame_count}: {err}") from None
        if self._encoder is None:
            self._start(rgb, received.shape)
        elif rgb.shape[:2] != self._size:
            raise ValueError(
                f"video {self.path}, frame {self.frame_count}: expected shape {self._first_shape} "
                f"(the size of the video's first frame); received {describe(received)}"
            )
        if self._padded != self._size:
            return pad_to(rgb, *self._padded)
        return np.array(rgb, order="C")  # a copy: the caller may reuse its buffer

    def append(self, frame: ArrayLike) -> None:
        """Queues one frame for encoding; blocks only while `queue_frames` frames are waiting.

        Args:
          frame: uint8 HxWx3, float in [0, 1], or grayscale HxW / HxWx1, numpy or jax.

        Raises:
          ValueError: the frame has another size than the first frame or an unsupported shape/dtype;
            the video is discarded.
          VideoWriteError: the encoder failed; the video is discarded.
        """
        if self.closed:
            raise RuntimeError(f"video {self.path} is already closed; cannot append frames")
        try:
            prepared = self._prepare(frame)
            assert self._encoder is not None
            if self._encoder.error is not None or self._encoder.process.poll() is not None:
                raise VideoWriteError(self.path, self._encoder.finish() or "ffmpeg stopped early")
            self._encoder.put(prepared)
        except BaseException:
            self.abort()
            raise
        self.frame_count += 1

    def close(self) -> Path | None:
        """Finishes encoding and moves the video to `path`.

        Returns:
          The path of the written video, or None when no frame was appended (nothing is written).

        Raises:
          VideoWriteError: encoding or renaming failed; no file named `path` was created.
        """
        if self.closed:
            return self.written
        if self._encoder is None:
            self.closed = True
            warnings.warn(f"video {self.path} has no frames; nothing was written", stacklevel=2)
            return None
        try:
            reason = self._encoder.finish()
            if reason is not None:
                raise VideoWriteError(self.path, reason)
            try:
                os.replace(self._encoder.temp_path, self.path)
            except OSError as err:
                raise VideoWriteError(
                    self.path, f"renaming the finished file failed: {err}"
                ) from err
        except BaseException:
            self.abort()
            raise
        self.closed = True
        self.written = self.path
        assert self._finalizer is not None
        self._finalizer()  # releases ffmpeg's stderr file; the temp file is already moved
        return self.path

    def abort(self) -> None:
        """Discards the video: stops ffmpeg and removes the temporary file. Safe to call twice."""
        self.closed = True
        if self._finalizer is not None:
            self._finalizer()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
