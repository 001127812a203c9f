"""Export to ONNX / TorchScript: parity with PyTorch at another size, and a Fuser over OnnxDeNet."""

from __future__ import annotations


import numpy as np
import pytest
import torch

from defusion.cli import export as export_cli
from defusion.cli.errors import UserError, run_guarded
from defusion.fusion.fuser import Fuser
from defusion.io.images import write_image
from defusion.model.weights import WeightsError, load_weights
from defusion.fusion.export import EXPORT_SIZE, PARITY_SIZE, ExportError, export_model, parity
from defusion.fusion.onnx_runtime import OnnxDeNet, OnnxModelError, load_onnx_fuser
from tests.conftest import smooth_image
from tests.serving.conftest import run_export


def test_parity_at_another_size_and_batch(exported, lively_weights):
    assert PARITY_SIZE[1:] != EXPORT_SIZE and PARITY_SIZE[0] != 1
    model = load_weights(lively_weights)
    for fmt, path in exported.items():
        diff = parity(model, path, fmt)
        assert diff < 1e-4, (fmt, diff)
    assert parity(model, exported["onnx"], size=(1, 24, 80)) < 1e-4  # yet another size, from the suffix


def test_onnx_carries_the_config_and_metadata(exported, lively_weights):
    net = OnnxDeNet(exported["onnx"], threads=1)
    assert net.cfg == load_weights(lively_weights).cfg
    assert net.metadata["steps"] == "0" and net.metadata["size_multiple"] == "1"  # the graph pads itself
    assert net.eval() is net and net.to("cpu") is net
    with pytest.raises(OnnxModelError, match="fp16"):
        net.half()
    assert net(torch.rand(1, 3, 20, 21), torch.rand(1, 3, 20, 21)).fused.shape == (1, 3, 20, 21)


@pytest.mark.parametrize("case", ["rgb-odd-size", "grey+colour-tiled"])
def test_fuser_over_onnx_matches_pytorch(exported, lively_weights, case):
    rng = np.random.default_rng(3)
    if case == "rgb-odd-size":  # 37x45: the Fuser pads to 40x48, a size the export never saw
        a, b, options = smooth_image(rng, 37, 45), smooth_image(rng, 37, 45), {"tile": 0}
    else:  # tiles of 64 with overlap 16 over a 70x90 pair
        a, b, options = smooth_image(rng, 70, 90, 1), smooth_image(rng, 70, 90), {"tile": 64, "overlap": 16}
    ours = Fuser.from_pretrained(lively_weights, device="cpu", **options)
    before = torch.get_num_threads()
    try:
        theirs = load_onnx_fuser(exported["onnx"], threads=1, **options)
        assert torch.get_num_threads() == 1  # PyTorch's too (the up-sampling at scale 2), as from_pretrained
    finally:
        torch.set_num_threads(before)
    assert isinstance(theirs.model, OnnxDeNet)
    expected, got = ours.fuse(a, b), theirs.fuse(a, b)
    assert got.shape == expected.shape == a.shape[:2] + (3,)
    assert 10 < expected.mean() < 245
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= 1
    parts = theirs.decompose(a, b)
    assert np.abs(parts.common.astype(int) - ours.decompose(a, b).common.astype(int)).max() <= 1


def test_from_pretrained_takes_an_onnx_export_in_place_of_weights(exported, lively_weights):
    a, b = (smooth_image(np.random.default_rng(seed), 32, 40) for seed in (1, 2))
    fuser = Fuser.from_pretrained(exported["onnx"], device="cpu", threads=1, tile=0)
    assert isinstance(fuser.model, OnnxDeNet) and fuser.options.tile == 0
    assert np.array_equal(fuser.fuse(a, b), load_onnx_fuser(exported["onnx"], threads=1, tile=0).fuse(a, b))
    for runtime in ("torch", "compile"):  # an export is ONNX Runtime's model: nothing else runs it
        with pytest.raises(ValueError, match=f"ONNX export: it runs on ONNX Runtime .* not '{runtime}'"):
            Fuser.from_pretrained(exported["onnx"], runtime=runtime)
    with pytest.raises(ValueError, match="fp16 .* ONNX export"):
        Fuser.from_pretrained(exported["onnx"], half=True)
    with pytest.raises(OnnxModelError, match="is a weights file .* not an ONNX export"):  # never run as one
        load_onnx_fuser(lively_weights)
    renamed = exported["onnx"].with_name("model.bin")  # an export renamed (`defusion export` names it .onnx)
    renamed.write_bytes(exported["onnx"].read_bytes())
    assert np.array_equal(load_onnx_fuser(renamed, threads=1, tile=0).fuse(a, b), fuser.fuse(a, b))
    assert isinstance(Fuser.from_pretrained(renamed, onnx=True, threads=1).model, OnnxDeNet)


def test_bad_inputs(tmp_path, tiny_weights):
    with pytest.raises(OnnxModelError, match="not found"):
        load_onnx_fuser(tmp_path / "missing.onnx")
    (tmp_path / "junk.onnx").write_text("not a model", encoding="utf-8")
    with pytest.raises(OnnxModelError, match=r"junk.onnx is not an ONNX model .* defusion export --format onnx") as err:
        OnnxDeNet(tmp_path / "junk.onnx")  # ONNX Runtime's own words: `[ONNXRuntimeError] : 7 : INVALID_PROTOBUF`
    assert "ONNXRuntimeError" not in str(err.value)
    with pytest.raises(ExportError, match="unknown export format"):
        export_model(load_weights(tiny_weights), tmp_path / "x.bin", fmt="tflite")
    with pytest.raises(WeightsError):
        run_export("--format", "onnx", "-o", tmp_path / "x.onnx", "--weights", tmp_path / "none.safetensors")
    with pytest.raises(UserError, match="opset"):
        run_export("--format", "onnx", "-o", tmp_path / "x.onnx", "--opset", "9")
    for cls in (WeightsError, ExportError, OnnxModelError):
        assert issubclass(cls, export_cli.EXPECTED_ERRORS)


def _guarded(capsys, *argv) -> tuple[int, str]:
    """The export CLI as `defusion export` runs it: exit status and stderr."""
    status = run_guarded(lambda: run_export(*argv), export_cli.EXPECTED_ERRORS)
    return status, capsys.readouterr().err


@pytest.mark.parametrize("opset", [99, 9])
def test_an_opset_out_of_range_is_one_line_naming_the_range(opset, tmp_path, tiny_weights, capsys):
    highest = export_cli.max_opset()
    assert highest is not None and export_cli.MIN_OPSET < 17 < highest < 99
    out = tmp_path / "x.onnx"
    status, err = _guarded(capsys, "--format", "onnx", "-o", out, "--opset", opset, "--weights", tiny_weights)
    assert status == 2 and err.startswith("defusion: error:") and err.count("\n") == 1, err
    assert f"--opset must be {export_cli.MIN_OPSET} to {highest}" in err and f"got {opset}" in err
    assert not out.exists()


def test_the_highest_opset_named_exports(tmp_path, tiny_weights):
    out = tmp_path / "x.onnx"
    assert run_export("--format", "onnx", "-o", out, "--opset", export_cli.max_opset(), "--weights", tiny_weights) == 0
    assert OnnxDeNet(out, threads=1).cfg == load_weights(tiny_weights).cfg


def test_an_opset_the_exporter_refuses_is_one_line(tmp_path, tiny_weights, capsys, monkeypatch):
    """Where PyTorch does not say its highest opset, the exporter's own error becomes one line."""
    monkeypatch.setattr(export_cli, "max_opset", lambda: None)
    out = tmp_path / "x.onnx"
    status, err = _guarded(capsys, "--format", "onnx", "-o", out, "--opset", 99, "--weights", tiny_weights)
    started, refused = err.splitlines()  # the exporter refuses it once the export has begun
    assert started.startswith("defusion: note: exporting") and refused.startswith(
        "defusion: error: --opset 99: not supported") and status == 2, err
    assert not out.exists() and not list(tmp_path.glob(".*.tmp"))


@pytest.mark.parametrize("fmt, name, hint", [
    ("onnx", "denet.pt", "denet.onnx"),
    ("onnx", "denet.PTH", "denet.onnx"),
    ("torchscript", "ts.onnx", "ts.pt"),
])
def test_an_output_named_for_the_other_format_is_refused(fmt, name, hint, tmp_path, tiny_weights, capsys):
    out = tmp_path / name
    status, err = _guarded(capsys, "--format", fmt, "-o", out, "--weights", tiny_weights)
    assert status == 2 and err.startswith("defusion: error:") and err.count("\n") == 1, err
    assert f"not {fmt}" in err and str(tmp_path / hint) in err
    assert not out.exists()


@pytest.mark.parametrize("fmt, name, hint", [
    ("onnx", "x.txt", "x.onnx"),
    ("onnx", "denet", "denet.onnx"),
    ("torchscript", "denet.bin", "denet.pt"),
])
def test_an_output_not_named_for_its_format_is_refused(fmt, name, hint, tmp_path, tiny_weights, capsys):
    """The audit: `--format onnx -o x.txt` wrote an ONNX file that readers, telling an export by its
    suffix, take for something else."""
    out = tmp_path / name
    status, err = _guarded(capsys, "--format", fmt, "-o", out, "--weights", tiny_weights)
    assert status == 2 and err.startswith("defusion: error:") and err.count("\n") == 1, err
    assert f"a {fmt} export's name ends in " in err and f"use -o {tmp_path / hint}" in err
    assert not out.exists()


def test_the_export_says_what_it_does_before_the_wait(tmp_path, tiny_weights, capsys):
    """The audit: about 30 s with no output; the first line says what, where, and that it takes a while."""
    out = tmp_path / "tiny.pt"
    assert run_export("--format", "torchscript", "-o", out, "--weights", tiny_weights, "--no-check") == 0
    first = capsys.readouterr().err.splitlines()[0]
    assert first == (f"defusion: note: exporting {tiny_weights} to {out} (torchscript, fp32 compute): "
                     "this takes a while"), first


class _OlderExport(torch.nn.Module):
    """DeNet with the inputs an older export had: x1, x2 and the first ``len(gains)`` gains."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x1, x2, *gains):
        return tuple(self.net(x1, x2, *gains))


def _older_export(path, model, x1, x2, *gains) -> OnnxDeNet:
    """An ONNX export of ``model`` with the inputs of an export made before a gain existed."""
    names = ["x1", "x2", "unique_gain"][:2 + len(gains)]
    outputs = ["common", "unique1", "unique2", "fused"]
    dynamic = {n: {2: "h", 3: "w"} for n in ("x1", "x2", *outputs)}
    torch.onnx.export(_OlderExport(model), (x1, x2, *gains), str(path), dynamo=False, input_names=names,
                      output_names=outputs, dynamic_axes=dynamic)
    return OnnxDeNet(path, threads=1)


@pytest.mark.filterwarnings("ignore")
def test_exports_from_before_the_unique_gain_run_gain_1_and_refuse_others(tmp_path, lively_weights):
    """A two-input export (made before unique_gain, 2026-12-04) still runs the paper's Pr."""
    model = load_weights(lively_weights).eval()
    x1, x2 = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    old = _older_export(tmp_path / "old.onnx", model, x1, x2)
    with torch.no_grad():
        assert float((old(x1, x2, 1.0).fused - model(x1, x2).fused).abs().max()) < 1e-4
    with pytest.raises(OnnxModelError, match="export it again"):
        old(x1, x2, 1.5)
    assert float((old(x1, x2, 1.0, 1.0).fused - model(x1, x2).fused).abs().max()) < 1e-4


@pytest.mark.filterwarnings("ignore")
def test_exports_from_before_the_detail_gain_run_the_unique_gains_own_and_refuse_others(tmp_path, lively_weights):
    """A three-input export (unique gain, its detail term tied to it) runs the default detail gain."""
    model = load_weights(lively_weights).eval()
    x1, x2 = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    old = _older_export(tmp_path / "gd.onnx", model, x1, x2, torch.tensor(1.0))
    with torch.no_grad():
        assert float((old(x1, x2, 1.5).fused - model(x1, x2, 1.5).fused).abs().max()) < 1e-4
        assert float((old(x1, x2, 1.5, 2.0).fused - model(x1, x2, 1.5).fused).abs().max()) < 1e-4
    with pytest.raises(OnnxModelError, match="before the detail gain"):
        old(x1, x2, 1.0, 1.5)


def test_exports_describe_themselves_and_the_fusion_cores_defaults(exported):
    import json

    import onnx

    from defusion.fusion.fuser import FuseOptions
    from defusion.fusion.export import TORCHSCRIPT_METADATA, fusion_defaults

    ivf = FuseOptions.for_task("ivf")
    assert fusion_defaults()["ivf"] == {"unique_gain": ivf.unique_gain, "detail_gain": ivf.resolved_detail_gain,
                                        "scale": ivf.scale}
    # a focus stack's default picks the sources' pixels; the export records the reconstruction's settings
    assert fusion_defaults()["mff"] == {"unique_gain": 1.0, "detail_gain": 1.5, "scale": 2}
    proto = onnx.load(str(exported["onnx"]), load_external_data=False)
    props = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(props["fusion_defaults"]) == fusion_defaults()
    assert "luminance" in props["input_note"] and "luminance" in proto.doc_string
    files = {TORCHSCRIPT_METADATA: ""}
    torch.jit.load(str(exported["torchscript"]), _extra_files=files)
    described = json.loads(files[TORCHSCRIPT_METADATA])
    assert described["precision"] == "fp32" and described["size_multiple"] == 1
    assert described["outputs"] == ["common", "unique1", "unique2", "fused"]
    assert described["fusion_defaults"] == fusion_defaults()


def test_a_torchscript_export_follows_the_dtype_it_is_moved_to(exported, lively_weights):
    """Nothing in the trace is frozen on the device or dtype it was traced with (a blur kernel
    built in forward was: the export could not move to CUDA)."""
    scripted = torch.jit.load(str(exported["torchscript"])).double()
    model = load_weights(lively_weights).double().eval()
    x1, x2 = torch.rand(1, 3, 32, 40, dtype=torch.float64), torch.rand(1, 3, 32, 40, dtype=torch.float64)
    gains = torch.tensor(1.5, dtype=torch.float64), torch.tensor(2.0, dtype=torch.float64)
    got = scripted(x1, x2, *gains)
    with torch.no_grad():
        expected = model(x1, x2, 1.5, 2.0)
    assert got[3].dtype == torch.float64
    assert float((got[3] - expected.fused).abs().max()) < 1e-9


def test_an_export_onto_a_folder_is_refused_before_work_and_a_failed_one_leaves_nothing(tmp_path, tiny_weights,
                                                                                       monkeypatch):
    with pytest.raises(UserError, match="is a folder"):
        run_export("--format", "onnx", "-o", tmp_path, "--weights", tiny_weights)
    import defusion.fusion.export as export_module

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(torch.jit, "save", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        export_module.export_torchscript(load_weights(tiny_weights), tmp_path / "x.pt")
    assert list(tmp_path.iterdir()) == []


def test_the_input_note_says_to_stretch_raw_thermal_counts_as_defusion_does():
    """The audit: a deployment that divides 14-bit thermal counts by 65535 fuses a flat grey."""
    from defusion.fusion.stretch import TAIL_PERCENT
    from defusion.fusion.export import INPUT_NOTE

    assert "Raw thermal counts" in INPUT_NOTE and "divided by 65535" in INPUT_NOTE
    assert f"{TAIL_PERCENT:g} to {100 - TAIL_PERCENT:g} percentiles onto [0, 1]" in INPUT_NOTE  # stretch.py's rule


def test_cli_onnx_runs_an_export_of_any_name_and_never_weights(exported, lively_weights, tmp_path, capsys):
    from defusion.cli.main import main
    from defusion.io.images import read_image, write_image

    rng = np.random.default_rng(4)
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    write_image(a, smooth_image(rng, 32, 40))
    write_image(b, smooth_image(rng, 32, 40))
    renamed = tmp_path / "model.bin"
    renamed.write_bytes(exported["onnx"].read_bytes())
    out = tmp_path / "out.png"
    assert main(["fuse", str(a), str(b), "-o", str(out), "--onnx", str(renamed), "--threads", "1", "--no-progress"]) == 0
    assert read_image(out).shape == (32, 40, 3)
    capsys.readouterr()
    code = main(["fuse", str(a), str(b), "-o", str(tmp_path / "w.png"), "--onnx", str(lively_weights), "--no-progress"])
    err = capsys.readouterr().err
    assert code != 0 and "not an ONNX export" in err and "Traceback" not in err
    assert not (tmp_path / "w.png").exists()


def test_a_model_that_fails_to_load_leaves_torchs_threads_as_they_were(tmp_path):
    before = torch.get_num_threads()
    with pytest.raises(OnnxModelError, match="not found"):
        Fuser.from_pretrained(tmp_path / "missing.onnx", threads=before + 1)
    assert torch.get_num_threads() == before


def test_fp16_off_cuda_is_refused_before_loading_and_leaves_torchs_threads_as_they_were(tmp_path):
    before = torch.get_num_threads()
    with pytest.raises(ValueError, match="needs a CUDA device"):
        Fuser.from_pretrained(tmp_path / "missing.safetensors", device="cpu", half=True, threads=before + 1)
    assert torch.get_num_threads() == before  # refused before the (missing) weights were read


def test_an_onnx_export_given_as_weights_with_another_runtime_is_a_one_line_cli_error(exported, tmp_path, capsys):
    from defusion.cli.main import main

    a, b = tmp_path / "a.png", tmp_path / "b.png"  # sources that exist: a missing one is said first
    for path in (a, b):
        write_image(path, np.zeros((16, 16), np.uint8))
    code = main(["fuse", str(a), str(b), "-o", str(tmp_path / "f.png"), "--weights", str(exported["onnx"]),
                 "--runtime", "torch"])
    err = capsys.readouterr().err
    assert code == 2 and "is an ONNX export" in err and "--runtime torch" in err and "Traceback" not in err

