"""`defusion fuse` as a user audit found it: images typed after an option, a focus stack or a bracket
fused at the wrong defaults, --resize's silent resizing, library advice for a size mismatch, and
--weights given a run's checkpoint, a run's folder or a TorchScript export; and the README's examples."""

from __future__ import annotations

import re
import shlex

import numpy as np
import pytest
import torch
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from defusion.cli.main import build_parser, main
from defusion.io.images import write_image
from defusion.io.notes import as_lines
from tests.conftest import REPO, smooth_image

#: Exposure time (s) and bias (EV) of each shot: a focus stack's one exposure, and an AEB bracket's three.
STACK = (((1, 125), 0),) * 3
BRACKET = (((1, 1000), -2), ((1, 250), 0), ((1, 62), 2))
#: What the notes and the warning say, to look for.
STACK_NOTE = "most likely a focus stack; add --task mff"
BRACKET_NOTE = "add --task mef, whose defaults are made for brackets"
PATCHWORK = "takes each pixel from one source, a blotchy patchwork"


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _fuse(*args) -> int:
    return main(["fuse", *map(str, args), "--no-progress", "--scale", "1"])


def _shots(folder, rng, prefix: str, exposures) -> list:
    """JPEGs of one scene with the EXIF exposure time and bias a camera writes."""
    scene = smooth_image(rng, 24, 32)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (time, bias) in enumerate(exposures):
        exif = Image.Exif()
        exif.get_ifd(0x8769).update({0x829A: IFDRational(*time), 0x9204: IFDRational(bias, 1)})
        paths.append(folder / f"{prefix}_{i}.jpg")
        Image.fromarray(scene).save(paths[-1], exif=exif, quality=95)
    return paths


# 1. positional arguments wherever they are typed

def test_images_typed_after_options_are_fused(tmp_path, rng, tiny_weights, capsys):
    """`fuse a.jpg -o q.png b.jpg` once said "unrecognized argument b.jpg"."""
    a, b, c = (write_image(tmp_path / f"{n}.png", smooth_image(rng, 24, 32)) for n in "abc")
    assert _fuse(a, "-o", tmp_path / "q.png", b, "--weights", tiny_weights) == 0
    assert (tmp_path / "q.png").is_file()
    assert _fuse(a, b, "--task", "mef", c, "-o", tmp_path / "r.png", "--weights", tiny_weights) == 0
    assert (tmp_path / "r.png").is_file() and "unrecognized" not in capsys.readouterr().err


@pytest.mark.parametrize("argv, where, expected", [
    (["metrics", "f.png", "a.png", "--json", "b.png"], "sources", ["a.png", "b.png"]),
    (["calibrate", "a.png", "--board", "9x6", "b.png", "-o", "rig.json"], "images", ["a.png", "b.png"]),
    (["video", "a.mp4", "-o", "f.mp4", "b.mp4"], "b", "b.mp4"),
    (["fuse", "-o", "f.png", "a.png", "--resize", "b.png", "c.png"], "images", ["a.png", "b.png", "c.png"]),
])
def test_every_sub_command_takes_its_positionals_among_its_options(argv, where, expected):
    got = getattr(build_parser().parse_args(argv), where)
    assert (list(map(str, got)) if isinstance(got, list) else str(got)) == expected


@pytest.mark.parametrize("argv, where, expected", [
    (["fuse", "-o", "f.png", "--", "-dash.png", "b.png"], "images", ["-dash.png", "b.png"]),
    (["metrics", "f.png", "--json", "--", "-a.png", "b.png"], "sources", ["-a.png", "b.png"]),
    (["calibrate", "--board", "9x6", "-o", "rig.json", "--", "-a.png", "b.png"], "images", ["-a.png", "b.png"]),
])
def test_names_after_a_double_dash_are_positionals(argv, where, expected):
    """Review: the intermixed parse (Python 3.11) dropped the -- and refused -dash.png."""
    assert list(map(str, getattr(build_parser().parse_args(argv), where))) == expected


def test_an_image_named_with_a_dash_is_fused_after_a_double_dash(tmp_path, rng, tiny_weights, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    write_image(tmp_path / "-dash.png", smooth_image(rng, 24, 32))
    write_image(tmp_path / "other.png", smooth_image(rng, 24, 32))
    assert main(["fuse", "-o", "f.png", "--weights", str(tiny_weights), "--no-progress", "--scale", "1", "--",
                 "-dash.png", "other.png"]) == 0
    assert (tmp_path / "f.png").is_file() and "unrecognized" not in capsys.readouterr().err


@pytest.mark.parametrize("argv, expected", [
    (["fuse", "a.png", "-o", "f.png", "--", "-dash.png"], ["a.png", "-dash.png"]),  # before the options and after --
    (["fuse", "a.png", "-o", "f.png", "b.png", "--"], ["a.png", "b.png"]),  # a -- with nothing after it
    (["fuse", "-o", "f.png", "--", "a.png", "--resize"], ["a.png", "--resize"]),  # after --, a name, not an option
])
def test_a_double_dash_only_makes_what_follows_it_positionals(argv, expected):
    """Review: resolved the classic way, a trailing -- was an unrecognised empty argument and names
    before it were blamed on it."""
    parsed = build_parser().parse_args(argv)
    assert [str(p) for p in parsed.images] == expected and not parsed.resize


def test_a_misspelt_option_before_a_double_dash_is_still_told_as_one(capsys):
    with pytest.raises(SystemExit):
        main(["fuse", "--tsk", "mef", "-o", "f.png", "--", "a.png", "b.png"])
    assert capsys.readouterr().err == ("defusion fuse: error: unrecognized argument --tsk (did you mean --task?); "
                                       "see defusion fuse --help\n")


def test_usage_errors_keep_their_one_line(capsys):
    """The intermixed parse reports missing options and positionals as the classic one did: together."""
    with pytest.raises(SystemExit):
        main(["video", "a.mp4"])
    assert capsys.readouterr().err == ("defusion video: error: the following arguments are required: b, "
                                       "-o/--output; see defusion video --help\n")
    with pytest.raises(SystemExit):
        main(["fuse", "a.png", "--tsk", "mef", "b.png", "-o", "f.png"])
    assert capsys.readouterr().err == ("defusion fuse: error: unrecognized argument --tsk (did you mean --task?); "
                                       "see defusion fuse --help\n")


# 2. and 8. the README

def test_every_readme_focus_stack_example_uses_task_mff():
    """The general defaults blur and brighten a focus stack: the README's examples must not show them."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    stacks = [line for line in readme.splitlines() if re.search(r"focus stack", line, re.I) and
              (line.startswith("defusion fuse") or ".fuse(" in line)]
    assert stacks
    for line in stacks:
        assert "--task mff" in line or 'task="mff"' in line, line


def test_readme_training_line_says_the_shipped_recipe():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    recipe = next(line for line in readme.splitlines() if line.startswith("defusion train") and "--config" in line)
    config = shlex.split(recipe.split("#")[0])[-1]
    assert (REPO / config).is_file() and "outside_weight: 0.015" in (REPO / config).read_text(encoding="utf-8")
    assert "Loss outside the regions" in recipe and "outside_weight 1" in readme


# 3. and 4. what the shots' EXIF says of the options

def test_one_exposure_of_one_camera_is_told_to_add_task_mff(tmp_path, rng, tiny_weights, capsys):
    stack = _shots(tmp_path / "stack", rng, "MFF", STACK)
    assert _fuse(*stack, "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    assert "the EXIF of MFF_0.jpg, MFF_1.jpg, MFF_2.jpg shows one exposure" in err and STACK_NOTE in err, err
    assert "exposure bracket" not in err
    assert _fuse("--stacks", tmp_path / "stack", "--group", "3", "-o", tmp_path / "out", "--weights", tiny_weights,
                 "--task", "mff") == 0
    assert STACK_NOTE not in capsys.readouterr().err  # told --task: nothing to say


def test_shots_without_exposure_data_or_a_bracket_get_no_focus_stack_note(tmp_path, rng, tiny_weights, capsys):
    plain = [write_image(tmp_path / f"{n}.png", smooth_image(rng, 24, 32)) for n in "ab"]
    bracket = _shots(tmp_path / "brk", rng, "BRK", BRACKET)
    for shots in (plain, bracket):
        assert _fuse(*shots, "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
        assert STACK_NOTE not in capsys.readouterr().err


def test_the_notes_read_each_shots_exif_once(tmp_path, rng, monkeypatch, capsys):
    """Review: the bracket and focus-stack checks each read every shot's EXIF again (a full LibRaw
    read for a raw file); one read per shot serves them all."""
    import argparse

    from defusion.cli.fuse.advice import note_shots
    from defusion.io import shots as shots_module

    stack = _shots(tmp_path, rng, "ONCE", STACK)  # names of their own: each note is said once per process
    reads = []
    exif_tags = shots_module._exif_tags
    monkeypatch.setattr(shots_module, "_exif_tags", lambda path: reads.append(path) or exif_tags(path))
    with as_lines():  # as defusion fuse says them
        note_shots(argparse.Namespace(task=None, pixels=None, palette=None, infrared=None, rig=None), [stack],
                   "network")
    assert STACK_NOTE in capsys.readouterr().err and sorted(reads) == sorted(stack)
    reads.clear()
    note_shots(argparse.Namespace(task="mef", pixels=None, palette=None, infrared=None, rig=None), [stack], "network")
    assert reads == []  # --task given, the network's pixels: nothing to say, nothing read


def test_the_notes_come_before_the_model_loads(tmp_path, rng, capsys):
    """A note said after a long fusion (or model load) comes too late to stop the run."""
    stack = _shots(tmp_path, rng, "EARLY", STACK)  # names of their own: each note is said once per process
    assert _fuse(*stack, "-o", tmp_path / "f.png", "--weights", tmp_path / "missing.safetensors") == 2
    err = capsys.readouterr().err
    assert STACK_NOTE in err and err.index(STACK_NOTE) < err.index("weights file not found")


@pytest.mark.parametrize("options, fix", [(("--task", "mff"), "use --task mef, whose"),
                                          (("--pixels", "sources"), "use --task mef without --pixels sources")])
def test_pixels_from_the_sources_on_a_bracket_are_warned_about(tmp_path, rng, tiny_weights, capsys, options, fix):
    prefix = f"PIX{options[1]}"  # names of their own: each line is said once per process
    bracket = _shots(tmp_path, rng, prefix, BRACKET)
    assert _fuse(*bracket, "-o", tmp_path / "f.png", "--weights", tiny_weights, *options) == 0
    err = capsys.readouterr().err
    assert f"warning: the EXIF of {prefix}_0.jpg, {prefix}_1.jpg, {prefix}_2.jpg shows an exposure bracket" in err, err
    assert PATCHWORK in err and fix in err and BRACKET_NOTE not in err  # one line, not two
    assert _fuse(*bracket, "-o", tmp_path / "f.png", "--weights", tiny_weights, "--task", "mef") == 0
    assert PATCHWORK not in capsys.readouterr().err


# 5. and 6. sources of other sizes

@pytest.fixture
def sizes(tmp_path, rng):
    """A 32x24 image and a 16x12 one (WxH)."""
    big = write_image(tmp_path / "big.png", smooth_image(rng, 24, 32))
    small = write_image(tmp_path / "small.png", smooth_image(rng, 12, 16))
    return big, small


def test_resize_names_what_it_resized(tmp_path, sizes, tiny_weights, capsys):
    assert _fuse(*sizes, "-o", tmp_path / "f.png", "--weights", tiny_weights, "--resize") == 0
    assert "note: --resize resized small.png 16x12 -> 32x24 (WxH: big.png's size)" in capsys.readouterr().err
    same = write_image(tmp_path / "same.png", np.zeros((24, 32), np.uint8))
    assert _fuse(sizes[0], same, "-o", tmp_path / "f.png", "--weights", tiny_weights, "--resize") == 0
    assert "--resize resized" not in capsys.readouterr().err  # nothing resized, nothing said


def test_a_size_mismatch_gives_command_line_advice(tmp_path, sizes, tiny_weights, capsys):
    """The CLI once gave the library's advice (defusion.io.resize.resize_to)."""
    assert _fuse(*sizes, "-o", tmp_path / "f.png", "--weights", tiny_weights) == 2
    err = capsys.readouterr().err
    assert err.startswith("defusion: error: small.png (16x12) differs in size from big.png (32x24, WxH)"), err
    assert "add --resize" in err and "defusion calibrate, then add --rig rig.json" in err
    assert "resize_to" not in err and "Python" not in err and err.count("\n") == 1


# 7. --weights and --onnx given the wrong kind of file

def test_weights_given_a_runs_folder_names_its_weights_file(tmp_path, sizes, tiny_weights, capsys):
    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "weights.safetensors").write_bytes(tiny_weights.read_bytes())
    assert _fuse(*sizes, "-o", tmp_path / "f.png", "--weights", run) == 2
    assert capsys.readouterr().err.strip() == (f"defusion: error: --weights {run}: is a training run's folder, not "
                                               f"a model file; give its weights file, --weights "
                                               f"{run / 'weights.safetensors'}")


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch 2.9+ deprecates torch.jit
def test_onnx_given_a_torchscript_export_says_which_export_it_takes(tmp_path, sizes, capsys):
    """ONNX Runtime's own error was `[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : ...`."""
    scripted = tmp_path / "denet.pt"
    torch.jit.trace(torch.nn.Linear(2, 2), torch.zeros(1, 2)).save(str(scripted))
    assert _fuse(*sizes, "-o", tmp_path / "f.png", "--onnx", scripted) == 2
    err = capsys.readouterr().err
    assert f"--onnx {scripted} is a TorchScript export" in err and "defusion export --format onnx" in err, err
    assert "ONNXRuntimeError" not in err and err.count("\n") == 1
    pickled = tmp_path / "state.pt"
    torch.save({"x": torch.zeros(1)}, pickled)
    assert _fuse(*sizes, "-o", tmp_path / "f.png", "--onnx", pickled) == 2
    assert f"--onnx {pickled} is a PyTorch file (a zip archive), not an ONNX export" in capsys.readouterr().err


def test_an_output_folder_that_did_not_exist_is_said_to_have_been_made(tmp_path, rng, tiny_weights, monkeypatch,
                                                                          capsys):
    """Audit: `-o /nonexistent/dir/x.png` made the folders without a word, so a mistyped folder passed unseen."""
    monkeypatch.chdir(tmp_path)
    for name in ("a.png", "b.png"):
        write_image(tmp_path / name, smooth_image(rng, 24, 32))
    run = ["fuse", "a.png", "b.png", "--weights", str(tiny_weights), "--no-progress", "--scale", "1", "-o"]
    assert main([*run, "new/sub/f.png"]) == 0
    assert capsys.readouterr().err.endswith("wrote new/sub/f.png (made the folder new/sub, which did not exist)\n")
    assert main([*run, "new/sub/g.png"]) == 0  # there now: nothing to say
    assert capsys.readouterr().err.endswith("wrote new/sub/g.png\n")
    assert main([*run, str(tmp_path / "abs" / "f.png")]) == 0
    assert f"(made the folder {tmp_path / 'abs'}, which did not exist)" in capsys.readouterr().err
