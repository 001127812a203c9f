"""`defusion fuse` says when reading stretched a float source by its range (a thermal frame in degrees), as
the web UI does and by the same rule (io.float_pixels.float_stretched): it stretched it silently before."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image

#: What follows the file's name in the note, up to the CLI's own ending.
SAID = ("holds float values 20 to 45 (not 0 to 1: a radiometric thermal frame in degrees, say): stretched from its "
        "minimum to its maximum onto the full range when read (--stretch does not apply to float frames")


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _fuse(*args) -> int:
    return main(["fuse", *map(str, args), "--no-progress", "--scale", "1"])


def _thermal_pair(folder, rng, name: str, low: float = 20.0, high: float = 45.0):
    """A visible PNG and a float32 TIFF of the same scene spanning ``low`` to ``high``."""
    scene = smooth_image(rng, 32, 40)
    grey = scene.mean(axis=2)
    values = low + (high - low) * (grey - grey.min()) / (grey.max() - grey.min())
    folder.mkdir(parents=True, exist_ok=True)
    tifffile.imwrite(folder / f"{name}.tif", values.astype(np.float32))
    return write_image(folder / f"{name}_vis.png", scene), folder / f"{name}.tif"


def _float_notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if "holds float values" in line]


def test_a_float_source_in_degrees_is_noted_once_whatever_stretch_says(tmp_path, rng, tiny_weights, capsys):
    for stretch in ("auto", "none"):  # names differ: a note is said once per process
        vis, ir = _thermal_pair(tmp_path, rng, f"ir_{stretch}")
        assert _fuse(vis, ir, "-o", tmp_path / f"f_{stretch}.png", "--weights", tiny_weights,
                     "--stretch", stretch) == 0
        notes = _float_notes(capsys.readouterr().err)
        assert notes == [f"defusion: note: ir_{stretch}.tif {SAID})"], notes


def test_a_float_source_within_0_to_1_is_not_noted(tmp_path, rng, tiny_weights, capsys):
    vis, ir = _thermal_pair(tmp_path, rng, "unit", 0.1, 0.9)  # read as it is
    assert _fuse(vis, ir, "-o", tmp_path / "f.png", "--weights", tiny_weights) == 0
    assert _float_notes(capsys.readouterr().err) == []


def test_a_folder_run_notes_the_first_float_source_only(tmp_path, rng, tiny_weights, capsys):
    for stem in ("p1", "p2", "p3"):
        vis, ir = _thermal_pair(tmp_path / "tmp", rng, stem)
        (tmp_path / "a").mkdir(exist_ok=True), (tmp_path / "b").mkdir(exist_ok=True)
        vis.rename(tmp_path / "a" / f"folder_{stem}.png"), ir.rename(tmp_path / "b" / f"folder_{stem}.tif")
    assert _fuse("--a", tmp_path / "a", "--b", tmp_path / "b", "-o", tmp_path / "out", "--weights",
                 tiny_weights) == 0
    notes = _float_notes(capsys.readouterr().err)
    assert notes == [f"defusion: note: folder_p1.tif {SAID}; other float sources are stretched alike, unsaid)"], notes
