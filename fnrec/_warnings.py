"""Warnings that point at the user's line, however deep inside fnrec they are raised."""

from __future__ import annotations

import sys
from pathlib import Path

_PACKAGE = str(Path(__file__).resolve().parent)


def warn_at_caller(message: str, category: type[Warning] = UserWarning) -> None:
    """Issues `message` as if from the first calling frame outside the fnrec package.

    Args:
      message: the warning's text.
      category: the warning class.
    """
    import warnings

    level, frame = 2, sys._getframe(1)  # level 2: the frame that called warn_at_caller
    while frame is not None and str(Path(frame.f_code.co_filename).resolve()).startswith(_PACKAGE):
        level, frame = level + 1, frame.f_back
    warnings.warn(message, category, stacklevel=level)
