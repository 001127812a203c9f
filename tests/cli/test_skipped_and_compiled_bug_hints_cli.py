"""An error that is no refusal is not said as bad input without a word, wherever it is said: a folder
run's pair skipped on it and a benchmark method that failed on it say that it may be a bug, and print
their traceback under DEFUSION_TRACEBACK=1 as a command's error does; and a builtin error a compiled call
raised inside the library's own code (numpy's broadcasting: no frame of numpy's own) gets the hint too."""

from __future__ import annotations

import os

import numpy as np
import pytest

from defusion.cli.errors import EXIT_FAILED, EXIT_USAGE, error_line, run_guarded

from defusion.errors import TRACEBACK_VARIABLE, DefusionError, bug_hint
from tests.cli.conftest import infrared_visible_folders, one_error_line, run_fuse

#: What the line of an error that may be a bug ends with.
BUG_TAIL = "if the input looks fine, this may be a defusion bug: DEFUSION_TRACEBACK=1 shows where; please report it)"
#: The installed defusion package's folder.
_PACKAGE = os.path.dirname(os.path.abspath(__import__("defusion").__file__))
#: A file of the library's fusion package: code compiled as if there is the library's own code.
_IN_PACKAGE = os.path.join(_PACKAGE, "fusion", "_compiled_call.py")


def _broadcast_in_defusion() -> None:
    """numpy's broadcasting error raised from a line of defusion's own code (a C call adds no frame)."""
    exec(compile("np.zeros(2) + np.zeros(3)", _IN_PACKAGE, "exec"), {"np": np})


def _numpy_bug(*_args) -> None:
    np.stack([np.zeros(2), np.zeros(3)])


@pytest.fixture(autouse=True)
def no_traceback_variable(monkeypatch):
    monkeypatch.delenv(TRACEBACK_VARIABLE, raising=False)


def test_a_compiled_calls_error_inside_defusions_code_says_it_may_be_a_bug(capsys):
    assert run_guarded(_broadcast_in_defusion, (ValueError,)) == EXIT_USAGE
    line = one_error_line(capsys)
    assert line.startswith("defusion: error: operands could not be broadcast together")
    assert line.endswith(f"(raised in defusion's code, not as a refusal: {BUG_TAIL}")


def test_a_front_ends_own_builtin_refusal_gets_no_hint():
    """The command line says some refusals as builtins (an output format too narrow for the image): only
    the library's packages hold every refusal a DefusionError."""
    def refused():
        exec(compile("raise ValueError('f.webp: webp takes sides up to 16383 px')",
                     os.path.join(_PACKAGE, "cli", "fuse", "_refusal.py"), "exec"))

    try:
        refused()
    except ValueError as exc:
        assert bug_hint(exc) == ""


def test_refusals_the_users_files_and_a_callers_own_code_get_no_hint():
    def caught(fn):
        try:
            fn()
        except Exception as exc:  # noqa: BLE001
            return exc

    def refusal():
        raise DefusionError("a.png: cannot decode")

    def callers_error():  # raised in this test file: not defusion's, not a library's
        raise ValueError("--tile must be a number")

    for fn in (refusal, callers_error, lambda: open("no-such-folder/a.png", "rb")):
        assert bug_hint(caught(fn)) == ""
    assert error_line(caught(callers_error)) == "defusion: error: --tile must be a number"


def test_a_folder_runs_pair_skipped_on_a_bug_says_so_and_shows_its_traceback_when_asked(tmp_path, rng, tiny_weights,
                                                                                    monkeypatch, capsys):
    import defusion.cli.fuse.folder_run as folder_run

    da, db = infrared_visible_folders(tmp_path, rng, stems=("01", "02"))
    real = folder_run.fuse_one

    def fuse_one(fuser, sources, out, args, name, **kwargs):
        if name == "02":
            _numpy_bug()
        return real(fuser, sources, out, args, name, **kwargs)

    monkeypatch.setattr(folder_run, "fuse_one", fuse_one)
    arguments = ("--a", da, "--b", db, "--weights", tiny_weights, "--runtime", "torch")
    assert run_fuse(*arguments, "-o", tmp_path / "out") == EXIT_FAILED
    err = capsys.readouterr().err
    skipped = [line for line in err.splitlines() if line.startswith("defusion: skipped 02: ")]
    assert skipped == [f"defusion: skipped 02: all input arrays must have the same shape (raised inside numpy: {BUG_TAIL}"]
    assert "Traceback" not in err

    monkeypatch.setenv(TRACEBACK_VARIABLE, "1")
    assert run_fuse(*arguments, "-o", tmp_path / "again") == EXIT_FAILED
    err = capsys.readouterr().err
    before, _, _ = err.partition("defusion: skipped 02: ")
    assert "Traceback (most recent call last):" in before and "in _numpy_bug" in before


def test_a_bench_method_that_fails_on_a_bug_says_so_and_shows_its_traceback_when_asked(rng, monkeypatch, capsys):
    from pathlib import Path

    from defusion.benchmark.evaluation import PairTask, _fused_by_methods
    from tests.conftest import smooth_image

    a, b = smooth_image(rng, 24, 32, 1), smooth_image(rng, 24, 32, 1)
    task = PairTask("01", Path("a.png"), Path("b.png"), {}, {}, [], set(), None, ["broken"])
    _, _, problems = _fused_by_methods(task, {"broken": _numpy_bug}, a, b, [a, b])
    assert problems == [f"01: broken failed: all input arrays must have the same shape (raised inside numpy: {BUG_TAIL}"]
    assert "Traceback" not in capsys.readouterr().err
    monkeypatch.setenv(TRACEBACK_VARIABLE, "yes")
    _fused_by_methods(task, {"broken": _numpy_bug}, a, b, [a, b])
    assert "Traceback (most recent call last):" in capsys.readouterr().err
