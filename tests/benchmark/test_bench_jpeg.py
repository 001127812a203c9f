"""`defusion bench --jpeg-quality`: built-in results scored after the encoding published JPEGs had."""

from __future__ import annotations

import csv
import json

import numpy as np
from PIL import Image

from defusion.benchmark.runner import builtin_methods
from defusion.cli.main import main
from defusion.io.images import write_image
from defusion.io.jpeg import jpeg_round_trip
from defusion.metrics import compute_metrics
from tests.conftest import smooth_image


def _setup(tmp_path, rng):
    da, db, pub = tmp_path / "vi", tmp_path / "ir", tmp_path / "pub"
    pub.mkdir()
    for stem in ("p1", "p2"):
        write_image(da / f"{stem}.png", smooth_image(rng, 40, 48))
        write_image(db / f"{stem}.png", smooth_image(rng, 40, 48, 1))
        Image.fromarray(smooth_image(rng, 40, 48)).save(pub / f"{stem}.jpg", quality=75)
    return da, db, pub


def _bench(da, db, out, *extra):
    return main(["bench", "--task", "ivf", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", "average",
                 "--metrics", "Qabf,SF", "--no-progress", *extra])


def _scores(out):
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        return {(r["method"], r["image"], r["metric"]): float(r["value"]) for r in csv.DictReader(f)}


def test_built_in_results_are_scored_as_the_jpeg_a_published_result_is(tmp_path, rng, capsys):
    """From an audit: VIFB's published results are JPEGs of quality 75 while built-in methods were scored
    lossless, which moved Qabf as much as separates neighbouring methods, and nothing said so."""
    da, db, pub = _setup(tmp_path, rng)
    assert _bench(da, db, tmp_path / "lossless", "--fused", f"PUB={pub}") == 0
    err = capsys.readouterr().err
    assert "published results stored as JPEG: PUB (quality 75)" in err and "--jpeg-quality 75" in err
    assert _bench(da, db, tmp_path / "q75", "--fused", f"PUB={pub}", "--jpeg-quality", "75") == 0
    captured = capsys.readouterr()
    assert "stored as JPEG" not in captured.err  # asked for: nothing to say
    lossless, q75 = _scores(tmp_path / "lossless"), _scores(tmp_path / "q75")
    a, b = (np.asarray(Image.open(d / "p1.png")) for d in (da, db))
    fused = jpeg_round_trip(builtin_methods(["average"])["average"](a, b), 75)
    assert q75["average", "p1", "Qabf"] == float(f"{compute_metrics(fused, a, b, ['Qabf'])['Qabf']:.6g}")
    assert q75["average", "p1", "Qabf"] != lossless["average", "p1", "Qabf"]
    assert q75["PUB", "p1", "Qabf"] == lossless["PUB", "p1", "Qabf"]  # published files: scored as stored
    assert json.loads((tmp_path / "q75" / "run.json").read_text(encoding="utf-8"))["jpeg_quality"] == 75
    assert "built-in results as JPEG of quality 75" in (tmp_path / "q75" / "summary.md").read_text(encoding="utf-8")


def test_a_resume_with_another_encoding_is_refused_in_one_line(tmp_path, rng, capsys):
    da, db, pub = _setup(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out) == 0
    capsys.readouterr()
    assert _bench(da, db, out, "--resume", "--jpeg-quality", "90", "--fused", f"PUB={pub}") == 2
    err = capsys.readouterr().err
    assert "holds a run with no --jpeg-quality (scored lossless), not --jpeg-quality 90" in err
    assert "leave --jpeg-quality out to resume it" in err and "stored as JPEG" not in err
    assert len(err.strip().splitlines()) == 1
    assert _bench(da, db, out, "--resume") == 0  # the same encoding: resumed


def test_bad_quality_is_refused_by_the_parser(tmp_path, capsys):
    import pytest

    for bad in ("0", "101", "high"):
        with pytest.raises(SystemExit):
            _bench(tmp_path, tmp_path, tmp_path / "o", "--jpeg-quality", bad)
        assert "--jpeg-quality" in capsys.readouterr().err


def test_a_quality_other_than_the_published_results_is_said(tmp_path, rng, capsys):
    da, db, pub = _setup(tmp_path, rng)
    Image.fromarray(smooth_image(rng, 40, 48)).save(pub / "p2.jpg", quality=95)
    assert _bench(da, db, tmp_path / "q90", "--fused", f"PUB={pub}", "--jpeg-quality", "90") == 0
    err = capsys.readouterr().err
    assert "--jpeg-quality 90: the published results' first files are of quality 75-95 (PUB (quality 75-95))" in err
    assert _bench(da, db, tmp_path / "lossless", "--fused", f"PUB={pub}") == 0
    err = capsys.readouterr().err
    assert "PUB (quality 75-95)" in err and "--jpeg-quality match scores them" in err  # no one quality to name


def test_the_seconds_are_the_fusion_s_not_the_encoding_s(tmp_path, rng, monkeypatch):
    """From a review: the JPEG round trip fell inside the timed call, inflating s/pair."""
    import time

    import defusion.io.jpeg as jpeg

    slow = jpeg.jpeg_round_trip

    def slowed(image, quality):
        time.sleep(0.5)
        return slow(image, quality)

    monkeypatch.setattr(jpeg, "jpeg_round_trip", slowed)
    da, db, _ = _setup(tmp_path, rng)
    assert _bench(da, db, tmp_path / "out", "--jpeg-quality", "75") == 0
    seconds = [v for (m, _, metric), v in _scores(tmp_path / "out").items() if metric == "seconds"]
    assert len(seconds) == 2 and max(seconds) < 0.5


def test_another_encoder_s_tables_are_said_as_about_a_quality(tmp_path, rng, capsys):
    from defusion.io.jpeg import ijg_luminance_table

    da, db, pub = _setup(tmp_path, rng)
    table = ijg_luminance_table(80).copy()
    table[0] += 3  # near the IJG table of 80, not it
    for stem in ("p1", "p2"):
        Image.fromarray(smooth_image(rng, 40, 48)).save(pub / f"{stem}.jpg", qtables=[table.tolist()] * 2)
    assert _bench(da, db, tmp_path / "out", "--fused", f"PUB={pub}") == 0
    assert "PUB (quality about 80)" in capsys.readouterr().err


def test_a_given_title_still_says_the_encoding(tmp_path, rng):
    """scripts/run_benchmarks.sh passes --title: its VIFB table did not say its rows were encoded."""
    da, db, _ = _setup(tmp_path, rng)
    assert _bench(da, db, tmp_path / "q75", "--jpeg-quality", "75", "--title", "VIFB (21 pairs)") == 0
    assert "### VIFB (21 pairs), built-in results as JPEG of quality 75\n" in (tmp_path / "q75" / "summary.md").read_text(
        encoding="utf-8")
    said = "VIFB, built-in results as JPEG of quality 75"  # a title that says it already: not said twice
    assert _bench(da, db, tmp_path / "said", "--jpeg-quality", "75", "--title", said) == 0
    assert f"### {said}\n" in (tmp_path / "said" / "summary.md").read_text(encoding="utf-8")
    seven = "walking: built-in results as JPEG of quality 75"  # says 75, not 7: told its own quality
    assert _bench(da, db, tmp_path / "seven", "--jpeg-quality", "7", "--title", seven) == 0
    assert f"### {seven}, built-in results as JPEG of quality 7\n" in (tmp_path / "seven" / "summary.md").read_text(
        encoding="utf-8")
    assert _bench(da, db, tmp_path / "plain", "--title", "VIFB (21 pairs)") == 0
    assert "### VIFB (21 pairs)\n" in (tmp_path / "plain" / "summary.md").read_text(encoding="utf-8")


def test_match_stores_each_pair_as_its_published_results_are(tmp_path, rng, capsys):
    """MFIFB's published results are JPEG (mostly quality 75) where its sources are JPEG and PNG where
    they are PNG: one --jpeg-quality for every pair would favour or handicap the built-in methods on
    some. With 'match' p1 (published JPEGs of 75, 75, 95) is scored after quality 75 and p2 (PNGs)
    lossless."""
    da, db, _ = _setup(tmp_path, rng)
    folders = [tmp_path / name for name in ("X", "Y", "Z")]
    for folder, quality in zip(folders, (75, 75, 95)):
        folder.mkdir()
        Image.fromarray(smooth_image(rng, 40, 48)).save(folder / "p1.jpg", quality=quality)
        write_image(folder / "p2.png", smooth_image(rng, 40, 48))
    fused = [arg for folder in folders for arg in ("--fused", f"{folder.name}={folder}")]
    assert _bench(da, db, tmp_path / "lossless", *fused) == 0
    assert "--jpeg-quality match scores them" in capsys.readouterr().err
    assert _bench(da, db, tmp_path / "match", *fused, "--jpeg-quality", "match") == 0
    assert "stored as JPEG" not in capsys.readouterr().err  # asked for: nothing to say
    lossless, match = _scores(tmp_path / "lossless"), _scores(tmp_path / "match")
    a, b = (np.asarray(Image.open(d / "p1.png")) for d in (da, db))
    fused_p1 = jpeg_round_trip(builtin_methods(["average"])["average"](a, b), 75)
    assert match["average", "p1", "Qabf"] == float(f"{compute_metrics(fused_p1, a, b, ['Qabf'])['Qabf']:.6g}")
    assert match["average", "p1", "Qabf"] != lossless["average", "p1", "Qabf"]
    assert match["average", "p2", "Qabf"] == lossless["average", "p2", "Qabf"]  # PNG pair: lossless
    assert json.loads((tmp_path / "match" / "run.json").read_text(encoding="utf-8"))["jpeg_quality"] == "match"
    assert "built-in results stored as the published ones" in (tmp_path / "match" / "summary.md").read_text(
        encoding="utf-8")
    assert _bench(da, db, tmp_path / "match", *fused, "--resume") == 2  # another encoding: refused
    assert "holds a run with --jpeg-quality match, not no --jpeg-quality" in capsys.readouterr().err


def test_match_without_published_results_to_match_is_refused(tmp_path, rng, capsys):
    """From a review: with no --fused (a resume that left them out) every pair was scored lossless under a
    title saying the results were stored as the published ones."""
    da, db, _ = _setup(tmp_path, rng)
    assert _bench(da, db, tmp_path / "o", "--jpeg-quality", "match") == 2
    err = capsys.readouterr().err
    assert "--jpeg-quality match stores each pair's built-in results as its --fused results are stored" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "o" / "results.csv").exists()
