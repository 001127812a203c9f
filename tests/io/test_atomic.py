"""atomic_path, the one way the package replaces a file: the new file whole or the old one as it was,
and no temporary left behind, whatever stops the write. Its callers' own tests: tests/model/test_weights_atomic.py,
tests/training/test_atomic_writes.py, tests/io/test_write_outputs.py, tests/serving/test_export.py."""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest

from defusion.io.atomic import atomic_path, temporary_name


class _Killed(BaseException):
    """Not an Exception: what Ctrl-C (KeyboardInterrupt) is too."""


def test_the_target_is_replaced_when_the_block_succeeds(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old", encoding="utf-8")
    with atomic_path(target) as tmp:
        assert tmp.parent == tmp_path and tmp != target
        tmp.write_text("new", encoding="utf-8")
        assert target.read_text(encoding="utf-8") == "old"  # not before the block ends
    assert target.read_text(encoding="utf-8") == "new" and os.listdir(tmp_path) == ["out.csv"]


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"), ValueError("bad"),
                                     KeyboardInterrupt(), _Killed()])
def test_a_failure_leaves_the_old_target_and_no_temporary(tmp_path, failure):
    target = tmp_path / "out.csv"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(type(failure)):
        with atomic_path(target) as tmp:
            tmp.write_text("half writ", encoding="utf-8")
            raise failure
    assert os.listdir(tmp_path) == ["out.csv"] and target.read_text(encoding="utf-8") == "old"


def test_a_failure_before_anything_was_written_raises_its_own_error(tmp_path):
    with pytest.raises(ValueError, match="before writing"):
        with atomic_path(tmp_path / "out.csv"):
            raise ValueError("before writing")
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("size", [250, 255])
def test_a_long_name_is_written(tmp_path, size):
    """The temporary name does not grow with the target's: ``NAME.tmp`` was too long past 251 bytes."""
    target = tmp_path / ("a" * (size - 4) + ".csv")
    with atomic_path(target) as tmp:
        tmp.write_text("x", encoding="utf-8")
    assert os.listdir(tmp_path) == [target.name]


def test_each_writer_has_its_own_short_temporary():
    names = {temporary_name() for _ in range(100)}
    assert len(names) == 100 and all(len(name) < 32 and name.startswith(".") for name in names)


def test_an_image_written_to_a_long_name_leaves_only_itself(tmp_path):
    from defusion.io.writing import write_image

    path = write_image(tmp_path / ("b" * 246 + ".png"), np.zeros((2, 3), np.uint8))
    assert os.listdir(tmp_path) == [path.name]
