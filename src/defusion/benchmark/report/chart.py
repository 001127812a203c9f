"""summary.png: the benchmark's table at a glance, a heat map of each method's rank per metric
annotated with its means and ranks; the heat map drawing both the run's charts share (:func:`heat_map`,
:func:`colour_key`: a colour-blind-safe scale, worded, its cell text in black or white, whichever reads
better); and :func:`write_figure`, which writes any of the run's matplotlib charts."""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Container, Mapping, Sequence

import numpy as np

from defusion.benchmark.compare import higher_is_better
from defusion.benchmark.report.captions import FEWER_PAIRS_MARK, NO_RANK
from defusion.benchmark.report.means import fewer_pairs, mean_table
from defusion.benchmark.report.ranks import column_ranks, ranked_order, table_ranks, unranked
from defusion.benchmark.results_csv import Row
from defusion.io.writing import write_bytes_atomically

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.image import AxesImage

#: Resolution of the charts (PNG): 8-pt cell text is then 17 px to the em (7 pt at the former 110 dpi was
#: 11 px, hard to read on a laptop screen); a chart of 20 methods x 20 metrics stays under 3000 px a side.
CHART_DPI = 150
#: Point sizes of a heat map's cell text, of its axis labels and of its title.
CELL_FONT_PT = 8
LABEL_FONT_PT = 9
TITLE_FONT_PT = 9
#: The colour scale of both heat maps: cividis (Nunez, Anderton & Renslow 2018, PLoS ONE 13(7)), made to
#: look the same to a deuteranope or protanope as to normal vision and with lightness rising evenly
#: (CIELAB L* 14 to 91), dark blue through grey to yellow. Under simulated deuteranopia (Machado et al.
#: 2009, severity 1) its ends still differ by dE 135 (RdYlGn's: 17.6, both dark olive), and of five evenly
#: spaced colours neighbours by at least dE 24 (viridis: 19), hence cividis over viridis. Dark is better:
#: rank 1 and "better on every image" are its dark end, in both charts.
SCALE = "cividis"
#: The terms of a colour's relative luminance and contrast ratio (sRGB linearised, then weighted; WCAG 2's
#: definitions).
_LUMINANCE_WEIGHTS = (0.2126, 0.7152, 0.0722)
_SRGB_LINEAR_BELOW = 0.04045  # sRGB's threshold (WCAG 2.x cites 0.03928: no 8-bit level differs)
_SRGB_LINEAR_SLOPE = 12.92
_SRGB_OFFSET, _SRGB_SCALE, _SRGB_GAMMA = 0.055, 1.055, 2.4
_FLARE = 0.05  # WCAG's term added to both luminances of a contrast ratio
#: The two colours a cell's text may be in: whichever contrasts more with the cell (:func:`text_colour`).
TEXT_COLOURS = ("black", "white")
#: The colour bar's share of the figure's width, and its height to width (a short bar: its words clear of
#: the title on a chart of one or two rows).
_KEY_FRACTION = 0.04
_KEY_ASPECT = 12
#: Room (inches) a colour key takes beside its heat map: the bar and its words (:func:`colour_key`).
KEY_IN = 1.2


def write_figure(fig: Figure, path: str | Path, dpi: int = CHART_DPI) -> None:
    """Render a matplotlib figure (in the format ``path``'s suffix names), close it, and write it
    atomically: a full disk leaves the old chart whole, not a partial one."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format=Path(path).suffix.lstrip(".").lower() or None, dpi=dpi, bbox_inches="tight")
    finally:
        plt.close(fig)
    write_bytes_atomically(path, buffer.getvalue())


def relative_luminance(colour: Sequence[float]) -> float:
    """WCAG 2's relative luminance of an sRGB colour (channels 0 to 1; an alpha channel ignored).

    Example:
        >>> relative_luminance((1, 1, 1)), relative_luminance((0, 0, 0)), round(relative_luminance((0.5, 0.5, 0.5)), 3)
        (1.0, 0.0, 0.214)
    """
    c = np.asarray(colour, dtype=float)[:3]
    linear = np.where(c <= _SRGB_LINEAR_BELOW, c / _SRGB_LINEAR_SLOPE, ((c + _SRGB_OFFSET) / _SRGB_SCALE) ** _SRGB_GAMMA)
    return float(linear @ np.array(_LUMINANCE_WEIGHTS))


def contrast_ratio(first: Sequence[float] | str, second: Sequence[float] | str) -> float:
    """WCAG 2's contrast ratio of two colours (RGB 0 to 1, or any name matplotlib knows): 1 to 21.

    Example:
        >>> contrast_ratio("black", "white"), round(contrast_ratio("white", (0.5, 0.5, 0.5)), 2)
        (21.0, 3.98)
    """
    from matplotlib.colors import to_rgb

    high, low = sorted((relative_luminance(to_rgb(first)), relative_luminance(to_rgb(second))), reverse=True)
    return (high + _FLARE) / (low + _FLARE)


def text_colour(background: Sequence[float] | str) -> str:
    """Black or white, whichever contrasts more with ``background``: at least 4.58:1 whatever the colour,
    over WCAG 2's 4.5:1 for text (criterion 1.4.3, AA), where one text colour on every cell of a scale falls
    to 2.6:1 on some.

    Example:
        >>> text_colour("yellow"), text_colour("navy")
        ('black', 'white')
    """
    return max(TEXT_COLOURS, key=lambda c: contrast_ratio(c, background))


def heat_map(ax: Axes, values: np.ndarray, texts: Mapping[tuple[int, int], str], cmap: str, vmin: float,
             vmax: float, boxed: Container[tuple[int, int]] = (), missing: str | None = None) -> AxesImage:
    """``values`` (rows x columns) drawn as coloured cells on ``ax`` in ``cmap`` from ``vmin`` to ``vmax``
    (NaN: ``missing``, a colour off the scale; None: none), each ``texts[(row, column)]`` centred in its
    cell in black or white, whichever contrasts more with the cell (:func:`text_colour`); a ``boxed``
    cell's text sits on a patch of its cell's colour, so that hatching drawn over the cell does not
    cross it."""
    import matplotlib

    colours = matplotlib.colormaps[cmap]
    if missing is not None:
        colours = colours.with_extremes(bad=missing)
    image = ax.imshow(values, cmap=colours, aspect="auto", vmin=vmin, vmax=vmax)
    for (i, j), text in texts.items():
        cell = cell_colour(image, values[i, j])
        box = dict(facecolor=cell, edgecolor="none", pad=1) if (i, j) in boxed else None
        ax.text(j, i, text, ha="center", va="center", fontsize=CELL_FONT_PT, color=text_colour(cell), bbox=box,
                zorder=3)
    return image


def cell_colour(image: AxesImage, value: float) -> tuple[float, float, float]:
    """The RGB colour (0 to 1) ``image`` paints a cell of ``value`` in (NaN: its missing colour; white where
    that is transparent, the figure's background)."""
    r, g, b, alpha = image.cmap(image.norm(value))
    return (r * alpha + 1 - alpha, g * alpha + 1 - alpha, b * alpha + 1 - alpha)


def colour_key(fig: Figure, ax: Axes, image: AxesImage, ticks: Mapping[float, str], best_first: bool = False
               ) -> None:
    """A colour bar beside ``ax`` saying in words what its colours mean (``ticks``: {value: words}), its
    low values at the bottom, or on top where ``best_first`` (a rank: 1 on top, the better end)."""
    bar = fig.colorbar(image, ax=ax, ticks=list(ticks), fraction=_KEY_FRACTION, aspect=_KEY_ASPECT)
    bar.ax.set_yticklabels(list(ticks.values()), fontsize=LABEL_FONT_PT)
    if best_first:
        bar.ax.invert_yaxis()


#: Summary chart height (inches) for the title and metric names, per method row (two lines of
#: :data:`CELL_FONT_PT` text: the mean and its rank, with room above and below), and width per metric
#: column (a mean as wide as "-1.23e+03†") and for the method names.
_CHART_HEADER_IN = 1.6
_CHART_ROW_IN = 0.45
_CHART_COLUMN_IN = 0.8
_CHART_LABELS_IN = 1.0
#: Half a heat-map cell, in data units (cells are centred on whole numbers).
_HALF_CELL = 0.5
#: The colour of a cell in no ranking (an unranked method's means): a light grey, on no point of the
#: cividis scale (simulated deuteranopia: dE 28 from its nearest), so that such a mean never looks best
#: or worst.
_NEUTRAL = "lightgrey"
#: What precedes a rank in a cell ("#1": first on that metric).
RANK_MARK = "#"


@dataclass(frozen=True)
class SummaryCells:
    """What :func:`summary_chart` draws: the methods (rows, ranked order) and metrics (columns); each
    cell's place on the colour scale (1 best, ``worst`` the far end; NaN: in no ranking) and its text;
    the cells of means over fewer pairs (hatched); the methods' mean ranks and the unranked ones."""

    methods: list[str]
    metrics: list[str]
    grid: np.ndarray
    texts: dict[tuple[int, int], str]
    worst: int
    fewer: set[tuple[int, int]]
    mean_ranks: dict[str, float]
    unranked: set[str]


def summary_cells(rows: list[Row]) -> SummaryCells:
    """:class:`SummaryCells` of ``rows``: each cell coloured by its rank as the tables rank
    (:func:`column_ranks`) and its text the mean over that rank ("#2", none for a mean in no ranking), so
    that the rank is read, not only told by colour.

    Example:
        >>> cells = summary_cells([Row(m, "p", "EN", v) for m, v in (("a", 7.0), ("b", 6.0), ("c", 6.5))])
        >>> cells.methods, cells.grid[:, 0].tolist(), cells.texts[(0, 0)], cells.texts[(2, 0)]
        (['a', 'c', 'b'], [1.0, 2.0, 3.0], '7\\n#1', '6\\n#3')
    """
    methods, metrics, means = mean_table(rows)
    ranks_by = table_ranks(rows, methods, metrics, means)
    fewer = fewer_pairs(rows)
    left_out = unranked(rows)
    order = ranked_order(methods, ranks_by)
    ranked = [m for m in order if m not in left_out]
    worst = max(len(ranked), 2)  # the scale's far end
    grid = np.full((len(order), len(metrics)), np.nan)  # NaN: no colour (_NEUTRAL)
    texts: dict[tuple[int, int], str] = {}
    for j, metric in enumerate(metrics):
        # coloured as the tables rank: a mean over fewer pairs, or an unranked method's, is in no ranking;
        # a column that leaves one out spread over the whole scale, so that its last is worst as the others'
        column = column_ranks(ranked, metric, means, fewer)
        spread = (worst - 1) / (len(column) - 1) if len(column) > 1 else 1.0
        for m, rank in column.items():
            grid[order.index(m), j] = 1 + (rank - 1) * spread
        for i, m in enumerate(order):
            v = means.get((m, metric))
            if v is not None:
                mean = f"{v:.3g}{FEWER_PAIRS_MARK if (m, metric) in fewer else ''}"
                texts[(i, j)] = f"{mean}\n{RANK_MARK}{column[m]:g}" if m in column else mean
    hatched = {(i, j) for i, m in enumerate(order) for j, metric in enumerate(metrics) if (m, metric) in fewer}
    return SummaryCells(order, metrics, grid, texts, worst, hatched, ranks_by, left_out)


def summary_chart(rows: list[Row], path: Path, title: str = "Benchmark") -> None:
    """A rank heat map (methods x metrics, annotated with the means and their ranks): the table at a
    glance, each metric's means coloured by their rank as the tables rank them (:func:`summary_cells`),
    dark best, with a worded colour key: a mean over fewer pairs (hatched) is coloured by its rank after
    the full means of its column; an unranked method's means are grey, in no colour of the scale, as
    they are never bold."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from matplotlib.patches import Rectangle

    cells = summary_cells(rows)
    order, metrics = cells.methods, cells.metrics
    # Room for the title and the rotated metric names whatever the number of rows (one method
    # alone left them no room: labels cut off).
    fig, ax = plt.subplots(figsize=(_CHART_LABELS_IN + KEY_IN + _CHART_COLUMN_IN * len(metrics),
                                    _CHART_HEADER_IN + _CHART_ROW_IN * len(order)), layout="constrained")
    image = heat_map(ax, cells.grid, cells.texts, SCALE, 1, cells.worst, boxed=cells.fewer, missing=_NEUTRAL)
    for i, j in cells.fewer:
        ax.add_patch(Rectangle((j - _HALF_CELL, i - _HALF_CELL), 2 * _HALF_CELL, 2 * _HALF_CELL,
                               fill=False, hatch="///", edgecolor="grey", linewidth=0))
    colour_key(fig, ax, image, {1: f"{RANK_MARK}1: best", cells.worst: f"{RANK_MARK}{cells.worst}: worst"},
               best_first=True)
    ax.set_xticks(range(len(metrics)), [f"{m}{'↑' if higher_is_better(m) else '↓'}" for m in metrics],
                  rotation=45, ha="right", fontsize=LABEL_FONT_PT)
    ranks_by = cells.mean_ranks
    ax.set_yticks(range(len(order)), [f"{m} ({f'{ranks_by[m]:.2f}' if m in ranks_by else NO_RANK})" for m in order],
                  fontsize=LABEL_FONT_PT)
    hatched = (f"\nhatched {FEWER_PAIRS_MARK}: mean over fewer pairs than the method with the most; "
               "ranked after the full means of its column" if cells.fewer else "")
    if cells.unranked:
        hatched += f"\n({NO_RANK}): results missing on some pairs, not ranked (grey)"
    ax.set_title(f"{title}: mean per metric and its rank on the metric ({RANK_MARK}1 best, darkest); "
                 f"(mean rank){hatched}", fontsize=TITLE_FONT_PT)
    write_figure(fig, path)
