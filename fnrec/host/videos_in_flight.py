"""Closed videos still encoding in the background, a bounded number at a time."""

from __future__ import annotations

import numbers
from collections import deque

from fnrec.host.video_writer import VideoWriter

DEFAULT_IN_FLIGHT = 2


class VideosInFlight:
    """Lets closed videos finish in the background while the caller goes on, at most `limit` at
    once: adding one more waits for the oldest. Nothing is lost or reported twice: each writer
    comes back exactly once from `add` or `collect`, written (`writer.written`) or failed
    (`writer.error`).
    """

    def __init__(self, limit: int = DEFAULT_IN_FLIGHT):
        """Args:
        limit: videos finishing at once (each holds an encoder, its frames in flight and, with
          the ffmpeg encoder, a process); 0 finishes every video before `add` returns.
        """
        if isinstance(limit, bool) or not isinstance(limit, numbers.Integral) or limit < 0:
            raise ValueError(f"videos_in_flight must be an int >= 0, got {limit!r}")
        self.limit = int(limit)
        self._writers: deque[VideoWriter] = deque()

    def __len__(self) -> int:
        return len(self._writers)

    def add(self, writer: VideoWriter) -> list[VideoWriter]:
        """Closes `writer` without waiting and keeps it until it finishes.

        Returns:
          The writers that finished meanwhile (oldest first), `writer` itself among them when it
          had no frames or the limit made it wait.
        """
        writer.close(wait=False)
        self._writers.append(writer)
        finished = []
        while len(self._writers) > self.limit:
            finished.append(_settled(self._writers.popleft()))
        return finished + self.collect()

    def collect(self, wait: bool = False) -> list[VideoWriter]:
        """The writers that finished, in the order they were added, no longer kept; a video
        that finished early waits for the ones before it, so that results keep their order.

        Args:
          wait: True waits for all of them.
        """
        finished = []
        while self._writers and (wait or self._writers[0].done):
            finished.append(_settled(self._writers.popleft()))
        return finished


def _settled(writer: VideoWriter) -> VideoWriter:
    """`writer` after waiting for it; its error, if any, stays in `writer.error`."""
    try:
        writer.wait()
    except Exception:  # a VideoWriteError, kept on the writer for the caller to report
        if writer.error is None:
            raise
    return writer
