"""`defusion bench` fixes from a user audit: resumes that keep what earlier runs knew (fingerprints,
grids), pairs and files that must not pass silently, ties, marked means and captions."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from defusion.benchmark.runner import Row
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image

SIZE = (32, 40)  # height, width of the generated sources


def _pairs(tmp_path: Path, rng, stems=("p1", "p2")) -> tuple[Path, Path]:
    da, db = tmp_path / "vis", tmp_path / "inf"
    for stem in stems:
        write_image(da / f"{stem}.png", smooth_image(rng, *SIZE))
        write_image(db / f"{stem}.png", smooth_image(rng, *SIZE))
    return da, db


def _published(folder: Path, rng, stems=("p1", "p2")) -> Path:
    for stem in stems:
        write_image(folder / f"{stem}.png", smooth_image(rng, *SIZE))
    return folder


def _bench(da: Path, db: Path, out: Path, methods: str, *extra: str, metrics: str = "EN,SD") -> int:
    return main(["bench", "--task", "mef", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", methods,
                 "--metrics", metrics, "--no-progress", *extra])


def _read(out: Path) -> dict[tuple[str, str, str], float]:
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        return {(r["method"], r["image"], r["metric"]): float(r["value"]) for r in csv.DictReader(f)}


def _grid_tiles(path: Path) -> int:
    """How many tiles (sources included) a one-row comparison grid holds: tiles are as wide as the sources."""
    from defusion.benchmark.report import GRID_TILE_HEIGHT

    width, height = Image.open(path).size
    assert height == GRID_TILE_HEIGHT
    return round(width / round(SIZE[1] * GRID_TILE_HEIGHT / SIZE[0]))


# 1. a resume naming only some methods keeps the earlier ones' fingerprints


def test_a_partial_resume_keeps_earlier_fingerprints_so_a_later_change_is_rescored(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    mine, other, third = (_published(tmp_path / name, rng) for name in ("mine", "other", "third"))
    out = tmp_path / "out"
    assert _bench(da, db, out, "none", "--fused", f"mine={mine}", "--fused", f"other={other}") == 0
    assert _bench(da, db, out, "none", "--fused", f"third={third}", "--resume") == 0
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert set(record["fused_files"]) == {"mine", "other", "third"}  # not only this run's
    assert record["fused_dirs"]["mine"] == str(mine.resolve())
    changed = np.full(SIZE + (3,), 200, np.uint8)
    write_image(mine / "p2.png", changed)
    capsys.readouterr()
    assert _bench(da, db, out, "none", "--fused", f"mine={mine}", "--resume") == 0
    assert "1 published result file(s) changed" in capsys.readouterr().err
    assert _read(out)[("mine", "p2", "SD")] == 0.0  # rescored: the flat image's SD, not the stale value


# 2. ties share their average rank, whatever the methods' names


def test_tied_means_share_the_average_rank_whatever_the_names(tmp_path, monkeypatch):
    import matplotlib.axes

    from defusion.benchmark.report import mean_ranks, mean_table, metric_ranks, summary_chart

    assert metric_ranks({"x": 2.0, "y": 5.0, "z": 5.0}, "EN") == {"y": 1.5, "z": 1.5, "x": 3.0}
    assert metric_ranks({"x": 2.0, "y": 5.0, "z": 5.0}, "CE") == {"x": 1.0, "y": 2.5, "z": 2.5}  # lower is better
    shown: list[np.ndarray] = []
    real_imshow = matplotlib.axes.Axes.imshow
    monkeypatch.setattr(matplotlib.axes.Axes, "imshow", lambda ax, grid, **kw: shown.append(grid.copy())
                        or real_imshow(ax, grid, **kw))
    for twin in ("Mine", "mine", "zz"):  # once ranked 1 or 2 by name
        rows = [Row(m, "p", metric, v) for m in (twin, "copy") for metric, v in (("EN", 7.0), ("SD", 40.0))]
        rows += [Row("base", "p", "EN", 6.0), Row("base", "p", "SD", 30.0)]
        methods, metrics, means = mean_table(rows)
        assert mean_ranks(methods, metrics, means) == {twin: 1.5, "copy": 1.5, "base": 3.0}
        summary_chart(rows, tmp_path / f"{twin}.png")
        assert shown.pop().tolist() == [[1.5, 1.5], [1.5, 1.5], [3.0, 3.0]]  # the colours: same rank, same colour


# 3. a resume's grids show every method whose image is at hand; built-in methods are not run for a grid


def _counting(monkeypatch, name: str) -> list[int]:
    """Count the calls of baseline ``name``."""
    from defusion import baselines

    calls: list[int] = []
    real = baselines.BASELINES[name]
    monkeypatch.setitem(baselines.BASELINES, name, lambda a, b: calls.append(1) or real(a, b))
    return calls


def test_a_resume_draws_grids_with_every_method_at_hand_and_runs_no_method_for_them(tmp_path, rng, monkeypatch,
                                                                                    capsys):
    da, db = _pairs(tmp_path, rng)
    pub, late = _published(tmp_path / "pub", rng), _published(tmp_path / "late", rng)
    saved, plain = tmp_path / "saved", tmp_path / "plain"
    assert _bench(da, db, saved, "average", "--fused", f"pub={pub}", "--save-fused") == 0
    assert _bench(da, db, plain, "average", "--fused", f"pub={pub}") == 0
    assert _grid_tiles(saved / "grids" / "p1.jpg") == 2 + 2  # A, B, average, pub
    calls = _counting(monkeypatch, "average")
    # same --methods, one published folder more: average is scored already, not run again
    assert _bench(da, db, saved, "average", "--fused", f"late={late}", "--resume") == 0
    assert calls == []
    assert _grid_tiles(saved / "grids" / "p1.jpg") == 2 + 3  # its saved result and pub's recorded folder too
    capsys.readouterr()
    # without --save-fused average's image is not at hand: the grid shows what is (keeping the old one
    # would leave late out, or show a changed method's old image), and says what it lacks, once
    assert _bench(da, db, plain, "none", "--fused", f"late={late}", "--resume") == 0
    err = capsys.readouterr().err
    assert _grid_tiles(plain / "grids" / "p1.jpg") == 2 + 2  # A, B, pub, late
    assert err.count("drew 2 grids") == 1 and "without some scored methods" in err
    assert "no image of average" in err and calls == []


def test_a_resumed_grid_never_shows_a_rescored_results_old_image(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    pub = _published(tmp_path / "pub", rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average", "--fused", f"pub={pub}") == 0
    before = (out / "grids" / "p1.jpg").read_bytes()
    write_image(pub / "p1.png", np.full((*SIZE, 3), 255, np.uint8))  # the method's result changed
    assert _bench(da, db, out, "average", "--fused", f"pub={pub}", "--resume") == 0
    assert (out / "grids" / "p1.jpg").read_bytes() != before


# 4. a pair whose sources differ in size is left out up front


def test_a_pair_whose_sources_differ_in_size_is_left_out_and_not_counted(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    write_image(da / "odd.png", smooth_image(rng, 30, 20))
    write_image(db / "odd.png", smooth_image(rng, *SIZE))
    pub = _published(tmp_path / "pub", rng, ("p1", "p2", "odd"))
    out = tmp_path / "out"
    assert _bench(da, db, out, "average", "--fused", f"pub={pub}") == 1  # a pair left out: exit status 1
    err = capsys.readouterr().err
    assert err.count("odd:") == 1 and "odd: the sources differ in size (20x30 vs 40x32); left out" in err
    assert "failed" not in err and not any(image == "odd" for _, image, _ in _read(out))
    assert "2 image pairs" in (out / "summary.md").read_text(encoding="utf-8")
    assert not (out / "grids" / "odd.jpg").exists()


# 5. files of a --fused folder that match no pair are noted


def test_files_of_a_fused_folder_named_after_no_pair_are_noted_with_a_case_hint(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng, ("p1", "peopleshadow"))
    messy = _published(tmp_path / "messy", rng, ("p1", "PeopleShadow", "carLight"))
    (messy / "notes.txt").write_text("how I made these\n", encoding="utf-8")
    assert _bench(da, db, tmp_path / "out", "none", "--fused", f"messy={messy}") == 1  # no result of peopleshadow
    err = capsys.readouterr().err
    assert "--fused messy: 2 files named after no pair, left out: PeopleShadow.png, carLight.png" in err
    assert "PeopleShadow.png for the pair peopleshadow?" in err
    assert "--fused messy" in err and "left out 1 other file" in err and "notes.txt" in err


# 6. which folder was A and which B: in the default title and the captions


def test_the_source_folders_are_in_the_default_title_and_the_captions(tmp_path, rng):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0
    assert (out / "summary.md").read_text(encoding="utf-8").startswith(f"### MEF: {tmp_path.name} (A: vis, B: inf)\n")
    assert r"(A: vis, B: inf): mean over 2 image pairs;" in (out / "summary.tex").read_text(encoding="utf-8")
    assert _bench(da, db, out, "average", "--title", "Mine", "--overwrite") == 0  # a given title: captions still say
    assert "2 image pairs (A: vis, B: inf); mean over pairs" in (out / "summary.md").read_text(encoding="utf-8")
    assert r"\caption{Mine: mean over 2 image pairs (A: vis, B: inf); best" in (out / "summary.tex").read_text(
        encoding="utf-8")
    assert _bench(db, da, out, "average", "--title", "Mine", "--overwrite") == 0
    assert "(A: inf, B: vis)" in (out / "summary.md").read_text(encoding="utf-8")


# 7. means over fewer pairs are marked and never best or second


def _short_rows() -> list[Row]:
    rows = [Row("full", f"p{i}", "Qabf", 0.5) for i in range(4)]
    rows += [Row("mid", f"p{i}", "Qabf", 0.4) for i in range(4)]
    rows += [Row("low", f"p{i}", "Qabf", 0.3) for i in range(4)]
    rows += [Row("short", f"p{i}", "Qabf", 0.9) for i in range(2)]  # best mean, over 2 of 4 pairs
    return rows


def test_a_mean_over_fewer_pairs_is_marked_and_not_best(tmp_path, monkeypatch):
    import matplotlib.axes

    from defusion.benchmark.report import fewer_pairs, summary_chart, summary_latex, summary_markdown

    rows = _short_rows()
    assert fewer_pairs(rows) == {("short", "Qabf")}
    md = summary_markdown(rows)
    assert "| 0.9† |" in md and "| **0.5** |" in md and "**0.9" not in md
    assert "† mean over fewer pairs than the method with the most on that metric; such a mean is not marked" in md
    tex = summary_latex(rows)
    assert r"short & --- & 0.9000$^\dagger$ \\" in tex  # no rank: as summary.md's —
    assert r"full & 1.00 & \textbf{0.5000} \\" in tex and r"mid & 2.00 & \underline{0.4000} \\" in tex
    titles: list[str] = []
    real = matplotlib.axes.Axes.set_title
    monkeypatch.setattr(matplotlib.axes.Axes, "set_title", lambda ax, text, **kw: titles.append(text)
                        or real(ax, text, **kw))
    summary_chart(rows, tmp_path / "chart.png")
    assert "hatched †: mean over fewer pairs" in titles[0]
    titles.clear()
    summary_chart([r for r in rows if r.method != "short"], tmp_path / "even.png")
    assert "hatched" not in titles[0]


# 8. NaN values are named, and the coverage note gives that cause


def test_undefined_values_are_noted_per_method_and_metric(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng, ("p1", "p2", "p3"))
    flat = tmp_path / "flat"
    for stem in ("p1", "p2", "p3"):
        write_image(flat / f"{stem}.png", np.full(SIZE, 128, np.uint8))
    out = tmp_path / "out"
    assert _bench(da, db, out, "average", "--fused", f"flat={flat}", metrics="EN,CC") == 0
    err = capsys.readouterr().err
    assert (f"defusion: note: {out / 'summary.md'}: flat: CC not defined on 3 pairs (p1, p2, p3): flat or constant "
            "image") in err
    assert err.count("not defined on") == 1
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "or the metric not defined on a flat or constant image): CC of flat: 0 of 3 pairs" in summary


# 9. LaTeX and versus details; VIF's asymmetry in the docs


def test_latex_needs_graphicx_too_and_escapes_a_pipe():
    from defusion.benchmark.report import summary_latex

    tex = summary_latex([Row("a|b", "p", "EN", 7.0), Row("c", "p", "EN", 6.0)])
    assert tex.startswith(r"% written by defusion bench; needs \usepackage{booktabs} and \usepackage{graphicx}")
    assert r"a\textbar{}b & 1.00 & \textbf{7.000} \\" in tex and "a|b" not in tex


def test_versus_says_its_stars_are_not_corrected_for_multiple_comparisons():
    from defusion.benchmark.compare import versus_markdown

    rows = [Row(m, f"p{i}", k, v + i) for m, v in (("a", 1.0), ("b", 0.0), ("c", 0.5)) for i in range(8)
            for k in ("Qabf", "EN")]
    assert ("not corrected for multiple comparisons (4 tests over 2 metrics x 2 methods)"
            in versus_markdown(rows, "a"))


def test_vif_is_not_symmetric_where_gains_tie_and_the_docs_say_so():
    from defusion.metrics.perceptual import vif

    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (128, 128)).astype(np.uint8)
    b = rng.integers(0, 64, (128, 128)).astype(np.uint8)
    fused = a.copy()
    fused[:, :64] = 128  # flat where both sources vary: both gains 0, a tie
    assert vif(fused, a, b) != pytest.approx(vif(fused, b, a), rel=1e-3)
    docs = (Path(__file__).resolve().parents[2] / "docs" / "metrics.md").read_text(encoding="utf-8")
    assert "symmetric in `a` and `b` but VIF, FMI and Qc, which are not exactly" in docs


def test_pairs_whose_names_differ_only_in_case_are_refused_before_any_work(tmp_path, rng, capsys):
    # Scene and scene: one grid file (and one --save-fused result) on Windows and macOS
    da, db = _pairs(tmp_path, rng, stems=("Scene", "scene", "p1"))
    assert _bench(da, db, tmp_path / "out", "average") == 2
    err = capsys.readouterr().err
    assert "pairs 'Scene' and 'scene' would share one grid" in err and "rename one of them" in err
    assert err.count("\n") == 1 and not (tmp_path / "out" / "results.csv").exists()


def test_a_grid_shows_a_placeholder_for_a_method_with_no_result_of_its_pair(tmp_path, rng):
    """A researcher's audit: a method with no result of a pair was left out of its grid, so a reader
    could not tell it was missing; now a grey "<method>: no result" tile stands in its place."""
    da, db = _pairs(tmp_path, rng, ("p1", "p2"))
    part = _published(tmp_path / "part", rng, ("p1",))
    out = tmp_path / "out"
    assert _bench(da, db, out, "average", "--fused", f"part={part}") == 1
    assert _grid_tiles(out / "grids" / "p2.jpg") == 4  # A, B, average and part's placeholder
