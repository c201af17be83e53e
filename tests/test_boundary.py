"""The traced/host boundary and the runtime dependencies."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

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
    shell = {ROOT / "__init__.py", ROOT / "__main__.py"}  # the package root re-exports both sides
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


def test_fnrec_never_imports_moviepy():
    done = subprocess.run(
        [sys.executable, "-c", "import fnrec, sys; print('moviepy' in sys.modules)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout.strip() == "False"
