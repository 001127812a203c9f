"""benchmarks/onnx_files.py end to end on tiny exports: one row per file and size, each against the
first; bad command lines are refused in one line. Speed figures belong to the script's own runs."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "benchmarks" / "onnx_files.py"


def _run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True, text=True,
                          encoding="utf-8", timeout=300)


@pytest.fixture(scope="module")
def tiny_exports(tiny_weights, tmp_path_factory):
    from defusion.fusion.export import export_onnx
    from defusion.model.weights import load_weights

    folder = tmp_path_factory.mktemp("onnx_files")
    export_onnx(load_weights(tiny_weights), folder / "a.onnx")
    shutil.copy(folder / "a.onnx", folder / "b.onnx")
    return folder / "a.onnx", folder / "b.onnx"


def test_rows_per_file_and_size_against_the_first(tiny_exports):
    proc = _run(*tiny_exports, "--sizes", "32x24,48x32", "--repeats", "1", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    rows = [line.split(" | ") for line in proc.stdout.splitlines() if line.startswith("| `")]
    assert [(r[0], r[1]) for r in rows] == [("| `a.onnx`", "32x24"), ("| `b.onnx`", "32x24"),
                                            ("| `a.onnx`", "48x32"), ("| `b.onnx`", "48x32")]
    assert all(r[-1] == "0.00 / 0.000 |" for r in rows)  # the same graph: the same fused image
    assert rows[0][4] == "1.00x" and all(float(r[2]) > 0 for r in rows)


@pytest.mark.parametrize("case", ["one file", "missing", "not onnx"])
def test_refusals_are_one_line(case, tiny_exports, tmp_path):
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    files = {"one file": [tiny_exports[0]], "missing": [tiny_exports[0], tmp_path / "none.onnx"],
             "not onnx": [tiny_exports[0], junk]}[case]
    proc = _run(*files, "--sizes", "32x24", "--repeats", "1", "--threads", "1")
    assert proc.returncode == (1 if case == "not onnx" else 2), proc.stderr
    assert "Traceback" not in proc.stderr
    assert {"one file": "two or more", "missing": "no such file", "not onnx": "junk.onnx"}[case] in proc.stderr
