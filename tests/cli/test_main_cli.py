"""The ``defusion`` entry points: ``python -m defusion``, one-line argument errors, and a first run
with nowhere to cache the ONNX export."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from defusion import __version__
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image


def test_python_m_defusion_runs_the_command():
    """`python -m defusion` once failed: no defusion.__main__."""
    result = subprocess.run([sys.executable, "-m", "defusion", "--version"], capture_output=True, text=True,
                            timeout=120, encoding="utf-8")
    assert result.returncode == 0 and result.stdout.strip() == f"defusion {__version__}", result.stderr


def _usage_error(argv: list[str], capsys) -> str:
    """stderr of ``defusion ARGV``, which must be an argparse usage error (exit status 2)."""
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    return capsys.readouterr().err


FUSE = ["fuse", "a.png", "b.png", "-o", "f.png"]


def test_a_misspelt_option_is_blamed_on_the_sub_command_with_a_suggestion(capsys):
    """`--tsk mef` once showed the top-level usage (`defusion [-h] [--version] COMMAND`), no hint."""
    err = _usage_error([*FUSE, "--tsk", "mef"], capsys)
    assert err == ("defusion fuse: error: unrecognized argument --tsk (did you mean --task?); "
                   "see defusion fuse --help\n")


@pytest.mark.parametrize("extra, message", [
    (["--task", "mfe"], "argument --task: invalid choice: 'mfe'"),
    (["--scale", "0"], "argument --scale: must be at least 1, got 0"),
])
def test_argument_errors_are_one_line_without_the_usage(extra, message, capsys):
    """These once printed the ~20-line fuse usage before the one useful line."""
    err = _usage_error([*FUSE, *extra], capsys)
    assert err.startswith(f"defusion fuse: error: {message}") and err.endswith("; see defusion fuse --help\n")
    assert err.count("\n") == 1 and "usage:" not in err


def test_missing_output_and_unknown_command_are_one_line(capsys):
    err = _usage_error(["fuse", "a.png", "b.png"], capsys)
    assert err == ("defusion fuse: error: the following arguments are required: -o/--output; "
                   "see defusion fuse --help\n")
    err = _usage_error(["fsue"], capsys)
    assert err.startswith("defusion: error: argument COMMAND: invalid choice: 'fsue'") and err.count("\n") == 1
    err = _usage_error(["info", "--frobnicate"], capsys)
    assert err == "defusion info: error: unrecognized argument --frobnicate; see defusion info --help\n"


def test_help_still_shows_the_full_usage(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fuse", "--help"])
    assert exit_.value.code == 0 and capsys.readouterr().out.startswith("usage: defusion fuse [-h]")


#: What building the parser must not import: each takes from tenths of a second (cv2) to over one
#: (torch), which `defusion --help` and every usage error once spent.
HEAVY_MODULES = ("torch", "cv2", "fastapi", "onnxruntime", "scipy", "kornia", "matplotlib", "streamlit")


def test_help_and_usage_errors_import_no_heavy_module():
    """build_parser() imports every sub-command's module for its options: `defusion --help` once
    took 2 s, 1.2 s of it importing PyTorch (the modules imported exception classes and choices from
    the fusion core at their top). Checked in a fresh interpreter, where nothing is loaded yet."""
    code = f"""
import sys
from defusion.cli.main import COMMANDS, build_parser
parser = build_parser()
for argv in (["--help"], *([name, "--help"] for name in COMMANDS), ["fuse"], ["fsue"], ["info", "--frobnicate"]):
    try:
        parser.parse_args(argv)
    except SystemExit:
        pass
from defusion.cli.errors import UserError
from defusion.cli.options import check_tile
try:  # a bad --tile is refused before any model loads, as fast as a usage error
    check_tile(parser.parse_args(["fuse", "a.png", "b.png", "-o", "f.png", "--tile", "32"]))
except UserError as exc:
    print(exc)
loaded = [name for name in {HEAVY_MODULES!r} if name in sys.modules]
assert not loaded, f"building the parser imported {{loaded}}"
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, encoding="utf-8")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "usage: defusion fuse [-h]" in result.stdout and "usage: defusion ui [-h]" in result.stdout
    assert "--tile must be 0 (off) or at least 129 pixels" in result.stdout


def test_an_unwritable_onnx_cache_falls_back_to_pytorch(tmp_path, rng, tiny_weights, monkeypatch, capsys):
    """First run with nowhere to cache the ONNX export (HOME=/proc/1 once failed with exit 2):
    fused by PyTorch with one warning naming the cache folder and its variables, exit 0."""
    a = write_image(tmp_path / "a.png", smooth_image(rng, 24, 32))
    b = write_image(tmp_path / "b.png", np.full((24, 32), 90, np.uint8))
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.delenv("DEFUSION_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    out = tmp_path / "f.png"
    assert main(["fuse", str(a), str(b), "-o", str(out), "--weights", str(tiny_weights), "--no-progress"]) == 0
    assert out.is_file()
    err = capsys.readouterr().err
    assert f"warning: cannot write the ONNX cache folder {blocker / 'defusion'}" in err and "DEFUSION_CACHE" in err
