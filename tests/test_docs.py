"""The documentation site: it builds strictly, and every public name has a reference entry.

(The pages' code blocks run in tests/test_readme.py, with the README's.)
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import fnrec

ROOT = Path(__file__).parent.parent
# The public modules: their __all__, or else their public functions and classes.
MODULES = (
    "fnrec.stats", "fnrec.capture", "fnrec.history", "fnrec.counter", "fnrec.schedules",
    "fnrec.checkpoint", "fnrec.recorders", "fnrec.registry", "fnrec.envs", "fnrec.render",
    "fnrec.utils", "fnrec.wrappers", "fnrec.wrappers.vector", "fnrec.adapters.core",
    "fnrec.adapters.funcenv", "fnrec.adapters.gymnax", "fnrec.adapters.brax",
    "fnrec.adapters.jumanji", "fnrec.adapters.navix", "fnrec.adapters.xminigrid",
    "fnrec.adapters.craftax", "fnrec.episodes",
)  # fmt: skip


def documented() -> set[str]:
    """Every ``::: target`` of the reference pages."""
    targets = set()
    for page in (ROOT / "docs" / "reference").glob("*.md"):
        targets |= set(re.findall(r"^::: ([\w.]+)", page.read_text(), re.M))
    return targets


def public_names() -> dict[str, str]:
    """name -> the module (or module.name) whose reference entry documents it."""
    names = {}
    for name in fnrec.__all__:
        value = getattr(fnrec, name)
        home = value.__name__ if inspect.ismodule(value) else f"{value.__module__}.{name}"
        names[f"fnrec.{name}"] = home
    for module_name in MODULES:
        module = importlib.import_module(module_name)
        listed = getattr(module, "__all__", None)
        if listed is None:
            listed = [
                n for n, v in vars(module).items()
                if not n.startswith("_") and (inspect.isfunction(v) or inspect.isclass(v))
                and getattr(v, "__module__", None) == module_name
            ]  # fmt: skip
        for name in listed:
            value = getattr(module, name)
            home = value.__name__ if inspect.ismodule(value) else None
            home = home or f"{getattr(value, '__module__', module_name)}.{name}"
            names[f"{module_name}.{name}"] = home
    return names


def test_every_public_name_has_a_reference_entry():
    targets = documented()
    missing = sorted(
        name for name, home in public_names().items()
        if home not in targets and home.rsplit(".", 1)[0] not in targets
    )  # fmt: skip
    assert not missing, f"no API reference entry (docs/reference/*.md) for: {missing}"


def test_the_site_builds_strictly(tmp_path):
    pytest.importorskip("mkdocs")
    pytest.importorskip("mkdocstrings")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(tmp_path / "site")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    home = (tmp_path / "site" / "index.html").read_text()
    assert "fnrec" in home
    reference = (tmp_path / "site" / "reference" / "stats" / "index.html").read_text()
    assert "episode_statistics" in reference  # generated from the docstrings
