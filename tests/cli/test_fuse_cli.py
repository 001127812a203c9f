"""`defusion fuse` on generated images: single pairs, folders, components, bad input."""

from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from defusion.cli.fuse.fused_settings import SETTINGS_FILE
from defusion.cli.main import main
from defusion.io.images import read_image, write_image
from tests.conftest import REPO, smooth_image


@pytest.fixture
def made(monkeypatch) -> list:
    """Every Fuser the CLI makes, in order (Fuser.from_pretrained spied on): what options reached the core."""
    from defusion.fusion.fuser import Fuser

    fusers = []
    real = Fuser.from_pretrained.__func__

    def spy(cls, *args, **kwargs):
        fusers.append(real(cls, *args, **kwargs))
        return fusers[-1]

    monkeypatch.setattr(Fuser, "from_pretrained", classmethod(spy))
    return fusers


@pytest.fixture
def pair(tmp_path, rng):
    a = write_image(tmp_path / "a.png", smooth_image(rng, 45, 61))
    b = write_image(tmp_path / "b.jpg", smooth_image(rng, 45, 61, channels=1))
    return a, b


def _fuse(*args) -> int:
    return main(["fuse", *map(str, args), "--no-progress"])


def test_align_help_says_a_sorted_bracket_is_registered_onto_its_best_exposed_image():
    import argparse

    from defusion.cli import fuse as fuse_cli

    parser = argparse.ArgumentParser()
    fuse_cli.add_arguments(parser)
    text = next(action.help for action in parser._actions if "--align" in action.option_strings)
    assert "the first as given with --order given" in text and "best-exposed" in text


def test_fuses_odd_sized_pair_to_input_size(pair, tmp_path, tiny_weights):
    out = tmp_path / "out" / "fused.png"
    assert _fuse(*pair, "-o", out, "--weights", tiny_weights) == 0
    fused = read_image(out)
    assert fused.shape == (45, 61, 3) and fused.dtype == np.uint8


def test_components_and_tiles(pair, tmp_path, tiny_weights):
    out, comp = tmp_path / "f.png", tmp_path / "comp"
    assert _fuse(*pair, "-o", out, "--weights", tiny_weights, "--components", comp, "--tile", "64",
                 "--overlap", "16") == 0
    assert sorted(p.name for p in comp.iterdir()) == ["common.png", "unique_a.png", "unique_b.png"]
    assert read_image(comp / "common.png").shape[:2] == (45, 61)


def test_four_sources_in_each_stack_order(pair, tmp_path, rng, lively_weights):
    # lively weights: random-init ones fuse every input to black, whatever the order
    c = write_image(tmp_path / "c.png", smooth_image(rng, 45, 61))
    d = write_image(tmp_path / "d.png", smooth_image(rng, 45, 61))
    fused = {}
    for order in ("balanced", "sequential"):
        out = tmp_path / f"{order}.png"
        assert _fuse(*pair, c, d, "-o", out, "--weights", lively_weights, "--stack", order) == 0
        fused[order] = read_image(out)
    assert fused["balanced"].shape == (45, 61, 3)
    assert not np.array_equal(fused["balanced"], fused["sequential"])


def test_order_sorts_a_bracket_by_brightness(tmp_path, rng, tiny_weights):
    scene = smooth_image(rng, 40, 48)
    paths = [write_image(tmp_path / f"ev{i}.png", np.clip(scene * g, 0, 255).astype(np.uint8))
             for i, g in enumerate((0.4, 1.0, 1.8))]
    fused = {}
    for name, files in (("given", paths[::-1]), ("sorted", [paths[1], paths[0], paths[2]])):
        out = tmp_path / f"{name}.png"
        extra = ["--order", "bright-first"] if name == "sorted" else []
        assert _fuse(*files, "-o", out, "--weights", tiny_weights, *extra) == 0
        fused[name] = read_image(out)
    assert np.array_equal(fused["given"], fused["sorted"])  # shuffled + sorted = brightest first as given
    # --task mef sorts brackets brightest first by itself; --order given keeps the files' order
    for name, extra in (("mef-shuffled", []), ("mef-given", ["--order", "given"])):
        files = [paths[1], paths[0], paths[2]] if name == "mef-shuffled" else paths[::-1]
        assert _fuse(*files, "-o", tmp_path / f"{name}.png", "--weights", tiny_weights, "--task", "mef", *extra) == 0
    assert np.array_equal(read_image(tmp_path / "mef-shuffled.png"), read_image(tmp_path / "mef-given.png"))
    unsorted = tmp_path / "unsorted.png"
    assert _fuse(paths[1], paths[0], paths[2], "-o", unsorted, "--weights", tiny_weights, "--task", "mef",
                 "--order", "given") == 0
    assert not np.array_equal(read_image(unsorted), read_image(tmp_path / "mef-given.png"))
    # a pair of exposures is fused darker first, whichever comes first
    for name, files in (("pair-dark-first", paths[:2]), ("pair-bright-first", paths[1::-1])):
        assert _fuse(*files, "-o", tmp_path / f"{name}.png", "--weights", tiny_weights, "--task", "mef") == 0
    assert np.array_equal(read_image(tmp_path / "pair-dark-first.png"), read_image(tmp_path / "pair-bright-first.png"))


def test_sixteen_bit_grey_stays_sixteen_bit(tmp_path, rng, tiny_weights):
    a = write_image(tmp_path / "a.tif", smooth_image(rng, 40, 40, 1).astype(np.uint16) * 257)
    b = write_image(tmp_path / "b.png", smooth_image(rng, 40, 40, 1).astype(np.uint16) * 257)
    assert _fuse(a, b, "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
    fused = read_image(tmp_path / "f.png")
    assert fused.dtype == np.uint16 and fused.ndim == 2


def test_folder_mode_skips_bad_pairs_and_goes_on(tmp_path, rng, tiny_weights, capsys):
    da, db = tmp_path / "ir", tmp_path / "vi"
    for stem in ("01", "02", "03"):
        write_image(da / f"{stem}.png", smooth_image(rng, 32, 40, 1))
        write_image(db / f"{stem}.jpg", smooth_image(rng, 32, 40))
    write_image(db / "02.jpg", smooth_image(rng, 30, 40))  # wrong size
    (da / "04.png").write_bytes(b"not a png")  # unreadable
    write_image(db / "04.png", smooth_image(rng, 32, 40))
    out = tmp_path / "out"
    code = main(["fuse", "--a", str(da), "--b", str(db), "-o", str(out), "--weights", str(tiny_weights),
                 "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert sorted(p.name for p in out.iterdir()) == [SETTINGS_FILE, "01.png", "03.png"]
    assert "skipped 02" in err and "02.jpg (40x30) differs in size from 02.png (40x32, WxH)" in err and "skipped 04" in err
    assert "fused 2 of 4 pairs" in err and "Traceback" not in err


def test_folder_mode_goes_on_after_an_interruption_with_skip_existing(tmp_path, rng, tiny_weights, capsys,
                                                                       monkeypatch):
    from defusion.fusion.fuser import Fuser

    da, db = tmp_path / "ir", tmp_path / "vi"
    for stem in ("01", "02", "03"):
        write_image(da / f"{stem}.png", smooth_image(rng, 32, 40, 1))
        write_image(db / f"{stem}.png", smooth_image(rng, 32, 40))
    out = tmp_path / "out"
    args = ["fuse", "--a", str(da), "--b", str(db), "-o", str(out), "--weights", str(tiny_weights), "--no-progress"]
    real, calls = Fuser.fuse, []

    def interrupted_at_the_second(self, *images, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(self, *images, **kwargs)

    monkeypatch.setattr(Fuser, "fuse", interrupted_at_the_second)
    assert main(args) == 130
    err = capsys.readouterr().err
    assert "interrupted after 1 of 3 pairs" in err and "--skip-existing" in err and "Traceback" not in err
    assert sorted(p.name for p in out.iterdir()) == [SETTINGS_FILE, "01.png"]  # no half-written file
    first = (out / "01.png").stat().st_mtime_ns
    monkeypatch.setattr(Fuser, "fuse", real)
    assert main([*args, "--skip-existing"]) == 0
    err = capsys.readouterr().err
    assert "1 of 3 pairs already fused" in err and "fused 3 of 3 pairs" in err and "(1 already there)" in err
    assert sorted(p.name for p in out.iterdir()) == [SETTINGS_FILE, "01.png", "02.png", "03.png"]
    assert (out / "01.png").stat().st_mtime_ns == first  # left as it was
    assert main(["fuse", str(da / "01.png"), str(db / "01.png"), "-o", str(tmp_path / "f.png"),
                 "--weights", str(tiny_weights), "--skip-existing"]) == 2
    assert "--skip-existing is for folders" in capsys.readouterr().err


def test_resize_opt_in(tmp_path, rng, tiny_weights):
    a = write_image(tmp_path / "a.png", smooth_image(rng, 32, 48))
    b = write_image(tmp_path / "b.png", smooth_image(rng, 16, 24))
    assert _fuse(a, b, "-o", tmp_path / "x.png", "--weights", tiny_weights) == 2
    assert _fuse(a, b, "-o", tmp_path / "x.png", "--weights", tiny_weights, "--resize") == 0
    assert read_image(tmp_path / "x.png").shape == (32, 48, 3)


@pytest.mark.parametrize("case", ["missing", "not_image", "truncated", "mismatch", "bomb", "weights", "suffix",
                                  "unalignable"])
def test_bad_input_is_one_line_no_traceback(case, pair, tmp_path, rng, tiny_weights, capsys):
    a, b = pair
    extra: list = ["--weights", tiny_weights]
    if case == "missing":
        b = tmp_path / "nope.png"
    elif case == "not_image":
        b = tmp_path / "x.png"
        b.write_text("hello", encoding="utf-8")
    elif case == "truncated":
        data = b.read_bytes()
        b = tmp_path / "cut.jpg"
        b.write_bytes(data[: len(data) // 2])
    elif case == "mismatch":
        b = write_image(tmp_path / "small.png", smooth_image(rng, 20, 20))
    elif case == "bomb":
        extra += ["--max-pixels", "1000"]
    elif case == "weights":
        extra = ["--weights", tmp_path / "missing.safetensors"]
    elif case == "unalignable":  # nothing in common to register on
        b = write_image(tmp_path / "flat.png", np.full((45, 61), 128, np.uint8))
        extra += ["--align", "affine"]
    out = tmp_path / ("out.gif" if case == "suffix" else "out.png")
    capsys.readouterr()
    assert _fuse(a, b, "-o", out, *extra) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("defusion: error:") and len(err.splitlines()) == 1, err
    assert not out.exists()
    if case == "mismatch":
        assert "61x45" in err and "20x20" in err


def test_align_registers_a_handheld_bracket(tmp_path, tiny_weights):
    import cv2

    examples = REPO / "src" / "defusion" / "examples"
    under, over = (read_image(examples / f"mef_{name}.png") for name in ("under", "over"))
    h, w = over.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), 1.0, 1.0)
    matrix[:, 2] += (6, -4)
    moved = write_image(tmp_path / "moved.png", cv2.warpAffine(over, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE))
    sources = [examples / "mef_under.png", examples / "mef_over.png"]
    runs = {"registered": (sources, []), "handheld": ([sources[0], moved], []),
            "aligned": ([sources[0], moved], ["--align", "euclidean"])}
    fused = {}
    for name, (files, extra) in runs.items():
        out = tmp_path / f"{name}.png"
        assert _fuse(*files, "-o", out, "--weights", tiny_weights, "--task", "mef", "--scale", "1", *extra) == 0
        fused[name] = read_image(out).astype(float)[20:-20, 20:-20]
    off = {name: np.abs(fused[name] - fused["registered"]).mean() for name in ("handheld", "aligned")}
    assert off["aligned"] < 0.25 * off["handheld"], off


def test_pixels_sources_takes_the_sources_own_pixels_at_scale_1(tmp_path, tiny_weights, made):
    examples = REPO / "src" / "defusion" / "examples"
    near, far = examples / "mff_near.png", examples / "mff_far.png"
    out = tmp_path / "f.png"
    assert _fuse(near, far, "-o", out, "--weights", tiny_weights, "--task", "mff", "--pixels", "sources") == 0
    assert made[-1].options.pixels == "sources" and made[-1].options.scale == 1  # scale 1 unless told
    fused, a, b = (read_image(p).astype(int) for p in (out, near, far))
    assert ((np.minimum(a, b) - 1 <= fused) & (fused <= np.maximum(a, b) + 1)).all()
    comp = tmp_path / "parts"
    assert _fuse(near, far, "-o", tmp_path / "g.png", "--weights", tiny_weights, "--pixels", "sources",
                 "--scale", "2", "--components", comp) == 0
    assert made[-1].options.scale == 2
    assert sorted(p.name for p in comp.iterdir()) == ["common.png", "unique_a.png", "unique_b.png", "weight_a.png"]
    weight = read_image(comp / "weight_a.png")
    assert weight.shape == fused.shape[:2] and weight.dtype == np.uint8


def test_task_mff_takes_the_pixels_from_the_sources_and_pixels_network_the_reconstruction(
        tmp_path, tiny_weights, made, capsys):
    examples = REPO / "src" / "defusion" / "examples"
    near, far = examples / "mff_near.png", examples / "mff_far.png"
    out, smap = tmp_path / "f.png", tmp_path / "map.png"
    assert _fuse(near, far, "-o", out, "--weights", tiny_weights, "--task", "mff", "--source-map", smap) == 0
    assert (made[-1].options.pixels, made[-1].options.scale) == ("sources", 1)
    assert read_image(smap).shape == read_image(out).shape[:2]
    assert _fuse(near, far, "-o", tmp_path / "g.png", "--weights", tiny_weights, "--task", "mff",
                 "--pixels", "network") == 0  # the paper's reconstruction, as --task mff was before
    options = made[-1].options
    assert (options.pixels, options.scale, options.unique_gain, options.resolved_detail_gain) == ("network", 2, 1.0, 1.5)
    capsys.readouterr()
    assert _fuse(near, far, "-o", tmp_path / "h.png", "--weights", tiny_weights, "--task", "mff",
                 "--palette", "inferno") == 2
    assert "add --pixels network for a palette" in capsys.readouterr().err
    assert not (tmp_path / "h.png").exists()


def test_source_map_of_a_stack_and_of_folders(tmp_path, tiny_weights, capsys):
    examples = REPO / "src" / "defusion" / "examples"
    near, far = examples / "mff_near.png", examples / "mff_far.png"
    out, smap = tmp_path / "f.png", tmp_path / "depth.png"
    assert _fuse(near, far, near, "-o", out, "--weights", tiny_weights, "--pixels", "sources",
                 "--source-map", smap) == 0
    depth = read_image(smap)
    assert depth.shape == read_image(out).shape[:2] and depth.dtype == np.uint8
    assert "wrote" in capsys.readouterr().err
    pair_map = tmp_path / "pair.png"  # a pair's map is 1 - weight_a, the --components decision map inverted
    assert _fuse(near, far, "-o", tmp_path / "g.png", "--weights", tiny_weights, "--pixels", "sources",
                 "--source-map", pair_map, "--components", tmp_path / "parts") == 0
    weight_a = read_image(tmp_path / "parts" / "weight_a.png").astype(int)
    assert np.abs(read_image(pair_map).astype(int) - (255 - weight_a)).max() <= 1
    a_dir, b_dir = tmp_path / "A", tmp_path / "B"
    for d, src in ((a_dir, near), (b_dir, far)):
        d.mkdir()
        shutil.copy(src, d / "scene.png")
    assert _fuse("--a", a_dir, "--b", b_dir, "-o", tmp_path / "fused", "--weights", tiny_weights,
                 "--pixels", "sources", "--source-map", tmp_path / "maps") == 0
    assert [p.name for p in (tmp_path / "maps").iterdir()] == ["scene.png"]


@pytest.mark.parametrize("extra, message", [
    (["--source-map", "{tmp}/m.png"], "--source-map needs --pixels sources"),
    (["--pixels", "sources", "--source-map", "{tmp}"], "is a folder"),
    (["--pixels", "sources", "--source-map", "{tmp}/m.txt"], "cannot write --source-map"),
    (["--pixels", "sources", "--source-map", "{tmp}/f.png"], "is an input or the output"),
])
def test_source_map_refusals(tmp_path, tiny_weights, capsys, extra, message):
    examples = REPO / "src" / "defusion" / "examples"
    extra = [e.format(tmp=tmp_path) for e in extra]
    code = _fuse(examples / "mff_near.png", examples / "mff_far.png", "-o", tmp_path / "f.png",
                 "--weights", tiny_weights, *extra)
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "f.png").exists()


@pytest.mark.parametrize("given, message", [
    ("maps.png", "--source-map {tmp}/maps.png: is a file; with --a/--b or --stacks it names a folder (one map per "
                 "pair or group)"),
    ("a", "--source-map {tmp}/a: is a source or output folder; give the maps their own folder"),
    ("fused", "--source-map {tmp}/fused: is a source or output folder; give the maps their own folder"),
])
def test_a_folder_runs_source_map_path_is_refused_in_one_line(tmp_path, tiny_weights, capsys, given, message):
    examples = REPO / "src" / "defusion" / "examples"
    for d in (tmp_path / "a", tmp_path / "b"):
        d.mkdir()
        shutil.copy(examples / "mff_near.png", d / "scene.png")
    (tmp_path / "maps.png").write_bytes(b"")
    assert _fuse("--a", tmp_path / "a", "--b", tmp_path / "b", "-o", tmp_path / "fused", "--weights", tiny_weights,
                 "--pixels", "sources", "--source-map", tmp_path / given) == 2
    err = capsys.readouterr().err
    assert err.strip() == f"defusion: error: {message.format(tmp=tmp_path)}" and err.count("\n") == 1


def test_console_script_is_installed(tmp_path):
    exe = shutil.which("defusion")
    assert exe, "the `defusion` command should be on PATH after installation"
    result = subprocess.run([exe, "fuse", "only-one.png", "-o", str(tmp_path / "x.png")],
                            capture_output=True, text=True, encoding="utf-8")
    assert result.returncode == 2 and "at least two images" in result.stderr
    assert "Traceback" not in result.stderr
    assert subprocess.run([sys.executable, "-m", "defusion.cli.main", "--version"], capture_output=True,
                          text=True, encoding="utf-8").stdout.startswith("defusion ")


def test_fuse_through_onnx_runtime_matches_pytorch(pair, tmp_path, tiny_weights):
    from defusion.model.weights import load_weights
    from defusion.fusion.export import export_onnx

    onnx_path = export_onnx(load_weights(tiny_weights), tmp_path / "tiny.onnx")
    assert _fuse(*pair, "-o", tmp_path / "torch.png", "--weights", tiny_weights) == 0
    assert _fuse(*pair, "-o", tmp_path / "onnx.png", "--onnx", onnx_path, "--device", "cpu") == 0
    diff = np.abs(read_image(tmp_path / "torch.png").astype(int) - read_image(tmp_path / "onnx.png").astype(int))
    assert diff.max() <= 1
    assert _fuse(*pair, "-o", tmp_path / "x.png", "--onnx", tmp_path / "missing.onnx") == 2
    # --runtime agrees with --onnx only where it names ONNX Runtime (torch was once let through, onnxruntime refused)
    assert _fuse(*pair, "-o", tmp_path / "o2.png", "--onnx", onnx_path, "--runtime", "onnxruntime") == 0
    assert _fuse(*pair, "-o", tmp_path / "o3.png", "--onnx", onnx_path, "--runtime", "torch") == 2


@pytest.mark.parametrize("option, value, message", [
    ("--overlap", "-5", "must be 0 or more"), ("--max-pixels", "0", "must be at least 1"),
    ("--tile", "3", "at least 129 pixels"),
    ("--tile", "128", "over twice the overlap of 64"), ("--scale", "0", "must be at least 1"),
    ("--scale", "5", "inference scale must be an integer from 1 to 4"),
    ("--unique-gain", "-1", "must be a number from 0 to 4"), ("--unique-gain", "nan", "must be a number from 0 to 4"),
    ("--unique-gain", "big", "invalid unique_gain value"),
])
def test_out_of_range_numbers_are_a_usage_error(option, value, message, pair, tmp_path, tiny_weights, capsys):
    try:
        status = _fuse(*pair, "-o", tmp_path / "f.png", "--weights", tiny_weights, option, value)
    except SystemExit as exit_:  # argparse's own usage errors
        status = exit_.code
    assert status == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert not (tmp_path / "f.png").exists()


def test_scale_option_fuses_to_the_input_size(pair, tmp_path, tiny_weights):
    out = tmp_path / "x2.png"
    assert _fuse(*pair, "-o", out, "--weights", tiny_weights, "--scale", "2") == 0
    assert read_image(out).shape == (45, 61, 3)


def test_unique_gain_option_changes_the_fusion(pair, tmp_path, tiny_weights):
    outs = {}
    for gain in ("1", "2.5"):
        outs[gain] = tmp_path / f"g{gain}.png"
        assert _fuse(*pair, "-o", outs[gain], "--weights", tiny_weights, "--unique-gain", gain) == 0
    assert not np.array_equal(read_image(outs["1"]), read_image(outs["2.5"]))


def test_detail_gain_option_reaches_the_core_and_is_bounded(pair, tmp_path, tiny_weights, capsys):
    outs = {}
    for name, args in {"g1.5": ("--unique-gain", "1.5"), "g1.5-d2": ("--unique-gain", "1.5", "--detail-gain", "2"),
                       "g1.5-d1": ("--unique-gain", "1.5", "--detail-gain", "1")}.items():
        outs[name] = tmp_path / f"{name}.png"
        assert _fuse(*pair, "-o", outs[name], "--weights", tiny_weights, *args) == 0
    assert np.array_equal(read_image(outs["g1.5"]), read_image(outs["g1.5-d2"]))  # 2g - 1: the default
    assert not np.array_equal(read_image(outs["g1.5"]), read_image(outs["g1.5-d1"]))
    with pytest.raises(SystemExit) as exit_:
        _fuse(*pair, "-o", tmp_path / "x.png", "--detail-gain", "9")
    assert exit_.value.code == 2 and "from 0 to 7" in capsys.readouterr().err


def test_task_option_sets_the_tasks_unique_gain_unless_one_is_given(pair, tmp_path, tiny_weights, capsys):
    from defusion.fusion.fuser import TASK_OPTIONS, TASKS

    assert set(TASK_OPTIONS) == set(TASKS)
    outs = {}
    for name, args in {"ivf": ("--task", "ivf"), "g1.5": ("--unique-gain", "1.5"),
                       "ivf-g1": ("--task", "ivf", "--unique-gain", "1"), "g1": ("--unique-gain", "1")}.items():
        outs[name] = tmp_path / f"{name}.png"
        assert _fuse(*pair, "-o", outs[name], "--weights", tiny_weights, *args) == 0
    assert np.array_equal(read_image(outs["ivf"]), read_image(outs["g1.5"]))
    assert np.array_equal(read_image(outs["ivf-g1"]), read_image(outs["g1"]))
    assert not np.array_equal(read_image(outs["ivf"]), read_image(outs["g1"]))
    with pytest.raises(SystemExit) as exit_:
        _fuse(*pair, "-o", tmp_path / "x.png", "--task", "sar")
    assert exit_.value.code == 2 and "invalid choice: 'sar'" in capsys.readouterr().err


def test_smallest_tile_runs_at_every_scale(tmp_path, rng, tiny_weights):
    a = write_image(tmp_path / "a.png", smooth_image(rng, 150, 170))
    b = write_image(tmp_path / "b.png", smooth_image(rng, 150, 170))
    for scale in ("1", "2", "3"):  # at scale 2, 129 network pixels are a 64-pixel image tile
        out = tmp_path / f"x{scale}.png"
        assert _fuse(a, b, "-o", out, "--weights", tiny_weights, "--tile", "129", "--scale", scale) == 0
        assert read_image(out).shape == (150, 170, 3)


def test_output_paths_that_would_lose_work_are_refused(pair, tmp_path, rng, tiny_weights, capsys):
    a, b = pair
    before = a.read_bytes()
    c = write_image(tmp_path / "c.png", smooth_image(rng, 45, 61))
    cases = [
        ([a, b, "-o", a], "is one of the inputs"),
        ([a, b, "-o", tmp_path], "is a folder"),
        ([a, b, c, "-o", tmp_path / "f.png", "--components", tmp_path / "parts"], "exactly two images, got 3"),
        ([a, b, "-o", tmp_path / "f.png", "--components", c], "is a file"),
        (["--a", tmp_path, "--b", tmp_path, "-o", tmp_path], "is a source folder"),
        (["--a", tmp_path, "--b", tmp_path, "-o", c], "is a file"),
    ]
    for argv, message in cases:
        assert _fuse(*argv, "--weights", tiny_weights) == 2
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err, argv
    assert a.read_bytes() == before
    assert not (tmp_path / "f.png").exists() and not (tmp_path / "parts").exists()


def test_sixteen_bit_to_jpeg_warns(tmp_path, rng, tiny_weights, capsys):
    a = write_image(tmp_path / "a.png", smooth_image(rng, 40, 40, 1).astype(np.uint16) * 257)
    b = write_image(tmp_path / "b.png", smooth_image(rng, 40, 40, 1).astype(np.uint16) * 257)
    assert _fuse(a, b, "-o", tmp_path / "f.jpg", "--weights", tiny_weights, "--threads", "1") == 0
    assert read_image(tmp_path / "f.jpg").dtype == np.uint8
    assert "holds 8 bits" in capsys.readouterr().err
    assert _fuse(a, b, "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
    assert "holds 8 bits" not in capsys.readouterr().err


def test_fused_photo_keeps_the_sources_colour_profile_and_exif(tmp_path, rng, tiny_weights, capsys):
    from PIL import Image, ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    sources = []
    for name, gain in (("under.jpg", 0.5), ("over.jpg", 1.5)):
        exif = Image.Exif()
        exif[0x010F], exif[0x0112] = "Canon", 6  # the camera held upright: pixels stored on their side
        pixels = np.clip(smooth_image(rng, 30, 40).astype(float) * gain, 0, 255).astype(np.uint8)
        Image.fromarray(pixels).save(tmp_path / name, exif=exif.tobytes(), icc_profile=profile)
        sources.append(tmp_path / name)
    out = tmp_path / "fused.jpg"
    assert _fuse(*sources, "-o", out, "--weights", tiny_weights, "--task", "mef") == 0
    with Image.open(out) as im:
        assert im.info["icc_profile"] == profile and im.getexif()[0x010F] == "Canon"
        assert im.getexif()[0x0112] == 1 and im.size == (30, 40)  # upright pixels, upright tag
    assert _fuse(*sources, "-o", tmp_path / "bare.png", "--weights", tiny_weights, "--no-metadata") == 0
    with Image.open(tmp_path / "bare.png") as im:
        assert "icc_profile" not in im.info and not im.getexif()
    capsys.readouterr()
    assert _fuse(*sources, "-o", tmp_path / "fused.tif", "--weights", tiny_weights) == 0
    assert "colour profile" not in capsys.readouterr().err  # a TIFF keeps it now
    with Image.open(tmp_path / "fused.tif") as im:
        assert im.info["icc_profile"] == profile and im.getexif()[0x010F] == "Canon"
    assert _fuse(*sources, "-o", tmp_path / "fused.bmp", "--weights", tiny_weights) == 0
    assert ".bmp is written without the sources' colour profile" in capsys.readouterr().err
    assert _fuse(*sources, "-o", tmp_path / "fused.webp", "--weights", tiny_weights) == 0
    with Image.open(tmp_path / "fused.webp") as im:
        assert im.info["icc_profile"] == profile and im.getexif()[0x010F] == "Canon"


def test_a_raw_thermal_frame_is_stretched_and_said_so(tmp_path, rng, tiny_weights, capsys):
    ir = write_image(tmp_path / "ir.png", (7000 + 8 * smooth_image(rng, 30, 40, 1).astype(np.int64)).astype(np.uint16))
    vis = write_image(tmp_path / "vis.png", smooth_image(rng, 30, 40))
    assert _fuse(ir, vis, "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
    err = capsys.readouterr().err
    assert "note: ir.png holds 16-bit values" in err and "stretched to the full range" in err
    assert "vis.png" not in err.split("wrote")[0]
    assert _fuse(ir, vis, "-o", tmp_path / "g.png", "--weights", tiny_weights, "--stretch", "none") == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "note:" in line]
    assert len(notes) == 1 and "ir.png spans only" in notes[0] and "reads nearly flat unstretched" in notes[0], notes


def test_deghost_option_reaches_the_core(tmp_path, tiny_weights, made):
    examples = REPO / "src" / "defusion" / "examples"
    under, over = examples / "mef_under.png", examples / "mef_over.png"
    assert _fuse(under, over, "-o", tmp_path / "f.png", "--weights", tiny_weights, "--task", "mef", "--deghost") == 0
    assert made[-1].options.deghost is True and read_image(tmp_path / "f.png").shape == read_image(under).shape
    assert _fuse(under, over, "-o", tmp_path / "g.png", "--weights", tiny_weights) == 0
    assert made[-1].options.deghost is False


def test_stacks_fuses_each_bracket_of_a_card_grouped_by_capture_time(tmp_path, tiny_weights, capsys):
    from datetime import datetime, timedelta

    from tests.io.test_shots import write_shot

    t = datetime(2026, 12, 5, 9)
    card = tmp_path / "card"
    times = [0, 0.3, 0.6, 20, 20.4, 20.8, 60]  # two brackets of three, then a single shot
    for i, s in enumerate(times, start=1):
        write_shot(card / f"IMG_{i:04d}.jpg", t + timedelta(seconds=s), (1, 100), value=40 * (i % 3 + 1))
    out = tmp_path / "out"
    assert _fuse("--stacks", card, "-o", out, "--weights", tiny_weights, "--task", "mef") == 0
    err = capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [SETTINGS_FILE, "IMG_0001-IMG_0003.png", "IMG_0004-IMG_0006.png"]
    assert "6 shots in 2 groups by capture time" in err and "IMG_0007.jpg is a group of one shot" in err
    assert read_image(out / "IMG_0001-IMG_0003.png").shape[:2] == (24, 32)
    assert _fuse("--stacks", card, "-o", out, "--weights", tiny_weights, "--task", "mef", "--skip-existing") == 0
    assert "all 2 groups already fused" in capsys.readouterr().err
    assert _fuse("--stacks", card, "-o", tmp_path / "runs", "--weights", tiny_weights, "--group", "4") == 0
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [SETTINGS_FILE, "IMG_0001-IMG_0004.png",
                                                                      "IMG_0005-IMG_0007.png"]
    assert "7 shots do not split into runs of 4: the last group, IMG_0005-IMG_0007, has 3 shots" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _fuse("--stacks", card, "-o", out, "--gap", "-1")
    assert "must be 0 or more seconds" in capsys.readouterr().err


def test_stacks_leave_out_a_shot_without_capture_time_and_a_non_image(tmp_path, tiny_weights, capsys):
    """One JPEG saved without EXIF once stopped the whole card."""
    from datetime import datetime, timedelta

    from tests.io.test_shots import write_shot

    t = datetime(2026, 12, 5, 9)
    card = tmp_path / "card"
    for i, s in enumerate([0, 0.3, 20, 20.4], start=1):
        write_shot(card / f"IMG_{i:04d}.jpg", t + timedelta(seconds=s), (1, 100), value=50 * i)
    write_image(card / "IMG_0005.png", np.full((24, 32), 90, np.uint8))  # no EXIF
    (card / "IMG_0006.JPG").write_text("not an image", encoding="utf-8")
    out = tmp_path / "out"
    assert _fuse("--stacks", card, "-o", out, "--weights", tiny_weights, "--task", "mef") == 0
    err = capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == [SETTINGS_FILE, "IMG_0001-IMG_0002.png", "IMG_0003-IMG_0004.png"]
    assert "IMG_0005.png: no EXIF capture time; left out" in err
    assert "IMG_0006.JPG: not an image (or a broken one); left out" in err


@pytest.mark.parametrize("extra, message", [
    (["a.png", "b.png"], "not both"),
    (["--a", "x", "--b", "y"], "not both"),
    (["--components", "parts"], "--components decomposes pairs"),
    (["--rig", "rig.json"], "--rig maps a camera rig's pairs"),
])
def test_stacks_usage_errors_are_one_line(tmp_path, capsys, extra, message):
    (tmp_path / "card").mkdir()
    code = _fuse("--stacks", tmp_path / "card", "-o", tmp_path / "out", *extra)
    assert code == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_stacks_without_capture_times_say_to_group_by_count(tmp_path, tiny_weights, capsys):
    card = tmp_path / "card"
    for i in range(4):
        write_image(card / f"{i}.png", np.full((20, 24), 60 * i, np.uint8))
    assert _fuse("--stacks", card, "-o", tmp_path / "out", "--weights", tiny_weights) == 2
    assert "no EXIF capture time" in capsys.readouterr().err
    assert _fuse("--group", "2", "a.png", "b.png", "-o", tmp_path / "f.png") == 2
    assert "--group and --gap are for --stacks" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        _fuse("--stacks", card, "-o", tmp_path / "out", "--group", "1")
    assert "a group needs at least 2 shots" in capsys.readouterr().err
    assert _fuse("--stacks", card, "-o", card, "--group", "2") == 2
    assert "is a source folder" in capsys.readouterr().err


def test_folder_modes_write_the_format_asked_for(tmp_path, rng, tiny_weights, capsys):
    for side in ("a", "b"):
        write_image(tmp_path / side / "01.png", (smooth_image(rng, 30, 40).astype(np.uint16) * 257))
    out = tmp_path / "out"
    assert _fuse("--a", tmp_path / "a", "--b", tmp_path / "b", "-o", out, "--weights", tiny_weights,
                 "--format", "tif") == 0
    assert sorted(p.name for p in out.iterdir()) == [SETTINGS_FILE, "01.tif"]
    assert read_image(out / "01.tif").dtype == np.uint16
    assert _fuse("--a", tmp_path / "a", "--b", tmp_path / "b", "-o", out, "--weights", tiny_weights,
                 "--format", "tif", "--skip-existing") == 0
    assert "all 1 pair already fused" in capsys.readouterr().err
    assert _fuse(tmp_path / "a" / "01.png", tmp_path / "b" / "01.png", "-o", tmp_path / "f.png", "--format", "jpg") == 2
    assert "--format is for folders" in capsys.readouterr().err


def test_palette_colours_a_grey_pair(pair, tmp_path, tiny_weights, capsys):
    grey = write_image(tmp_path / "ir.png", smooth_image(np.random.default_rng(3), 45, 61, channels=1))
    out = tmp_path / "f.png"
    assert _fuse(grey, pair[1], "-o", out, "--weights", tiny_weights, "--palette", "turbo") == 0
    fused = read_image(out)
    assert fused.ndim == 3 and np.ptp(fused.astype(int), axis=2).max() > 20  # coloured, not grey
    with pytest.raises(SystemExit):
        _fuse(grey, pair[1], "-o", out, "--palette", "rainbow")
    assert "invalid choice: 'rainbow'" in capsys.readouterr().err


def test_palette_says_which_image_it_colours_when_both_are_grey(tmp_path, tiny_weights, capsys):
    rng = np.random.default_rng(4)
    vis = write_image(tmp_path / "vis.png", smooth_image(rng, 30, 40, channels=1))
    ir = write_image(tmp_path / "ir.png", smooth_image(rng, 30, 40, channels=1))
    outs = {}
    for name, extra in (("guess", []), ("first", ["--infrared", "1"])):
        outs[name] = tmp_path / f"{name}.png"
        assert _fuse(vis, ir, "-o", outs[name], "--weights", tiny_weights, "--palette", "hot", *extra) == 0
        err = capsys.readouterr().err  # a guess takes the last, as pairs are given visible first
        assert ("ir.png as the infrared image (all are grey)" in err) == (name == "guess")
    assert not np.array_equal(read_image(outs["guess"]), read_image(outs["first"]))
    assert _fuse(vis, ir, "-o", tmp_path / "x.png", "--infrared", "2") == 2
    assert "give a --palette other than none" in capsys.readouterr().err
    assert _fuse(vis, ir, "-o", tmp_path / "x.png", "--weights", tiny_weights, "--palette", "hot", "--infrared", "3") == 2
    assert "--infrared 3 was asked for, but 2 images" in capsys.readouterr().err


def test_folder_modes_show_each_large_fusions_tiles_under_the_folders_bar(tmp_path, rng, tiny_weights, capsys,
                                                                          monkeypatch):
    from defusion.io import progress

    monkeypatch.setattr(progress, "is_terminal", lambda _stream: True)  # tqdm's bars, as a terminal shows them
    for side in ("a", "b"):
        write_image(tmp_path / side / "01.png", smooth_image(rng, 100, 130))
    assert main(["fuse", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"), "-o", str(tmp_path / "out"),
                 "--weights", str(tiny_weights), "--tile", "64", "--overlap", "8", "--scale", "1"]) == 0
    err = capsys.readouterr().err
    assert "fusing:" in err and "\r01: " in err and "pass/s" in err  # the folder's bar, the pair's passes beneath it


def test_quality_sets_the_jpeg_quality(pair, tmp_path, tiny_weights, capsys):
    low, high = tmp_path / "low.jpg", tmp_path / "high.jpg"
    assert _fuse(*pair, "-o", low, "--weights", tiny_weights, "--quality", "40") == 0
    assert _fuse(*pair, "-o", high, "--weights", tiny_weights) == 0
    assert low.stat().st_size < high.stat().st_size
    assert _fuse(*pair, "-o", tmp_path / "x.jpg", "--quality", "0") == 2
    assert "--quality must be from 1 to 100, got 0" in capsys.readouterr().err


def test_quality_makes_a_webp_lossy_and_warns_only_where_it_sets_nothing(pair, tmp_path, tiny_weights, capsys):
    """WebP is lossless without --quality (a measured image needs no loss), lossy at Q with it (to share)."""
    lossless, lossy = tmp_path / "lossless.webp", tmp_path / "lossy.webp"
    assert _fuse(*pair, "-o", lossless, "--weights", tiny_weights) == 0
    capsys.readouterr()
    assert _fuse(*pair, "-o", lossy, "--weights", tiny_weights, "--quality", "80") == 0
    assert "--quality" not in capsys.readouterr().err
    # VP8X: the extended container, which the fusion's EXIF record (Software, UserComment) takes
    assert lossless.read_bytes()[12:16] in (b"VP8L", b"VP8X") and lossy.read_bytes()[12:16] in (b"VP8 ", b"VP8X")
    assert b"VP8L" in lossless.read_bytes() and b"VP8 " not in lossless.read_bytes()  # lossless image data
    assert b"VP8 " in lossy.read_bytes() and b"VP8L" not in lossy.read_bytes()  # lossy image data
    assert _fuse(*pair, "-o", tmp_path / "x.png", "--weights", tiny_weights, "--quality", "80") == 0
    assert "warning: --quality sets JPEG and WebP output's quality; this output is neither" in capsys.readouterr().err
