"""``defusion fuse --palette P --legend KEY.png``: the palette's colour key, over the span the fusion used (the
one the note says, measured once), labelled in a raw frame's counts too; refused, in one line and before
any work, without a --palette, as another file type, and in a folder run without --palette-range."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

import defusion.fusion.palette_legend as palette_legend_module
from defusion.fusion.choices import palette_span_text
from defusion.fusion.fuser import Fuser
from defusion.fusion.palette_legend import LEGEND_HEIGHT
from defusion.fusion.stretch import measure_stretch
from defusion.io.arrays import MAX_16BIT
from defusion.io.images import read_image, write_image
from tests.cli.conftest import infrared_visible_folders, one_error_line, run_fuse
from tests.conftest import smooth_image

H, W = 24, 32
#: What --palette's note says of the span it measured, its two bounds caught.
SPANS = re.compile(r"--palette spans infrared values (\S+) to (\S+) \(measured on these images\)")


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


@pytest.fixture
def drawn(monkeypatch) -> list[dict]:
    """The arguments each legend is drawn with (the real one is drawn too)."""
    real, calls = palette_legend_module.palette_legend, []

    def spy(palette, span, *args, **kwargs):
        calls.append({"palette": palette, "span": span, **kwargs})
        return real(palette, span, *args, **kwargs)

    monkeypatch.setattr(palette_legend_module, "palette_legend", spy)
    return calls


@pytest.fixture
def measured(monkeypatch) -> list[tuple[float, float] | None]:
    """Fuser.measure_palette's answers, one per call."""
    real, answers = Fuser.measure_palette, []

    def counted(self, *images):
        answers.append(real(self, *images))
        return answers[-1]

    monkeypatch.setattr(Fuser, "measure_palette", counted)
    return answers


def _pair(folder: Path, rng, infrared: np.ndarray | None = None) -> list[Path]:
    folder.mkdir(exist_ok=True)
    ir = smooth_image(rng, H, W, channels=1) if infrared is None else infrared
    return [write_image(folder / "vis.png", smooth_image(rng, H, W)), write_image(folder / "ir.png", ir)]


def _raw_frame(rng) -> np.ndarray:
    """A thermal camera's 16-bit counts: a warm spot over 7000-7400 of background."""
    y, x = np.mgrid[0:H, 0:W]
    spot = 1500 * np.exp(-((x - 12) ** 2 + (y - 10) ** 2) / 30.0)
    return (7000 + 400 * x / W + spot + rng.normal(0, 5, (H, W))).astype(np.uint16)


def test_the_key_is_written_over_the_span_the_note_says_measured_once(tmp_path, rng, tiny_weights, capsys,
                                                                       fresh_notes, drawn, measured):
    paths = _pair(tmp_path / "p", rng)
    key = tmp_path / "keys" / "legend.png"
    assert run_fuse(*paths, "-o", tmp_path / "f.png", "--weights", tiny_weights, "--scale", "1", "--palette",
                    "inferno", "--legend", key) == 0
    err = capsys.readouterr().err
    low, high = SPANS.search(err).groups()
    assert len(measured) == 1 and len(drawn) == 1  # measured once: said, and keyed
    assert palette_span_text(drawn[0]["span"]) == f"{low},{high}" and drawn[0]["span"] == measured[0]
    assert drawn[0]["palette"] == "inferno" and drawn[0]["values"] is None  # an 8-bit infrared image: 0-1 only
    legend = read_image(key)
    assert legend.shape[0] == LEGEND_HEIGHT and legend.ndim == 3 and legend.dtype == np.uint8
    assert err.rstrip().splitlines()[-1] == f"wrote {tmp_path / 'f.png'} and {key} (made the folder " \
                                            f"{tmp_path / 'keys'}, which did not exist)"


def test_a_given_range_is_keyed_as_given_and_nothing_is_measured(tmp_path, rng, tiny_weights, capsys, drawn,
                                                                   measured):
    paths = _pair(tmp_path / "p", rng)
    assert run_fuse(*paths, "-o", tmp_path / "f.png", "--weights", tiny_weights, "--scale", "1", "--palette", "jet",
                    "--palette-range", "0.2,0.8", "--legend", tmp_path / "k.png") == 0
    assert [call["span"] for call in drawn] == [(0.2, 0.8)] and not measured
    assert read_image(tmp_path / "k.png").shape[0] == LEGEND_HEIGHT


def test_a_raw_frame_is_keyed_in_its_own_counts(tmp_path, rng, tiny_weights, drawn, measured):
    raw = _raw_frame(rng)
    paths = _pair(tmp_path / "p", rng, raw)
    assert run_fuse(*paths, "-o", tmp_path / "f.png", "--weights", tiny_weights, "--scale", "1", "--palette",
                    "magma", "--legend", tmp_path / "k.png") == 0
    fixed = measure_stretch([read_image(paths[0]), raw])
    low, high = (bound * MAX_16BIT for bound in fixed.mapping(1))  # the stretch's band: fused 0 to 1
    assert drawn[0]["values"] == pytest.approx((low, high)) and drawn[0]["unit"] == "counts"
    span_low, span_high = measured[0]  # the key's ends in counts: within the frame's own values
    assert raw.min() <= low + span_low * (high - low) < low + span_high * (high - low) <= raw.max()


def test_a_flat_infrared_image_has_no_key_and_says_so(tmp_path, rng, tiny_weights, capsys, fresh_notes):
    paths = _pair(tmp_path / "p", rng, np.full((H, W), 90, np.uint8))
    key = tmp_path / "k.png"
    assert run_fuse(*paths, "-o", tmp_path / "f.png", "--weights", tiny_weights, "--scale", "1", "--palette",
                    "hot", "--legend", key) == 0
    err = capsys.readouterr().err
    assert not key.exists() and f"--legend {key} not written: the infrared image holds one value" in err
    assert err.rstrip().splitlines()[-1] == f"wrote {tmp_path / 'f.png'}"


def test_a_folder_run_with_a_fixed_range_writes_one_key(tmp_path, rng, tiny_weights, capsys, drawn, measured):
    ir, vi = infrared_visible_folders(tmp_path, rng, stems=("01", "02"))
    key = tmp_path / "key.png"
    assert run_fuse("--a", vi, "--b", ir, "-o", tmp_path / "out", "--weights", tiny_weights, "--scale", "1",
                    "--palette", "plasma", "--palette-range", "0.1,0.9", "--legend", key) == 0
    assert [call["span"] for call in drawn] == [(0.1, 0.9)] and not measured
    assert read_image(key).shape[0] == LEGEND_HEIGHT
    assert f"defusion: wrote {key}, the key of every result's colours" in capsys.readouterr().err


@pytest.mark.parametrize("options, said", [
    (["--legend", "k.png"], "--legend draws the colour key of a --palette: give --palette with one of its colour "
                            "maps (inferno, for one)"),
    (["--palette", "none", "--legend", "k.png"], "--legend draws the colour key of a --palette: give --palette with "
                                                 "one of its colour maps (inferno, for one)"),
    (["--palette", "jet", "--legend", "k.jpg"], "--legend k.jpg: the key is written as PNG; give a path ending in "
                                                ".png"),
    (["--palette", "jet", "--legend", "f.png"], "--legend f.png: is also -o; give the key a path of its own"),
])
def test_a_key_that_cannot_be_drawn_is_refused_before_any_work(tmp_path, rng, capsys, fuse_calls, options, said,
                                                                monkeypatch):
    monkeypatch.chdir(tmp_path)
    paths = _pair(tmp_path / "p", rng)
    assert run_fuse(*paths, "-o", "f.png", *options) == 2
    assert one_error_line(capsys) == f"defusion: error: {said}"
    assert not fuse_calls and not (tmp_path / "f.png").exists()


def test_a_folder_run_without_a_fixed_range_is_refused(tmp_path, rng, capsys, fuse_calls):
    ir, vi = infrared_visible_folders(tmp_path, rng, stems=("01",))
    assert run_fuse("--a", vi, "--b", ir, "-o", tmp_path / "out", "--palette", "inferno", "--legend",
                    tmp_path / "k.png") == 2
    assert one_error_line(capsys) == ("defusion: error: --legend in a folder run needs --palette-range LOW,HIGH: "
                                      "without it each pair's colours span that pair's own values, so one key "
                                      "would not fit the others")
    assert not fuse_calls and not (tmp_path / "out").exists()
