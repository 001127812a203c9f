"""benchmarks/speed.py end to end on tiny weights: every backend it reports agrees with eager;
the reference pass stays out of the backends' workers; bad command lines are refused in one line.

Only plumbing and agreement are checked; speed figures belong to the benchmark's own runs.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
import torch

from tests.conftest import REPO

SCRIPT = REPO / "benchmarks" / "speed.py"


def _module():
    spec = importlib.util.spec_from_file_location("speed_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _refused(*args: str) -> str:
    """Run the script with ``args``; require a refusal (exit 2, one line, no traceback), return it."""
    proc = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, encoding="utf-8",
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    return proc.stderr.strip().splitlines()[-1]


def _run(tmp_path, tiny_weights, backends: str) -> str:
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n\nintro stays\n\n<!-- speed:begin -->\nold table\n<!-- speed:end -->\n\noutro stays\n",
                   encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "--backends", backends, "--sizes", "32x24,48x32", "--repeats", "1",
         "--threads", "1", "--weights", str(tiny_weights), "--write", str(doc)],
        capture_output=True, text=True, timeout=600, encoding="utf-8")
    assert proc.returncode == 0, proc.stderr
    return doc.read_text(encoding="utf-8")


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


def test_torchscript_backend_times_the_cli_export_and_agrees_with_eager(tmp_path, tiny_weights):
    """The file `defusion export --format torchscript` writes, torch.jit.load'ed, is measured as a backend."""
    assert "torchscript" in _module().CPU_BACKENDS
    doc = _run(tmp_path, tiny_weights, "torchscript")
    row = next(line for line in doc.splitlines() if line.startswith("| `torchscript`"))
    assert float(row.split("|")[-4].split("/")[0]) < 0.01


def test_a_backend_alone_is_compared_with_a_reference_pass_of_its_own(tmp_path, tiny_weights):
    doc = _run(tmp_path, tiny_weights, "channels_last")  # no eager backend: the reference runs in a worker
    row = next(line for line in doc.splitlines() if line.startswith("| `channels_last`"))
    assert float(row.split("|")[-4].split("/")[0]) < 0.01


def test_a_backend_worker_runs_no_reference_pass(tmp_path, tiny_weights, monkeypatch):
    """Its peak memory is its own: one network loaded and run per size, the one it times."""
    import defusion.model.weights as weights

    loads = []
    real = weights.load_weights
    monkeypatch.setattr(weights, "load_weights", lambda *a, **k: loads.append(a) or real(*a, **k))
    threads = torch.get_num_threads()
    try:
        result = _module().measure("eager", [(32, 24)], 1, 1, str(tiny_weights), tmp_path)
    finally:
        torch.set_num_threads(threads)
    assert len(loads) == 1 and "max_diff" not in result["sizes"]["32x24"]
    assert (tmp_path / "eager_32x24.npy").exists()  # compared in the parent, outside this worker


def test_a_mistyped_backend_is_refused_naming_the_closest_and_the_valid_ones():
    line = _refused("--backends", "eager,onnx")
    assert line.startswith("speed.py: error: unknown backend 'onnx'") and "did you mean 'onnxruntime'?" in line
    assert "valid: eager, channels_last," in line and "cuda-fp16" in line


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_a_cuda_backend_without_a_gpu_is_refused():
    assert "'cuda-fp16' needs a CUDA GPU" in _refused("--backends", "cuda-fp16")


@pytest.mark.parametrize("option, value", [("--sizes", "640x479"), ("--repeats", "0")])
def test_bad_sizes_and_repeats_are_refused(option, value):
    assert _refused(option, value).startswith(f"speed.py: error: argument {option}:")
