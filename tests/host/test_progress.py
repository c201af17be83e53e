"""fnrec.host.progress: whole lines in a log, a tqdm bar in a terminal, and check_env's phases."""

from __future__ import annotations

import io
import re
import sys

import gymnasium as gym
import jax.numpy as jnp
import numpy as np
import pytest

from fnrec.host.progress import Progress
from fnrec.utils import check_env

LINE = re.compile(r"^fnrec work: (\d+)/(\d+) steps \((\d+)%\) \d+\.\ds(, .*)?$")


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def run(total: int, stream: io.StringIO, **kwargs) -> Progress:
    with Progress(total, "fnrec work", unit="steps", stream=stream, **kwargs) as progress:
        for i in range(total):
            progress.update(detail=f"item {i}")
    return progress


def test_plain_lines_one_per_tenth_and_the_last():
    stream = io.StringIO()
    progress = run(40, stream)
    text = stream.getvalue()
    assert "\r" not in text and text.endswith("\n")
    lines = text.splitlines()
    assert all(LINE.match(line) for line in lines), lines
    assert [LINE.match(line).group(1) for line in lines] == [str(4 * k) for k in range(1, 11)]
    assert lines[0].startswith("fnrec work: 4/40 steps (10%) ") and lines[0].endswith(", item 3")
    assert lines[-1].startswith("fnrec work: 40/40 steps (100%) ")
    assert not progress.uses_tqdm and progress.count == 40


@pytest.mark.parametrize(("total", "count"), [(1, 1), (3, 3), (15, 8), (19, 10), (101, 10)])
def test_at_most_about_one_line_per_tenth_plus_the_last(total, count):
    stream = io.StringIO()
    run(total, stream)
    lines = stream.getvalue().splitlines()
    assert len(lines) == count
    assert lines[-1].startswith(f"fnrec work: {total}/{total} steps (100%)")


def test_steps_of_several_items_describe_and_no_unit():
    stream = io.StringIO()
    with Progress(10, "fnrec jobs", stream=stream) as progress:
        progress.describe("compiling")
        progress.update(7)  # crosses several tenths: one line
        progress.update(3, "done")
    first, last = stream.getvalue().splitlines()
    assert first.startswith("fnrec jobs: 7/10 (70%) ") and first.endswith("s, compiling")
    assert last.startswith("fnrec jobs: 10/10 (100%) ") and last.endswith("s, done")


def test_disabled_writes_nothing_and_defaults_to_stderr(capsys):
    run(5, None, enabled=False)
    assert capsys.readouterr().err == ""
    run(2, None)  # the stream is looked up when it starts: capsys's stderr
    err = capsys.readouterr().err
    assert err.count("\n") == 2 and "fnrec work: 2/2 steps (100%)" in err


def test_a_bad_total_is_refused():
    with pytest.raises(ValueError, match=r"`total` must be an int >= 0, got -1"):
        Progress(-1, "fnrec work")
    with pytest.raises(ValueError, match=r"got 2\.5"):
        Progress(2.5, "fnrec work")


def test_not_a_terminal_plain_lines_even_with_tqdm():
    pytest.importorskip("tqdm")
    stream = io.StringIO()
    assert not run(3, stream).uses_tqdm
    assert "\r" not in stream.getvalue() and len(stream.getvalue().splitlines()) == 3


def test_a_terminal_with_tqdm_draws_a_bar():
    pytest.importorskip("tqdm")
    stream = Terminal()
    progress = run(3, stream)
    assert progress.uses_tqdm is False  # closed: the bar is gone
    text = stream.getvalue()
    assert "\r" in text  # tqdm rewrites its line
    last = text.rstrip("\n").split("\r")[-1]
    assert last.startswith("fnrec work: 100%") and "3/3" in last and "item 2" in last
    with Progress(3, "fnrec work", stream=Terminal()) as progress:
        assert progress.uses_tqdm


def test_a_terminal_without_tqdm_gets_plain_lines(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # `import tqdm` raises ImportError
    stream = Terminal()
    with Progress(3, "fnrec work", unit="steps", stream=stream) as progress:
        assert not progress.uses_tqdm
        for _ in range(3):
            progress.update()
    text = stream.getvalue()
    assert "\r" not in text
    assert [LINE.match(line).group(1) for line in text.splitlines()] == ["1", "2", "3"]


class Counter:
    """A tiny functional env (Gymnasium's FuncEnv methods): fast to check."""

    observation_space = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def initial(self, rng, params=None):
        return jnp.zeros((), jnp.float32)

    def transition(self, state, action, rng, params=None):
        return (state + action).astype(jnp.float32)

    def observation(self, state, rng, params=None):
        return state[None].astype(jnp.float32)

    def reward(self, state, action, next_state, rng, params=None):
        return jnp.float32(1.0)

    def terminal(self, state, rng, params=None):
        return state > 5


def test_check_env_reports_each_phase_only_when_asked(capsys):
    check_env(Counter(), steps=2)
    assert capsys.readouterr().err == ""  # off by default: existing callers see nothing new
    check_env(Counter(), steps=2, progress=True)
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    phases = [line.split("s, ", 1)[1] for line in lines]
    step = "`transition/observation/reward/terminal`"
    assert phases == [
        f"{phase} (jax_enable_x64={x64})"
        for x64 in (False, True)
        for phase in (
            "`initial` under jax.jit, pure",
            f"2 steps of {step} under jax.jit",
            "a lax.scan of steps",
            "jax.vmap over keys",
        )
    ]
    assert [line.split(" (")[0] for line in lines] == [
        f"fnrec check_env: {k}/8 checks" for k in range(1, 9)
    ]
