"""Host side: one progress display for long work (export, ``check_env``, the demo).

``Progress(total, label, unit=...)`` counts finished items of a known total. Where tqdm is
installed (the ``progress`` extra: ``pip install "fnrec[progress]"``) and the stream is a
terminal, it draws a tqdm bar. Otherwise, without tqdm or when the stream is a log file or a
pipe, it writes whole lines, never a carriage return::

    fnrec export_videos: 4/40 videos (10%) 2.1s, 1,236 frames (589 frames/s)

one line each time the count passes another tenth of the total, and one for the last item.
``enabled=False`` writes nothing.
"""

from __future__ import annotations

import importlib
import sys
import time
from types import TracebackType
from typing import Any, TextIO


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False


def _tqdm_class() -> Any:
    """tqdm's bar class, or None when tqdm is not installed."""
    try:
        return importlib.import_module("tqdm").tqdm
    except ImportError:
        return None


class Progress:
    """Progress of `total` items, shown on `stream` (stderr by default) as they finish.

    Use it as a context manager: entering starts the clock (and a tqdm bar), leaving ends the
    bar's line. ``update`` counts finished items; ``describe`` names the item now running.

    Args:
      total: the number of items (an int >= 0).
      label: what is running, at the start of each line ("fnrec export_videos").
      unit: what an item is, plural ("videos"); shown after the count.
      enabled: False shows nothing.
      stream: where to write (None: ``sys.stderr`` when the display starts).

    Example::

        >>> import io
        >>> out = io.StringIO()
        >>> with Progress(2, "fnrec work", unit="steps", stream=out) as progress:
        ...     progress.update(detail="first")
        ...     progress.update(detail="second")
        >>> print(out.getvalue())  # doctest: +ELLIPSIS
        fnrec work: 1/2 steps (50%) ...s, first
        fnrec work: 2/2 steps (100%) ...s, second
        <BLANKLINE>
    """

    def __init__(
        self,
        total: int,
        label: str,
        *,
        unit: str = "",
        enabled: bool = True,
        stream: TextIO | None = None,
    ) -> None:
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ValueError(f"`total` must be an int >= 0, got {total!r}")
        self.total = total
        self.label = label
        self.unit = unit
        self.enabled = enabled
        self.stream = stream
        self.count = 0
        self.detail = ""
        self.every = max(1, -(-total // 10))  # a line per tenth of the total, at most
        self._start: float | None = None
        self._bar: Any = None

    def start(self) -> Progress:
        """Starts the clock (and the tqdm bar, in a terminal with tqdm); returns self."""
        self._start = time.perf_counter()
        if not self.enabled or self._bar is not None:
            return self
        if self.stream is None:
            self.stream = sys.stderr
        bar = _tqdm_class() if _is_terminal(self.stream) else None
        if bar is not None:
            self._bar = bar(
                total=self.total,
                desc=self.label,
                unit=self.unit or "it",
                file=self.stream,
                dynamic_ncols=True,
            )
        return self

    @property
    def uses_tqdm(self) -> bool:
        """Whether a tqdm bar shows the progress (else whole lines, or nothing)."""
        return self._bar is not None

    @property
    def seconds(self) -> float:
        """Seconds since ``start``."""
        if self._start is None:
            return 0.0
        return time.perf_counter() - self._start

    def describe(self, text: str) -> None:
        """Names what runs now: shown at once beside a tqdm bar, and in the next line."""
        self.detail = text
        if self._bar is not None:
            self._bar.set_postfix_str(text)

    def update(self, n: int = 1, detail: str | None = None) -> None:
        """Counts `n` more finished items; `detail` (optional) is shown after the count."""
        if self._start is None:
            self.start()
        before, self.count = self.count, self.count + n
        if detail is not None:
            self.detail = detail
        if not self.enabled:
            return
        if self._bar is not None:
            if detail is not None:
                self._bar.set_postfix_str(detail, refresh=False)
            self._bar.update(n)
            return
        if self.count // self.every > before // self.every or (before < self.total <= self.count):
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def line(self) -> str:
        """The whole line the plain display writes now."""
        unit = f" {self.unit}" if self.unit else ""
        percent = f" ({100 * self.count // self.total}%)" if self.total else ""
        detail = f", {self.detail}" if self.detail else ""
        return f"{self.label}: {self.count}/{self.total}{unit}{percent} {self.seconds:.1f}s{detail}"

    def close(self) -> None:
        """Ends the display (a tqdm bar keeps its last state on its own line)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
