"""summary.png, versus.png and the comparison grids read without telling red from green (an accessibility
audit): ranks and better/worse on a colour-blind-safe, lightness-ordered scale with a worded key, the
rank printed in each cell, cell text in a colour that contrasts with its cell, and grids labelled with the
sources' names in the compare sheets' font."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from PIL import Image

from defusion.benchmark.runner import Row

#: Simulated deuteranopia: Machado, Oliveira & Fernandes 2009 (IEEE TVCG 15(6)), severity 1.0, on linear RGB.
DEUTERANOPIA = np.array([[0.367322, 0.860646, -0.227968],
                         [0.280085, 0.672501, 0.047413],
                         [-0.011820, 0.042940, 0.968881]])
#: The least CIELAB dE76 a deuteranope must see between the best and the worst cell: half the lightness
#: range of black to white, so that the two ends are told apart at a glance, by lightness alone (the
#: audit's red-green scale: 17.6, both ends dark olive).
MIN_ENDS_DE = 50
#: WCAG 2's least contrast ratio of normal-size text to its background (criterion 1.4.3, AA).
MIN_CONTRAST = 4.5
#: The least size of a cell's text in the PNG, in pixels to the em: 16 px, a browser's default body text
#: (7 pt at the former 110 dpi drew 10.7 px).
MIN_CELL_TEXT_PX = 16


def _linear(rgb) -> np.ndarray:
    c = np.asarray(rgb, dtype=float)[..., :3]
    return np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)


def _encoded(linear: np.ndarray) -> np.ndarray:
    c = np.clip(linear, 0, 1)
    return np.where(c <= 0.0031308, 12.92 * c, 1.055 * c ** (1 / 2.4) - 0.055)


def _lab(rgb) -> np.ndarray:
    """CIELAB (D65) of sRGB colours (0 to 1)."""
    xyz = _linear(rgb) @ np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]).T
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[..., 1] - 16, 500 * (f[..., 0] - f[..., 1]), 200 * (f[..., 1] - f[..., 2])], axis=-1)


def _deuteranope_de(first, second) -> float:
    seen = [_encoded(_linear(c) @ DEUTERANOPIA.T) for c in (first, second)]
    return float(np.linalg.norm(_lab(seen[0]) - _lab(seen[1])))


def _contrast(first, second) -> float:
    """WCAG 2's contrast ratio, computed here rather than by the code under test."""
    from matplotlib.colors import to_rgb

    luminances = sorted((float(_linear(to_rgb(c)) @ [0.2126, 0.7152, 0.0722]) for c in (first, second)), reverse=True)
    return (luminances[0] + 0.05) / (luminances[1] + 0.05)


@pytest.fixture
def drawn(monkeypatch, tmp_path):
    """Draw a chart and hand back its figure, left open to be read, and the PNG it wrote."""
    import matplotlib.pyplot as plt

    import defusion.benchmark.report as report
    import defusion.benchmark.report.chart as chart

    figures = []
    real = chart.write_figure

    def keep(fig, path, *args, **kwargs):
        figures.append(fig)
        with monkeypatch.context() as patch:
            patch.setattr(plt, "close", lambda *a: None)  # kept open to be read
            real(fig, path, *args, **kwargs)

    monkeypatch.setattr(chart, "write_figure", keep)
    monkeypatch.setattr(report, "write_figure", keep)  # versus_chart's

    def draw(make, *args):
        path = tmp_path / f"chart{len(figures)}.png"
        make(*args, path)
        return figures[-1], path

    yield draw
    plt.close("all")


def _cells(fig):
    """{(row, column): (text, its colour, the cell's colour)} of a heat map's annotated cells."""
    ax = fig.axes[0]
    image = ax.images[0]
    values = np.asarray(image.get_array().filled(np.nan) if np.ma.isMaskedArray(image.get_array())
                        else image.get_array(), dtype=float)
    cells = {}
    for text in ax.texts:
        j, i = (round(v) for v in text.get_position())
        r, g, b, alpha = image.cmap(image.norm(values[i, j]))
        cell = (r * alpha + 1 - alpha, g * alpha + 1 - alpha, b * alpha + 1 - alpha)
        cells[(i, j)] = (text.get_text(), text.get_color(), cell)
    return cells


def _ranked_rows(methods: int = 5, metrics: tuple[str, ...] = ("EN", "SD", "CE")) -> list[Row]:
    """``methods`` methods m0 (best on each metric) .. m<n-1> (worst), over 3 pairs."""
    from defusion.benchmark.compare import higher_is_better

    return [Row(f"m{k}", f"p{i}", metric, (methods - k if higher_is_better(metric) else k) + i / 10)
            for k in range(methods) for metric in metrics for i in range(3)]


def _key_words(fig) -> str:
    """The words of the figure's colour key (the axes other than the heat map's)."""
    return " ".join(t.get_text() for ax in fig.axes[1:] for t in ax.get_yticklabels())


def test_the_summarys_best_and_worst_differ_to_a_deuteranope_and_by_lightness(drawn):
    from defusion.benchmark.report import summary_chart

    fig, _ = drawn(summary_chart, _ranked_rows())
    cells = _cells(fig)
    column = [cells[(i, 0)][2] for i in range(5)]  # rows in rank order: m0 best .. m4 worst
    assert _deuteranope_de(column[0], column[-1]) > MIN_ENDS_DE
    lightness = _lab(np.array(column))[:, 0]
    assert np.all(np.diff(lightness) > 0)  # one way from best to worst, as in greyscale print


def test_versus_better_and_worse_differ_to_a_deuteranope(drawn):
    from defusion.benchmark.compare import versus_chart

    rows = _ranked_rows(3)
    fig, _ = drawn(versus_chart, rows, "m1")  # better than m2 on every image, worse than m0
    cells = _cells(fig)
    worse, better = cells[(0, 0)], cells[(1, 0)]
    assert worse[0].startswith("0-3") and better[0].startswith("3-0")
    assert _deuteranope_de(worse[2], better[2]) > MIN_ENDS_DE


@pytest.mark.parametrize("chart", ["summary", "versus"])
def test_every_cells_text_contrasts_with_its_cell(drawn, chart):
    """Black on the darkest cells of the red-green scale was 2.6:1; grey (unranked) and hatched cells too."""
    from defusion.benchmark.compare import versus_chart
    from defusion.benchmark.report import summary_chart

    rows = _ranked_rows(7)
    rows += [Row("late", "p0", "EN", 9.0), Row("late", "p0", "SD", 1.0), Row("late", "p0", "CE", 1.0)]  # unranked
    rows += [Row("m3", "p3", "EN", float("nan"))]  # a mean over fewer pairs: hatched
    fig, _ = drawn(summary_chart, rows) if chart == "summary" else drawn(versus_chart, rows, "m3")
    cells = _cells(fig)
    assert len(cells) >= 3 * 7
    for (i, j), (text, colour, cell) in cells.items():
        assert _contrast(colour, cell) >= MIN_CONTRAST, (i, j, text, colour, cell)
    if chart == "summary":
        boxes = [t.get_bbox_patch() for t in fig.axes[0].texts if "†" in t.get_text()]
        assert boxes and all(b is not None for b in boxes)  # on its cell's colour, not on the hatching


def test_the_charts_say_what_their_colours_mean_in_words_not_by_green(drawn):
    from defusion.benchmark.compare import versus_chart
    from defusion.benchmark.report import summary_chart

    for fig, words in ((drawn(summary_chart, _ranked_rows())[0], ("best", "worst")),
                       (drawn(versus_chart, _ranked_rows(), "m2")[0], ("better", "worse"))):
        key = _key_words(fig)
        assert all(word in key for word in words), key
        assert "green" not in fig.axes[0].get_title() and "red" not in fig.axes[0].get_title()


def test_each_cell_prints_its_rank_and_every_text_fits_its_cell_in_a_large_chart(drawn):
    """20 methods x 20 metrics: the rank under each mean, in text that fits its cell, at a legible size."""
    from defusion.benchmark.report import summary_chart
    from defusion.benchmark.report.ranks import column_ranks
    from defusion.benchmark.report.means import mean_table
    from defusion.metrics import METRICS

    metrics = tuple(list(METRICS)[:20])
    rows = [Row(r.method + "_a_long_method_name", r.image, r.metric, r.value * -1234.5678)
            for r in _ranked_rows(20, metrics)]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib warns when a layout cannot fit
        fig, path = drawn(summary_chart, rows)
    ax = fig.axes[0]
    methods = [label.get_text().split(" (")[0] for label in ax.get_yticklabels()]
    _, _, means = mean_table(rows)
    cells = _cells(fig)
    assert len(cells) == 20 * 20
    for j, metric in enumerate(metrics):
        ranks = column_ranks(methods, metric, means)
        for i, method in enumerate(methods):
            assert cells[(i, j)][0].splitlines()[-1] == f"#{ranks[method]:g}"
    renderer = fig.canvas.get_renderer()
    to_pixels = ax.transData
    for text in ax.texts:
        j, i = (round(v) for v in text.get_position())
        (x0, y0), (x1, y1) = to_pixels.transform([(j - 0.5, i + 0.5), (j + 0.5, i - 0.5)])
        box = text.get_window_extent(renderer)
        assert x0 <= box.x0 and box.x1 <= x1 and y0 <= box.y0 and box.y1 <= y1, text.get_text()
    dpi = Image.open(path).info["dpi"][0]
    assert min(t.get_fontsize() for t in ax.texts) * dpi / 72 >= MIN_CELL_TEXT_PX
    assert max(Image.open(path).size) < 4000  # still a picture, not a poster


def _label_box_height(sheet: Image.Image) -> int:
    """Rows of the black label box in the top-left corner of a sheet of white tiles: its left margin, before
    the text (:data:`~defusion.io.sheets.LABEL_OFFSET`), black."""
    from defusion.io.sheets import LABEL_OFFSET

    return int((np.asarray(sheet.convert("L"))[:LABEL_OFFSET * 20, LABEL_OFFSET - 1] == 0).sum())


def test_grids_label_the_sources_by_name_in_the_compare_sheets_font(monkeypatch):
    """A grid said "A" and "B" in Pillow's ~10 px bitmap font; ``defusion fuse --compare``, the names at 16 px."""
    import defusion.benchmark.report.grid as grid_module
    from defusion.benchmark.report import comparison_grid
    from defusion.io.sheets import SHEET_LABEL_SIZE, compare_sheet

    white = np.full((50, 70), 255, np.uint8)
    names = ("vi/01.png", "ir/01.png")
    grid = comparison_grid(white, white, {"GFF": white}, sources=names)
    sheet = compare_sheet(list(zip(names, (white, white))), white)
    assert _label_box_height(grid) == _label_box_height(sheet) >= SHEET_LABEL_SIZE
    labels, fonts = [], []
    real = grid_module.labelled_tile
    monkeypatch.setattr(grid_module, "labelled_tile", lambda image, label, *args, **kw: labels.append(label)
                        or fonts.append(args[1] if len(args) > 1 else kw.get("font")) or real(image, label, *args, **kw))
    comparison_grid(white, white, {"GFF": white, "Flat": None}, sources=names)
    assert labels == [*names, "GFF", "Flat: no result"]
    assert {getattr(font, "size", None) for font in fonts} == {SHEET_LABEL_SIZE}
