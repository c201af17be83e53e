"""fnrec._optional: a missing optional dependency is one line naming the extra to install."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from fnrec._optional import EXTRAS, MissingDependency, require

tomllib = pytest.importorskip("tomllib")
pytestmark = pytest.mark.plain  # CI runs these on the plain install


def test_every_named_extra_is_declared_in_pyproject():
    pyproject = Path(__file__).parents[1] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    for module, extra in EXTRAS.items():
        assert extra in declared, f"{module} -> fnrec[{extra}], which pyproject does not declare"


def test_require_returns_the_module():
    assert require("json", "reading JSON") is sys.modules["json"]


def test_a_missing_module_names_its_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(MissingDependency, match=r"^plots: matplotlib is not installed; "
                       r"run pip install 'fnrec\[plots\]'$"):  # fmt: skip
        require("matplotlib", "plots")


def test_an_unknown_module_names_the_package():
    with pytest.raises(ModuleNotFoundError, match="pip install no_such_module_here"):
        require("no_such_module_here.sub", "testing")


def test_the_pyav_encoder_names_its_extra_and_auto_falls_back(monkeypatch, tmp_path):
    import numpy as np

    import fnrec
    import fnrec.host.video_writer as video_writer

    monkeypatch.setitem(sys.modules, "av", None)
    monkeypatch.setattr(video_writer, "pyav_available", lambda: False)
    with pytest.raises(MissingDependency, match=r"encoder=\"pyav\": av is not installed; "
                       r"run pip install 'fnrec\[pyav\]'"):  # fmt: skip
        fnrec.VideoWriter(tmp_path / "a.mp4", encoder="pyav")
    writer = fnrec.VideoWriter(tmp_path / "b.mp4")  # "auto": the ffmpeg program
    assert writer.encoder == "ffmpeg"
    writer.append(np.zeros((16, 16, 3), np.uint8))
    assert writer.close() == tmp_path / "b.mp4"
