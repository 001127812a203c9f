"""Evaluating one pair: fusing it with the built-in methods, reading the published results, scoring all.

A pair is a :class:`PairTask` (what is still missing) in, a :class:`PairResult` (rows, problems,
what is worth a note, the images to show) out: both plain data, so that a worker process
(:mod:`defusion.benchmark.workers`) can evaluate a pair as this process does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from defusion.benchmark.findings import Finding
from defusion.benchmark.methods import FuseFn, StoredAsJpeg
from defusion.benchmark.pairing import sizes_differ
from defusion.benchmark.results_csv import SECONDS, Row
from defusion.benchmark.scored_images import as_scored, grey_stored_as_rgb, in_eight_bits, read_source, viewable
from defusion.fusion.stretch import is_narrow, value_range
from defusion.io.images import ImageReadError, read_image
from defusion.io.notes import collecting


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


def evaluate_pair(task: PairTask, methods: dict[str, FuseFn]) -> PairResult:
    """:func:`_evaluate`, with the lines its reading and fusing say gathered into the result, for the
    process that runs the benchmark to say (:func:`~defusion.benchmark.findings.say_found`): a worker's
    would repeat in each worker."""
    with collecting() as said:
        result = _evaluate(task, methods)
    result.said = said
    return result


def _evaluate(task: PairTask, methods: dict[str, FuseFn]) -> PairResult:
    """Fuse one pair with every built-in method, read the published results and score them."""
    from defusion.metrics import check_images, compute_each, shared_inputs

    stem, rows, problems = task.stem, [], []
    try:
        (a, a_scored, found_a), (b, b_scored, found_b) = read_source(task.path_a), read_source(task.path_b)
    except ImageReadError as exc:
        return PairResult({}, None, None, [], [f"{stem}: {exc}"])
    found = [*found_a, *found_b]
    if a.shape[:2] != b.shape[:2]:  # where the headers did not tell (a camera raw file, ...)
        return PairResult({}, None, None, [], [sizes_differ(stem, a.shape[1::-1], b.shape[1::-1])])
    narrow = [(str(path), *value_range(image)) for path, image in ((task.path_a, a), (task.path_b, b))
              if is_narrow(image)]
    outputs: dict[str, np.ndarray] = {}  # as scored: uint8, or a published result's floats
    for name, fn in methods.items():
        if name not in task.fuse:  # scored, timed (and saved) before: not run again
            continue
        try:
            start = time.perf_counter()
            fused = in_eight_bits(fn.fuse(a, b) if isinstance(fn, StoredAsJpeg) else fn(a, b))
            seconds = time.perf_counter() - start  # the fusion's: a JPEG round trip is not the method's time
            if isinstance(fn, StoredAsJpeg):
                fused = fn.stored(fused)
            check_images(fused, [a_scored, b_scored])  # a result of another size or layout fails the method
            if name not in task.timed:
                rows.append(Row(name, stem, SECONDS, seconds))
        except Exception as exc:  # noqa: BLE001 - one method failing on one pair is data
            problems.append(f"{stem}: {name} failed: {exc}")
            continue
        outputs[name] = fused
        if task.save_dir is not None:
            from defusion.io.writing import write_image

            write_image(task.save_dir / name / f"{stem}.png", fused)
    stored: dict[str, np.ndarray] = {}  # published results as their files hold them, to judge their content
    for name in task.published_order:
        if name not in task.published:
            problems.append(f"{stem}: no result of {name}")
            continue
        try:
            stored[name] = read_image(task.published[name], floats="levels")
        except ImageReadError as exc:
            problems.append(f"{stem}: {name}: {exc}")
            continue
        fused, eight_bit = as_scored(stored[name])
        if eight_bit:
            found.append(Finding("eight-bit", name, str(task.published[name]), source=False))
        if fused.shape[:2] != a.shape[:2]:
            problems.append(f"{stem}: {name} result is {fused.shape[1]}x{fused.shape[0]}, "
                            f"sources are {a.shape[1]}x{a.shape[0]}; left out")
            continue
        outputs[name] = fused
    grey_rgb = {name: str(task.published.get(name, f"its result of {stem}")) for name, fused in outputs.items()
                if task.todo[name] and grey_stored_as_rgb(stored.get(name, fused))}
    with shared_inputs():  # decode/convert each source once for all methods
        for name, fused in outputs.items():
            if not task.todo[name]:
                continue
            values, skipped = compute_each(fused, [a_scored, b_scored], task.todo[name])
            rows += [Row(name, stem, metric, float(value)) for metric, value in values.items()]
            problems += [f"{stem}: {name}: {metric} not computed ({why})" for metric, why in skipped.items()]
    return PairResult({name: viewable(fused) for name, fused in outputs.items()}, viewable(a_scored),
                      viewable(b_scored), rows, problems, narrow=narrow, grey_rgb=grey_rgb, found=found)
