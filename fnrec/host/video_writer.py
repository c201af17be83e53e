"""Streaming mp4 writer: frames go to ffmpeg from a background thread; the file appears atomically.

We start imageio-ffmpeg's ffmpeg binary ourselves rather than through `imageio_ffmpeg.write_frames`:
that generator never checks ffmpeg's exit status, so a video cut short by a full disk or a killed
encoder would look finished and be renamed into place.
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib.util
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

from fnrec._optional import require
from fnrec.host.atomic import temporary_beside
from fnrec.host.frames import Yuv420Frame, describe, pad_to, padded_size, to_rgb_uint8

# The writer passes fps to ffmpeg as a fraction with denominator <= 1001: smaller rates round to 0,
# which ffmpeg rejects; above about 1,001,000 ffmpeg silently writes a lower rate.
MIN_FPS = 1 / 1001
MAX_FPS = 1_000_000
DEFAULT_PRESET = "superfast"
DEFAULT_CRF = 23
_PIPE_BYTES = 1 << 20
_END = object()  # tells the feeder thread that no more frames come


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


PRESETS = (
    "ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow",
    "placebo",
)  # fmt: skip
ENCODERS = ("auto", "pyav", "ffmpeg")
# Up to this rate PyAV's files carry the same timestamps as the ffmpeg program's (checked from
# 1/1001 to 1500 fps); above, PyAV's mp4 muxer drops or mistimes frames: "auto" uses the program.
PYAV_MAX_FPS = 1000


def check_preset(preset: Any) -> str:
    """Raises unless `preset` is one of libx264's presets; returns it."""
    if not isinstance(preset, str):
        raise TypeError(
            f"preset must be a str, one of {', '.join(PRESETS)}; got "
            f"{type(preset).__name__}: {preset!r}"
        )
    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {', '.join(PRESETS)}; got {preset!r}")
    return preset


def check_crf(crf: Any) -> int:
    """Raises unless `crf` is an int in [0, 51] (libx264's range at 8 bits); returns it."""
    if isinstance(crf, bool) or not isinstance(crf, numbers.Integral):
        raise TypeError(
            f"crf must be an int from 0 (lossless) to 51, got {type(crf).__name__}: {crf!r}"
        )
    if not 0 <= crf <= 51:
        raise ValueError(f"crf must be an int from 0 (lossless) to 51, got {crf!r}")
    return int(crf)


def pyav_available() -> bool:
    """True when PyAV (the `pyav` extra) can be imported."""
    return importlib.util.find_spec("av") is not None


def resolve_encoder(encoder: Any, fps: float = 30) -> str:
    """The encoder a writer uses: "pyav" or "ffmpeg".

    Args:
      encoder: "pyav", "ffmpeg" or "auto" (pyav when installed and fps <= PYAV_MAX_FPS).
      fps: the video's frame rate, already checked.

    Raises:
      ValueError: `encoder` is not one of "auto", "pyav", "ffmpeg", or is "pyav" with fps above
        PYAV_MAX_FPS.
      fnrec.MissingDependency: "pyav" was asked for and PyAV is not installed.
    """
    if not isinstance(encoder, str) or encoder not in ENCODERS:
        raise ValueError(
            f"encoder must be one of {', '.join(map(repr, ENCODERS))}; got {encoder!r}"
        )
    if encoder == "auto":
        return "pyav" if fps <= PYAV_MAX_FPS and pyav_available() else "ffmpeg"
    if encoder == "pyav":
        if fps > PYAV_MAX_FPS:
            raise ValueError(
                f'encoder="pyav" writes at most {PYAV_MAX_FPS} fps faithfully, got fps={fps!r}: '
                'use encoder="ffmpeg" (or "auto")'
            )
        require("av", 'encoder="pyav"')
    return encoder


class VideoWriteWarning(UserWarning):
    """A recording wrapper discarded a video that failed; the episodes and other videos go on."""


class _Encoder:
    """Encodes one video into `temp_path` from a daemon thread fed by a bounded queue.

    The thread also finishes the video: once input ends it flushes the encoder and renames the
    temporary file to `final_path` on success, or removes it on failure, so a video closed with
    ``close(wait=False)`` completes in the background. `reason` is why it failed (None: written).
    """

    name = ""

    def __init__(self, temp_path: Path, final_path: Path, queue_frames: int):
        self.temp_path = temp_path
        self.final_path = final_path
        self.reason: str | None = None
        self.broken = False  # set by the thread when writing a frame failed
        self._cancelled = False
        self._lock = threading.Lock()  # orders the rename against discard()
        self._queue: queue.Queue[object] = queue.Queue(maxsize=queue_frames)
        self._ended = False
        self._thread = threading.Thread(target=self._run, name=f"fnrec-{temp_path.name}")
        self._thread.daemon = True  # an open video must not keep the interpreter alive

    def start(self) -> None:
        self._thread.start()

    # Implemented per encoder ------------------------------------------------------------------
    def _write(self, frame: np.ndarray) -> None:
        raise NotImplementedError

    def _finish(self, error: BaseException | None) -> str | None:
        """Ends encoding after the last frame (or after `error`); returns why it failed."""
        raise NotImplementedError

    def failed_early(self) -> bool:
        """True once the video cannot succeed any more (checked before each frame)."""
        return self.broken

    def _kill(self) -> None:
        """Stops the encoder at once (discard)."""

    # Shared -------------------------------------------------------------------------------------
    def _run(self) -> None:
        renamed = False
        try:
            error: BaseException | None = None
            while (item := self._queue.get()) is not _END:
                if error is None and not self._cancelled:
                    try:
                        self._write(item)  # type: ignore[arg-type]
                    except Exception as err:  # the encoder's own failure, reported by name
                        error, self.broken = err, True
            reason = self._finish(error)
            with self._lock:
                if reason is None and self._cancelled:
                    reason = "the video was discarded"
                if reason is None:
                    try:
                        os.replace(self.temp_path, self.final_path)
                        renamed = True
                    except OSError as err:
                        reason = f"renaming the finished file failed: {err}"
            self.reason = reason
        except BaseException as err:  # never leave a thread dying silently
            self.reason = f"the {self.name} encoder thread failed: {err!r}"
        finally:
            if not renamed:
                with contextlib.suppress(OSError):
                    self.temp_path.unlink()

    def put(self, frame: np.ndarray) -> None:
        self._queue.put(frame)

    def end(self) -> None:
        """Ends the input; the thread finishes the video in the background."""
        if not self._ended:
            self._ended = True
            self._queue.put(_END)

    @property
    def done(self) -> bool:
        """True once the video is written or has failed."""
        return self._ended and not self._thread.is_alive()

    def wait(self) -> str | None:
        """Ends the input, waits for the video; returns why it failed, or None (written)."""
        self.end()
        self._thread.join()
        return self.reason

    def discard(self) -> None:
        """Stops encoding and removes the temporary file, unless the video was already renamed
        into place. Safe to call more than once."""
        with self._lock:
            self._cancelled = True
        self._kill()
        self.wait()

    def settle(self) -> None:
        """At garbage collection or exit: an ended video is finished, an open one discarded."""
        if self._ended:
            self.wait()
        else:
            self.discard()


class _FfmpegEncoder(_Encoder):
    """imageio-ffmpeg's ffmpeg binary, fed raw frames through a pipe."""

    name = "ffmpeg"

    def __init__(self, command: list[str], temp_path: Path, final_path: Path, queue_frames: int):
        super().__init__(temp_path, final_path, queue_frames)
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 (closed in _finish)
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
        self.start()

    def _write(self, frame: np.ndarray) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(frame)  # type: ignore[arg-type]

    def failed_early(self) -> bool:
        return self.broken or self.process.poll() is not None

    def _kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()

    def _finish(self, error: BaseException | None) -> str | None:
        assert self.process.stdin is not None
        try:
            self.process.stdin.close()
        except OSError as err:
            error = error or err
        code = self.process.wait()
        try:
            if code < 0:
                return f"the ffmpeg encoder was killed by {signal.Signals(-code).name}"
            if code > 0:
                return f"the ffmpeg encoder exited with status {code}: {self._stderr_tail()}"
            if error is not None:
                return f"sending frames to ffmpeg failed: {error}"
            return None
        finally:
            self._stderr.close()

    def _stderr_tail(self, chars: int = 600) -> str:
        self._stderr.seek(0)
        text = self._stderr.read().decode(errors="replace").strip()
        return text[-chars:] if text else "(no message from ffmpeg)"


class _PyAVEncoder(_Encoder):
    """PyAV (ffmpeg's libraries in this process): no process start per video. Encoding runs in
    the thread; PyAV releases the GIL while libx264 works."""

    name = "pyav"

    def __init__(
        self,
        temp_path: Path,
        final_path: Path,
        queue_frames: int,
        size: tuple[int, int],
        rate: Fraction,
        preset: str,
        crf: int,
        pixel_format: str,
    ):
        super().__init__(temp_path, final_path, queue_frames)
        import av  # checked by resolve_encoder

        self._av = av
        self._pixel_format = pixel_format
        self._container = av.open(str(temp_path), "w", format="mp4")
        try:
            self._stream = self._container.add_stream("libx264", rate=rate)
            self._stream.height, self._stream.width = size
            self._stream.pix_fmt = "yuv420p"
            self._stream.options = {"preset": preset, "crf": str(crf)}
            # One encoder thread per video: on the few cores a rollout leaves free this costs
            # less CPU per frame than x264's frame threads (and starts faster); concurrency
            # comes from the videos in flight, each in its own thread.
            self._stream.codec_context.thread_count = 1
        except BaseException:
            self._container.close()
            raise
        self._time_base = 1 / rate
        self._count = 0
        self.start()

    def _write(self, frame: np.ndarray) -> None:
        video_frame = self._av.VideoFrame.from_ndarray(frame, format=self._pixel_format)
        video_frame.pts, video_frame.time_base = self._count, self._time_base
        self._count += 1
        self._container.mux(self._stream.encode(video_frame))

    def _finish(self, error: BaseException | None) -> str | None:
        try:
            if error is None and not self._cancelled:
                self._container.mux(self._stream.encode(None))  # flushes the encoder
        except Exception as err:
            error = err
        try:
            self._container.close()
        except Exception as err:
            error = error or err
        if error is not None:
            return f"the pyav encoder failed: {error}"
        return None


class VideoWriter:
    """Writes one mp4 video frame by frame, never holding more than `queue_frames` frames.

    The video is encoded while frames arrive, under a temporary name in the same folder, and
    renamed to `path` only when the encoder finished successfully. On any failure (a bad frame,
    the encoder dying, a full disk, an exception or KeyboardInterrupt inside a `with` block) the
    temporary file is removed, no file named `path` is created, and the error names the video and
    the reason. ``close(wait=False)`` lets the video finish in the background; `wait()` then
    returns its path or raises its error.

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
        encoder: str = "auto",
    ):
        """Prepares the writer; the encoder starts with the first frame.

        Args:
          path: the final video file, in an existing folder; an older file is replaced on success.
          fps: frames per second, a real number in [1/1001, 1e6].
          preset: libx264 speed/size preset ("ultrafast" ... "veryslow"); faster is larger.
          crf: libx264 constant rate factor, an int from 0 (lossless) to 51; lower is better.
          queue_frames: frames waiting for the encoder before `append` blocks (bounds memory).
          encoder: "pyav" (in this process, the `pyav` extra), "ffmpeg" (imageio-ffmpeg's
            binary, one process per video) or "auto": pyav when installed, else ffmpeg.

        Raises:
          TypeError, ValueError: a bad argument, named in the message.
          FileNotFoundError, NotADirectoryError: the folder of `path` does not exist, or `path`
            is a folder.
        """
        fps = check_fps(fps)
        check_preset(preset)
        check_crf(crf)
        self.encoder = resolve_encoder(encoder, fps)
        if isinstance(queue_frames, bool) or not isinstance(queue_frames, numbers.Integral):
            raise TypeError(f"queue_frames must be an int >= 1, got {queue_frames!r}")
        if queue_frames < 1:
            raise ValueError(f"queue_frames must be an int >= 1, got {queue_frames!r}")
        self.path = Path(path).absolute()
        if self.path.is_dir():
            raise IsADirectoryError(f"video {self.path}: `path` must be a file name, got a folder")
        if not self.path.parent.is_dir():
            for parent in self.path.parents:
                if parent.exists() and not parent.is_dir():
                    raise NotADirectoryError(
                        f"video {self.path}: `path` must be in a folder, but {parent} is a file"
                    )
            raise FileNotFoundError(f"video {self.path}: folder {self.path.parent} does not exist")
        self.fps = fps
        self.preset = preset
        self.crf = int(crf)
        self.queue_frames = int(queue_frames)
        self.frame_count = 0
        self.closed = False
        self.written: Path | None = None
        self.error: VideoWriteError | None = None
        self._first_shape: tuple[int, ...] | None = None
        self._size: tuple[int, int] = (0, 0)
        self._padded: tuple[int, int] = (0, 0)
        self._pixel_format = "rgb24"  # or "yuv420p": frames converted already (Yuv420Frame)
        self._encoder: _Encoder | None = None
        self._finalizer: weakref.finalize | None = None
        self._in_background = False  # close(wait=False) was called: the video is finishing

    def _command(self, temp_path: Path) -> list[str]:
        height, width = self._padded
        return [
            imageio_ffmpeg.get_ffmpeg_exe(),
            "-y", "-nostdin", "-v", "error",
            "-f", "rawvideo", "-pix_fmt", self._pixel_format, "-s", f"{width}x{height}",
            "-r", str(self._rate),
            "-i", "-", "-an",
            "-vcodec", "libx264", "-pix_fmt", "yuv420p",
            "-preset", self.preset, "-crf", str(self.crf),
            str(temp_path),
        ]  # fmt: skip

    @property
    def _rate(self) -> Fraction:
        return Fraction(self.fps).limit_denominator(1001)

    def _start(self, size: tuple[int, int], shape: tuple[int, ...], pixel_format: str) -> None:
        self._first_shape = shape
        self._size = size
        self._pixel_format = pixel_format
        self._padded = padded_size(*self._size)
        if self._padded != self._size:
            warnings.warn(
                f"frames of size {self._size[0]}x{self._size[1]} (HxW) are padded to "
                f"{self._padded[0]}x{self._padded[1]} by repeating the last row/column: H.264 "
                "needs even sizes",
                stacklevel=4,
            )
        try:
            fd, temp_path = temporary_beside(self.path)
        except OSError as err:
            raise VideoWriteError(self.path, f"cannot create a file in its folder: {err}") from None
        os.close(fd)
        try:
            if self.encoder == "pyav":
                self._encoder = _PyAVEncoder(
                    temp_path,
                    self.path,
                    self.queue_frames,
                    self._padded,
                    self._rate,
                    self.preset,
                    self.crf,
                    pixel_format,
                )
            else:
                self._encoder = _FfmpegEncoder(
                    self._command(temp_path), temp_path, self.path, self.queue_frames
                )
        except BaseException:
            temp_path.unlink()
            raise
        self._finalizer = weakref.finalize(self, self._encoder.settle)

    def _prepare(self, frame: ArrayLike | Yuv420Frame) -> np.ndarray:
        if isinstance(frame, Yuv420Frame):
            return self._prepare_yuv420(frame)
        if self._pixel_format != "rgb24":
            raise ValueError(
                f"video {self.path}, frame {self.frame_count}: expected a Yuv420Frame (as the "
                f"video's first frame); received {describe(np.asarray(frame))}"
            )
        received = np.asarray(frame)
        try:
            rgb = to_rgb_uint8(received)
        except ValueError as err:
            raise ValueError(f"video {self.path}, frame {self.frame_count}: {err}") from None
        if self._encoder is None:
            self._start(rgb.shape[:2], received.shape, "rgb24")
        elif rgb.shape[:2] != self._size:
            raise ValueError(
                f"video {self.path}, frame {self.frame_count}: expected shape {self._first_shape} "
                f"(the size of the video's first frame); received {describe(received)}"
            )
        if self._padded != self._size:
            return pad_to(rgb, *self._padded)
        return np.array(rgb, order="C")  # a copy: the caller may reuse its buffer

    def _prepare_yuv420(self, frame: Yuv420Frame) -> np.ndarray:
        planes = frame.planes
        if (
            planes.dtype != np.uint8
            or planes.ndim != 2
            or planes.shape[0] % 3
            or min(frame.size) < 2
            or any(side % 2 for side in frame.size)
        ):
            raise ValueError(
                f"video {self.path}, frame {self.frame_count}: expected Yuv420Frame planes, uint8 "
                f"[H * 3 // 2, W] with H and W even; received {describe(planes)}"
            )
        if self._encoder is None:
            self._start(frame.size, planes.shape, "yuv420p")
        elif self._pixel_format != "yuv420p" or planes.shape != self._first_shape:
            raise ValueError(
                f"video {self.path}, frame {self.frame_count}: expected a frame like the video's "
                f"first ({self._pixel_format}, {self._first_shape}); received a Yuv420Frame "
                f"{describe(planes)}"
            )
        return np.ascontiguousarray(planes)

    def append(self, frame: ArrayLike | Yuv420Frame) -> None:
        """Queues one frame for encoding; blocks only while `queue_frames` frames are waiting.

        Args:
          frame: uint8 HxWx3, float in [0, 1], or grayscale HxW / HxWx1, numpy or jax; or a
            `fnrec.host.frames.Yuv420Frame` (converted already, as export does on the device).
            One video takes one kind: the first frame's.

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
            if self._encoder.failed_early():
                reason = self._encoder.wait() or f"the {self.encoder} encoder stopped early"
                raise VideoWriteError(self.path, reason)
            self._encoder.put(prepared)
        except BaseException:
            self.abort()
            raise
        self.frame_count += 1

    def close(self, wait: bool = True) -> Path | None:
        """Ends the video and moves it to `path` once encoded.

        Args:
          wait: True waits for the encoder; False returns at once and lets the video finish in
            the background (`done` tells when; `wait()` gives the path or raises the error).

        Returns:
          The path of the written video; None when no frame was appended (nothing is written) or
          when `wait` is False.

        Raises:
          VideoWriteError: encoding or renaming failed; no file named `path` was created.
        """
        if self.closed:
            return self.wait() if wait and self._in_background else self.written
        self.closed = True
        if self._encoder is None:
            warnings.warn(f"video {self.path} has no frames; nothing was written", stacklevel=2)
            return None
        try:
            self._encoder.end()
        except BaseException:
            self._discard()
            raise
        self._in_background = True
        return self.wait() if wait else None

    @property
    def done(self) -> bool:
        """True once the video is closed and written, or has failed."""
        return self.closed and (self._encoder is None or self._encoder.done)

    def wait(self) -> Path | None:
        """Waits for a closed video to finish.

        Returns:
          Its path, or None when it had no frames.

        Raises:
          VideoWriteError: encoding or renaming failed; no file named `path` was created.
          RuntimeError: the video is not closed yet.
        """
        if not self.closed:
            raise RuntimeError(f"video {self.path} is still open: close() it before wait()")
        if self.error is not None:
            raise self.error
        if self._encoder is None or self.written is not None:
            return self.written
        try:
            reason = self._encoder.wait()
        except BaseException:  # interrupted while waiting: the video is not kept half done
            self._discard()
            raise
        if reason is not None:
            self.error = VideoWriteError(self.path, reason)
            raise self.error
        self.written = self.path
        return self.path

    def _discard(self) -> None:
        self._in_background = False
        if self._finalizer is not None and self._finalizer.alive:
            self._finalizer.detach()
        if self._encoder is not None:
            self._encoder.discard()

    def abort(self) -> None:
        """Discards an open video: stops the encoder and removes the temporary file. A video
        already closed (finishing in the background or written) is left alone. Safe to call twice.
        """
        if self._in_background:
            return
        self.closed = True
        self._discard()

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
        elif not self._in_background:
            self.abort()
        else:  # an exception while waiting for a closed video: that video is not kept either
            self._discard()
