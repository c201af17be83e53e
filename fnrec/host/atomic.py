"""Writing a file whole or not at all: the one atomic write of fnrec's host side.

The content goes to a hidden temporary file with a unique name beside the target (``.<name>.<random>
.partial``), which is renamed over the target only once it is complete and synced. On any failure
(a full disk, an exception in the writer, an interrupt) the temporary file is removed and the
target is left as it was: no truncated file under a final name, nothing left behind.
"""

from __future__ import annotations

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
        descriptor, temporary = tempfile.mkstemp(
            prefix=f".{path.name}.", suffix=".partial", dir=path.parent
        )
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


def _naming(error: OSError, path: Path) -> OSError:
    """`error` again, naming the file the user asked for."""
    reason = error.strerror or str(error)
    return type(error)(error.errno, f"could not write {str(path)!r}: {reason}", str(path))
