"""``--palette-range LOW,HIGH`` (defusion fuse and video): a palette spanning given infrared values, as
the API's ``palette_range`` and the server's ``?palette_range=`` do, so that separate runs colour alike;
``defusion video`` notes the range it measured in that form. Before, the range could not be set from
the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from defusion.cli.main import main
from defusion.fusion.choices import palette_span, palette_span_text
from defusion.io.images import read_image, write_image
from tests.conftest import smooth_image

H, W = 24, 32


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _pair(folder: Path, rng, hot: bool = False) -> list[Path]:
    folder.mkdir(exist_ok=True)
    infrared = smooth_image(rng, H, W, channels=1)
    if hot:
        infrared[4:10, 4:10] = 255  # a hot object: the pair's own range would shift its colours
    return [write_image(folder / "vis.png", smooth_image(rng, H, W)), write_image(folder / "ir.png", infrared)]


def _fuse(paths: list[Path], out: Path, weights: Path, *options: str) -> int:
    return main(["fuse", *map(str, paths), "-o", str(out), "--weights", str(weights), "--no-progress", "--scale", "1",
                 "--palette", "inferno", *options])


def test_the_palette_spans_the_range_given_as_the_api_does(tmp_path, rng, tiny_weights):
    from defusion.fusion.fuser import Fuser

    paths = _pair(tmp_path / "p", rng)
    assert _fuse(paths, tmp_path / "given.png", tiny_weights, "--palette-range", "0.2,0.6") == 0
    assert _fuse(paths, tmp_path / "own.png", tiny_weights) == 0
    fuser = Fuser.from_pretrained(tiny_weights, device="cpu", scale=1, palette="inferno", palette_range=(0.2, 0.6))
    expected = fuser.fuse(*(read_image(p) for p in paths))
    given = read_image(tmp_path / "given.png")
    assert np.array_equal(given, expected)
    assert not np.array_equal(given, read_image(tmp_path / "own.png"))


@pytest.mark.parametrize("value", ["0.6,0.2", "0.1", "a,b", "0,1.5"])
def test_a_range_that_is_no_range_is_refused_in_one_line(tmp_path, rng, tiny_weights, capsys, value):
    with pytest.raises(SystemExit) as exc:
        _fuse(_pair(tmp_path / "p", rng), tmp_path / "f.png", tiny_weights, "--palette-range", value)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert f"--palette-range: give LOW,HIGH with 0 <= LOW < HIGH <= 1, got '{value}'" in err
    assert "Traceback" not in err


def test_a_range_without_a_palette_is_refused(tmp_path, rng, tiny_weights, capsys):
    paths = _pair(tmp_path / "p", rng)
    status = main(["fuse", *map(str, paths), "-o", str(tmp_path / "f.png"), "--weights", str(tiny_weights),
                   "--palette-range", "0.1,0.5"])
    assert status != 0 and not (tmp_path / "f.png").exists()
    assert "--palette-range says which infrared values a --palette spans" in capsys.readouterr().err


def _frames(folder: Path, rng, count: int, grey: bool) -> Path:
    folder.mkdir()
    for index in range(count):
        write_image(folder / f"frame{index}.png", smooth_image(rng, H, W, channels=1 if grey else 3))
    return folder


def test_a_video_notes_the_range_it_measured_in_the_options_form_and_takes_a_given_one(tmp_path, rng, tiny_weights,
                                                                                         capsys):
    from defusion.fusion.fuser import Fuser

    vis, ir = _frames(tmp_path / "vis", rng, 3, grey=False), _frames(tmp_path / "ir", rng, 3, grey=True)
    args = ["video", str(vis), str(ir), "--weights", str(tiny_weights), "--no-progress", "--scale", "1",
            "--palette", "inferno"]
    assert main([*args, "-o", str(tmp_path / "out")]) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if "--palette spans infrared values" in line]
    measured = Fuser.from_pretrained(tiny_weights, device="cpu", scale=1, palette="inferno").measure_palette(
        read_image(vis / "frame0.png"), read_image(ir / "frame0.png"))
    text = palette_span_text(measured)
    assert said == [f"defusion: note: --palette spans infrared values {text.replace(',', ' to ')} (measured on the "
                    f"first frames), kept for the whole video; --palette-range {text} colours another run alike"]
    assert np.allclose(palette_span(text), measured, atol=1e-6)
    assert main([*args, "--palette-range", text, "-o", str(tmp_path / "again")]) == 0
    assert "--palette spans" not in capsys.readouterr().err  # given, not measured
    for index in range(3):  # the range repeated: the frames coloured alike
        first, again = (read_image(tmp_path / run / f"frame_{index:06d}.png") for run in ("out", "again"))
        assert np.abs(first.astype(int) - again.astype(int)).max() <= 1


def test_a_folder_runs_flicker_note_points_to_the_option(tmp_path, rng, tiny_weights, capsys):
    vis, ir = _frames(tmp_path / "vis", rng, 2, grey=False), _frames(tmp_path / "ir", rng, 2, grey=True)
    assert main(["fuse", "--a", str(vis), "--b", str(ir), "-o", str(tmp_path / "out"), "--weights", str(tiny_weights),
                 "--no-progress", "--scale", "1", "--palette", "inferno"]) == 0
    assert "(or give --palette-range LOW,HIGH, which it notes)" in capsys.readouterr().err
