"""`defusion fuse` after an audit: a new output folder said in folder modes too, sources of other
sizes refused before the model loads, the quick-test network's weights named as such; and the
README and docs/features.md true about what --tile bounds and what a fusion costs."""

from __future__ import annotations

import re

import pytest

from defusion.cli import fuse as fuse_cli
from defusion.cli.main import main
from defusion.fusion.fuser import Fuser
from defusion.io.images import write_image
from defusion.model.registry import create_model
from defusion.model.weights import save_weights
from tests.cli.conftest import infrared_visible_folders
from tests.conftest import REPO, smooth_image

README = (REPO / "README.md").read_text(encoding="utf-8")
FEATURES = (REPO / "docs" / "features.md").read_text(encoding="utf-8")


def _fuse(*args) -> int:
    return main(["fuse", *map(str, args), "--no-progress", "--scale", "1"])


@pytest.fixture
def folders(tmp_path, rng):
    return infrared_visible_folders(tmp_path, rng, stems=("01", "02"))


# 1. a new output folder is said in folder modes too

def test_folder_mode_says_it_made_the_output_folder(tmp_path, folders, tiny_weights, monkeypatch, capsys):
    """Audit: only a single output said "(made the folder X, which did not exist)"; --a/--b and
    --stacks made -o's folder without a word."""
    monkeypatch.chdir(tmp_path)
    da, db = folders
    assert _fuse("--a", da.name, "--b", db.name, "-o", "out/new", "--weights", tiny_weights) == 0
    assert capsys.readouterr().err.endswith("fused 2 of 2 pairs into out/new (made the folder out/new, which did not "
                                            "exist)\n")
    assert _fuse("--a", da.name, "--b", db.name, "-o", "out/new", "--weights", tiny_weights) == 0
    assert capsys.readouterr().err.endswith("fused 2 of 2 pairs into out/new\n")  # there now: nothing to say
    assert _fuse("--a", da.name, "--b", db.name, "-o", "out/other", "--weights", tiny_weights) == 0
    assert "(made the folder out/other, which did not exist)" in capsys.readouterr().err  # out was there


def test_stacks_mode_says_it_made_the_output_folder(tmp_path, rng, tiny_weights, capsys):
    card = tmp_path / "card"
    for n in range(4):
        write_image(card / f"IMG_{n}.png", smooth_image(rng, 24, 32))
    out = tmp_path / "fused" / "day1"
    assert _fuse("--stacks", card, "--group", "2", "-o", out, "--weights", tiny_weights) == 0
    assert f"fused 2 of 2 groups into {out} (made the folder {out}, which did not exist)" in \
        capsys.readouterr().err


def test_an_interrupted_folder_run_says_it_made_the_output_folder(tmp_path, folders, tiny_weights, monkeypatch,
                                                                   capsys):
    def interrupted(self, *images, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(Fuser, "fuse", interrupted)
    da, db = folders
    out = tmp_path / "new"
    assert _fuse("--a", da, "--b", db, "-o", out, "--weights", tiny_weights) == 130
    err = capsys.readouterr().err
    assert f"interrupted after 0 of 2 pairs in {out} (made the folder {out}, which did not exist); run the same " \
           "command with --skip-existing" in err, err


# 2. sources of other sizes refused before the model loads

@pytest.fixture
def no_model(monkeypatch):
    """Fails a test that gets as far as loading a model."""
    def loaded(*args, **kwargs):
        raise AssertionError("the model was loaded before the sources' sizes were checked")

    monkeypatch.setattr(fuse_cli, "make_fuser", loaded)


def test_a_source_of_another_size_is_refused_before_the_model_loads(tmp_path, rng, no_model, capsys):
    """Audit: among 6 sources, one of another size was found only after the model loaded (27-33 s on a
    busy machine, a progress bar drawn first); a missing file was refused at once."""
    shots = [write_image(tmp_path / f"s{n}.png", smooth_image(rng, 24, 32)) for n in range(5)]
    odd = write_image(tmp_path / "odd.jpg", smooth_image(rng, 20, 30))
    assert _fuse(*shots[:3], odd, *shots[3:], "-o", tmp_path / "f.png") == 2
    err = capsys.readouterr().err
    assert err == ("defusion: error: odd.jpg (30x20) differs in size from s0.png (32x24, WxH): fusion needs "
                   "registered images of one size; one camera's shots: add --resize (the others resized to the "
                   "first's size); two cameras side by side (infrared + visible): calibrate them once with "
                   "defusion calibrate, then add --rig rig.json\n"), err
    assert not (tmp_path / "f.png").exists()


def test_the_early_refusal_says_what_fusing_would(tmp_path, rng, tiny_weights, monkeypatch, capsys):
    """The same line as the fusion core's refusal after the model loaded (which it was, before)."""
    big = write_image(tmp_path / "big.png", smooth_image(rng, 24, 32))
    small = write_image(tmp_path / "small.png", smooth_image(rng, 12, 16))
    assert _fuse(big, small, "-o", tmp_path / "f.png", "--weights", tiny_weights) == 2
    early = capsys.readouterr().err
    monkeypatch.setattr(fuse_cli, "check_header_sizes", lambda args: None)
    assert _fuse(big, small, "-o", tmp_path / "f.png", "--weights", tiny_weights) == 2
    assert capsys.readouterr().err == early


@pytest.mark.parametrize("option", ["--resize", "--align=translation"])
def test_sizes_are_left_to_the_fusion_where_options_may_take_them(tmp_path, rng, tiny_weights, option, capsys):
    """--resize takes other sizes (so does --rig); --align does not, and is still refused, by the fusion.
    (Names of their own: a note is said once per process, and another test looks for its own.)"""
    big = write_image(tmp_path / "wide.png", smooth_image(rng, 24, 32))
    small = write_image(tmp_path / "narrow.png", smooth_image(rng, 12, 16))
    status = _fuse(big, small, "-o", tmp_path / "f.png", "--weights", tiny_weights, option)
    err = capsys.readouterr().err
    if option == "--resize":
        assert status == 0 and "--resize resized narrow.png" in err, err
    else:
        assert status == 2 and "narrow.png (16x12) differs in size from wide.png (32x24, WxH)" in err, err


def test_a_quarter_turn_is_left_to_reading(tmp_path, rng, monkeypatch, capsys):
    """A header may not know a PNG's orientation (its EXIF can follow the pixels): sizes that a quarter
    turn makes equal are not refused from the headers, but after reading, as before."""
    a = write_image(tmp_path / "a.png", smooth_image(rng, 24, 32))
    b = write_image(tmp_path / "b.png", smooth_image(rng, 32, 24))
    loads = []

    def stopped(*args):  # got as far as the model: stop there (Ctrl-C)
        loads.append(1)
        raise KeyboardInterrupt

    monkeypatch.setattr(fuse_cli, "make_fuser", stopped)
    assert _fuse(a, b, "-o", tmp_path / "f.png") == 130
    assert loads == [1] and "differs in size" not in capsys.readouterr().err


# 8. the quick-test network's weights are named as such

def test_the_quick_test_networks_weights_get_a_note(tmp_path, rng, capsys):
    """Audit: `--weights runs/x/weights.safetensors` of a `--model defusion-tiny` run fused without a word,
    though docs/training.md says those weights are not for fusing."""
    a = write_image(tmp_path / "a.png", smooth_image(rng, 24, 32))
    b = write_image(tmp_path / "b.png", smooth_image(rng, 24, 32, 1))
    quick = tmp_path / "runs" / "try" / "weights.safetensors"
    quick.parent.mkdir(parents=True)
    save_weights(create_model("defusion-tiny"), quick, metadata={"model": "defusion-tiny", "samples_seen": "40"})
    assert _fuse(a, b, "-o", tmp_path / "f.png", "--weights", quick) == 0
    err = capsys.readouterr().err
    notes = [line for line in err.splitlines() if "quick-test" in line]
    assert notes == [f"defusion: note: --weights {quick} are the quick-test network's (defusion-tiny, 40 samples "
                     "seen), for checking a setup, not for real fusion: leave --weights out for the shipped "
                     "weights, or train without --model defusion-tiny"], err
    assert (tmp_path / "f.png").is_file()


def test_other_weights_get_no_quick_test_note(tmp_path, rng, tiny_weights, capsys):
    a = write_image(tmp_path / "a.png", smooth_image(rng, 24, 32))
    b = write_image(tmp_path / "b.png", smooth_image(rng, 24, 32, 1))
    other = tmp_path / "full.safetensors"  # the same tiny net, but no training run's "model: defusion-tiny"
    save_weights(create_model("defusion-tiny"), other, metadata={"model": "defusion", "samples_seen": "9"})
    for weights in (tiny_weights, other):
        assert _fuse(a, b, "-o", tmp_path / "f.png", "--weights", weights) == 0
        assert "quick-test" not in capsys.readouterr().err


# 6. and 7. what --tile bounds, and what a fusion costs

def test_the_docs_say_tiling_bounds_the_networks_memory_not_the_process():
    """Audit: "--tile 768  # bounded memory" read as if it bounded the process; a 24 MP pair took 4.7 GB
    with the default tiling and 3.8 GB with --tile 256 (2-core CPU, scale 1)."""
    assert "# bounded memory" not in README and ": bounded memory" not in README
    assert "(bounded memory" not in FEATURES
    for doc in (README, FEATURES):
        assert "the network's working memory" in doc and "2-core CPU" in doc
    assert "4.7 GB" in FEATURES and "3.8 GB" in FEATURES and "--tile 256" in FEATURES and "scale 1" in FEATURES
    assert "2.5 GB" in README and "6.6 GB before" in README  # the buffers slimmed, ONNX Runtime's planner off (2026-12-07)
    assert "1.35 GB untiled" in FEATURES and "0.67 GB" in FEATURES and "mainly cost time" in FEATURES


def test_the_readme_says_to_keep_one_fuser():
    """Audit: nothing near the Python example said a fusion takes seconds and loading the model more."""
    python = README.split("## Python", 1)[1].split("```python", 1)[0]
    assert "keep one Fuser and reuse it" in python and "default scale 2" in python and "2-core CPU" in python
    performance = (REPO / "docs" / "performance.md").read_text(encoding="utf-8")
    for figure in re.findall(r"(\d+\.\d) s ", python):  # each time cited is measured there
        assert f"{figure} s" in performance, figure
