"""Lazy re-exports (PEP 562): a package lists ``name -> module`` once and loads on first use."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def lazy_getattr(package: str, names: dict[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``names[name]`` the first time `name` is used.

    Args:
      package: the package's name, for the error message.
      names: public name -> the module that defines it.

    Returns:
      The ``__getattr__`` function.
    """

    def __getattr__(name: str) -> Any:
        module = names.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    return __getattr__
