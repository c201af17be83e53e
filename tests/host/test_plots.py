"""fnrec.host.plots: learning curves from an episode log, to PNG."""

from __future__ import annotations

import sys

import imageio.v3 as iio
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fnrec._optional import MissingDependency
from fnrec.host.episode_log import EpisodeLog
from fnrec.host.plots import learning_curve, moving_average


def _log(count: int, seed: int = 0) -> EpisodeLog:
    rng = np.random.default_rng(seed)
    length = rng.integers(8, 500, count)
    return EpisodeLog(
        episode_id=np.arange(count),
        env=rng.integers(0, 4, count),
        step=np.full(count, -1),
        episode_return=length.astype(np.float32),
        length=length,
        terminated=length < 500,
        truncated=length >= 500,
    )


@given(st.lists(st.floats(-1e6, 1e6), max_size=60), st.integers(1, 10))
def test_moving_average_is_the_mean_of_the_last_window_values(values, window):
    expected = [np.mean(values[max(0, i + 1 - window) : i + 1]) for i in range(len(values))]
    np.testing.assert_allclose(moving_average(np.array(values), window), expected, atol=1e-6)


@pytest.mark.parametrize("window", [0, -1, 2.5, True])
def test_moving_average_rejects_a_bad_window(window):
    with pytest.raises(ValueError, match=f"`window` must be an int >= 1, got {window!r}"):
        moving_average(np.zeros(3), window)


def test_learning_curve_writes_a_png(tmp_path):
    path = learning_curve(_log(300), tmp_path / "curve.png", window=20, recorded=[0, 27, 125])
    assert path == tmp_path / "curve.png"
    picture = iio.imread(path)
    assert picture.shape[:2] == (600, 800) and picture[..., :3].std() > 10
    assert [p.name for p in tmp_path.iterdir()] == ["curve.png"]  # no temporary left


def test_learning_curve_draws_chosen_metrics_below(tmp_path):
    log = _log(120)
    first = np.where(log.length < 100, log.length / 2, np.nan).astype(np.float32)  # NaN: never
    log = log._replace(metrics={"discounted_return": log.episode_return * 0.5, "first": first})
    plain = iio.imread(learning_curve(log, tmp_path / "plain.png"))
    both = iio.imread(
        learning_curve(log, tmp_path / "m.png", metrics=["discounted_return", "first"])
    )
    assert plain.shape[:2] == (600, 800) and both.shape[:2] == (1200, 800)
    # the metric panels hold dots: the lower half is not blank
    assert both[600:, :, :3].std() > 10
    with pytest.raises(ValueError, match=r"`metrics` must be a sequence of the log's metric names"):
        learning_curve(log, tmp_path / "x.png", metrics=["success"])
    with pytest.raises(ValueError, match=r"`metrics` must be a sequence"):
        learning_curve(log, tmp_path / "x.png", metrics="first")


def test_learning_curve_of_no_episode_still_draws(tmp_path):
    assert learning_curve(_log(0), tmp_path / "empty.png").exists()


def test_learning_curve_rejects_what_is_not_a_log(tmp_path):
    with pytest.raises(TypeError, match=r"`log` must be an EpisodeLog .* got dict"):
        learning_curve({"episode": []}, tmp_path / "x.png")


def test_a_missing_folder_leaves_no_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        learning_curve(_log(10), tmp_path / "missing" / "x.png")
    assert not (tmp_path / "missing").exists()


def test_without_matplotlib_one_line_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import fails as if not installed
    with pytest.raises(MissingDependency) as error:
        learning_curve(_log(10), tmp_path / "x.png")
    assert str(error.value) == (
        "learning-curve plots: matplotlib is not installed; run pip install 'fnrec[plots]'"
    )
    assert not (tmp_path / "x.png").exists()
