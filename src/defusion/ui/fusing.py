"""Fusing a pair or a bracket/stack with the page's Fuser and scoring the result for the metrics table."""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from defusion.fusion.color import to_uint8
from defusion.fusion.fuser import Decomposition, Fuser
from defusion.fusion.selection import source_map

#: The metrics table: a small, fast set (all from defusion.metrics).
METRIC_NAMES = ("EN", "SD", "SF", "AG", "MI", "Qabf", "SSIM-mean", "MEF-SSIM")
#: The metrics table of a bracket or stack: those defined for any number of sources
#: (defusion.metrics.ANY_SOURCE_METRICS).
STACK_METRIC_NAMES = ("EN", "SD", "SF", "AG", "Qabf", "MEF-SSIM")
#: The smallest width and height the metrics take (defusion.metrics refuses smaller images: "image
#: too small"): a fused image under it is still shown and offered, its metrics all n/a.
MIN_METRIC_SIDE = 2
#: What the page says once the network passes are done and the metrics table is computed: on a 12 MP
#: pair that takes most of a minute on a loaded 2-core machine (the web UI's audit: 51 s), which a bar
#: left at its last pass made look hung.
SCORING_TEXT = "Scoring the fused image (the metrics table)..."


class FusedPair(NamedTuple):
    """A pair fused, for showing."""

    parts: Decomposition
    #: The metrics table's values, against ``sources``.
    values: dict[str, float]
    #: The sources as the fuser fused them (stretched, mapped by the rig, aligned, deghosted),
    #: float in [0, 1]: what the page shows beside the fused image (the one aligned onto: ``parts.frame``).
    sources: list[np.ndarray]


def fuse_and_score(fuser: Fuser, a: np.ndarray, b: np.ndarray, on_tile: Callable[[], None] | None = None,
                   on_scoring: Callable[[], None] | None = None) -> FusedPair:
    """One network pass: fused image, components, and the metrics table's values (against the
    sources as the fuser fused them: aligned, a raw thermal frame stretched, ...); ``on_tile`` is
    called after each network pass, ``on_scoring`` once they are done, as the scoring starts."""
    parts = fuser.decompose(a, b, on_tile=on_tile)
    _said(on_scoring)
    return FusedPair(parts, score(parts.fused, *parts.sources), parts.sources)


class FusedStack(NamedTuple):
    """A bracket or stack fused, for showing."""

    fused: np.ndarray
    #: The metrics table's values.
    values: dict[str, float]
    #: The order the images were fused in (indices into the images given), for showing them so.
    order: list[int]
    #: With pixels from the sources: which image each pixel came from, HxW in [0, 1], 0 the first
    #: in ``order`` and 1 the last (a focus stack's depth map); None for the network's reconstruction.
    source_map: np.ndarray | None = None
    #: The sources as the fuser fused them (float in [0, 1], in the order given), as in FusedPair.
    sources: list[np.ndarray] | None = None
    #: The image the others were aligned onto (an index into the images given; Fusion.frame).
    frame: int = 0
    #: What registration found, in the order given (Fusion.warps, Fusion.ghosts): for
    #: :func:`registration_notes`.
    warps: tuple[np.ndarray | None, ...] = ()
    ghosts: tuple[float, ...] = ()


def fuse_stack_and_score(fuser: Fuser, images: list[np.ndarray], on_tile: Callable[[], None] | None = None,
                         on_scoring: Callable[[], None] | None = None) -> FusedStack:
    """A bracket or stack fused (pairwise, in the fuser's stack order) and scored against the
    sources as fused (aligned, stretched, ...); ``on_tile`` and ``on_scoring`` as :func:`fuse_and_score`."""
    result = fuser.fusion(*images, on_tile=on_tile)
    _said(on_scoring)
    depth = None if result.weights is None else source_map([result.weights[k] for k in result.order])
    return FusedStack(result.fused, score_stack(result.fused, result.sources), result.order, depth, result.sources,
                      result.frame, result.warps, result.ghosts)


def _said(event: Callable[[], None] | None) -> None:
    """Call ``event``, where one was given."""
    if event is not None:
        event()


def passes_text(done: int, total: int) -> str:
    """The progress bar's text while the network runs.

    Example:
        >>> passes_text(2, 6)
        'Fusing: 2 of 6 network passes'
    """
    return f"Fusing: {done} of {total} network passes"


def passes(fuser: Fuser, images: list[np.ndarray]) -> int:
    """How many network passes fusing ``images`` takes (tiles, times the pairwise fusions): the
    progress bar's length."""
    return fuser.passes(*images)


def score(fused: np.ndarray, a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """The UI's metrics on 8-bit data (the metrics take 0..255 arrays: fused first, then the sources)."""
    return _each_metric(to_uint8(fused), [to_uint8(a), to_uint8(b)], METRIC_NAMES)


def score_stack(fused: np.ndarray, images: list[np.ndarray]) -> dict[str, float]:
    """``STACK_METRIC_NAMES`` on 8-bit data: the no-reference ones, Qabf and MEF-SSIM over every source."""
    return _each_metric(to_uint8(fused), [to_uint8(im) for im in images], STACK_METRIC_NAMES)


def _each_metric(fused: np.ndarray, sources: list[np.ndarray], names: tuple[str, ...]) -> dict[str, float]:
    """``names``; one a small image cannot take (MS-SSIM, SSIM's window) is NaN, shown as n/a, so
    the fused image is still shown; all of them for an image under ``MIN_METRIC_SIDE``, which the
    metrics refuse as a whole (``defusion fuse`` fuses it all the same)."""
    from defusion.metrics import compute_each

    if min(fused.shape[:2]) < MIN_METRIC_SIDE:
        return dict.fromkeys(names, float("nan"))
    values, _ = compute_each(fused, sources, names)
    return {name: values.get(name, float("nan")) for name in names}


def metric_rows(values: dict[str, float]) -> list[dict[str, str]]:
    """Rows for the metrics table: name, value, direction, meaning."""
    from defusion.metrics import METRICS

    return [{"metric": name, "value": f"{value:.4f}" if np.isfinite(value) else "n/a (image too small)",
             "better": "higher" if METRICS[name].higher_is_better else "lower",
             "meaning": METRICS[name].description} for name, value in values.items()]


__all__ = [
    "METRIC_NAMES", "STACK_METRIC_NAMES", "MIN_METRIC_SIDE", "SCORING_TEXT", "FusedPair", "fuse_and_score",
    "FusedStack", "fuse_stack_and_score", "passes_text", "passes", "score", "score_stack", "metric_rows",
]
