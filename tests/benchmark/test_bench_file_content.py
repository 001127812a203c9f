"""``defusion bench`` judges a result by its file and scores 16-bit data as the Python metrics do.

From an audit: a colour method's results saved as 16-bit files of 8-bit values (``cv2.imwrite(p,
img.astype(np.uint16))``) were also said to be "grey stored as RGB", judged on the near-black image
they round to rather than on the file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from defusion.benchmark.runner import SECONDS, read_scored, run_benchmark
from defusion.io.images import write_image
from defusion.io.notes import as_lines
from defusion.metrics import compute_metrics
from tests.conftest import smooth_image

SIZE = (32, 40)  # height, width
STEMS = ("p1", "p2")


def _sources(tmp_path: Path, rng) -> tuple[Path, Path]:
    da, db = tmp_path / "vis", tmp_path / "inf"
    for stem in STEMS:
        write_image(da / f"{stem}.png", smooth_image(rng, *SIZE, channels=3))
        write_image(db / f"{stem}.png", smooth_image(rng, *SIZE, channels=1))
    return da, db


def _run(da: Path, db: Path, fused_dirs: dict[str, Path], metrics: str):
    with as_lines():  # what it says said as defusion bench says it
        *_, result = list(run_benchmark(da, db, {}, fused_dirs, metrics, progress=False))[-1]
    return {(r.method, r.image, r.metric): r.value for r in result.rows if r.metric != SECONDS}


def _notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("defusion: note:")]


def test_colour_results_saved_as_16_bit_8_bit_values_are_not_called_grey(tmp_path, rng, capsys):
    da, db = _sources(tmp_path, rng)
    for stem in STEMS:
        colour = smooth_image(rng, *SIZE, channels=3)
        write_image(tmp_path / "low16" / f"{stem}.png", colour.astype(np.uint16))
        grey = colour[..., 0]
        write_image(tmp_path / "grey16" / f"{stem}.png", np.dstack([grey] * 3).astype(np.uint16))
    _run(da, db, {"low16": tmp_path / "low16", "grey16": tmp_path / "grey16"}, "EN")
    notes = _notes(capsys.readouterr().err)
    assert not any("low16's results are grey" in line for line in notes), notes
    assert any("grey16's results are grey stored as RGB" in line for line in notes), notes  # still said where true
    assert any("2 results of low16" in line and "16-bit files whose values are all <= 255" in line for line in notes)


def test_a_16_bit_result_scores_as_its_uint16_array_does_in_python(tmp_path, rng):
    da, db = _sources(tmp_path, rng)
    fused = {stem: (smooth_image(rng, *SIZE, channels=1).astype(np.uint16) * 257
                    + rng.integers(0, 200, SIZE)).astype(np.uint16) for stem in STEMS}
    for stem, image in fused.items():
        write_image(tmp_path / "deep" / f"{stem}.png", image)
    names = ["EN", "SD", "Qabf", "CE"]
    scores = _run(da, db, {"deep": tmp_path / "deep"}, ",".join(names))
    python = compute_metrics(fused["p1"], read_scored(da / "p1.png"), read_scored(db / "p1.png"), names)
    assert {name: scores[("deep", "p1", name)] for name in names} == python
