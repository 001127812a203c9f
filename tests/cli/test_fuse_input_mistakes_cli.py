"""`defusion fuse` and `defusion metrics` on what user audits found: components written over an input,
a source given twice, --resize changing the shape, messages that named the wrong problem, and
metrics with no value for flat or identical images."""

from __future__ import annotations

import json

import numpy as np
import pytest

from defusion.cli.main import main
from defusion.io.images import read_image, write_image
from tests.conftest import smooth_image


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _fuse(*args) -> int:
    return main(["fuse", *map(str, args), "--no-progress", "--scale", "1"])


@pytest.fixture
def pair(tmp_path, rng):
    a = write_image(tmp_path / "a.png", smooth_image(rng, 32, 40))
    b = write_image(tmp_path / "b.png", smooth_image(rng, 32, 40, channels=1))
    return a, b


def test_components_that_would_overwrite_an_input_or_the_output_are_refused(tmp_path, rng, pair, tiny_weights,
                                                                             capsys):
    comp = tmp_path / "comp"
    common = write_image(comp / "common.png", smooth_image(rng, 32, 40))
    before = common.read_bytes()
    b = pair[1]
    out = tmp_path / "out" / "c.png"
    assert _fuse(common, b, "--components", comp, "-o", out, "--weights", tiny_weights) == 2
    err = capsys.readouterr().err
    assert err.startswith("defusion: error: --components") and "common.png is one of the inputs" in err
    assert len(err.splitlines()) == 1
    assert common.read_bytes() == before and not out.exists()
    assert sorted(p.name for p in comp.iterdir()) == ["common.png"]  # no part written either
    # --pixels sources adds weight_a.png: an input of that name is refused as well
    weight = write_image(comp / "weight_a.png", smooth_image(rng, 32, 40))
    assert _fuse(weight, b, "--components", comp, "-o", out, "--weights", tiny_weights, "--pixels", "sources") == 2
    assert "weight_a.png is one of the inputs" in capsys.readouterr().err
    # the output itself inside the components folder, named as a part
    assert _fuse(*pair, "--components", comp, "-o", comp / "unique_a.png", "--weights", tiny_weights) == 2
    assert "unique_a.png is the output" in capsys.readouterr().err
    # folder mode: the parts' folder is a source folder
    for side in ("A", "B"):
        write_image(tmp_path / side / "01.png", smooth_image(rng, 32, 40))
    assert _fuse("--a", tmp_path / "A", "--b", tmp_path / "B", "-o", tmp_path / "fused", "--components",
                 tmp_path / "A", "--weights", tiny_weights) == 2
    assert "--components" in capsys.readouterr().err and not (tmp_path / "fused").exists()
    # beside the inputs, under other names: fine
    assert _fuse(common, b, "--components", tmp_path / "parts", "-o", out, "--weights", tiny_weights) == 0
    assert sorted(p.name for p in (tmp_path / "parts").iterdir()) == ["common.png", "unique_a.png", "unique_b.png"]
    assert common.read_bytes() == before


@pytest.mark.parametrize("spelling", ["same", "symlink", "dotdot"])
def test_one_file_given_twice_is_fused_with_a_warning(spelling, tmp_path, pair, tiny_weights, capsys):
    b = pair[1]
    if spelling == "same":
        again = b
    elif spelling == "symlink":
        again = tmp_path / "link.png"
        again.symlink_to(b)
    else:
        (tmp_path / "sub").mkdir()
        again = tmp_path / "sub" / ".." / b.name
    out = tmp_path / "x.png"
    assert _fuse(b, again, "-o", out, "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    assert f"defusion: warning: {b} and {again} are the same file" in err and "fused with itself" in err
    assert out.exists()
    assert _fuse(*pair, "-o", tmp_path / "y.png", "--weights", tiny_weights) == 0
    assert "same file" not in capsys.readouterr().err  # two files: no warning


def test_one_folder_given_as_a_and_b_is_fused_with_a_warning(tmp_path, rng, tiny_weights, capsys):
    folder = tmp_path / "pairs"
    write_image(folder / "01.png", smooth_image(rng, 32, 40))
    other = tmp_path / "other"
    write_image(other / "01.png", smooth_image(rng, 32, 40))
    assert _fuse("--a", folder, "--b", tmp_path / "." / "pairs", "-o", tmp_path / "out", "--weights",
                 tiny_weights) == 0
    err = capsys.readouterr().err
    assert "--a" in err and "are the same folder" in err and "fused 1 of 1 pairs" in err
    assert _fuse("--a", folder, "--b", other, "-o", tmp_path / "out2", "--weights", tiny_weights) == 0
    assert "same folder" not in capsys.readouterr().err


def test_resize_notes_a_changed_aspect_ratio(tmp_path, rng, tiny_weights, capsys):
    tall = write_image(tmp_path / "tall.png", smooth_image(rng, 60, 40))  # 40x60 (WxH)
    wide = write_image(tmp_path / "wide.png", smooth_image(rng, 40, 60))
    half = write_image(tmp_path / "half.png", smooth_image(rng, 30, 20))  # 20x30: the same shape as tall
    assert _fuse(tall, wide, "-o", tmp_path / "r.png", "--resize", "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    assert "note: --resize changes" in err and "wide.png's aspect ratio (from 60x40 to 40x60" in err
    assert read_image(tmp_path / "r.png").shape[:2] == (60, 40)
    assert _fuse(tall, half, "-o", tmp_path / "s.png", "--resize", "--weights", tiny_weights) == 0
    assert "aspect ratio" not in capsys.readouterr().err


@pytest.mark.parametrize("option", ["--a", "--b", "--stacks"])
def test_a_file_given_as_a_source_folder_says_so(option, tmp_path, pair, tiny_weights, capsys):
    argv = {"--a": ["--a", pair[0], "--b", tmp_path], "--b": ["--a", tmp_path, "--b", pair[0]],
            "--stacks": ["--stacks", pair[0]]}[option]
    assert _fuse(*argv, "-o", tmp_path / "out", "--weights", tiny_weights) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"defusion: error: {option} {pair[0]}: is a file, not a folder; give the folder that " \
                          "holds the images"
    assert _fuse("--a", tmp_path / "missing", "--b", tmp_path, "-o", tmp_path / "out") == 2
    assert "--a" in (err := capsys.readouterr().err) and "no such folder" in err
    assert not (tmp_path / "out").exists()


def test_a_folder_given_as_weights_or_onnx_says_so(tmp_path, pair, capsys):
    folder = tmp_path / "weights.safetensors"
    folder.mkdir()
    for option in ("--weights", "--onnx"):
        assert _fuse(*pair, "-o", tmp_path / "x.png", option, folder) == 2
        err = capsys.readouterr().err
        assert err.strip() == f"defusion: error: {option} {folder}: is a folder, not a model file; give the file " \
                              "itself"
    assert _fuse(*pair, "-o", tmp_path / "x.png", "--weights", tmp_path / "missing.safetensors") == 2
    assert "not found" in capsys.readouterr().err  # a missing file is still "not found"


def test_infrared_help_gives_the_cores_default(capsys):
    from defusion.fusion.color import thermal_source

    grey = np.zeros((4, 4))
    assert thermal_source([grey, grey, grey]) == (2, False)  # no single grey image: the last
    with pytest.raises(SystemExit):
        main(["fuse", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    infrared = help_text.split("--infrared N with --palette:")[1].split("--rig")[0]
    assert "else the only grey one, else the last" in infrared and "the first" not in infrared


def _metrics(capsys, *argv) -> tuple[int, str, str]:
    status = main(["metrics", *map(str, argv)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_metrics_of_flat_identical_images_say_which_are_not_defined(tmp_path, rng, capsys):
    flat = write_image(tmp_path / "s.png", np.full((32, 40), 128, np.uint8))
    status, out, _ = _metrics(capsys, flat, flat, flat, "--json")
    assert status == 0
    data = json.loads(out)
    undefined = {"PSNR", "Qcb", "Qcv", "CC", "SCD"}
    assert all(data["metrics"][name] is None for name in undefined)
    assert all(data["skipped"][name] == "not defined: flat or identical images" for name in undefined)
    assert data["metrics"]["EN"] == 0.0 and "EN" not in data["skipped"]  # defined (0) metrics are not listed
    # every null metric is explained
    assert {name for name, v in data["metrics"].items() if v is None} <= set(data["skipped"])
    status, out, err = _metrics(capsys, flat, flat, flat)
    assert status == 0 and "PSNR" in out
    note = next(line for line in err.splitlines() if "not defined" in line)
    assert note.startswith("defusion: note: PSNR") and all(name in note for name in undefined)
    # images with detail: every metric has a value, nothing is called undefined
    a, b = (write_image(tmp_path / f"{n}.png", smooth_image(rng, 32, 40, channels=1)) for n in "ab")
    fused = write_image(tmp_path / "f.png", ((read_image(a).astype(int) + read_image(b)) // 2).astype(np.uint8))
    status, out, err = _metrics(capsys, fused, a, b, "--json", "--names", "PSNR,CC,SCD,Qcb,Qcv")
    data = json.loads(out)
    assert status == 0 and all(v is not None for v in data["metrics"].values()) and "skipped" not in data


def test_same_named_sources_are_named_by_the_folders_that_tell_them_apart(tmp_path, rng, tiny_weights, capsys,
                                                                          fresh_notes):
    vi = write_image(tmp_path / "deep" / "bench" / "vi" / "x.png", smooth_image(rng, 60, 40))
    ir = write_image(tmp_path / "deep" / "bench" / "ir" / "x.png", smooth_image(rng, 40, 60, channels=1))
    assert _fuse(vi, ir, "-o", tmp_path / "f.png", "--resize", "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "note:" in line]
    assert "ir/x.png's aspect ratio" in err and notes and not any(str(tmp_path) in line for line in notes)
