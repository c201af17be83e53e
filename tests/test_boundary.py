"""The traced/host boundary and the runtime dependencies."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import fnrec

ROOT = Path(fnrec.__file__).parent
HOST_ONLY = ("imageio", "imageio_ffmpeg", "pygame", "moviepy", "fnrec.host")


def _imported_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _is_host(name: str) -> bool:
    return any(name == h or name.startswith(h + ".") for h in HOST_ONLY)


def test_traced_modules_never_import_host_modules():
    # The package root and fnrec.checkpoint re-export host names (lazily, typed for checkers);
    # fnrec.wrappers is Gymnasium's layout of the host video wrappers, fnrec.trackers the host
    # trackers' import name (both loaded lazily by the root).
    shell = {ROOT / "__init__.py", ROOT / "__main__.py", ROOT / "checkpoint.py"}
    shell |= {ROOT / "trackers.py"}
    shell |= set((ROOT / "wrappers").glob("*.py"))
    traced = [
        p for p in ROOT.rglob("*.py") if "host" not in p.relative_to(ROOT).parts and p not in shell
    ]
    assert len(traced) > 10
    offenders = {  # module -> host modules it imports
        str(p.relative_to(ROOT)): sorted(filter(_is_host, _imported_names(p))) for p in traced
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_renderers_import_only_jax_numpy_and_the_standard_library():
    allowed = ("jax", "numpy", "fnrec.render", "__future__")
    for path in (ROOT / "render").rglob("*.py"):
        for name in _imported_names(path):
            top = name.split(".")[0]
            ok = any(name == a or name.startswith(a + ".") for a in allowed)
            assert ok or top in sys.stdlib_module_names, (path.name, name)


def test_importing_fnrec_loads_no_host_module():
    loaded = "[m for m in sys.modules if m.split('.')[0] in H or m.startswith('fnrec.host')]"
    code = (
        f"import sys, fnrec.stats, fnrec.adapters, fnrec.render; H = {HOST_ONLY!r}; print({loaded})"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_importing_the_traced_side_loads_no_env_library():
    """A gymnax or brax user does not pay for Gymnasium: only the FuncEnv adapter needs it."""
    code = (
        "import sys, fnrec, fnrec.stats, fnrec.capture, fnrec.adapters.core; "
        "fnrec.adapters.GymnaxAdapter, fnrec.adapters.BraxAdapter; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'gymnasium', 'gymnax', 'brax'}))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_host_names_are_listed_once():
    """fnrec._host_names.NAMES is the list; the root's type-checking imports match it, and
    the names have one spelling: fnrec.X, not also fnrec.host.X."""
    from fnrec._host_names import NAMES

    tree = ast.parse((ROOT / "__init__.py").read_text())
    typed = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom)
        and node.module
        and node.module.startswith("fnrec.host.")
        for alias in node.names
    }
    assert typed == set(NAMES)
    for name, module in NAMES.items():
        assert getattr(fnrec, name).__module__ == module, name
    assert set(fnrec.__all__) >= set(NAMES)
    host = importlib.import_module("fnrec.host")
    assert not hasattr(host, "__all__") and not hasattr(host, "VideoWriter")


def test_host_names_load_on_first_use():
    assert fnrec.RecordVideo.__module__ == "fnrec.host.record_video"
    assert fnrec.FunctionalEnv.__module__ == "fnrec.host.gym_env"
    assert set(fnrec.__all__) >= {"save_video", "VideoWriter", "FunctionalVectorEnv"}
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        fnrec.nope  # noqa: B018


def test_fnrec_never_imports_moviepy():
    code = "import fnrec, sys; fnrec.RecordVideo, fnrec.save_video; print('moviepy' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
