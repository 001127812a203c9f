"""How ``defusion bench`` reads what it scores, and the notes it owes where the inputs are not alike.

From an audit: a float result on 0..255 was stretched (twice its contrast), a 16-bit result of 8-bit
values scored near black in silence, grey results stored as RGB scored otherwise than 1-channel ones
with no word why, and raw 16-bit thermal sources were stretched by DeFusion but not by the
baselines and metrics, unsaid.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import tifffile

from defusion.benchmark import evaluation, findings
from defusion.benchmark.runner import SECONDS, read_scored, run_benchmark
from defusion.cli.main import main
from defusion.io.images import write_image
from defusion.io.notes import as_lines
from tests.conftest import smooth_image

SIZE = (32, 40)  # height, width of the generated images
STEMS = ("p1", "p2")


def _sources(tmp_path: Path, rng, colour: bool = False) -> tuple[Path, Path]:
    da, db = tmp_path / "vis", tmp_path / "inf"
    for stem in STEMS:
        write_image(da / f"{stem}.png", smooth_image(rng, *SIZE, channels=3 if colour else 1))
        write_image(db / f"{stem}.png", smooth_image(rng, *SIZE, channels=1))
    return da, db


def _fused(rng) -> dict[str, np.ndarray]:
    """A grey 'fused' image per pair using 60..187 of the 8-bit range."""
    return {stem: (60 + smooth_image(rng, *SIZE, channels=1) // 2).astype(np.uint8) for stem in STEMS}


def _bench(*args, **kwargs) -> list:
    """What run_benchmark yields, what it says said as ``defusion bench`` says it (lines on stderr)."""
    with as_lines():
        return list(run_benchmark(*args, **kwargs))


def _scores(da: Path, db: Path, fused_dirs: dict[str, Path], metrics: str = "EN,SD,SSIM", methods=None):
    *_, result = _bench(da, db, methods or {}, fused_dirs, metrics, progress=False)[-1]
    return result, {(r.method, r.image, r.metric): r.value for r in result.rows if r.metric != SECONDS}


def _notes(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("defusion: note:")]


def test_a_float_result_on_0_255_scores_as_its_uint8_pixels(tmp_path, rng):
    da, db = _sources(tmp_path, rng)
    (tmp_path / "asfloat").mkdir()
    for stem, image in _fused(rng).items():
        write_image(tmp_path / "as8" / f"{stem}.png", image)
        tifffile.imwrite(tmp_path / "asfloat" / f"{stem}.tif", image.astype(np.float32))
    result, scores = _scores(da, db, {"as8": tmp_path / "as8", "asfloat": tmp_path / "asfloat"})
    assert not result.problems
    for (method, image, metric), value in scores.items():
        if method == "asfloat":
            assert value == scores[("as8", image, metric)], (image, metric)  # stretched, SD was about twice


def test_a_float_result_on_neither_scale_is_one_problem_line_and_left_out(tmp_path, rng):
    da, db = _sources(tmp_path, rng)
    (tmp_path / "kelvin").mkdir()
    for stem, image in _fused(rng).items():
        tifffile.imwrite(tmp_path / "kelvin" / f"{stem}.tif", image.astype(np.float32) + 240)
    result, scores = _scores(da, db, {"kelvin": tmp_path / "kelvin"})
    assert not scores
    assert len(result.problems) == 2
    assert all("\n" not in p and "float values span" in p and "neither 0..1 nor 0..255" in p
               for p in result.problems), result.problems


def test_16_bit_results_of_8_bit_values_are_scored_as_they_are_with_one_note_per_method(tmp_path, rng, capsys):
    stems = ("p1", "p2", "p3")
    da, db = tmp_path / "vis", tmp_path / "inf"
    for stem in stems:
        write_image(da / f"{stem}.png", smooth_image(rng, *SIZE, channels=1))
        write_image(db / f"{stem}.png", smooth_image(rng, *SIZE, channels=1))
        image = (60 + smooth_image(rng, *SIZE, channels=1) // 2).astype(np.uint8)
        write_image(tmp_path / "low16" / f"{stem}.png", image.astype(np.uint16))
        write_image(tmp_path / "as8" / f"{stem}.png", image)
    write_image(tmp_path / "one" / "p2.png", image.astype(np.uint16))
    _, scores = _scores(da, db, {"low16": tmp_path / "low16", "as8": tmp_path / "as8", "one": tmp_path / "one"},
                        metrics="EN")
    assert all(scores[("low16", stem, "EN")] < 1.5 < scores[("as8", stem, "EN")] for stem in stems)  # not converted
    notes = _notes(capsys.readouterr().err)
    low, one = tmp_path / "low16" / "p1.png", tmp_path / "one" / "p2.png"
    assert notes == [f"defusion: note: 3 results of low16 (e.g. {low}) are 16-bit files whose values are all <= 255 "
                     "(8-bit values saved as 16-bit?): scored as 16-bit, near black (save them as 8-bit to score their "
                     "8-bit values)",
                     f"defusion: note: one's result {one} is a 16-bit file whose values are all <= 255 (8-bit values "
                     "saved as 16-bit?): scored as 16-bit, near black (save it as 8-bit to score its 8-bit values)"]


def test_bench_and_defusion_metrics_score_a_float_file_with_fractional_values_alike(tmp_path, rng, capsys):
    """Both read it as its float32 values, unquantised: the scores are compute_metrics' on that array."""
    from defusion.metrics import compute_metrics

    da, db = _sources(tmp_path, rng)
    (tmp_path / "frac").mkdir()
    values = {stem: image.astype(np.float32) + 0.375 for stem, image in _fused(rng).items()}
    for stem, image in values.items():
        tifffile.imwrite(tmp_path / "frac" / f"{stem}.tif", image)
    _, scores = _scores(da, db, {"frac": tmp_path / "frac"}, metrics="EN,SD,Qabf")
    sources = [read_scored(da / "p1.png"), read_scored(db / "p1.png")]
    python = compute_metrics(values["p1"], *sources, names=["EN", "SD", "Qabf"])
    assert {metric: scores[("frac", "p1", metric)] for metric in python} == python
    assert main(["metrics", str(tmp_path / "frac" / "p1.tif"), str(da / "p1.png"), str(db / "p1.png"),
                 "--names", "EN,SD,Qabf", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"] == python


def test_grey_results_stored_as_rgb_get_one_note_per_method_and_vifb_scores(tmp_path, rng, capsys):
    da, db = _sources(tmp_path, rng, colour=True)
    for stem, image in _fused(rng).items():
        write_image(tmp_path / "greyrgb" / f"{stem}.png", np.dstack([image] * 3))
        write_image(tmp_path / "grey1" / f"{stem}.png", image)
    _, scores = _scores(da, db, {"greyrgb": tmp_path / "greyrgb", "grey1": tmp_path / "grey1"}, metrics="SSIM,SF")
    assert any(scores[("greyrgb", stem, metric)] != scores[("grey1", stem, metric)]
               for stem in STEMS for metric in ("SSIM", "SF"))  # VIFB's rule kept: per channel
    notes = _notes(capsys.readouterr().err)
    assert len(notes) == 1, notes  # once for the method, not once per pair; none for the 1-channel results
    assert notes[0].startswith(f"defusion: note: greyrgb's results are grey stored as RGB (R = G = B; e.g. "
                               f"{tmp_path / 'greyrgb' / 'p1.png'}): scored per colour channel")
    assert "1-channel files, which score as grey" in notes[0]


def test_raw_16_bit_thermal_sources_get_one_note_naming_the_first(tmp_path, rng, capsys):
    da, db = tmp_path / "vis", tmp_path / "raw"
    for stem in STEMS:
        write_image(da / f"{stem}.png", smooth_image(rng, *SIZE, channels=1))
        raw = 7000 + smooth_image(rng, *SIZE, channels=1).astype(np.uint16) * 8  # 7000..9040 of 65535
        write_image(db / f"{stem}.png", raw)
    result, scores = _scores(da, db, {}, metrics="EN", methods={"max": np.maximum})
    assert result.images == list(STEMS) and scores
    notes = _notes(capsys.readouterr().err)
    assert len(notes) == 1, notes
    assert notes[0].startswith(f"defusion: note: {db / 'p1.png'} holds 16-bit values ")
    for part in ("DeFusion stretches such a source", "the baselines and the metrics take it as it is",
                 "stretch the sources first (e.g. to 8-bit) to compare like with like"):
        assert part in notes[0]


def test_8_bit_sources_say_nothing(tmp_path, rng, capsys):
    da, db = _sources(tmp_path, rng)
    _scores(da, db, {}, metrics="EN", methods={"max": np.maximum})
    assert not _notes(capsys.readouterr().err)


def test_a_float_source_is_fused_stretched_and_scored_on_its_own_scale_with_a_note(tmp_path, rng, capsys):
    da, db = tmp_path / "vis", tmp_path / "thermal"
    db.mkdir()
    seen = []

    def keep_a(a, b):  # a method that records what it was given
        seen.append(b)
        return a

    for stem in STEMS[:1]:
        write_image(da / f"{stem}.png", smooth_image(rng, *SIZE, channels=1))
        tifffile.imwrite(db / f"{stem}.tif", _fused(rng)[stem].astype(np.float32))
    pairs = _bench(da, db, {"keep": keep_a}, {}, "EN", progress=False)
    _, _, a8, b8, _ = pairs[-1]
    np.testing.assert_array_equal(b8, tifffile.imread(db / "p1.tif").astype(np.uint8))  # scored as its values say
    assert seen[0].min() == 0 and seen[0].max() == 65535  # fused as defusion fuse reads it: stretched
    notes = _notes(capsys.readouterr().err)
    assert notes == [f"defusion: note: {db / 'p1.tif'} holds float pixels outside [0, 1]: the methods fuse it "
                     "stretched from its minimum to its maximum (as defusion fuse reads it), the metrics score it on "
                     "its own scale (0..255)"]


def test_a_pair_gathers_its_lines_for_the_main_process_to_say(tmp_path, rng, capsys):
    """Worker processes (--jobs) return what they found; the main process says it, once."""
    from PIL import Image

    da, db = _sources(tmp_path, rng)
    image = _fused(rng)["p1"]
    write_image(tmp_path / "low" / "p1.png", image.astype(np.uint16))
    (tmp_path / "alpha").mkdir()
    colour = np.dstack([image, image // 2, 255 - image, np.full(SIZE, 100, np.uint8)])  # not grey: no note of that
    Image.fromarray(colour, "RGBA").save(tmp_path / "alpha" / "p1.png")
    files = {"low": tmp_path / "low" / "p1.png", "alpha": tmp_path / "alpha" / "p1.png"}
    task = evaluation.PairTask("p1", da / "p1.png", db / "p1.png", {"low": ["EN"], "alpha": ["EN"]}, files,
                               ["low", "alpha"], set(), None, [])
    pair = evaluation.evaluate_pair(task, {})
    assert capsys.readouterr().err == ""
    assert len(pair.said) == 1 and pair.said[0].startswith(f"warning: {files['alpha']} has transparent pixels")
    assert pair.found == [findings.Finding("eight-bit", "low", str(files["low"]), source=False)]  # said at the end
    told: set = set()
    with as_lines():  # as defusion bench says them
        findings.say_found(pair, told)
        findings.say_found(pair, told)
    assert capsys.readouterr().err.strip().splitlines() == [f"defusion: {pair.said[0]}"]


def test_bench_cli_scores_a_float_result_as_its_uint8_pixels(tmp_path, rng, capsys):
    da, db = _sources(tmp_path, rng)
    (tmp_path / "asfloat").mkdir()
    for stem, image in _fused(rng).items():
        write_image(tmp_path / "as8" / f"{stem}.png", image)
        tifffile.imwrite(tmp_path / "asfloat" / f"{stem}.tif", image.astype(np.float32))
    assert main(["bench", "--task", "ivf", "--a", str(da), "--b", str(db), "--out", str(tmp_path / "out"),
                 "--methods", "none", "--fused", f"as8={tmp_path / 'as8'}", "--fused",
                 f"asfloat={tmp_path / 'asfloat'}", "--metrics", "EN,SD", "--no-progress"]) == 0
    with open(tmp_path / "out" / "results.csv", newline="", encoding="utf-8") as f:
        rows = {(r["method"], r["image"], r["metric"]): r["value"] for r in csv.DictReader(f)}
    assert rows and all(value == rows[("as8", image, metric)] for (method, image, metric), value in rows.items()
                        if method == "asfloat")


@pytest.mark.parametrize("layout", ["grey", "rgb"])
def test_scoring_of_8_bit_files_is_unchanged(tmp_path, rng, layout):
    """The reading for scoring leaves integer files as they were read before."""
    from defusion.fusion.color import to_uint8
    from defusion.io.images import read_image

    image = smooth_image(rng, *SIZE, channels=3 if layout == "rgb" else 1)
    write_image(tmp_path / "x.png", image)
    np.testing.assert_array_equal(read_scored(tmp_path / "x.png"), to_uint8(read_image(tmp_path / "x.png")))


# A second review: float thermal sources on neither scale dropped their pairs; notes repeated per file.


def _thermal(tmp_path: Path, rng, offset: float, scale: float = 1.0, stems=STEMS) -> tuple[Path, Path]:
    """8-bit visible sources and float thermal ones: ``image * scale + offset`` (Kelvin: offset 240)."""
    da, db = tmp_path / "vis", tmp_path / "thermal"
    db.mkdir(parents=True)
    for stem in stems:
        write_image(da / f"{stem}.png", smooth_image(rng, *SIZE, channels=1))
        tifffile.imwrite(db / f"{stem}.tif", smooth_image(rng, *SIZE, channels=1).astype(np.float32) * scale + offset)
    return da, db


@pytest.mark.parametrize("offset", [240.0, -20.0], ids=["kelvin", "celsius"])
def test_float_sources_on_neither_scale_are_scored_stretched_with_one_note_per_folder(tmp_path, rng, capsys, offset):
    from defusion.fusion.color import to_uint8
    from defusion.io.images import read_image

    da, db = _thermal(tmp_path, rng, offset, scale=0.2)
    pairs = _bench(da, db, {"max": np.maximum}, {}, "EN,SD", progress=False)
    *_, a8, b8, result = pairs[-1]
    assert result.images == list(STEMS) and not result.problems  # no pair dropped
    notes = _notes(capsys.readouterr().err)  # the benchmark's, before this test's own read (a Python caller's, noted)
    np.testing.assert_array_equal(b8, to_uint8(read_image(db / "p2.tif")))  # scored as fused: stretched
    assert len(notes) == 1, notes
    assert notes[0].startswith(f"defusion: note: 2 sources in {db} (e.g. {db / 'p1.tif'}, spanning ")
    assert ") hold float pixels on neither 0..1 nor 0..255 (the scales the metrics take; radiometric frames in " \
           "degrees or Kelvin?): scored as the methods fuse them, stretched from their minimum to their maximum" \
           in notes[0]


def test_one_float_source_on_neither_scale_is_named_with_its_span(tmp_path, rng, capsys):
    da, db = _thermal(tmp_path, rng, 240.0, stems=("p1",))
    _bench(da, db, {"max": np.maximum}, {}, "EN", progress=False)
    (line,) = _notes(capsys.readouterr().err)
    assert line.startswith(f"defusion: note: {db / 'p1.tif'} holds float pixels spanning 24")
    assert ", neither 0..1 nor 0..255 (the scales the metrics take; a radiometric frame in degrees or Kelvin?): " \
           "scored as the methods fuse it" in line


def test_bench_cli_scores_pairs_with_kelvin_sources_and_exits_0(tmp_path, rng, capsys):
    da, db = _thermal(tmp_path, rng, 240.0, scale=0.2)
    assert main(["bench", "--task", "ivf", "--a", str(da), "--b", str(db), "--out", str(tmp_path / "out"),
                 "--methods", "average", "--metrics", "EN,SD", "--no-progress"]) == 0
    assert "neither 0..1 nor 0..255" in capsys.readouterr().err
    with open(tmp_path / "out" / "results.csv", newline="", encoding="utf-8") as f:
        assert {r["image"] for r in csv.DictReader(f)} == set(STEMS)


def test_the_float_source_note_names_the_scale_it_is_scored_on(tmp_path, rng, capsys):
    """An unclamped [0, 1] source (within the metrics' slack) is stretched to be fused, clipped to be scored."""
    da, db = _thermal(tmp_path, rng, -0.001, scale=1.002 / 255)
    _bench(da, db, {"max": np.maximum}, {}, "EN", progress=False)
    notes = _notes(capsys.readouterr().err)
    assert notes == [f"defusion: note: 2 sources in {db} (e.g. {db / 'p1.tif'}) hold float pixels outside [0, 1]: the "
                     "methods fuse them stretched from their minimum to their maximum (as defusion fuse reads them), "
                     "the metrics score them on their own scale ([0, 1], clipped)"]


def test_a_run_that_evaluates_no_pair_says_why_first(tmp_path, rng, capsys):
    stems = [f"p{i}" for i in range(7)]
    da, db = tmp_path / "vis", tmp_path / "inf"
    db.mkdir()
    for stem in stems:
        write_image(da / f"{stem}.png", smooth_image(rng, *SIZE, channels=1))
        (db / f"{stem}.png").write_bytes(b"not an image")
    assert main(["bench", "--task", "ivf", "--a", str(da), "--b", str(db), "--out", str(tmp_path / "out"),
                 "--methods", "average", "--metrics", "EN", "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"defusion: error: no pair could be evaluated in {da} and {db}"
    assert err[-2] == "defusion: warning: ... and 2 more like these"
    assert err[-7].startswith(f"defusion: warning: p0: {db / 'p0.png'}: not an image")


def test_grids_draw_a_stored_result_as_it_was_scored(tmp_path, rng):
    """A float result on 0..255 is drawn as its values, not stretched as fusion input would be."""
    from defusion.cli.bench.grids import Grids

    image = _fused(rng)["p1"]
    tifffile.imwrite(tmp_path / "p1.tif", image.astype(np.float32))
    (tmp_path / "bad.png").write_bytes(b"broken")
    grids = Grids(tmp_path / "grids", [], {"pub": {"p1": tmp_path / "p1.tif", "p2": tmp_path / "bad.png"}}, {})
    np.testing.assert_array_equal(grids._stored("pub", "p1", SIZE), image)
    assert grids._stored("pub", "p2", SIZE) is None  # unreadable: left out of the grid
