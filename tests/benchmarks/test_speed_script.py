"""benchmarks/speed.py end to end on tiny weights: every backend it reports agrees with eager.

Only plumbing and agreement are checked; speed figures belong to the benchmark's own runs.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO

SCRIPT = REPO / "benchmarks" / "speed.py"


def _run(tmp_path, tiny_weights, backends: str) -> str:
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nintro stays\n\n<!-- speed:begin -->\nold table\n<!-- speed:end -->\n\noutro stays\n")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--backends", backends, "--sizes", "32x24,48x32", "--repeats", "1",
         "--threads", "1", "--weights", str(tiny_weights), "--write", str(doc)],
        capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return doc.read_text()


def test_speed_table_written_between_markers(tmp_path, tiny_weights):
    doc = _run(tmp_path, tiny_weights, "eager,channels_last")
    assert "old table" not in doc and "intro stays" in doc and "outro stays" in doc
    rows = [line for line in doc.splitlines() if line.startswith("| `")]
    assert [r.split("|")[1].strip() for r in rows] == ["`eager`", "`channels_last`"]
    assert "| 1.00x |" in rows[0]
    # channels_last computes the same function: differences are float rounding only
    max_diff = float(rows[1].split("|")[-4].split("/")[0])
    assert max_diff < 0.01


def test_onnxruntime_backend_agrees_with_eager(tmp_path, tiny_weights):
    pytest.importorskip("onnxruntime")
    doc = _run(tmp_path, tiny_weights, "onnxruntime")
    row = next(line for line in doc.splitlines() if line.startswith("| `onnxruntime`"))
    assert float(row.split("|")[-4].split("/")[0]) < 0.01
