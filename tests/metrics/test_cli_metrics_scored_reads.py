"""``defusion metrics`` reads files to score them as the Python metrics take arrays.

An audit found a fused image saved as float32 on 0..255 scored by the CLI with twice its contrast
(read as fusion input, stretched), and a 16-bit file holding 8-bit values scored near black in
silence (EN 0.99, SSIM 0.026).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
from PIL import Image

from defusion.cli import metrics as cli
from defusion.cli.errors import run_guarded
from defusion.io.notes import as_lines
from defusion.io.images import write_image
from defusion.metrics import compute_metrics

NAMES = "EN,SD,SSIM,Qabf"


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="defusion metrics")
    cli.add_arguments(parser)
    with as_lines():  # what the library says, said as the command says it (as under main())
        return run_guarded(lambda: cli.run(parser.parse_args(argv)), cli.EXPECTED_ERRORS)


def _scores(capsys, fused: Path, a: Path, b: Path) -> dict[str, float]:
    assert _run([str(fused), str(a), str(b), "--names", NAMES, "--json"]) == 0
    return json.loads(capsys.readouterr().out)["metrics"]


@pytest.fixture()
def pair(tmp_path: Path) -> tuple[Path, Path, np.ndarray]:
    """Two grey sources and a fused image using only 60..187 of the 8-bit range."""
    y, x = np.mgrid[0:48, 0:64]
    a = np.clip(128 + 80 * np.sin(x / 5.0), 0, 255).astype(np.uint8)
    b = np.clip(128 + 80 * np.cos(y / 4.0), 0, 255).astype(np.uint8)
    fused = np.round(60 + (a.astype(float) + b) / 510 * 127).astype(np.uint8)
    write_image(tmp_path / "a.png", a)
    write_image(tmp_path / "b.png", b)
    return tmp_path / "a.png", tmp_path / "b.png", fused


def test_a_0_255_float_tiff_scores_as_its_uint8_pixels_and_as_the_python_api(tmp_path, pair, capsys):
    a, b, fused = pair
    write_image(tmp_path / "fused8.png", fused)
    tifffile.imwrite(tmp_path / "fused_float.tif", fused.astype(np.float32))
    as_uint8 = _scores(capsys, tmp_path / "fused8.png", a, b)
    as_float = _scores(capsys, tmp_path / "fused_float.tif", a, b)
    assert as_float == as_uint8  # stretched, SD was about twice as large
    python = compute_metrics(fused.astype(np.float32), np.asarray(Image.open(a)), np.asarray(Image.open(b)),
                             names=NAMES.split(","))
    assert as_float == pytest.approx(python, abs=1e-9)


def _python(fused: np.ndarray, a: Path, b: Path) -> dict[str, float]:
    return compute_metrics(fused, np.asarray(Image.open(a)), np.asarray(Image.open(b)), names=NAMES.split(","))


@pytest.mark.parametrize("scale", [1 / 255, 1.0], ids=["unit", "levels"])
def test_a_float_tiff_with_fractional_values_scores_exactly_as_its_array(tmp_path, pair, capsys, scale):
    """Not quantised to 8 bits on the way: the file's float32 values are what the metrics take."""
    a, b, fused = pair
    values = ((fused + np.linspace(0, 0.9, fused.size).reshape(fused.shape)) * scale).astype(np.float32)
    tifffile.imwrite(tmp_path / "fused.tif", values)
    scored = _scores(capsys, tmp_path / "fused.tif", a, b)
    assert scored == _python(values, a, b)  # exactly: the same array
    write_image(tmp_path / "fused8.png", np.round(values / scale).astype(np.uint8))
    assert scored != _scores(capsys, tmp_path / "fused8.png", a, b)  # what an 8-bit reading gave


def test_a_float_tiff_on_neither_scale_is_one_error_line(tmp_path, pair, capsys):
    a, b, fused = pair
    tifffile.imwrite(tmp_path / "kelvin.tif", fused.astype(np.float32) + 200)  # 284..363: neither scale
    assert _run([str(tmp_path / "kelvin.tif"), str(a), str(b), "--names", "SD"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (f"defusion: error: {tmp_path / 'kelvin.tif'}: float values span 284..363, neither 0..1 "
                            "nor 0..255 (the two float scales the metrics take); rescale or clip the image to one "
                            "of them\n")


def test_a_16_bit_file_of_8_bit_values_is_scored_as_it_is_with_a_note_naming_it(tmp_path, pair, capsys):
    a, b, fused = pair
    path = tmp_path / "low16_metrics_cli.png"
    write_image(path, fused.astype(np.uint16))  # what uint16(img) writes: an I;16 PNG holding 0..255
    with Image.open(path) as im:
        assert im.mode == "I;16"
    assert _run([str(path), str(a), str(b), "--names", "EN", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["metrics"]["EN"] < 1.5  # the 16-bit image it is, near black: not converted
    notes = [line for line in captured.err.splitlines() if line.startswith("defusion: note:")]
    assert notes == [f"defusion: note: {path} is a 16-bit file whose values are all <= 255 (8-bit values saved as "
                     "16-bit?): scored as 16-bit, near black (save it as 8-bit to score its 8-bit values)"]
    assert _run([str(path), str(a), str(b), "--names", "EN"]) == 0
    assert "note:" not in capsys.readouterr().err  # said once per process


def test_a_16_bit_file_using_its_range_says_nothing(tmp_path, pair, capsys):
    a, b, fused = pair
    path = tmp_path / "full16.png"
    write_image(path, fused.astype(np.uint16) * 257)
    write_image(tmp_path / "fused8.png", fused)
    assert _scores(capsys, path, a, b) == pytest.approx(_scores(capsys, tmp_path / "fused8.png", a, b))
    _run([str(path), str(a), str(b), "--names", "EN"])
    assert "note:" not in capsys.readouterr().err
