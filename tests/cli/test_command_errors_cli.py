"""How the command says an error it caught: a bug inside a library (numpy, torch, ...) is not said as
if the input were wrong without a word; DEFUSION_TRACEBACK=1 shows where any error was raised; the
user's own file problems (missing, unreadable, corrupt) stay one plain line; and ``defusion info``,
which reads no inputs, says what to lower when it runs out of memory."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.cli.errors import EXIT_FAILED, EXIT_USAGE, run_guarded
from defusion.errors import TRACEBACK_VARIABLE
from defusion.cli.main import main
from defusion.io.errors import ImageReadError
from defusion.io.images import write_image
from tests.cli.conftest import one_error_line, run_fuse
from tests.conftest import smooth_image

#: What the line of an error a library raised ends with.
BUG_HINT = ("if the input looks fine, this may be a defusion bug: DEFUSION_TRACEBACK=1 shows where; "
            "please report it)")


def _numpy_bug() -> None:
    """A bug as numpy says it: a ValueError raised in numpy's own code."""
    np.stack([np.zeros(2), np.zeros(3)])


def _missing_file() -> None:
    with open("no-such-folder/a.png", "rb"):
        pass


def _out_of_memory() -> None:
    raise MemoryError("Unable to allocate 8 GiB")


def _refusal() -> None:
    raise ImageReadError("a.png: cannot decode; is the file truncated or corrupt?")


@pytest.fixture(autouse=True)
def no_traceback_variable(monkeypatch):
    monkeypatch.delenv(TRACEBACK_VARIABLE, raising=False)


def test_an_error_a_library_raised_says_it_may_be_a_bug(capsys):
    assert run_guarded(_numpy_bug, (ValueError,)) == EXIT_USAGE
    line = one_error_line(capsys)
    assert line == f"defusion: error: all input arrays must have the same shape (raised inside numpy: {BUG_HINT}"

    def bad_number():  # raised by defusion's own code: a refusal, said as it is
        raise ValueError("--tile must be a number, got 'big'")

    # the user's file (the OS's error, raised in Python's io), defusion's refusals: no hint either
    for fn, said in ((_missing_file, "defusion: error: [Errno 2] No such file or directory: 'no-such-folder/a.png'"),
                     (_refusal, "defusion: error: a.png: cannot decode; is the file truncated or corrupt?"),
                     (bad_number, "defusion: error: --tile must be a number, got 'big'")):
        assert run_guarded(fn, (ValueError, OSError)) == EXIT_USAGE
        assert one_error_line(capsys) == said


@pytest.mark.parametrize("fn, expected, status", [
    (_numpy_bug, (ValueError,), EXIT_USAGE),
    (_refusal, (ValueError,), EXIT_USAGE),
    (_out_of_memory, (), EXIT_FAILED),
], ids=["a library's error", "a refusal", "out of memory"])
def test_defusion_traceback_prints_the_traceback_before_the_line(fn, expected, status, monkeypatch, capsys):
    monkeypatch.setenv(TRACEBACK_VARIABLE, "1")
    assert run_guarded(fn, expected) == status
    err = capsys.readouterr().err
    traceback, _, line = err.rstrip("\n").rpartition("\n")
    assert traceback.startswith("Traceback (most recent call last):") and line.startswith("defusion: error: ")
    assert ", line " in traceback and "in run_guarded" in traceback
    for off in ("0", "false", "off", "no"):  # off, as unset (a review: "false" turned them on)
        monkeypatch.setenv(TRACEBACK_VARIABLE, off)
        assert run_guarded(fn, expected) == status
        assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_a_truncated_image_is_one_line_without_a_bug_hint(suffix, tmp_path, rng, tiny_weights, capsys):
    good = write_image(tmp_path / f"good{suffix}", smooth_image(rng, 48, 64))
    data = good.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[:len(data) // 2])
    status = run_fuse(cut, good, "-o", tmp_path / "out.png", "--weights", tiny_weights, "--runtime", "torch")
    assert status == EXIT_USAGE
    line = one_error_line(capsys)
    assert line.startswith(f"defusion: error: {cut}: cannot decode") and "defusion bug" not in line


def test_info_out_of_memory_names_a_smaller_size(monkeypatch, capsys):
    from defusion.model import profile

    def allocator_fails(*args, **kwargs):
        raise RuntimeError("[enforce fail at alloc_cpu.cpp:127] DefaultCPUAllocator: can't allocate memory: you "
                           "tried to allocate 120000000000 bytes. Error code 12 (Cannot allocate memory)")

    monkeypatch.setattr(profile, "count_macs", allocator_fails)
    assert main(["info", "--model", "defusion-tiny", "--size", "100000"]) == EXIT_FAILED
    line = one_error_line(capsys)
    assert line.startswith("defusion: error: out of memory (") and "can't allocate memory" in line
    assert line.endswith("; give a smaller --size (the default is 256)") and "smaller inputs" not in line


def test_a_bug_inside_a_command_says_which_library_raised_it(monkeypatch, capsys):
    from defusion.model import profile

    monkeypatch.setattr(profile, "count_macs", lambda *args: _numpy_bug())
    assert main(["info", "--model", "defusion-tiny"]) == EXIT_USAGE
    assert one_error_line(capsys).endswith(f"(raised inside numpy: {BUG_HINT}")
