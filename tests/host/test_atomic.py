"""fnrec.host.atomic: a file is written whole or not at all, and nothing is left behind."""

from __future__ import annotations

import errno

import pytest
from conftest import leftovers

from fnrec.host.atomic import write_atomically


def test_writes_the_whole_file_and_leaves_nothing_else(tmp_path):
    path = write_atomically(tmp_path / "a.csv", lambda file: file.write("x,y\n1,2\n"), text=True)
    assert path == tmp_path / "a.csv" and path.read_text() == "x,y\n1,2\n"
    write_atomically(path, lambda file: file.write(b"new"))
    assert path.read_bytes() == b"new" and leftovers(tmp_path) == []


@pytest.mark.fault
def test_a_failing_writer_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("earlier run")

    def fails(file):
        file.write(b"half of it")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_atomically(path, fails)
    assert path.read_text() == "earlier run" and leftovers(tmp_path) == []


@pytest.mark.fault
def test_a_full_disk_names_the_file_asked_for(tmp_path):
    def full(file):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(OSError, match=r"could not write '.*out\.npz': No space left") as info:
        write_atomically(tmp_path / "out.npz", full)
    assert info.value.errno == errno.ENOSPC and ".partial" not in str(info.value)
    assert not (tmp_path / "out.npz").exists() and leftovers(tmp_path) == []
    with pytest.raises(FileNotFoundError, match=r"could not write '.*missing/out\.npz'"):
        write_atomically(tmp_path / "missing" / "out.npz", lambda file: None)


def test_the_file_gets_the_mode_a_plain_open_gives(tmp_path):
    """mkstemp's temporary files are private (0600); the written file must not stay so."""
    import os

    mask = os.umask(0o022)
    try:
        path = write_atomically(tmp_path / "log.csv", lambda file: file.write(b"x"))
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644
