"""`defusion bench` report fixes from a researcher's audit: a mean over fewer pairs (†) raises no
method's standing (ranks, chart colours), a (nearly) flat result is warned of by name, and a grid shows
a placeholder for a method with no result of its pair."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from defusion.benchmark.runner import Row
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image

SIZE = (32, 40)  # height, width of the generated sources
NAN = float("nan")


def _flat_case() -> list[Row]:
    """The audit's case in small: Flat is GFF on two pairs and an all-black frame on p0, where Qcb is
    not defined; its Qcb over the other two (0.60) is above CBF's (0.49) over all three."""
    rows = []
    for i in range(3):
        rows += [Row("GFF", f"p{i}", "Qcb", 0.62), Row("GFF", f"p{i}", "EN", 7.4)]
        rows += [Row("CBF", f"p{i}", "Qcb", 0.49), Row("CBF", f"p{i}", "EN", 7.5)]
        rows += [Row("Flat", f"p{i}", "Qcb", NAN if i == 0 else 0.60), Row("Flat", f"p{i}", "EN", 4.9)]
    return rows


def test_a_mean_over_fewer_pairs_ranks_after_the_full_means_of_its_column():
    from defusion.benchmark.report import column_ranks, fewer_pairs, mean_ranks, mean_table, table_ranks, unranked

    rows = _flat_case()
    methods, metrics, means = mean_table(rows)
    assert fewer_pairs(rows) == {("Flat", "Qcb")} and unranked(rows) == set()  # Flat keeps a rank
    assert column_ranks(methods, "Qcb", means, fewer_pairs(rows)) == {"GFF": 1.0, "CBF": 2.0, "Flat": 3.0}  # not 2nd
    # Flat's Qcb over 2 of 3 pairs ranks last, no longer above CBF's (was GFF 1.5, CBF 2, Flat 2.5)
    assert table_ranks(rows, methods, metrics, means) == {"GFF": 1.5, "CBF": 1.5, "Flat": 3.0}
    # with no mean over fewer pairs (Flat's p0 scored like the others), the ranks are as they were
    rows = [Row(r.method, r.image, r.metric, 0.60 if np.isnan(r.value) else r.value) for r in rows]
    methods, metrics, means = mean_table(rows)
    assert table_ranks(rows, methods, metrics, means) == mean_ranks(methods, metrics, means) == {
        "GFF": 1.5, "CBF": 2.0, "Flat": 2.5}


def test_the_tables_legend_says_such_a_mean_ranks_after_the_full_means():
    from defusion.benchmark.report import summary_latex, summary_markdown

    md = summary_markdown(_flat_case())
    assert ("† mean over fewer pairs than the method with the most on that metric; such a mean is not marked best "
            "and is ranked after the full means of its column (so a pair its metric is not defined on never raises "
            "its method's rank).") in md
    assert "| CBF | 1.50 |" in md and "| Flat | 3.00 |" in md
    assert "ranked after the full means of its column" in summary_latex(_flat_case())
    # only an unranked method's means marked: no ranking to place them in, nothing said of one
    short = [r for r in _flat_case() if r.method != "Flat"] + [Row("late", "p0", "EN", 9.0)]
    assert "ranked after the full means" not in summary_markdown(short)


def _shown_grid(monkeypatch, rows: list[Row], path: Path) -> tuple[np.ndarray, str]:
    """The rank grid summary_chart colours, and its title."""
    import matplotlib.axes

    from defusion.benchmark.report import summary_chart

    shown, titles = [], []
    real_imshow, real_title = matplotlib.axes.Axes.imshow, matplotlib.axes.Axes.set_title
    monkeypatch.setattr(matplotlib.axes.Axes, "imshow", lambda ax, grid, **kw: shown.append((grid.copy(), kw))
                        or real_imshow(ax, grid, **kw))
    monkeypatch.setattr(matplotlib.axes.Axes, "set_title", lambda ax, text, **kw: titles.append(text)
                        or real_title(ax, text, **kw))
    summary_chart(rows, path)
    (grid, kw), = shown
    assert kw["vmin"] == 1
    return (grid - 1) / (kw["vmax"] - 1), titles[0]  # 0 green (best) .. 1 red (worst); NaN grey


def test_the_chart_colours_no_mean_over_fewer_pairs_nor_an_unranked_methods(tmp_path, monkeypatch):
    grid, title = _shown_grid(monkeypatch, _flat_case(), tmp_path / "flat.png")
    # rows by rank: GFF, CBF, Flat; columns Qcb, EN
    # Flat's Qcb (†) ranks after the full means (column_ranks): the worst colour, not the 2nd it had
    assert grid[0, 0] == 0 and grid[1, 0] < grid[2, 0] == 1
    assert grid[:, 1].tolist() == [0.5, 0.0, 1.0]  # EN, ranked by all three: as before
    assert "ranked after the full means of its column" in title
    # the audit's second case: a method with results missing (unranked), its partial means best
    rows = [Row(m, f"p{i}", "EN", v) for m, v in (("GFF", 7.4), ("CBF", 7.0)) for i in range(6)]
    rows += [Row("part", f"p{i}", "EN", 9.0) for i in range(4)]
    grid, title = _shown_grid(monkeypatch, rows, tmp_path / "part.png")
    assert grid[:, 0].tolist()[:2] == [0.0, 1.0] and np.isnan(grid[2, 0])  # not dark green
    assert "results missing on some pairs, not ranked (grey)" in title


def test_a_grid_has_a_placeholder_for_a_method_with_no_result():
    from defusion.benchmark.report import GRID_TILE_HEIGHT, comparison_grid
    from defusion.benchmark.report.grid import NO_RESULT_GREY

    a = np.zeros((50, 70), np.uint8)
    grid = comparison_grid(a, a, {"GFF": a, "Flat": None, "CBF": a})
    width = round(70 * GRID_TILE_HEIGHT / 50)
    assert grid.size == (5 * width, GRID_TILE_HEIGHT)  # A, B, GFF, Flat's placeholder, CBF: in order
    grey = np.asarray(grid)[GRID_TILE_HEIGHT - 5, 3 * width + 5]  # under the label
    assert grey.tolist() == [NO_RESULT_GREY] * 3
    assert np.asarray(grid)[GRID_TILE_HEIGHT - 5, 4 * width + 5].tolist() == [0, 0, 0]  # CBF's black result


def test_the_placeholders_label_names_the_method(monkeypatch):
    import defusion.benchmark.report.grid as grid_module
    from defusion.benchmark.report import comparison_grid

    a = np.zeros((50, 70), np.uint8)
    labels: list[str] = []
    real = grid_module.labelled_tile
    monkeypatch.setattr(grid_module, "labelled_tile", lambda image, label, *args, **kw: labels.append(label)
                        or real(image, label, *args, **kw))
    comparison_grid(a, a, {"GFF": a, "Flat": None})
    assert labels == ["A", "B", "GFF", "Flat: no result"]


def test_nearly_flat_tells_a_black_frame_even_as_a_jpeg_from_a_fused_image(tmp_path, rng):
    from defusion.benchmark.scored_images import nearly_flat, read_scored

    write_image(tmp_path / "black.jpg", np.zeros((*SIZE, 3), np.uint8))
    assert nearly_flat(read_scored(tmp_path / "black.jpg"))
    assert not nearly_flat(smooth_image(rng, *SIZE)) and not nearly_flat(smooth_image(rng, *SIZE, 1))
    dark = np.full(SIZE, 3, np.uint8)
    dark[8:16, 8:16] = 40  # a dark night frame with one warm object (5% of it) is no failed fusion
    assert not nearly_flat(dark)


def _bench(da: Path, db: Path, out: Path, *extra: str) -> int:
    return main(["bench", "--task", "ivf", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", "none",
                 "--metrics", "EN,Qcb,CC", "--no-progress", *extra])


def test_a_flat_result_is_warned_of_by_name_not_called_grey_stored_as_rgb(tmp_path, rng, capsys):
    da, db, good, flat = (tmp_path / name for name in ("vi", "ir", "good", "flat"))
    for stem in ("p1", "p2", "p3"):
        write_image(da / f"{stem}.png", smooth_image(rng, *SIZE))
        write_image(db / f"{stem}.png", smooth_image(rng, *SIZE, 1))
        image = smooth_image(rng, *SIZE)
        write_image(good / f"{stem}.png", image)
        write_image(flat / f"{stem}.png", np.zeros_like(image) if stem == "p1" else image)
    assert _bench(da, db, tmp_path / "out", "--fused", f"Good={good}", "--fused", f"Flat={flat}") == 0
    err = capsys.readouterr().err
    assert (f"defusion: warning: Flat's result for p1 is (nearly) one value (about 0 of 255): a failed fusion? It is "
            f"scored as it is, so some of its means may be over fewer pairs; look at {flat / 'p1.png'}\n") in err
    assert err.count("warning: ") == 1  # Good's results, and Flat's others, are fused images
    assert err.endswith("defusion: scored 1 result that is (nearly) one value (e.g. Flat's for p1): see the lines "
                        "above; exit status 0\n")  # counted in the last line, as warnings are; scored: status 0
    assert "grey stored as RGB" not in err  # black is R = G = B: no such note of it
    # sources flat themselves (a black or grey test card): a flat result of them is no failed fusion
    for folder in (da, db, flat):
        for stem in ("p1", "p2", "p3"):
            write_image(folder / f"{stem}.png", np.full(SIZE, 0 if stem == "p1" else 128, np.uint8))
    assert _bench(da, db, tmp_path / "out2", "--fused", f"Flat={flat}") == 0
    assert "(nearly) one value" not in capsys.readouterr().err
