"""Shared helpers for benchmark scripts: timing and writing sections of RESULTS.md."""

from __future__ import annotations

import datetime
import os
import platform
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

RESULTS = Path(__file__).with_name("RESULTS.md")


def median_time(fn: Callable[[], object], repeats: int = 5, warmup: int = 1) -> float:
    """Median wall time of `fn()` over `repeats` runs, after `warmup` untimed runs.

    Args:
      fn: a callable that does the whole measured work and blocks until it is done.
      repeats: timed runs.
      warmup: untimed runs first (compilation, caches).

    Returns:
      The median time in seconds.
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def machine_line() -> str:
    """One line describing the machine and software the benchmark ran on."""
    import jax

    devices = ", ".join(sorted({d.device_kind for d in jax.devices()}))
    return (
        f"{platform.node() or 'host'}: {platform.machine()} ({_cpu_model()}), "
        f"{os.cpu_count()} CPU cores, "
        f"Python {platform.python_version()}, jax {jax.__version__} on {jax.default_backend()} "
        f"({devices}), {datetime.date.today().isoformat()}"
    )


def _cpu_model() -> str:
    """The CPU's model name (Linux), else the processor string Python reports."""
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def write_section(name: str, body: str) -> None:
    """Replace (or append) the section `name` of benchmarks/RESULTS.md with `body`.

    Args:
      name: a short identifier; the section sits between BEGIN/END markers with it.
      body: markdown text, including the table, the command and the machine line.
    """
    begin, end = f"<!-- BEGIN {name} -->", f"<!-- END {name} -->"
    block = f"{begin}\n{body.rstrip()}\n{end}\n"
    text = RESULTS.read_text() if RESULTS.exists() else "# Benchmark results\n\n"
    pattern = re.compile(re.escape(begin) + r".*?" + re.escape(end) + r"\n?", re.S)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text + "\n" + block
    RESULTS.write_text(text)


def spread(ratios: list[float]) -> str:
    """The median and interquartile range of per-round ratios, as text: ``1.012 (0.98-1.04)``."""
    q1, q2, q3 = statistics.quantiles(ratios, n=4)
    return f"{q2:.3f} ({q1:.3f}-{q3:.3f})"


def command_line() -> str:
    """The command that ran this benchmark, for the results file."""
    return "python " + " ".join([os.path.relpath(sys.argv[0]), *sys.argv[1:]])
