"""`defusion bench`: what run.json, the titles, versus.md and the CSVs say of the rows they hold.

From an audit: a resume adding only --fused results relabelled DeFusion rows made with other weights
"shipped" (run.json, the titles); versus.md's default reference was the first method of results.csv
(the first pair's), not the first named, so a method lacking that pair lost its place; a resume
running no built-in method was refused for a --jpeg-quality it could not change; and the CSVs did
not say which way each metric is better.
"""

from __future__ import annotations

import csv
import json

from defusion.cli.main import main
from defusion.io.images import write_image
from defusion.metrics import METRICS
from tests.conftest import smooth_image


def _pairs(tmp_path, rng, stems=("p1", "p2")):
    da, db = tmp_path / "a", tmp_path / "b"
    for stem in stems:
        write_image(da / f"{stem}.png", smooth_image(rng, 32, 40))
        write_image(db / f"{stem}.png", smooth_image(rng, 32, 40))
    return da, db


def _published(folder, rng, stems):
    for stem in stems:
        write_image(folder / f"{stem}.png", smooth_image(rng, 32, 40))
    return folder


def _bench(da, db, out, methods, *extra):
    return main(["bench", "--task", "mef", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", methods,
                 "--metrics", "EN,SD", "--no-progress", *extra])


def _run(out):
    return json.loads((out / "run.json").read_text(encoding="utf-8"))


def test_a_resume_adding_only_published_results_keeps_the_defusion_rows_weights(tmp_path, rng, tiny_weights):
    da, db = _pairs(tmp_path, rng)
    pub = _published(tmp_path / "pub", rng, ("p1", "p2"))
    out = tmp_path / "out"
    assert _bench(da, db, out, "defusion", "--weights", str(tiny_weights)) == 0
    before = _run(out)
    label = f"weights {tiny_weights.parent.name}/tiny.safetensors"
    assert _bench(da, db, out, "none", "--fused", f"PUB={pub}", "--resume") == 0
    after = _run(out)
    assert after["weights"] == before["weights"] == str(tiny_weights)  # not "shipped"
    assert after["defusion_run"] == before["defusion_run"] is not None
    assert label in (out / "summary.md").read_text(encoding="utf-8").splitlines()[0]
    assert label in (out / "summary.tex").read_text(encoding="utf-8")
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        assert {r["method"] for r in csv.DictReader(f)} == {"defusion", "PUB"}  # the rows are those weights'


def test_versus_defaults_to_the_first_method_named_not_the_first_in_results_csv(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    mine = _published(tmp_path / "mine", rng, ("p2",))  # lacks p1, the first pair
    other = _published(tmp_path / "other", rng, ("p1", "p2"))
    out = tmp_path / "out"
    assert _bench(da, db, out, "none", "--fused", f"Mine={mine}", "--fused", f"GFF={other}") == 1  # Mine's p1
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        assert next(csv.DictReader(f))["method"] == "GFF"  # the first row: the reason it was GFF before
    assert "Mine against each method" in (out / "versus.md").read_text(encoding="utf-8")
    assert "Mine vs GFF:" in capsys.readouterr().out
    assert _bench(da, db, out, "average", "--resume") == 0  # a method added: the first named stays Mine
    assert "Mine against each method" in (out / "versus.md").read_text(encoding="utf-8")
    assert _run(out)["methods"] == ["Mine", "GFF", "average"] and _run(out)["versus"] is None


def test_a_resume_running_no_built_in_method_keeps_the_recorded_jpeg_quality(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    pub = _published(tmp_path / "pub", rng, ("p1", "p2"))
    out = tmp_path / "out"
    assert _bench(da, db, out, "average", "--jpeg-quality", "75") == 0
    assert _bench(da, db, out, "none", "--fused", f"PUB={pub}", "--resume") == 0  # nothing built-in: not refused
    assert _run(out)["jpeg_quality"] == 75
    assert "built-in results as JPEG of quality 75" in (out / "summary.md").read_text(encoding="utf-8").splitlines()[0]
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        assert {r["method"] for r in csv.DictReader(f)} == {"average", "PUB"}
    capsys.readouterr()
    assert _bench(da, db, out, "average", "--resume") == 2  # built-in again: still checked against 75
    assert "holds a run with --jpeg-quality 75" in capsys.readouterr().err


def test_a_jpeg_quality_a_resume_cannot_use_is_said_not_dropped(tmp_path, rng, capsys):
    """From a review: on a resume running no built-in method a --jpeg-quality given was dropped unseen."""
    da, db = _pairs(tmp_path, rng)
    pub = _published(tmp_path / "pub", rng, ("p1", "p2"))
    out = tmp_path / "out"
    assert _bench(da, db, out, "average", "--jpeg-quality", "75") == 0
    capsys.readouterr()
    assert _bench(da, db, out, "none", "--fused", f"PUB={pub}", "--resume", "--jpeg-quality", "90") == 0
    err = capsys.readouterr().err
    assert ("--jpeg-quality 90 sets nothing here: no built-in method runs (it encodes only theirs); the kept rows' "
            "encoding (--jpeg-quality 75) stays recorded") in err
    assert _run(out)["jpeg_quality"] == 75
    assert _bench(da, db, out, "none", "--fused", f"PUB={pub}", "--resume", "--jpeg-quality", "75") == 0
    assert "sets nothing here" not in capsys.readouterr().err  # the same one: nothing to say


def test_metrics_csv_says_which_way_each_column_is_better(tmp_path, rng):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert main(["bench", "--task", "ivf", "--a", str(da), "--b", str(db), "--out", str(out), "--methods",
                 "average,laplacian", "--metrics", "EN,CE,Qabf", "--no-progress"]) == 0
    with open(out / "metrics.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["metric"] for r in rows] == ["EN", "CE", "Qabf", "seconds"]  # the columns of means.csv, in order
    assert [r["better"] for r in rows] == ["higher", "lower", "higher", "lower"]
    assert rows[1]["description"] == METRICS["CE"].description
    with open(out / "means.csv", newline="", encoding="utf-8") as f:
        # the metric columns bare names as before; last, the build that made each method's rows
        assert next(csv.reader(f)) == ["method", "rank", "images", "EN", "CE", "Qabf", "seconds", "build"]
    assert not any(p.name.startswith(".") for p in out.iterdir())  # atomically: no temporary file left
    assert main(["bench", "--task", "ivf", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", "average",
                 "--metrics", "EN", "--no-progress", "--overwrite"]) == 0  # afresh: rewritten
    assert (out / "metrics.csv").read_text(encoding="utf-8").splitlines()[1:] == [
        f"EN,higher,{METRICS['EN'].description}", "seconds,lower,wall time per pair of a built-in method's fusion "
        "(none for published results)"]
