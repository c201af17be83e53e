"""Shared test setup: headless pygame, the x64 fixture, helpers for distinguishable frames."""

from __future__ import annotations

import importlib
import importlib.util
import json
import os

os.environ.setdefault("SDL_VIDEODRIVER", "dummy")

from pathlib import Path

import imageio.v2 as iio
import jax
import numpy as np
import pytest
from hypothesis import settings

# Property tests are derandomized by default (the same examples every run: no flaky CI); each
# test's @settings states how many. HYPOTHESIS_PROFILE=explore draws fresh random examples.
settings.register_profile("derandomized", derandomize=True)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "derandomized"))


def pytest_configure(config):
    """Fails the session if a module named in FNREC_REQUIRE cannot be imported.

    The test script sets it per virtual environment, so that tests guarded by
    ``pytest.importorskip`` cannot be skipped quietly where they are meant to run.
    """
    # imageio's reader starts ffmpeg with fork+exec; JAX warns about any fork. Harmless here.
    config.addinivalue_line("filterwarnings", "ignore:os.fork:RuntimeWarning")
    if os.environ.get("FNREC_PLAIN"):  # the plain-install venv must really be plain
        from fnrec._optional import EXTRAS

        present = [name for name in EXTRAS if importlib.util.find_spec(name) is not None]
        if present:
            raise pytest.UsageError(
                f"FNREC_PLAIN is set but optional packages are installed: {present}"
            )
    for name in filter(None, os.environ.get("FNREC_REQUIRE", "").split(",")):
        try:
            importlib.import_module(name)
        except ImportError as error:
            message = f"FNREC_REQUIRE names {name!r}, which fails to import: {error}"
            raise pytest.UsageError(message) from error


# The files scripts/test.sh runs in the plain venv (with -m plain); the main venv deselects the
# tests marked `plain`, so a plain test anywhere else would run nowhere.
PLAIN_FILES = ("test_demo.py", "test_examples.py", "test_readme.py", "test_optional.py")


def pytest_collection_modifyitems(config, items):
    """Fails the session if a test marked ``plain`` lives outside PLAIN_FILES."""
    misplaced = [
        item.nodeid
        for item in items
        if item.get_closest_marker("plain") and item.path.name not in PLAIN_FILES
    ]
    if misplaced:
        raise pytest.UsageError(
            f"tests marked plain outside {PLAIN_FILES} (scripts/test.sh would skip them): "
            f"{misplaced}"
        )


# Most tests run small programs a few dozen steps: compiling them is most of their time, and XLA's
# optimizations are most of the compiling (craftax's programs take most of a minute each with
# them). Tests are compiled without them (the same results; the main venv's tests took 490-578 s
# instead of 622 s) except those marked `xla_optimized`: the ones about the optimized program
# itself (collectives of a sharded step, copies XLA inserts, compensated sums over millions of
# steps) and the ones whose time is running, not compiling (export, the guide's scripts, the
# examples, the demo, the snippets). See CONTRIBUTING.md.
# craftax is compiled without them always. Snippets run in a subprocess read the variable.
_UNOPTIMIZED = "JAX_DISABLE_MOST_OPTIMIZATIONS"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Compiles the test without XLA's optimizations unless it is marked `xla_optimized`."""
    unoptimized = "craftax" in item.nodeid.lower() or not item.get_closest_marker("xla_optimized")
    jax.config.update("jax_disable_most_optimizations", unoptimized)
    if unoptimized:
        os.environ[_UNOPTIMIZED] = "1"
    else:
        os.environ.pop(_UNOPTIMIZED, None)


def pytest_sessionfinish(session, exitstatus):
    """Writes the bad-input tally (tests/bad_inputs.py) to the file FNREC_TALLY names, if set."""
    path = os.environ.get("FNREC_TALLY")
    module = importlib.import_module("bad_inputs") if path else None
    if path:
        Path(path).write_text(json.dumps(dict(module.TALLY)))


# H.264 at the default quality: mean absolute error per pixel of a decoded frame, out of 255.
LOSSY_MAE = 4.0


def numbered_frame(index: int, height: int = 64, width: int = 96) -> np.ndarray:
    """A uint8 HxWx3 frame whose content identifies `index`: background level, block place."""
    frame = np.full((height, width, 3), (index * 37) % 200 + 20, dtype=np.uint8)
    cells_per_row = width // 16
    row, col = divmod(index % (cells_per_row * (height // 16)), cells_per_row)
    frame[row * 16 : row * 16 + 16, col * 16 : col * 16 + 16] = (255, 40 * (index % 6), 0)
    return frame


def decode(path: str | os.PathLike[str]) -> list[np.ndarray]:
    """All frames of a video file, decoded with imageio."""
    with iio.get_reader(Path(path)) as reader:
        return [np.asarray(frame) for frame in reader]


def video_fps(path: str | os.PathLike[str]) -> float:
    with iio.get_reader(Path(path)) as reader:
        return float(reader.get_meta_data()["fps"])


def mae(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


def assert_same_video(path: str | os.PathLike[str], sent: list[np.ndarray]) -> None:
    """The video decodes to exactly len(sent) frames, each close (and closest) to its sent frame."""
    decoded = decode(path)
    assert len(decoded) == len(sent), f"{path}: decoded {len(decoded)} frames, sent {len(sent)}"
    for i, frame in enumerate(decoded):
        frame = frame[: sent[i].shape[0], : sent[i].shape[1]]
        error = mae(frame, sent[i])
        assert error < LOSSY_MAE, f"{path}: frame {i} differs from the sent frame (MAE {error:.2f})"
        nearest = min(range(len(sent)), key=lambda j: mae(frame, sent[j]))
        assert mae(frame, sent[nearest]) == error or nearest == i, (
            f"{path}: decoded frame {i} looks most like sent frame {nearest}"
        )


def leftovers(folder: Path) -> list[str]:
    """Names of temporary (partial) files left in `folder`."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture(params=[False, True], ids=["x64off", "x64on"])
def x64(request):
    """Runs the test once with jax_enable_x64 off and once on, restoring the setting after."""
    previous = jax.config.read("jax_enable_x64")
    jax.config.update("jax_enable_x64", request.param)
    yield request.param
    jax.config.update("jax_enable_x64", previous)


def route_to_dev_full(monkeypatch, name_part: str = "") -> None:
    """Makes the video writer's temporary files whose name contains `name_part` symlinks to
    /dev/full, so that the encoder's writes fail with ENOSPC from the kernel (a full disk)."""
    import fnrec.host.video_writer as video_writer

    real_mkstemp = video_writer.tempfile.mkstemp

    def mkstemp(**kwargs):
        fd, name = real_mkstemp(**kwargs)
        if name_part in name:
            Path(name).unlink()
            Path(name).symlink_to("/dev/full")
        return fd, name

    monkeypatch.setattr(video_writer.tempfile, "mkstemp", mkstemp)
