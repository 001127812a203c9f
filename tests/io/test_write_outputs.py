"""Writing outputs that must not fail late or leave debris: any valid name, a full or read-only disk,
a file where a folder must be, checked before the work that makes them."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pytest

from defusion.io.images import read_image, write_image
from defusion.io.writing import check_path, check_writable_folder, write_bytes_atomically


def fail_writes_in(monkeypatch, folder: Path, code: int, when=lambda path: True) -> None:
    """Make files written (Path.write_bytes) in ``folder`` fail with ``code`` after writing a byte,
    as a full disk leaves a partial file; ``when(path)`` picks which."""
    real = Path.write_bytes

    def write_bytes(self: Path, data: bytes) -> int:
        if self.parent == folder and when(self):
            real(self, data[:1])
            raise OSError(code, os.strerror(code))
        return real(self, data)

    monkeypatch.setattr(Path, "write_bytes", write_bytes)


@pytest.mark.parametrize("size", [251, 255])
def test_a_name_of_up_to_255_bytes_is_written(tmp_path, size):
    """The temporary name was ``.NAME.tmp``, 5 bytes longer than the name: past 250 bytes, too long."""
    path = tmp_path / ("a" * (size - 4) + ".png")
    write_image(path, np.full((4, 5), 7, np.uint8))
    assert read_image(path).shape == (4, 5)
    assert os.listdir(tmp_path) == [path.name]


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EROFS])
def test_a_failed_write_keeps_the_old_file_and_errno_and_leaves_no_temporary(tmp_path, monkeypatch, code):
    path = write_bytes_atomically(tmp_path / "results.csv", b"old")
    fail_writes_in(monkeypatch, tmp_path, code)
    with pytest.raises(OSError) as err:
        write_bytes_atomically(path, b"new")
    assert str(err.value) == f"{path}: cannot write ({os.strerror(code)})" and err.value.errno == code
    assert os.listdir(tmp_path) == ["results.csv"] and path.read_bytes() == b"old"


def test_a_file_where_a_folder_must_be_is_named(tmp_path):
    (tmp_path / "odd_a.png").write_bytes(b"")
    target = tmp_path / "odd_a.png" / "f.png"
    with pytest.raises(OSError, match=r"odd_a.png is a file, not a folder"):
        check_path(target)
    with pytest.raises(OSError, match=r"f.png: cannot write \(.*odd_a.png is a file, not a folder\)"):
        write_image(target, np.zeros((4, 4), np.uint8))
    with pytest.raises(OSError, match=r"odd_a.png is a file, not a folder"):
        check_writable_folder(tmp_path / "odd_a.png" / "sub")


def test_a_name_too_long_is_said_in_one_line_before_anything_is_touched(tmp_path):
    with pytest.raises(OSError) as err:
        check_path(tmp_path / "out" / ("é" * 130 + ".png"))
    assert "is 264 bytes long; this file system takes names of at most 255" in str(err.value)
    assert "[Errno" not in str(err.value) and err.value.errno == errno.ENAMETOOLONG
    assert not (tmp_path / "out").exists()
    check_path(tmp_path / "out" / ("a" * 251 + ".png"))  # 255 bytes: fine


def test_a_system_without_pathconf_assumes_names_of_255_bytes(tmp_path, monkeypatch):
    """Windows has no os.pathconf: check_path raised AttributeError, a traceback for every fuse run."""
    monkeypatch.delattr(os, "pathconf", raising=False)
    check_path(tmp_path / "out" / ("a" * 251 + ".png"))
    with pytest.raises(OSError, match="is 256 bytes long; this file system takes names of at most 255"):
        check_path(tmp_path / "out" / ("a" * 252 + ".png"))
    check_writable_folder(tmp_path / "out")


def test_checking_a_folder_leaves_nothing_behind_and_says_why_it_cannot_be_written(tmp_path, monkeypatch):
    check_writable_folder(tmp_path / "new" / "deeper")
    assert os.listdir(tmp_path) == []  # the folders made to try are removed again
    (tmp_path / "ro").mkdir()
    fail_writes_in(monkeypatch, tmp_path / "ro", errno.EROFS)
    with pytest.raises(OSError) as err:
        check_writable_folder(tmp_path / "ro")
    assert str(err.value) == f"cannot write in {tmp_path / 'ro'} (Read-only file system)"
    assert err.value.errno == errno.EROFS and os.listdir(tmp_path / "ro") == []
