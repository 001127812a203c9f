"""One reading of an image everywhere: the Python API, ``defusion metrics`` and ``defusion bench``.

From an audit: a 16-bit fused PNG scored EN 6.856 in Python (x / 257, unrounded) and 6.724 through the
CLI (rounded to 8 bits); ``compute_metrics(f[:40], a, b, ["EN"])`` with 64x64 sources returned a value
where the CLI refused the sizes, and said them as H x W where the CLI says W x H; ``defusion metrics``
exited 0 with a metric asked for shown as n/a.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from PIL import Image

from defusion.cli.main import main
from defusion.io.images import write_image
from defusion.metrics import compute_each, compute_metrics, compute_stack_metrics
from defusion.metrics._inputs import as_image
from defusion.metrics._scale import eight_bit_levels
from tests.conftest import smooth_image

NAMES = ["EN", "SSIM", "Qabf", "CE", "MI", "SF"]


@pytest.fixture()
def sixteen_bit(tmp_path, rng):
    """A grey 16-bit fused PNG whose values are not multiples of 257, and two 8-bit sources."""
    a = smooth_image(rng, 48, 56, channels=3)
    b = smooth_image(rng, 48, 56, channels=1)
    fused = ((a.mean(axis=2) + b) / 2 * 257 + rng.integers(-120, 120, b.shape)).clip(0, 65535).astype(np.uint16)
    paths = [tmp_path / "fused16.png", tmp_path / "a.png", tmp_path / "b.png"]
    for path, image in zip(paths, (fused, a, b)):
        write_image(path, image)
    return paths, fused, a, b


def test_a_16_bit_file_scores_alike_in_python_and_through_the_cli(sixteen_bit, capsys):
    paths, fused, a, b = sixteen_bit
    with Image.open(paths[0]) as im:
        read = np.asarray(im)
    assert read.dtype == np.uint16 and np.array_equal(read, fused)
    python = compute_metrics(read, a, b, names=NAMES)
    assert main(["metrics", *map(str, paths), "--names", ",".join(NAMES), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"] == python  # identical, not approximately


def test_a_uint16_array_scores_exactly_as_the_8_bit_image_it_rounds_to(sixteen_bit):
    _, fused, a, b = sixteen_bit
    rounded = np.round(fused / 257.0).astype(np.uint8)
    assert np.array_equal(eight_bit_levels(fused), rounded)
    assert as_image(fused).dtype == np.uint8
    assert compute_metrics(fused, a, b, names=NAMES) == compute_metrics(rounded, a, b, names=NAMES)
    big_endian = fused.astype(">u2")  # a big-endian TIFF's pixels: the same image
    assert compute_metrics(big_endian, a, b, names=NAMES) == compute_metrics(rounded, a, b, names=NAMES)


def test_every_16_bit_value_rounds_to_its_nearest_level():
    values = np.arange(65536, dtype=np.uint16)
    assert np.array_equal(eight_bit_levels(values), np.floor(values / 257.0 + 0.5).astype(np.uint8))


@pytest.mark.parametrize("names", [["EN"], ["SD", "SF"], ["MEF-SSIM"], None])
def test_sizes_are_checked_whatever_metrics_are_asked(rng, names):
    a, b = smooth_image(rng, 64, 64, channels=1), smooth_image(rng, 64, 64, channels=1)
    fused = ((a.astype(int) + b) // 2).astype(np.uint8)[:40]
    want = "size mismatch (W x H): fused 64x40, a 64x64, b 64x64"
    with pytest.raises(ValueError, match=re.escape(want)):
        compute_metrics(fused, a, b, names=names)
    with pytest.raises(ValueError, match=re.escape(want)):
        compute_each(fused, [a, b], names or ["EN"])
    with pytest.raises(ValueError, match=re.escape(want + ", source 3 64x64")):
        compute_stack_metrics(fused, [a, b, a], names=None if names is None else ["EN"])


def test_a_pairwise_metric_called_directly_says_sizes_as_w_x_h(rng):
    from defusion.metrics import qabf
    from defusion.metrics.structural import mef_ssim

    a = smooth_image(rng, 32, 48, channels=1)
    with pytest.raises(ValueError, match=re.escape("size mismatch (W x H): fused 48x32, a 48x30, b 48x32")):
        qabf(a, a[:30], a)
    with pytest.raises(ValueError, match=re.escape("size mismatch (W x H): fused 48x32, a 48x32, b 48x30")):
        mef_ssim(a, a, a[:30])


def test_the_cli_says_sizes_as_the_api_does(tmp_path, rng, capsys):
    a = smooth_image(rng, 64, 64, channels=1)
    write_image(tmp_path / "f.png", a[:40])
    write_image(tmp_path / "a.png", a)
    assert main(["metrics", str(tmp_path / "f.png"), str(tmp_path / "a.png"), str(tmp_path / "a.png"),
                 "--names", "EN"]) == 2
    assert capsys.readouterr().err == "defusion: error: size mismatch (W x H): fused 64x40, a 64x64, b 64x64\n"


def _tiny(tmp_path, rng) -> list[str]:
    image = smooth_image(rng, 8, 8, channels=1)
    for name in "fab":
        write_image(tmp_path / f"{name}.png", image if name != "b" else 255 - image)
    return [str(tmp_path / f"{name}.png") for name in "fab"]


def test_a_named_metric_that_could_not_be_computed_exits_1_with_why(tmp_path, rng, capsys):
    paths = _tiny(tmp_path, rng)
    assert main(["metrics", *paths, "--names", "SSIM,EN"]) == 1
    captured = capsys.readouterr()
    assert re.search(r"^SSIM +n/a ", captured.out, re.M)  # the table keeps it
    assert captured.err == ("defusion: note: SSIM not computed: SSIM needs images of at least 11x11 pixels, "
                            "got 8x8 (WxH); exit status 1\n")
    assert main(["metrics", *paths, "--names", "SSIM", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["metrics"] == {"SSIM": None} and "at least 11x11" in out["skipped"]["SSIM"]


def test_without_names_or_with_every_named_metric_computed_the_cli_exits_0(tmp_path, rng, capsys):
    paths = _tiny(tmp_path, rng)
    assert main(["metrics", *paths, "--names", "EN,SD"]) == 0
    assert main(["metrics", *paths]) == 0  # the default set shows what the images are too small for as n/a
    captured = capsys.readouterr()
    assert "exit status 1" not in captured.err and "SSIM not computed" in captured.err


def test_a_named_metric_with_no_defined_value_exits_0_in_json_as_in_text(tmp_path, capsys):
    """Flat identical images: every VIFB metric is computed, some as NaN (no value defined), which is
    not a failure: ``--json`` exited 1 where the table exited 0."""
    flat = np.full((32, 32), 100, np.uint8)
    paths = [str(tmp_path / f"{name}.png") for name in "fab"]
    for path in paths:
        write_image(path, flat)
    assert main(["metrics", *paths, "--names", "vifb"]) == 0
    assert "exit status 1" not in capsys.readouterr().err
    assert main(["metrics", *paths, "--names", "vifb", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    undefined = [name for name, value in out["metrics"].items() if value is None]
    assert undefined and all(out["skipped"][name] == "not defined: flat or identical images" for name in undefined)
