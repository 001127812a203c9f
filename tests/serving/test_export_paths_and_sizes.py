"""A deployment engineer's audit of `defusion export`: what an export records about its weights,
bad -o paths refused before the work, any height and width, and the notes it says."""

from __future__ import annotations

import argparse
import errno
import json
import os
import pathlib

import pytest
import torch

from defusion import __version__
from defusion.cli import export as export_cli
from defusion.cli.errors import run_guarded
from defusion.fusion.tiling import run_padded
from defusion.model.weights import load_weights, weights_digest
from defusion.fusion.export import PARITY_SIZE, TORCHSCRIPT_METADATA, load_exported
from defusion.fusion.onnx_runtime import OnnxDeNet
from tests.serving.conftest import run_export

#: A size that is no multiple of 8 on either side: the graph pads it to 40 x 48 and crops back.
ODD_SIZE = (37, 45)


def _guarded(capsys, *argv) -> tuple[int, str]:
    """The export CLI as `defusion export` runs it: exit status and stderr."""
    status = run_guarded(lambda: run_export(*argv), export_cli.EXPECTED_ERRORS)
    return status, capsys.readouterr().err


def _described(exported) -> dict[str, dict]:
    """Each format's description of itself: ONNX metadata_props, the TorchScript file's extra file."""
    import onnx

    proto = onnx.load(str(exported["onnx"]), load_external_data=False)
    files = {TORCHSCRIPT_METADATA: ""}
    torch.jit.load(str(exported["torchscript"]), _extra_files=files)
    return {"onnx": {p.key: p.value for p in proto.metadata_props},
            "torchscript": json.loads(files[TORCHSCRIPT_METADATA])}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_both_formats_record_which_weights_they_hold_and_the_version_that_wrote_them(exported, lively_weights):
    """The audit: a TorchScript export did not say which weights it held (source, digest, steps)."""
    for fmt, described in _described(exported).items():
        assert described["weights_sha256_16"] == weights_digest(lively_weights), fmt
        assert described["source_weights"] == lively_weights.name, fmt
        assert described["defusion_version"] == __version__, fmt
        assert described["steps"] == "0" and described["note"] == "tiny, heads re-scaled", fmt
        assert described["precision"] == "fp32", fmt  # what the file computes in, not the training's
    assert _described(exported)["torchscript"]["size_multiple"] == 1  # any size (the graph pads)


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
@pytest.mark.parametrize("size", [ODD_SIZE, (5, 3)])  # 5 x 3: a side shorter than its padding (replicated)
def test_exports_take_any_size_and_give_the_fusers_padded_run(exported, lively_weights, fmt, size):
    """The audit: 37 x 45 failed inside the graph ("Concat node ... mismatched dimensions of 43 and 44",
    "Sizes of tensors must match"); the graph now pads as the Fuser does and crops back."""
    model = load_weights(lively_weights).eval()
    g = torch.Generator().manual_seed(5)
    x1, x2 = torch.rand(2, 3, *size, generator=g), torch.rand(2, 3, *size, generator=g)
    gains = torch.tensor(1.5), torch.tensor(1.75)
    with torch.no_grad():
        expected = run_padded(lambda a, b: model(a, b, *gains), x1, x2)
        got = load_exported(exported[fmt], fmt)(x1, x2, *gains)
    for a, b in zip(expected, got):
        assert tuple(b.shape) == (2, 3, *size)
        assert float((a - b).abs().max()) < 1e-4, fmt


@pytest.mark.filterwarnings("ignore")
def test_an_export_from_before_the_padding_refuses_other_sizes_saying_what_to_do(tmp_path, lively_weights):
    """Older files (no size_multiple of 1 in their metadata) still need multiples of 8: said in one line."""
    model = load_weights(lively_weights).eval()
    x = torch.rand(1, 3, 32, 32)
    path = tmp_path / "old.onnx"
    torch.onnx.export(model, (x, x, torch.tensor(1.0), torch.tensor(1.0)), str(path), dynamo=False,
                      input_names=["x1", "x2", "unique_gain", "detail_gain"],
                      output_names=["common", "unique1", "unique2", "fused"],
                      dynamic_axes={n: {2: "h", 3: "w"} for n in ("x1", "x2", "common", "unique1", "unique2", "fused")})
    old = OnnxDeNet(path, threads=1)
    assert old.size_multiple == 8
    with pytest.raises(ValueError, match="multiples of 8 .* export it again with `defusion export`"):
        old(torch.rand(1, 3, 20, 21), torch.rand(1, 3, 20, 21))


def test_the_parity_check_runs_at_a_size_that_needs_padding():
    batch, height, width = PARITY_SIZE
    assert height % 8 and width % 8
    assert export_cli.PARITY_BATCH == f"{batch}x3x{height}x{width}"  # what --help and the CLI's line say


def _refused_before_loading(capsys, tmp_path, output) -> str:
    """Export to ``output`` with weights that do not exist: a refusal of -o says so first, in one line."""
    status, err = _guarded(capsys, "--format", "onnx", "-o", output, "--weights", tmp_path / "none.safetensors")
    assert status == 2 and err.startswith(f"defusion: error: -o {output}: ") and err.count("\n") == 1, err
    assert "Traceback" not in err and "none.safetensors" not in err  # the weights were never read
    return err


def test_an_output_under_a_file_is_refused_before_the_work(tmp_path, capsys):
    """The audit: `-o denet.onnx/x.onnx` said "[Errno 17] File exists" after the slow trace."""
    (tmp_path / "denet.onnx").write_bytes(b"an export")
    err = _refused_before_loading(capsys, tmp_path, tmp_path / "denet.onnx" / "x.onnx")
    assert f"{tmp_path / 'denet.onnx'} is a file, not a folder" in err
    assert "Errno" not in err


def test_an_output_where_nothing_can_be_written_is_refused_naming_it_not_a_temporary(tmp_path, capsys):
    """The audit: `-o /proc/x.onnx` failed naming the export's internal temporary file."""
    err = _refused_before_loading(capsys, tmp_path, pathlib.Path("/proc/x.onnx"))
    assert "cannot write in /proc" in err and ".tmp" not in err


def test_a_name_too_long_is_refused_in_check_paths_words(tmp_path, capsys):
    """A review: `is_dir()` ran first and raised "[Errno 36] File name too long" with the whole path."""
    err = _refused_before_loading(capsys, tmp_path, tmp_path / ("a" * 300 + ".onnx"))
    assert "Errno" not in err and "bytes long; this file system takes names of at most" in err


def test_an_output_folder_that_cannot_be_written_in_is_refused_before_the_work(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: the folder's refusal, as the OS would say it
        real = pathlib.Path.write_bytes

        def refuse(self, data):
            if self.parent == folder:
                raise PermissionError(errno.EACCES, "Permission denied", str(self))
            return real(self, data)

        monkeypatch.setattr(pathlib.Path, "write_bytes", refuse)
    else:
        folder.chmod(0o555)
    try:
        err = _refused_before_loading(capsys, tmp_path, folder / "x.onnx")
    finally:
        folder.chmod(0o755)
    assert f"cannot write in {folder} (Permission denied)" in err
    assert list(folder.iterdir()) == []


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_missing_folders_are_made_and_said_as_defusion_fuse_says_them(tmp_path, tiny_weights, capsys):
    """The audit: `-o new/deep/x.onnx` made the folders silently; `defusion fuse -o` makes them and says so."""
    out = tmp_path / "new" / "deep" / "x.pt"
    status, err = _guarded(capsys, "--format", "torchscript", "-o", out, "--weights", tiny_weights, "--no-check")
    assert status == 0 and out.is_file(), err
    wrote = next(line for line in err.splitlines() if line.startswith("wrote "))
    assert wrote.startswith(f"wrote {out} (made the folder {out.parent}, which did not exist) (torchscript")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_a_re_export_says_it_replaces_the_file(tmp_path, tiny_weights, capsys):
    out = tmp_path / "x.pt"
    argv = ("--format", "torchscript", "-o", out, "--weights", tiny_weights, "--no-check")
    status, first = _guarded(capsys, *argv)
    assert status == 0 and "replacing" not in first
    status, again = _guarded(capsys, *argv)
    assert status == 0 and f"defusion: note: replacing {out}" in again.splitlines(), again  # once, before the work
    assert again.index("replacing") < again.index("wrote ")
    assert "(made the folder" not in again


def test_half_help_says_a_cpu_runs_it_slower():
    """The audit: "a CPU gains nothing" from --half; measured, a CPU runs it several times slower."""
    parser = argparse.ArgumentParser()
    export_cli.add_arguments(parser)
    text = " ".join(parser.format_help().split())
    assert "a CPU gains nothing" not in text and "never faster on a CPU" in text and "times slower" in text


def test_the_half_onnx_check_does_not_say_its_fp16_figure_came_from_a_gpu(tmp_path, tiny_weights, capsys):
    """The audit: "about 2e-3 on a GPU" was measured in eager PyTorch fp16 on a CPU."""
    status, err = _guarded(capsys, "--format", "onnx", "--half", "-o", tmp_path / "h.onnx", "--weights", tiny_weights)
    assert status == 0, err
    assert "on a GPU" not in err and "measured in eager PyTorch fp16 on a CPU" in err
