"""LiveProgress: a run inside one jitted program, shown at a bounded rate with true values."""

from __future__ import annotations

import io
import re
import time

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import fnrec
from fnrec.host.progress import LiveProgress, Progress

NUM_ENVS, STEPS = 4, 2000


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@jax.jit
def _episodes(key):
    """Random episodes of 1-20 steps in 4 envs: (terminated, truncated, reward) per step."""
    k1, k2, k3 = jax.random.split(key, 3)
    done = jax.random.uniform(k1, (STEPS, NUM_ENVS)) < 0.1
    truncated = done & (jax.random.uniform(k2, (STEPS, NUM_ENVS)) < 0.3)
    reward = jax.random.uniform(k3, (STEPS, NUM_ENVS))
    return done & ~truncated, truncated, reward


def run(live: LiveProgress, every: int, slow: float = 0.0):
    """A jitted scan over STEPS steps that taps `live` every `every` steps; its final stats."""
    terminated, truncated, reward = _episodes(jax.random.key(0))

    def body(stats, xs):
        i, term, trunc, r = xs
        stats, _ = fnrec.stats.step(stats, r, term, trunc)
        live.tap(stats, i, every=every)
        return stats, None

    @jax.jit
    def program(stats):
        xs = (jnp.arange(STEPS), terminated, truncated, reward)
        return jax.lax.scan(body, stats, xs)[0]

    compiled = program.lower(fnrec.stats.init(NUM_ENVS)).compile()
    with live:
        stats = jax.block_until_ready(compiled(fnrec.stats.init(NUM_ENVS)))
    return stats


LINE = re.compile(
    r"^fnrec train: ([\d,]+)/8,000 env-steps \((\d+)%\) [\d.]+s, ([\d,]+) steps/s, "
    r"([\d,]+) episodes(, return ([\d.]+) \(last (\d+): (\d+) terminated, (\d+) truncated\))?$"
)


def test_every_k_steps_in_graph_and_true_values_in_plain_lines():
    out = io.StringIO()
    live = LiveProgress(STEPS * NUM_ENVS, "fnrec train", stream=out, interval=0.01)
    stats = run(live, every=50)
    assert live.received == STEPS // 50  # the program called back every 50th step only
    text = out.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    assert lines and all(LINE.match(line) for line in lines), lines
    last = LINE.match(lines[-1])
    # The last callback is after step 1999 (steps 49, 99, ..., 1999): the whole run.
    assert last.group(1) == f"{STEPS * NUM_ENVS:,}" and last.group(2) == "100"
    summary = jax.device_get(fnrec.stats.summary(stats))
    assert int(last.group(4)) == fnrec.stats.episode_count(stats)
    assert int(last.group(7)) == int(summary["count"]) == 100  # the queue is full by then
    assert int(last.group(8)) + int(last.group(9)) == 100
    assert float(last.group(6)) == pytest.approx(float(summary["return_mean"]), abs=0.05)
    assert int(last.group(8)) == round(float(summary["terminated_fraction"]) * 100)
    # Per tenth of the run at most (11 lines), however many callbacks.
    assert len(lines) <= 11


def test_the_display_rate_is_bounded_whatever_the_step_rate():
    out = io.StringIO()
    live = LiveProgress(STEPS * NUM_ENVS, "fnrec train", stream=out, interval=0.2)
    start = time.perf_counter()
    run(live, every=1)
    elapsed = time.perf_counter() - start
    assert live.received == STEPS  # a callback per step ...
    assert (
        live.shown <= elapsed / 0.2 + 2
    )  # ... but at most one display per interval (and the last)
    last = out.getvalue().splitlines()[-1]
    assert last.startswith("fnrec train: 8,000/8,000 env-steps (100%)")


def test_a_terminal_gets_a_tqdm_bar_with_the_values():
    pytest.importorskip("tqdm")
    out = Terminal()
    waiting = iter(range(100, 0, -1))
    live = LiveProgress(
        STEPS * NUM_ENVS, "fnrec train", stream=out, videos_waiting=lambda: next(waiting)
    )
    run(live, every=100)
    assert live.progress.uses_tqdm is False  # closed: the bar has ended its line
    text = out.getvalue()
    assert "\r" in text and "fnrec train" in text and "env-steps" in text
    assert "videos waiting" in text and "episodes" in text and "steps/s" in text


def test_on_update_feeds_a_trainers_callback():
    out = io.StringIO()
    live = LiveProgress(3 * 256, "fnrec ppo", stream=out, interval=1e-6)
    callback = live.on_update(256)
    with live:
        for index in range(3):
            summary = {"count": np.int32(2), "return_mean": np.float32(9.5)}
            summary |= {"terminated_fraction": np.float32(0.5), "episodes": np.int32(4 + index)}
            callback(np.int32(index), summary)
    lines = out.getvalue().splitlines()
    assert lines[-1].startswith("fnrec ppo: 768/768 env-steps (100%)")
    assert lines[-1].endswith(", 6 episodes, return 9.5 (last 2: 1 terminated, 1 truncated)")


def test_plain_lines_also_every_line_seconds():
    out = io.StringIO()
    with Progress(1000, "fnrec slow", unit="steps", stream=out, line_seconds=0.01) as progress:
        for _ in range(3):
            time.sleep(0.02)
            progress.update()  # no tenth crossed: a line because time has passed
    assert len(out.getvalue().splitlines()) == 3


def test_bad_arguments_name_the_argument():
    with pytest.raises(ValueError, match="`interval` must be a number of seconds > 0, got 0"):
        LiveProgress(10, interval=0)
    with pytest.raises(ValueError, match="`every` must be an int >= 1, got 0"):
        LiveProgress(10).tap(fnrec.stats.init(2), 0, every=0)
    with pytest.raises(ValueError, match="`line_seconds` must be None or > 0, got -1"):
        Progress(10, "x", line_seconds=-1)
