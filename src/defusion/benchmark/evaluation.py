"""Evaluating one pair: fusing it with the built-in methods, reading the published results, scoring all.

A pair is a :class:`PairTask` (what is still missing) in, a :class:`PairResult` (rows, problems,
what is worth a note, the images to show) out: both plain data, so that a worker process
(:mod:`defusion.benchmark.workers`) can evaluate a pair as this process does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from defusion.benchmark.findings import Finding
from defusion.benchmark.methods import JPEG_MATCH, FuseFn, StoredAsJpeg
from defusion.benchmark.pairing import sizes_differ
from defusion.benchmark.results_csv import SECONDS, Row
from defusion.benchmark.scored_images import (as_scored, grey_stored_as_rgb, in_eight_bits, raw_thermal_band,
                                              read_source, viewable)
from defusion.errors import said_gone_on
from defusion.io.errors import ImageReadError
from defusion.io.formats import DEFAULT_MAX_PIXELS
from defusion.io.front_end import reading_for
from defusion.io.images import read_image
from defusion.io.jpeg import stored_quality
from defusion.io.notes import collecting

#: What is told as a method starts on a pair, before its timer starts: (pair's stem, method, its place among
#: the pair's methods to run, counted from 1, their number). The bench's progress (:mod:`defusion.benchmark.runner`).
OnMethod = Callable[[str, str, int, int], None]


@dataclass
class PairTask:
    """One pair to evaluate: what is missing and where the published results are."""

    stem: str
    path_a: Path
    path_b: Path
    todo: dict[str, list[str]]  # method -> metrics still to compute
    published: dict[str, Path]  # method -> its fused result of this pair
    published_order: list[str]
    timed: set[str]  # methods whose wall time on this pair is already recorded
    save_dir: Path | None
    fuse: list[str]  # the built-in methods to run: those with something missing
    max_pixels: int = DEFAULT_MAX_PIXELS  # the bound on every file read: sources and published results


@dataclass
class PairResult:
    """What evaluating a pair gave: the images to show (``a`` None where a source could not be
    read), its rows and problems, and what is worth a note (:func:`~defusion.benchmark.findings.say_found`)."""

    outputs: dict[str, np.ndarray]
    a: np.ndarray | None
    b: np.ndarray | None
    rows: list[Row]
    problems: list[str]
    narrow: list[tuple[str, float, float]] = field(default_factory=list)  # raw thermal sources: path, low, high
    grey_rgb: dict[str, str] = field(default_factory=dict)  # method -> a result of it grey stored as RGB
    said: list[str] = field(default_factory=list)  # lines gathered while evaluating (notes.collecting)
    found: list[Finding] = field(default_factory=list)  # said per method or folder at the end of the run


def evaluate_pair(task: PairTask, methods: dict[str, FuseFn], on_method: OnMethod | None = None) -> PairResult:
    """:func:`_evaluate`, with the lines its reading and fusing say gathered into the result, for the
    process that runs the benchmark to say (:func:`~defusion.benchmark.findings.say_found`): a worker's
    would repeat in each worker. ``on_method(stem, name, k, n)`` is told as each method starts, the k-th
    of the n to run, before its time is taken (a progress bar's refresh is not the method's time)."""
    with collecting() as said, reading_for("bench"):  # what reading found, in bench's words (its hint: --max-pixels)
        result = _evaluate(task, methods, on_method)
    result.said = said
    return result


def _evaluate(task: PairTask, methods: dict[str, FuseFn], on_method: OnMethod | None = None) -> PairResult:
    """Fuse one pair with every built-in method, read the published results and score them."""
    stem = task.stem
    try:
        (a, a_scored, found_a), (b, b_scored, found_b) = (read_source(task.path_a, task.max_pixels),
                                                          read_source(task.path_b, task.max_pixels))
    except ImageReadError as exc:
        return PairResult({}, None, None, [], [f"{stem}: {exc}"])
    if a.shape[:2] != b.shape[:2]:  # where the headers did not tell (a camera raw file, ...)
        return PairResult({}, None, None, [], [sizes_differ(stem, a.shape[1::-1], b.shape[1::-1])])
    bands = ((path, raw_thermal_band(image)) for path, image in ((task.path_a, a), (task.path_b, b)))
    narrow = [(str(path), *band) for path, band in bands if band is not None]
    sources = [a_scored, b_scored]
    outputs, rows, problems = _fused_by_methods(task, methods, a, b, sources, on_method)  # as scored: uint8
    published, stored, found, unusable = _published_results(task, a.shape[:2])  # as scored: floats
    outputs.update(published)
    problems += unusable
    grey_rgb = {name: str(task.published.get(name, f"its result of {stem}")) for name, fused in outputs.items()
                if task.todo[name] and grey_stored_as_rgb(stored.get(name, fused))}
    scores, skipped, misread = _scores(task, outputs, sources)
    return PairResult({name: viewable(fused) for name, fused in outputs.items()}, viewable(a_scored),
                      viewable(b_scored), rows + scores, problems + skipped, narrow=narrow, grey_rgb=grey_rgb,
                      found=[*found_a, *found_b, *found, *misread])


def _fused_by_methods(task: PairTask, methods: dict[str, FuseFn], a: np.ndarray, b: np.ndarray,
                      sources: list[np.ndarray], on_method: OnMethod | None = None
                      ) -> tuple[dict[str, np.ndarray], list[Row], list[str]]:
    """The pair fused by each built-in method ``task.fuse`` names, as scored (uint8; a JPEG round trip
    for :class:`StoredAsJpeg`, at the pair's published results' quality for ``JPEG_MATCH``), saved to ``task.save_dir`` where given; the rows of their times (of those
    not timed before) and a problem per method failing, or giving a result ``sources`` do not fit.
    ``on_method`` is told of each as it starts, outside the time taken."""
    from defusion.metrics import check_images
    from defusion.metrics._inputs import input_warnings

    outputs: dict[str, np.ndarray] = {}
    rows: list[Row] = []
    problems: list[str] = []
    pair_quality = stored_quality(task.published.values()) if any(
        isinstance(fn, StoredAsJpeg) and fn.quality == JPEG_MATCH for fn in methods.values()) else None
    run = [name for name in methods if name in task.fuse]  # the others were scored, timed (and saved) before
    for place, name in enumerate(run, 1):
        fn = methods[name]
        if on_method is not None:  # before the timer: the progress shown is no part of the method's time
            on_method(task.stem, name, place, len(run))
        try:
            start = time.perf_counter()
            fused = in_eight_bits(fn.fuse(a, b) if isinstance(fn, StoredAsJpeg) else fn(a, b))
            seconds = time.perf_counter() - start  # the fusion's: a JPEG round trip is not the method's time
            if isinstance(fn, StoredAsJpeg):
                fused = fn.stored(fused, pair_quality)
            # a result of another size or layout fails the method; quiet: what the metrics warn of a source is
            # said once per pair, naming its file, when it is scored (_scores), not here again per method
            with input_warnings(_unsaid):
                check_images(fused, sources)
            if name not in task.timed:
                rows.append(Row(name, task.stem, SECONDS, seconds))
        except Exception as exc:  # noqa: BLE001 - one method failing on one pair is data
            problems.append(f"{task.stem}: {name} failed: {said_gone_on(exc)}")  # traced where asked
            continue
        outputs[name] = fused
        if task.save_dir is not None:
            from defusion.io.writing import write_image

            write_image(task.save_dir / name / f"{task.stem}.png", fused)
    return outputs, rows, problems


def _unsaid(label: str, what: str, message: str) -> None:
    """An :func:`~defusion.metrics._inputs.input_warnings` listener that says nothing."""


def _published_results(task: PairTask, size: tuple[int, ...]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray],
                                                                        list[Finding], list[str]]:
    """The pair's published results as scored, and as their files hold them (to judge their content),
    what is worth a note (8-bit values stored in 16 bits), and a problem per result missing,
    unreadable (over ``task.max_pixels`` too) or not of the sources' ``size`` (H, W)."""
    outputs: dict[str, np.ndarray] = {}
    stored: dict[str, np.ndarray] = {}
    found: list[Finding] = []
    problems: list[str] = []
    for name in task.published_order:
        if name not in task.published:
            problems.append(f"{task.stem}: no result of {name}")
            continue
        try:
            stored[name] = read_image(task.published[name], task.max_pixels, floats="levels")
        except ImageReadError as exc:
            problems.append(f"{task.stem}: {name}: {exc}")
            continue
        fused, eight_bit = as_scored(stored[name])
        if eight_bit:
            found.append(Finding("eight-bit", name, str(task.published[name]), source=False))
        if fused.shape[:2] != size:
            problems.append(f"{task.stem}: {name} result is {fused.shape[1]}x{fused.shape[0]}, "
                            f"sources are {size[1]}x{size[0]}; left out")
            continue
        outputs[name] = fused
    return outputs, stored, found, problems


def _scores(task: PairTask, outputs: dict[str, np.ndarray], sources: list[np.ndarray]
            ) -> tuple[list[Row], list[str], list[Finding]]:
    """The rows of the metrics ``task.todo`` still wants of each result in ``outputs``, a problem
    per metric that could not be computed (per result where none could: an image under 2x2), and what
    the metrics warned of a result (floats they may misread: :func:`_metric_readings`)."""
    from defusion.metrics import MetricInputError, compute_each, shared_inputs
    from defusion.metrics._inputs import input_warnings

    rows: list[Row] = []
    problems: list[str] = []
    found: list[Finding] = []
    sources_read = {"a": task.path_a, "b": task.path_b}
    with shared_inputs(sources=True):  # each source converted, and its own quantities (edges, window statistics,
        # levels) computed, once for all methods of the pair (its sources, read for it, never change in place);
        # dropped at the block's end, never another pair's
        for name, fused in outputs.items():
            if not task.todo[name]:
                continue
            warned: list[tuple[str, str, str]] = []
            try:
                with input_warnings(lambda label, what, message: warned.append((label, what, message))):
                    values, skipped = compute_each(fused, sources, task.todo[name])
            except MetricInputError as exc:  # an image no metric takes (1x1): this result left out, not the run
                problems.append(f"{task.stem}: {name}: {exc}")
                continue
            finally:
                found += _metric_readings(task, name, warned, sources_read)
            rows += [Row(name, task.stem, metric, float(value)) for metric, value in values.items()]
            problems += [f"{task.stem}: {name}: {metric} not computed ({why})" for metric, why in skipped.items()]
    return rows, problems, found


def _metric_readings(task: PairTask, name: str, warned: list[tuple[str, str, str]], sources: dict[str, Path]
                     ) -> list[Finding]:
    """What the metrics warned of while scoring method ``name``'s result of the pair (``warned``:
    ``(label, what, message)``, :func:`~defusion.metrics._inputs.input_warnings`): of the result, a
    :class:`Finding` said once per method at the end of the run
    (:func:`~defusion.benchmark.findings.reading_warnings`), naming the method and the pair; of a source
    (the first method's scoring says it), a warning naming its file, said now."""
    from defusion.io.notes import warn

    found = []
    for label, what, message in warned:
        if label in sources:
            warn(f"{sources[label]}: {message}")
            continue
        path = str(task.published.get(name, f"its result of {task.stem}"))
        found.append(Finding(what, name, path, message, source=False, pair=task.stem))
    return found
