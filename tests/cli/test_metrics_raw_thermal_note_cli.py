"""``defusion metrics`` against a raw 16-bit thermal source (a camera's counts in a narrow band): it
scored the near-flat image without a word, where ``defusion bench`` notes that the metrics and
DeFusion (which stretches such a source before fusing) compare different inputs. Now it says
bench's note, from the same code (``raw_thermal_note``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from defusion.benchmark.scored_images import raw_thermal_band, raw_thermal_note
from defusion.cli.main import main
from defusion.io.images import write_image

#: The raw thermal frame's counts: a band of 1,000 of the 65,535 16-bit values, as the audit's ir16.png.
RAW_LOW, RAW_SPAN = 7000, 992
SIDE = 48
NOTE = "defusion: note: "


@pytest.fixture
def files(tmp_path, rng):
    """An 8-bit fused image, an 8-bit visible source, and the infrared source as raw 16-bit counts and
    as the 8-bit frame they stand for."""
    y, x = np.mgrid[0:SIDE, 0:SIDE]
    scene = np.clip(128 + 90 * np.sin(x / 5.0) * np.cos(y / 7.0) + rng.normal(0, 4, x.shape), 0, 255)
    paths = {name: tmp_path / f"{name}.png" for name in ("fused", "vis", "ir16", "ir8")}
    write_image(paths["fused"], scene.astype(np.uint8))
    write_image(paths["vis"], np.clip(scene[::-1] + rng.normal(0, 4, x.shape), 0, 255).astype(np.uint8))
    write_image(paths["ir16"], (RAW_LOW + scene / 255 * RAW_SPAN).astype(np.uint16))
    write_image(paths["ir8"], scene.astype(np.uint8))
    return paths


def _notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith(NOTE)]


def test_a_raw_16_bit_source_gets_benchs_note_once(files, capsys):
    assert main(["metrics", str(files["fused"]), str(files["vis"]), str(files["ir16"]), "--names", "MI,SSIM"]) == 0
    err = capsys.readouterr().err
    notes = _notes(err)
    assert len(notes) == 1, notes
    assert notes[0].startswith(f"{NOTE}{files['ir16']} holds 16-bit values ")
    for part in ("as raw thermal frames do", "DeFusion stretches such a source to the full range before fusing",
                 "the metrics take it as it is, so they compare different inputs",
                 "stretch the sources first (e.g. to 8-bit) to compare like with like"):
        assert part in notes[0]
    assert "Traceback" not in err
    # the 8-bit frame says nothing of it; nor does a raw fused file: the note is about a source the fusion stretched
    assert main(["metrics", str(files["fused"]), str(files["vis"]), str(files["ir8"]), "--names", "MI"]) == 0
    assert not _notes(capsys.readouterr().err)
    assert main(["metrics", str(files["ir16"]), str(files["vis"]), str(files["ir8"]), "--names", "MI"]) == 0
    assert "raw thermal" not in capsys.readouterr().err


def test_the_note_is_the_shared_one_and_json_stays_clean(files, capsys):
    from defusion.io.images import read_image

    assert main(["metrics", str(files["fused"]), str(files["ir16"]), str(files["vis"]), "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["sources"] == [str(files["ir16"]), str(files["vis"])]  # stdout: JSON only
    band = raw_thermal_band(read_image(files["ir16"]))
    assert band is not None and _notes(captured.err) == [NOTE + raw_thermal_note(files["ir16"], *band)]
