"""`defusion bench`, from a researcher's audit: a user's lossless --fused results ranked beside published
JPEGs with no note, and a --jpeg-quality that encoded nothing claimed in the title; a rerun into an
--out holding results replaced them after only a note; a resume with nothing new pointed the last line
at warnings it did not repeat."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from PIL import Image

from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image

SIZE = (40, 48)  # height, width of the generated sources and results
#: VIFB's published results are JPEG files of this quality (docs/benchmarks.md, "JPEG results").
VIFB_QUALITY = 75


def _pairs(tmp_path: Path, rng, stems=("p1", "p2")) -> tuple[Path, Path]:
    da, db = tmp_path / "vi", tmp_path / "ir"
    for stem in stems:
        write_image(da / f"{stem}.png", smooth_image(rng, *SIZE))
        write_image(db / f"{stem}.png", smooth_image(rng, *SIZE, 1))
    return da, db


def _results(folder: Path, rng, suffix: str, stems=("p1", "p2")) -> Path:
    """A --fused folder of results stored as ``suffix`` (.jpg: of VIFB's quality)."""
    folder.mkdir()
    for stem in stems:
        image = Image.fromarray(smooth_image(rng, *SIZE))
        image.save(folder / f"{stem}{suffix}", **({"quality": VIFB_QUALITY} if suffix == ".jpg" else {}))
    return folder


def _bench(da: Path, db: Path, out: Path, methods: str, *extra: str) -> int:
    return main(["bench", "--task", "ivf", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", methods,
                 "--metrics", "EN,SF", "--no-progress", *extra])


def _scored(out: Path) -> set[tuple[str, str]]:
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        return {(r["method"], r["image"]) for r in csv.DictReader(f)}


def fresh_notes_again() -> None:
    """Notes are said once per process: let the next run of this test say them again."""
    from defusion.io import notes

    notes._said.clear()


# 1. lossless --fused results beside published JPEGs; --jpeg-quality with no built-in method


def test_lossless_fused_results_beside_published_jpegs_are_said_with_how_to_compare_alike(tmp_path, rng, capsys,
                                                                                          fresh_notes):
    da, db = _pairs(tmp_path, rng)
    mine, tiff = _results(tmp_path / "mine", rng, ".png"), _results(tmp_path / "tiff", rng, ".tif")
    gff, cbf = _results(tmp_path / "GFF", rng, ".jpg"), _results(tmp_path / "CBF", rng, ".jpg")
    # lossless results alone, or JPEGs alone, are scored alike: nothing to say
    assert _bench(da, db, tmp_path / "png", "none", "--fused", f"MyLossless={mine}", "--fused", f"Tiff={tiff}") == 0
    assert _bench(da, db, tmp_path / "jpg", "none", "--fused", f"GFF={gff}", "--fused", f"CBF={cbf}") == 0
    assert "stored lossless" not in capsys.readouterr().err
    fused = [arg for name, folder in (("MyLossless", mine), ("Tiff", tiff), ("GFF", gff), ("CBF", cbf))
             for arg in ("--fused", f"{name}={folder}")]
    assert _bench(da, db, tmp_path / "out", "none", *fused) == 0
    err = capsys.readouterr().err
    assert ("defusion: note: --fused results stored lossless: MyLossless (PNG), Tiff (TIF), scored beside published "
            "results stored as JPEG: GFF (quality 75), CBF (quality 75); each is scored as stored (--jpeg-quality "
            "encodes only the built-in methods' results), which favours the lossless ones (docs/benchmarks.md, "
            "'JPEG results'): to compare alike, save them as JPEG of quality 75, as the published ones are, or "
            "where the method is built in, run it with --methods and --jpeg-quality 75\n") in err
    # also where built-in methods run, encoded as the published ones: --jpeg-quality leaves the --fused ones as stored
    fresh_notes_again()
    assert _bench(da, db, tmp_path / "q75", "average", *fused, "--jpeg-quality", "75") == 0
    assert "--fused results stored lossless: MyLossless (PNG), Tiff (TIF)" in capsys.readouterr().err


def test_published_jpegs_of_several_qualities_point_to_each_pair_s_own(tmp_path, rng, capsys, fresh_notes):
    da, db = _pairs(tmp_path, rng)
    mine, gff = _results(tmp_path / "mine", rng, ".png"), _results(tmp_path / "GFF", rng, ".jpg")
    Image.fromarray(smooth_image(rng, *SIZE)).save(gff / "p2.jpg", quality=95)
    assert _bench(da, db, tmp_path / "out", "none", "--fused", f"Mine={mine}", "--fused", f"GFF={gff}") == 0
    err = capsys.readouterr().err
    assert ("to compare alike, save each pair's as JPEG of the quality of its published results (75-95), or where "
            "the method is built in, run it with --methods and --jpeg-quality match") in err


def test_a_jpeg_quality_no_built_in_method_uses_is_said_and_not_claimed(tmp_path, rng, capsys, fresh_notes):
    """The title and caption said "built-in results as JPEG of quality 75" where no built-in method ran."""
    da, db = _pairs(tmp_path, rng)
    mine, gff = _results(tmp_path / "mine", rng, ".png"), _results(tmp_path / "GFF", rng, ".jpg")
    out = tmp_path / "out"
    assert _bench(da, db, out, "none", "--fused", f"Mine={mine}", "--fused", f"GFF={gff}", "--jpeg-quality", "75") == 0
    err = capsys.readouterr().err
    assert ("defusion: note: --jpeg-quality 75 sets nothing here: no built-in method runs (it encodes only theirs; "
            "--fused results are scored as stored)\n") in err
    assert "JPEG of quality" not in (out / "summary.md").read_text(encoding="utf-8")
    assert "JPEG of quality" not in (out / "summary.tex").read_text(encoding="utf-8")
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["jpeg_quality"] is None
    # built-in methods added later, with the published quality: nothing was encoded before, so not refused
    assert _bench(da, db, out, "average", "--jpeg-quality", "75", "--resume") == 0
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["jpeg_quality"] == 75
    assert "built-in results as JPEG of quality 75" in (out / "summary.md").read_text(encoding="utf-8")
    assert _scored(out) >= {("Mine", "p1"), ("GFF", "p1"), ("average", "p1"), ("average", "p2")}


# 2. a rerun into an --out holding results: refused, unless --resume or --overwrite


def test_a_rerun_into_an_out_holding_results_is_refused_before_any_work(tmp_path, rng, capsys, monkeypatch):
    from defusion.baselines import BASELINES

    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    capsys.readouterr()
    ran = []
    monkeypatch.setitem(BASELINES, "average", lambda a, b: ran.append(1))
    assert _bench(da, db, out, "average", "--limit", "1") == 2
    err = capsys.readouterr().err
    assert err == (f"defusion: error: --out {out} holds an earlier run's results ({out / 'results.csv'}): give "
                   "--resume to keep them and add to them, --overwrite to replace them, or another --out\n")
    assert not ran and {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    monkeypatch.undo()
    assert _bench(da, db, out, "average", "--resume", "--overwrite") == 2
    err = capsys.readouterr().err
    assert err == ("defusion: error: --resume keeps the earlier results in --out and --overwrite replaces them: "
                   "give one\n")
    assert _bench(da, db, out, "average", "--limit", "1", "--overwrite") == 0
    assert "starting afresh" not in capsys.readouterr().err  # --overwrite said to replace them: no note
    assert _scored(out) == {("average", "p1")}


def test_overwrite_into_an_empty_or_new_out_is_a_plain_run(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    assert _bench(da, db, tmp_path / "new", "average", "--overwrite") == 0
    assert "starting afresh" not in capsys.readouterr().err
    assert _scored(tmp_path / "new") == {("average", "p1"), ("average", "p2")}


# 3. a resume with nothing new says again what its last line counts


def test_a_resume_with_nothing_new_repeats_the_lines_its_last_line_points_to(tmp_path, rng, capsys):
    """The last line said "left out 2 method results ... (e.g. Broken on p1): see the lines above"
    with no line about p1 above: a pair kept whole is not evaluated again."""
    da, db = _pairs(tmp_path, rng, ("p1", "p2", "p3"))
    gff = _results(tmp_path / "GFF", rng, ".png", ("p1", "p2", "p3"))
    broken = _results(tmp_path / "broken", rng, ".png", ("p3",))  # no result of p1, p2
    out = tmp_path / "out"
    fused = ["--fused", f"GFF={gff}", "--fused", f"Broken={broken}"]
    last = ("defusion: left out 2 method results on the pairs scored (e.g. Broken on p1): see the lines above; "
            "exit status 1")
    assert _bench(da, db, out, "none", *fused) == 1
    err = capsys.readouterr().err.splitlines()
    assert "defusion: warning: p1: no result of Broken" in err and err[-1] == last
    assert _bench(da, db, out, "none", *fused, "--resume") == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == last
    kept = "(as in the earlier run; the pair's other scores are kept)"
    assert [line for line in err if "no result of Broken" in line] == [
        f"defusion: warning: p1: no result of Broken {kept}", f"defusion: warning: p2: no result of Broken {kept}"]
