"""Host side: one progress display for long work (export, ``check_env``), and live progress of a
jitted training run (the demo, the examples).

``Progress(total, label, unit=...)`` counts finished items of a known total. Where tqdm is
installed (the ``progress`` extra: ``pip install "fnrec[progress]"``) and the stream is a
terminal, it draws a tqdm bar. Otherwise, without tqdm or when the stream is a log file or a
pipe, it writes whole lines, never a carriage return::

    fnrec export_videos: 4/40 videos (10%) 2.1s, 1,236 frames (589 frames/s)

one line each time the count passes another tenth of the total (or, with ``line_seconds``, when
that long has passed since the last line), and one for the last item. ``enabled=False`` writes
nothing.

``LiveProgress(total_steps, label)`` shows a training run that happens inside ONE jitted program:
env-steps, steps per second, episodes, the rolling return, terminated and truncated counts and
videos waiting to encode. The program calls back only every K steps (``tap(stats, step,
every=K)``, or once per update through a trainer's ``on_update``), and the host shows at most one
update per ``interval`` seconds whatever the step rate: a tqdm bar in a terminal, whole lines in
a log (a tenth of the run, or ``line_seconds``, apart)::

    fnrec demo: 40,960/122,880 env-steps (33%) 2.1s, 19,504 steps/s, 812 episodes, return 41.3
    (last 100: 100 terminated, 0 truncated)
"""

from __future__ import annotations

import importlib
import math
import sys
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TextIO

import jax
import numpy as np
from jax import lax

from fnrec import counter
from fnrec import stats as stats_lib


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
      line_seconds: the plain display also writes a line when this many seconds have passed
        since the last one (None: only per tenth of the total).

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
        line_seconds: float | None = None,
    ) -> None:
        if isinstance(total, bool) or not isinstance(total, int) or total < 0:
            raise ValueError(f"`total` must be an int >= 0, got {total!r}")
        if line_seconds is not None and not line_seconds > 0:
            raise ValueError(f"`line_seconds` must be None or > 0, got {line_seconds!r}")
        self.line_seconds = line_seconds
        self._last_line = 0.0
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
        due = self.line_seconds is not None and self.seconds - self._last_line >= self.line_seconds
        tenth = self.count // self.every > before // self.every
        if tenth or due or (before < self.total <= self.count):
            self._last_line = self.seconds
            self.stream.write(self.line() + "\n")
            self.stream.flush()

    def set(self, count: int, detail: str | None = None) -> None:
        """Sets the count of finished items to `count` (never back); `detail` as in ``update``."""
        self.update(max(0, count - self.count), detail)

    def line(self) -> str:
        """The whole line the plain display writes now."""
        unit = f" {self.unit}" if self.unit else ""
        percent = f" ({100 * self.count // self.total}%)" if self.total else ""
        detail = f", {self.detail}" if self.detail else ""
        counted = f"{self.count:,}/{self.total:,}{unit}{percent}"
        return f"{self.label}: {counted} {self.seconds:.1f}s{detail}"

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


class LiveProgress:
    """Live progress of a training run inside one jitted program, at a bounded rate.

    The program calls back every K steps (``tap``) or once per update (``on_update``); the host
    keeps the newest values and shows them at most once per `interval` seconds (and always the
    last), with a ``Progress`` display: a tqdm bar in a terminal, whole lines in a log. Shown:
    env-steps of `total_steps`, steps per second (since the last display), episodes, the mean
    return and the terminated/truncated counts of the statistics' queue (the last
    ``buffer_length`` episodes), and videos waiting to encode (from `videos_waiting`).

    Args:
      total_steps: the run's env-steps (all envs together), an int >= 0.
      label: what runs, at the start of each line.
      interval: the least seconds between two displays (> 0).
      line_seconds: in a log, a line at least this often (besides one per tenth of the run).
      videos_waiting: a function giving the videos not yet encoded (e.g. ``lambda:
        trackers.videos_waiting``), or None.
      enabled: False shows nothing.
      stream: where to write (None: stderr).

    Example::

        >>> import io, jax, jax.numpy as jnp, fnrec
        >>> out = io.StringIO()
        >>> live = LiveProgress(8, "fnrec run", stream=out)
        >>> def run(stats):
        ...     for i in range(4):
        ...         stats, _ = fnrec.stats.step(stats, 1.0, jnp.array([i % 2 == 1] * 2), False)
        ...         live.tap(stats, i, every=2)  # calls back after steps 1 and 3 only
        ...     return stats
        >>> with live:
        ...     _ = jax.jit(run)(fnrec.stats.init(2))
        >>> print(out.getvalue().splitlines()[-1])  # doctest: +ELLIPSIS
        fnrec run: 8/8 env-steps (100%) ...s, ... steps/s, 4 episodes, return 2.0 (last 4: ...)
    """

    def __init__(
        self,
        total_steps: int,
        label: str = "fnrec",
        *,
        interval: float = 0.5,
        line_seconds: float | None = 30.0,
        videos_waiting: Callable[[], int] | None = None,
        enabled: bool = True,
        stream: TextIO | None = None,
    ) -> None:
        if not (isinstance(interval, (int, float)) and math.isfinite(interval) and interval > 0):
            raise ValueError(f"`interval` must be a number of seconds > 0, got {interval!r}")
        if videos_waiting is not None and not callable(videos_waiting):
            raise TypeError(f"`videos_waiting` must be None or callable, got {videos_waiting!r}")
        self.progress = Progress(
            total_steps,
            label,
            unit="env-steps",
            enabled=enabled,
            stream=stream,
            line_seconds=line_seconds,
        )
        self.interval = float(interval)
        self.videos_waiting = videos_waiting
        self.shown = 0  # displays so far
        self.received = 0  # callbacks so far
        self._latest: dict[str, float] | None = None
        self._shown_values: dict[str, float] | None = None
        self._last_time = -math.inf
        self._last_steps = 0
        self._lock = threading.Lock()

    @property
    def total_steps(self) -> int:
        """The run's env-steps."""
        return self.progress.total

    def tap(self, stats: stats_lib.EpisodeStats, step: Any = None, every: int = 1) -> None:
        """Inside jit: sends the statistics' progress to the host after every `every` steps.

        Args:
          stats: the statistics (``state.stats`` of a recorder's state; one shared queue).
          step: the loop's step index from 0 (traced); None calls back every time.
          every: call back after steps ``every - 1``, ``2 * every - 1``, ... (a Python int >= 1):
            a run of a multiple of `every` steps ends with a callback.
        """
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"`every` must be an int >= 1, got {every!r}")
        stats = stats_lib.merged(stats)  # one queue, also from rings kept per shard
        values = {
            **stats_lib.summary(stats),
            "env_steps": stats.env_steps,
            "episodes": stats.episode_count,
        }

        def send() -> None:
            jax.debug.callback(self._receive, values)

        if step is None or every == 1:
            send()
        else:
            lax.cond(step % every == every - 1, send, lambda: None)

    def on_update(self, env_steps_per_update: int) -> Callable[[Any, Mapping[str, Any]], None]:
        """A host function for a trainer's per-update callback ``(update_index, metrics)``
        (``fnrec.demo.ppo.make_train(on_update=...)``), where `metrics` holds
        ``fnrec.stats.summary`` and ``"episodes"`` (episodes so far).

        Args:
          env_steps_per_update: env-steps per update (envs x rollout steps).

        Returns:
          ``callback(update_index, metrics)``.
        """

        def callback(index: Any, metrics: Mapping[str, Any]) -> None:
            steps = (int(np.asarray(index)) + 1) * env_steps_per_update
            self._receive({**metrics, "env_steps": steps})

        return callback

    def _receive(self, values: Mapping[str, Any]) -> None:
        def number(value: Any) -> float:
            if isinstance(value, counter.Counter64):
                return float(counter.to_int(value))
            return float(np.asarray(value).reshape(()))

        plain = {k: number(v) for k, v in values.items()}
        with self._lock:
            if self.progress._start is None:  # not started as a context manager
                self.start()
            now = time.perf_counter()
            self.received += 1
            # Callbacks may arrive out of order: keep the furthest.
            if self._latest is None or plain["env_steps"] >= self._latest["env_steps"]:
                self._latest = plain
            last = self._latest["env_steps"] >= self.total_steps
            if now - self._last_time >= self.interval or last:
                self._show(now)

    def _show(self, now: float) -> None:
        values = self._latest
        if values is None or values is self._shown_values:
            return
        steps = int(values["env_steps"])
        elapsed = now - self._last_time
        rate = (steps - self._last_steps) / elapsed if elapsed > 0 else 0.0
        self._last_time, self._last_steps, self._shown_values = now, steps, values
        self.shown += 1
        self.progress.set(steps, self.detail(values, rate))

    def detail(self, values: Mapping[str, float], rate: float) -> str:
        """The text after the count: rate, episodes, return, endings, videos waiting."""
        parts = [f"{rate:,.0f} steps/s", f"{int(values.get('episodes', 0)):,} episodes"]
        count = int(values.get("count", 0))
        if count > 0 and math.isfinite(values.get("return_mean", math.nan)):
            terminated = round(values["terminated_fraction"] * count)
            parts.append(
                f"return {values['return_mean']:.1f} (last {count}: {terminated} terminated, "
                f"{count - terminated} truncated)"
            )
        if self.videos_waiting is not None:
            parts.append(f"{int(self.videos_waiting())} videos waiting")
        return ", ".join(parts)

    def start(self) -> LiveProgress:
        """Starts the clock (and the bar); returns self."""
        self.progress.start()
        self._last_time = time.perf_counter()
        self._last_steps = 0
        return self

    def close(self) -> None:
        """Shows the newest values (if not shown yet) and ends the display."""
        jax.effects_barrier()  # the program's last callbacks arrive first
        with self._lock:
            self._show(time.perf_counter())
        self.progress.close()

    def __enter__(self) -> LiveProgress:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
