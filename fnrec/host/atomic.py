"""Writing a file whole or not at all: the one atomic write of fnrec's host side.

The content goes to a hidden temporary file with a unique name beside the target
(``.<stem>-<random>.partial<suffix>``, made by ``temporary_beside``), which is renamed over the
target only once it is complete and synced. On any failure (a full disk, an exception in the
writer, an interrupt) the temporary file is removed and the target is left as it was: no
truncated file under a final name, nothing left behind. ``write_atomically`` does it for content
written at once (checkpoints, CSV, plots); ``fnrec.VideoWriter`` streams into the same kind of
temporary file from its encoder and renames it the same way.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def write_atomically(
    path: str | os.PathLike[str], write: Callable[[IO[Any]], None], *, text: bool = False
) -> Path:
    """Writes `path` through `write(file)`, atomically.

    Args:
      path: the file to write (replaced if it exists, once the new content is complete).
      write: writes the content to the open file it is given.
      text: open the file in text mode (newline translation off, for CSV); else binary.

    Returns:
      `path`, as a Path.

    Raises:
      OSError: writing failed; the message names `path` (not the temporary file).
    """
    path = Path(path)
    try:
        descriptor, temporary = temporary_beside(path)
    except OSError as error:
        raise _naming(error, path) from error
    try:
        with os.fdopen(
            descriptor, "w" if text else "wb", **({"newline": ""} if text else {})
        ) as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException as error:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(error, OSError):
            raise _naming(error, path) from error
        raise
    return path


def temporary_beside(path: Path) -> tuple[int, Path]:
    """A new, empty, hidden file for `path`'s content in `path`'s folder.

    Its name is unique, ``.<stem>-<random>.partial<suffix>`` (the suffix kept, so that encoders
    choose the format by it), and its mode is the one a plain ``open()`` would give (mkstemp's
    files are private).

    Returns:
      ``(descriptor, temporary path)``; the caller closes the descriptor.

    Raises:
      OSError: the folder does not take a new file.
    """
    descriptor, temporary = tempfile.mkstemp(
        prefix=f".{path.stem}-", suffix=f".partial{path.suffix}", dir=path.parent
    )
    os.fchmod(descriptor, 0o666 & ~_current_umask())
    return descriptor, Path(temporary)


def _current_umask() -> int:
    """The process umask, read from /proc where possible (os.umask can only read by setting)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _naming(error: OSError, path: Path) -> OSError:
    """`error` again, naming the file the user asked for."""
    reason = error.strerror or str(error)
    return type(error)(error.errno, f"could not write {str(path)!r}: {reason}", str(path))
