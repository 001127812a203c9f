"""Running fusion methods over a benchmark's pairs and scoring them with one metric code.

Every method, built-in or published (a folder of fused results), is scored by the same
:mod:`defusion.metrics` functions on the same decoded sources, so the table compares methods,
not evaluation scripts. Files are read for scoring as :func:`read_scored` reads them, which
``defusion metrics`` uses too, so that both commands score a file alike.
"""

from __future__ import annotations

import csv
import io
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from defusion.fusion.color import is_grey, to_uint8
from defusion.io.arrays import MAX_8BIT, holds_eight_bit_values
from defusion.fusion.fuser import PAPER_OPTIONS
from defusion.fusion.stretch import is_narrow, value_range
from defusion.io.images import ImageReadError, header_size, read_image, stores_floats
from defusion.io.notes import collecting, listed, note, plural, say, split_line
from defusion.io.pairs import (STEM_FIELD, images_by_stem, is_stem_pattern, left_out, match_pairs, results_by_stem,
                               results_folder, stem_clashes)
from defusion.io.writing import write_bytes_atomically

#: Metrics reported per task by default (short names of defusion.metrics.METRICS).
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "ivf": ("EN", "SD", "SF", "AG", "EI", "MI", "CE", "PSNR", "RMSE", "Qabf", "Qcb", "Qcv", "SSIM",
            "VIF", "CC", "SCD", "Nabf"),
    "mef": ("MEF-SSIM", "MS-MEF-SSIM", "SSIM", "SSIM-mean", "PSNR-standard", "EN", "SD", "SF", "AG",
            "Qabf", "MI", "CC"),
    "mff": ("Qabf", "MI", "SSIM", "SSIM-mean", "CC", "SCD", "VIF", "Nabf", "SF", "AG", "EN", "SD"),
}
#: The pseudo-metric holding a built-in method's wall time per pair.
SECONDS = "seconds"

#: Built-in DeFusion variants: FuseOptions on top of the task's defaults (``defusion``, what
#: ``defusion fuse --task`` runs). ``-network`` is the network's reconstruction at the task's gains
#: and the default scale (for ``--task mff``, which takes the pixels from the sources, the paper's
#: fusion; for the other tasks the same as ``defusion``); ``-sources`` picks the pixels from the
#: sources (FuseOptions.pixels), at scale 1 unless ``-x2``. The others are variants of the
#: reconstruction: the colour mode (see defusion.fusion.color), the inference scale
#: (defusion.fusion.resample) or the unique gain (FuseOptions.unique_gain; ``defusion-g1`` is the
#: paper's Pr) and the detail gain (FuseOptions.detail_gain: ``-dD``; without it, the one that goes
#: with the unique gain). ``defusion-paper`` is the paper's inference with the shipped weights: Pr of
#: RGB sources at scale 1, unique and detail gain 1.
DEFUSION_VARIANTS: dict[str, dict] = {
    "defusion": {}, "defusion-network": {"pixels": "network"},
    "defusion-paper": PAPER_OPTIONS,
    "defusion-rgb": {"pixels": "network", "color": "rgb"}, "defusion-ycbcr": {"pixels": "network", "color": "ycbcr"},
    **{f"defusion-x{s}": {"pixels": "network", "scale": s} for s in (1, 2, 3)},
    **{f"defusion-g{g:g}": {"pixels": "network", "unique_gain": g} for g in (1.0, 1.25, 1.5, 1.75, 2.0)},
    "defusion-sources": {"pixels": "sources"}, "defusion-sources-x2": {"pixels": "sources", "scale": 2},
    **{f"defusion-g{g:g}-d{d:g}": {"pixels": "network", "unique_gain": g, "detail_gain": d}
       for g, d in ((1.0, 1.25), (1.0, 1.5), (1.0, 1.75), (1.0, 2.0), (1.25, 1.25), (1.25, 2.0))},
}

FuseFn = Callable[[np.ndarray, np.ndarray], np.ndarray]


def read_scored(path: str | Path, quiet: bool = False) -> np.ndarray:
    """``path`` as the metrics score it: EXIF-upright; float pixels as the float32 values they are
    (``read_image(floats="levels")``: unquantised, where they lie in [0, 1] or on 0..255, the two scales
    :mod:`defusion.metrics` takes a float array on, so that the file scores as its array does with
    :func:`~defusion.metrics.compute_metrics`; any other range an ImageReadError); integer pixels in
    8 bits (16-bit rounded to 8 bits), with a note where a 16-bit file holds only 8-bit values
    (:func:`~defusion.io.arrays.holds_eight_bit_values`; ``quiet``: not said, for a file read again to be shown). ``defusion
    metrics`` reads every file so and ``defusion bench`` its published results and sources
    (:func:`_read_source`), so that both commands score a file alike.

    Example:
        >>> import tempfile, tifffile
        >>> path = Path(tempfile.mkdtemp()) / "fused.tif"
        >>> tifffile.imwrite(path, np.array([[60.5, 187.0], [90.0, 120.25]], np.float32))  # 0..255 floats
        >>> read_scored(path).tolist()  # as stored; fusion input would be stretched to 0..65535
        [[60.5, 187.0], [90.0, 120.25]]
    """
    image, eight_bit = _scored_file(path)
    if eight_bit and not quiet:  # bench's wording for one file, said here per file
        note(*_finding_notes([_Finding("eight-bit", str(Path(path).parent), str(path))]))
    return image


def viewable(scored: np.ndarray) -> np.ndarray:
    """An image as :func:`read_scored` gives it, as uint8 to be shown (a comparison grid): float
    values by the scale the metrics read them on (:func:`~defusion.metrics._utils.float_scale`).

    Example:
        >>> viewable(np.array([[0.0, 0.5, 1.0]], np.float32)).tolist()  # [0, 1]
        [[0, 128, 255]]
        >>> viewable(np.array([[0.0, 60.4, 255.0]])).tolist()  # 0..255
        [[0, 60, 255]]
    """
    if scored.dtype.kind != "f":
        return _in_eight_bits(scored)
    from defusion.metrics._utils import float_scale

    scale = float_scale(float(scored.min()), float(scored.max())) or 1.0
    return np.round(np.clip(scored.astype(np.float64) * scale, 0, MAX_8BIT)).astype(np.uint8)


def _scored_file(path: str | Path) -> tuple[np.ndarray, bool]:
    """:func:`read_scored` with nothing said: the image, and whether it is a 16-bit file of 8-bit values."""
    return _as_scored(read_image(path, floats="levels"))


def _as_scored(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """A decoded image as scored (floats as they are, integers in 8 bits: 16-bit rounded as the
    metrics round a uint16 array, :func:`~defusion.metrics._utils.eight_bit_levels`), and whether it
    holds 8-bit values in 16 bits (:func:`~defusion.io.arrays.holds_eight_bit_values`)."""
    if image.dtype.kind == "f":
        return image, False
    # 8-bit values saved as 16-bit (what ``uint16(img)`` writes) score as 16-bit data, near black (EN 0.99
    # and SSIM 0.03 for a fusion whose 8-bit file scores 7.1 and 1.25): said in a note, not converted,
    # since a 16-bit image that dark is also what some file may mean
    return _in_eight_bits(image), holds_eight_bit_values(image)


def _in_eight_bits(image: np.ndarray) -> np.ndarray:
    """A uint8, uint16 or [0, 1] float image (a decoded file, a method's output) in 8 bits: uint16
    (either byte order) as the metrics score a uint16 array, by the one rounding of 16 bits to 8 they
    all use; anything else as :func:`~defusion.fusion.color.to_uint8` takes it, which refuses other
    types (TypeError: an int64 0..255 result is not read as 16-bit data, near black)."""
    from defusion.metrics._utils import _is_uint16, eight_bit_levels

    return eight_bit_levels(image) if _is_uint16(image) else to_uint8(image)


@dataclass(frozen=True)
class _Finding:
    """Something reading a file for a run found worth a note, said once per ``kind`` and ``group``
    at the end of the run, naming the first file and counting the others (:func:`_finding_notes`)."""

    kind: str  # "eight-bit", "float-scale" (fused stretched, scored on its scale), "float-stretched"
    group: str  # the method whose result it is, or the folder of the source
    path: str
    detail: str = ""  # float-scale: the scale; float-stretched: the values' span
    source: bool = True  # a source (grouped by folder), else a method's result


def _read_source(path: Path) -> tuple[np.ndarray, np.ndarray, list[_Finding]]:
    """A source as the methods fuse it (:func:`read_image`: floats stretched, as ``defusion fuse`` reads
    them), as the metrics score it (:func:`read_scored`), and what is worth a note: decoded once, or
    twice where it stores floats. A float source whose two readings differ is noted; one on neither
    scale the metrics take (a radiometric frame in degrees or Kelvin) is scored as it is fused,
    stretched, and noted, rather than leaving its pair out."""
    from defusion.io.images import FloatRangeError, float_stretched
    from defusion.metrics._utils import float_scale

    image, folder = read_image(path), str(path.parent)
    if not stores_floats(path):
        scored, eight_bit = _as_scored(image)
        return image, scored, [_Finding("eight-bit", folder, str(path))] if eight_bit else []
    try:
        scored = read_image(path, floats="levels")
    except FloatRangeError as exc:
        return image, _in_eight_bits(image), [_Finding("float-stretched", folder, str(path),
                                                        f"{exc.low:.6g}..{exc.high:.6g}")]
    lo, hi = float(scored.min()), float(scored.max())
    on_levels = float_scale(lo, hi) == 1
    if not float_stretched(lo, hi) or (on_levels and lo == 0 and hi == MAX_8BIT):  # the stretch changes nothing
        return image, scored, []
    return image, scored, [_Finding("float-scale", folder, str(path), "0..255" if on_levels else "[0, 1], clipped")]


def _finding_notes(found: list[_Finding]) -> list[str]:
    """One note per kind of finding and method or source folder (and scale), naming the first file
    and how many there are: a folder of 100 such files is one line, not 100."""
    groups: dict[tuple[str, str, str, bool], list[_Finding]] = {}
    for f in found:
        groups.setdefault((f.kind, f.group, f.detail if f.kind == "float-scale" else "", f.source), []).append(f)
    notes = []
    for (kind, group, _, source), items in groups.items():
        first, count = items[0], len({f.path for f in items})
        one = count == 1
        if source:
            files = first.path if one else f"{count} sources in {group} (e.g. {first.path})"
        else:
            files = f"{group}'s result {first.path}" if one else f"{count} results of {group} (e.g. {first.path})"
        it, its, they = ("it", "its", "is") if one else ("them", "their", "are")
        if kind == "eight-bit":
            notes.append(f"{files} {they} {'a 16-bit file' if one else '16-bit files'} whose values are all <= "
                         f"{MAX_8BIT} (8-bit values saved as 16-bit?): scored as 16-bit, near black (save {it} as "
                         f"8-bit to score {its} 8-bit values)")
        elif kind == "float-scale":
            notes.append(f"{files} hold{'s' if one else ''} float pixels outside [0, 1]: the methods fuse {it} "
                         f"stretched from {its} minimum to {its} maximum (as defusion fuse reads {it}), the metrics "
                         f"score {it} on {its} own scale ({first.detail})")
        elif one:
            notes.append(f"{files} holds float pixels spanning {first.detail}, neither 0..1 nor 0..255 (the scales the "
                         "metrics take; a radiometric frame in degrees or Kelvin?): scored as the methods fuse it, "
                         "stretched from its minimum to its maximum (defusion metrics refuses such a file)")
        else:
            notes.append(f"{count} sources in {group} (e.g. {first.path}, spanning {first.detail}) hold float pixels "
                         "on neither 0..1 nor 0..255 (the scales the metrics take; radiometric frames in degrees or "
                         "Kelvin?): scored as the methods fuse them, stretched from their minimum to their maximum "
                         "(defusion metrics refuses such files)")
    return notes


@dataclass
class Row:
    method: str
    image: str
    metric: str
    value: float


@dataclass
class BenchResult:
    """All rows plus what went wrong (reported, never fatal)."""

    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)


def builtin_method(name: str, weights: str | Path | None = None, device: str = "auto",
                   runtime: str = "auto", threads: int | None = None, task: str | None = None) -> FuseFn:
    """A callable fusing two decoded images (uint8/uint16) with a built-in method; every method
    returns the fused image in the sources' type, as the Fuser does.

    ``runtime`` is DeFusion's inference engine (see :mod:`defusion.fusion.runtime`);
    ``threads`` bounds its onnxruntime threads. DeFusion's variants start from ``task``'s
    options (``FuseOptions.for_task``: what ``defusion fuse --task`` does), then their own.
    """
    if name in DEFUSION_VARIANTS:
        from defusion.fusion.fuser import Fuser, task_options

        fuser = Fuser.from_pretrained(weights, device=device, runtime=runtime, threads=threads,
                                      **task_options(task, **DEFUSION_VARIANTS[name]))
        return fuser.fuse
    from defusion.baselines import BASELINES

    if name not in BASELINES:
        raise ValueError(f"unknown method {name!r}; built-in methods: {', '.join([*DEFUSION_VARIANTS, *BASELINES])}")
    baseline = BASELINES[name]

    def run(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        from defusion.fusion import color

        fa, fb = color.to_float(a), color.to_float(b)
        if not (color.is_grey(fa) and color.is_grey(fb)):
            fa, fb = color.as_rgb(fa), color.as_rgb(fb)
        elif fa.ndim == 3:
            fa, fb = color.luminance(fa), color.luminance(fb)
        elif fb.ndim == 3:
            fb = color.luminance(fb)
        fused = baseline(fa.astype(np.float32), fb.astype(np.float32))
        return color.from_float(fused, color.output_dtype(a, b))  # as DeFusion's: the sources' depth

    return run


def builtin_methods(names: list[str], weights: str | Path | None = None, device: str = "auto",
                    runtime: str = "auto", threads: int | None = None, task: str | None = None,
                    jpeg_quality: int | None = None) -> dict[str, FuseFn]:
    """{name: :func:`builtin_method`} for ``names``; with ``functools.partial`` a picklable
    recipe that lets each worker of ``run_benchmark(jobs=N)`` build its own methods.

    ``jpeg_quality``: each result then passes through a JPEG file of that quality (8 bits, 4:2:0;
    :func:`~defusion.io.jpeg.jpeg_round_trip`), as published results stored as JPEG did, so that
    both are scored after the same loss (VIFB's are quality 75)."""
    methods = {name: builtin_method(name, weights, device, runtime, threads, task) for name in names}
    if jpeg_quality is None:
        return methods
    return {name: StoredAsJpeg(fn, jpeg_quality) for name, fn in methods.items()}


class StoredAsJpeg:
    """A method whose result is what a JPEG file of ``quality`` would hold of it (:func:`builtin_methods`);
    ``fuse`` is the method itself, so that a run times the fusion alone, not the encoding."""

    def __init__(self, fuse: FuseFn, quality: int) -> None:
        self.fuse, self.quality = fuse, quality

    def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return self.stored(self.fuse(a, b))

    def stored(self, fused: np.ndarray) -> np.ndarray:
        """``fused`` (any type a method returns) after the JPEG round trip, in 8 bits."""
        from defusion.io.jpeg import jpeg_round_trip

        return jpeg_round_trip(_in_eight_bits(fused), self.quality)


def defusion_run_id(weights: str | Path | None = None, task: str | None = None) -> str:
    """What DeFusion's scores depend on besides a variant's own options: the weights (digest),
    the task's (or default) inference scale, unique gain, detail gain (where the task sets one)
    and pixels (where they come from the sources). A resumed bench recomputes DeFusion's rows
    when it changes."""
    from defusion.fusion.fuser import FuseOptions
    from defusion.model.weights import weights_digest

    defaults = FuseOptions.for_task(task)
    detail = "" if defaults.detail_gain is None else f"-d{defaults.detail_gain:g}"
    pixels = "-sources" if defaults.pixels == "sources" else ""
    return f"{weights_digest(weights)}-x{defaults.scale}-g{defaults.unique_gain:g}{detail}{pixels}"


def run_benchmark(
    dir_a: Path,
    dir_b: Path,
    methods: dict[str, FuseFn],
    fused_dirs: dict[str, Path],
    metrics: str | Iterable[str],
    save_dir: Path | None = None,
    limit: int | None = None,
    progress: bool = True,
    previous: list[Row] | None = None,
    jobs: int = 1,
    make_methods: Callable[..., dict[str, FuseFn]] | None = None,
    result: BenchResult | None = None,
) -> Iterator[tuple[str, dict[str, np.ndarray], np.ndarray | None, np.ndarray | None, BenchResult]]:
    """Yield (stem, {method: fused uint8}, a, b, result-so-far) pair by pair: the results and sources
    as uint8 to be shown (:func:`viewable`), whatever they were scored as (:func:`read_scored`).

    ``metrics``: metric names as :func:`defusion.metrics.metric_names` takes them (a list or one
    comma-separated string, any case, ``vifb`` for VIFB's 13, ``mefb`` for MEFB's 20); they are checked here, so an
    unknown name (or none) raises ``KeyError`` when this is called, not halfway through the pairs.

    ``fused_dirs``: {name: where a published method's results are}: a folder of files named after the
    pairs (``<pair>.<ext>``), or a file pattern in which :data:`~defusion.io.pairs.STEM_FIELD` stands for
    the pair (``results/{stem}_mine.png``, VIFB's ``fused_images/{stem}_CBF.jpg``) and, at its end,
    :data:`~defusion.io.pairs.EXT_FIELD` for any image extension (MFIFB's ``fused_images/{stem}_CNN.{ext}``,
    of .jpg, .png and .bmp files; :func:`~defusion.io.pairs.results_by_stem`).

    Built-in methods' outputs are written to ``save_dir/<method>/<stem>.png`` when given.
    A pair or result that cannot be read is recorded in ``result.problems`` and skipped; so is a
    pair whose two sources differ in size (from the headers, before anything is fused), which
    is then not one of ``result.images``. Files of a ``fused_dirs`` folder named after no pair
    are noted in ``result.problems`` too. Sources and results are scored as :func:`read_scored`
    reads them, but for a float source on neither scale the metrics take (a radiometric frame in
    degrees), scored as it is fused, stretched, rather than its pair left out; what reading found
    worth a note (those sources, 16-bit files of 8-bit values) is said at the end, one note per
    method or source folder naming the first file and how many.
    ``previous`` rows (an earlier run in the same folder) are kept, whatever their method or
    image, and not recomputed: a pair whose requested methods are all scored is yielded with no
    outputs and ``a = b = None``; in a pair with something missing only the methods with
    something missing (or not yet timed, or not yet saved to ``save_dir``) are run, and only the
    missing metrics are computed, so the outputs may lack a built-in method scored before.

    ``jobs > 1`` evaluates that many pairs at once in worker processes, each building its own
    methods with ``make_methods(threads=...)`` (picklable, e.g. a ``functools.partial`` of
    :func:`builtin_methods`) and sharing the cores; pairs are still yielded in order, with the
    same scores as ``jobs=1``. ``methods`` then only names the built-in methods.

    ``result``: the BenchResult to fill (a new one by default), so that a caller still has its
    ``problems`` where no pair could be evaluated, and so none was yielded.
    """
    from defusion.metrics import metric_names

    names = tuple(metric_names(metrics))
    return _benchmark_pairs(dir_a, dir_b, methods, fused_dirs, names, save_dir, limit, progress, previous, jobs,
                            make_methods, BenchResult() if result is None else result)


def evaluated_pairs(dir_a: Path, dir_b: Path, limit: int | None = None) -> list[tuple[str, Path, Path]]:
    """(stem, first source, second source) of the pairs :func:`run_benchmark` evaluates: the stems in
    both folders (:func:`~defusion.io.pairs.match_pairs`), the first ``limit`` of them; before those
    whose sources differ in size are left out (a problem then)."""
    return _limited(match_pairs(dir_a, dir_b)[0], limit)


def _limited(pairs: list[tuple[str, Path, Path]], limit: int | None) -> list[tuple[str, Path, Path]]:
    """The first ``limit`` of ``pairs`` (all without one): --limit, for :func:`evaluated_pairs` and the run alike."""
    return pairs[:limit] if limit else pairs


def _benchmark_pairs(
    dir_a: Path,
    dir_b: Path,
    methods: dict[str, FuseFn],
    fused_dirs: dict[str, Path],
    metrics: tuple[str, ...],
    save_dir: Path | None,
    limit: int | None,
    progress: bool,
    previous: list[Row] | None,
    jobs: int,
    make_methods: Callable[..., dict[str, FuseFn]] | None,
    result: BenchResult,
) -> Iterator[tuple[str, dict[str, np.ndarray], np.ndarray | None, np.ndarray | None, BenchResult]]:
    """:func:`run_benchmark`'s generator, given metric names as ``METRICS`` spells them."""
    from tqdm import tqdm

    every, unmatched = match_pairs(dir_a, dir_b)
    every_pair = [stem for stem, _, _ in every]
    pairs = _limited(every, limit)  # evaluated_pairs, from the match already made
    requested = [*methods, *fused_dirs]
    result.rows, result.methods = list(previous or []), list(requested)
    result.methods += sorted({r.method for r in result.rows} - set(requested))
    result.problems += [f"{stem}: no partner in the other folder" for stem in unmatched]
    published = {name: results_by_stem(where) for name, where in fused_dirs.items()}
    for folder in (dir_a, dir_b, *(where for where in fused_dirs.values() if not is_stem_pattern(where))):
        result.problems += stem_clashes(folder)  # a pattern names one file per pair
    for name, files in published.items():
        result.problems += _unpaired_results(name, fused_dirs[name], files, every_pair)
    pairs = _same_size_pairs(pairs, result.problems)
    stems = [stem for stem, _, _ in pairs]
    for name, files in published.items():
        if stems and not files.keys() & set(stems):
            raise ValueError(_no_result_of_a_pair(name, fused_dirs[name], files, stems))
    scored = _scored(result.rows)
    tasks = []
    for stem, path_a, path_b in pairs:
        todo = {name: [m for m in metrics if m not in scored.get((name, stem), ())]
                for name in requested if name in methods or stem in published[name]}
        files = {name: published[name][stem] for name in fused_dirs if stem in published[name]}
        needed = previous is None or any(todo.values())
        timed = {name for name in methods if SECONDS in scored.get((name, stem), ())}
        fuse = [name for name in methods if todo[name] or name not in timed
                or (save_dir is not None and not (save_dir / name / f"{stem}.png").is_file())]
        tasks.append(_PairTask(stem, path_a, path_b, todo, files, list(fused_dirs), timed, save_dir, fuse)
                     if needed else stem)
    work = [t for t in tasks if not isinstance(t, str)]
    if jobs > 1 and make_methods is not None and len(work) > 1:
        evaluated = _evaluate_in_workers(work, make_methods, jobs)
    else:
        evaluated = (_evaluate_pair(task, methods) for task in work)
    told: set[tuple[str, str]] = set()  # what _say_found said once in this run
    found: list[_Finding] = []  # said at the end, one note per kind and method or folder
    for task in tqdm(tasks, desc="benchmark", unit="pair", disable=not progress, file=sys.stderr):
        if isinstance(task, str):  # scored in an earlier run
            result.images.append(task)
            yield task, {}, None, None, result
            continue
        pair = next(evaluated)
        _say_found(pair, told)
        found += pair.found
        result.problems += pair.problems
        if pair.a is None:  # a source could not be read
            continue
        result.images.append(task.stem)
        result.rows += pair.rows
        yield task.stem, pair.outputs, pair.a, pair.b, result
    for line in _finding_notes(found):
        note(line)


@dataclass
class _PairTask:
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
class _PairResult:
    outputs: dict[str, np.ndarray]
    a: np.ndarray | None
    b: np.ndarray | None
    rows: list[Row]
    problems: list[str]
    narrow: list[tuple[str, float, float]] = field(default_factory=list)  # raw thermal sources: path, low, high
    grey_rgb: dict[str, str] = field(default_factory=dict)  # method -> a result of it grey stored as RGB
    said: list[str] = field(default_factory=list)  # lines gathered while evaluating (notes.collecting)
    found: list[_Finding] = field(default_factory=list)  # said per method or folder at the end of the run


def _evaluate_pair(task: _PairTask, methods: dict[str, FuseFn]) -> _PairResult:
    """:func:`_evaluate`, with the lines its reading and fusing say gathered into the result, for the
    process that runs the benchmark to say (:func:`_say_found`): a worker's would repeat in each worker."""
    with collecting() as said:
        result = _evaluate(task, methods)
    result.said = said
    return result


def _evaluate(task: _PairTask, methods: dict[str, FuseFn]) -> _PairResult:
    """Fuse one pair with every built-in method, read the published results and score them."""
    from defusion.metrics import check_images, compute_each, shared_inputs

    stem, rows, problems = task.stem, [], []
    try:
        (a, a_scored, found_a), (b, b_scored, found_b) = _read_source(task.path_a), _read_source(task.path_b)
    except ImageReadError as exc:
        return _PairResult({}, None, None, [], [f"{stem}: {exc}"])
    found = [*found_a, *found_b]
    if a.shape[:2] != b.shape[:2]:  # where the headers did not tell (a camera raw file, ...)
        return _PairResult({}, None, None, [], [_sizes_differ(stem, a.shape[1::-1], b.shape[1::-1])])
    narrow = [(str(path), *value_range(image)) for path, image in ((task.path_a, a), (task.path_b, b))
              if is_narrow(image)]
    outputs: dict[str, np.ndarray] = {}  # as scored: uint8, or a published result's floats
    for name, fn in methods.items():
        if name not in task.fuse:  # scored, timed (and saved) before: not run again
            continue
        try:
            start = time.perf_counter()
            fused = _in_eight_bits(fn.fuse(a, b) if isinstance(fn, StoredAsJpeg) else fn(a, b))
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
        fused, eight_bit = _as_scored(stored[name])
        if eight_bit:
            found.append(_Finding("eight-bit", name, str(task.published[name]), source=False))
        if fused.shape[:2] != a.shape[:2]:
            problems.append(f"{stem}: {name} result is {fused.shape[1]}x{fused.shape[0]}, "
                            f"sources are {a.shape[1]}x{a.shape[0]}; left out")
            continue
        outputs[name] = fused
    grey_rgb = {name: str(task.published.get(name, f"its result of {stem}")) for name, fused in outputs.items()
                if task.todo[name] and _grey_stored_as_rgb(stored.get(name, fused))}
    with shared_inputs():  # decode/convert each source once for all methods
        for name, fused in outputs.items():
            if not task.todo[name]:
                continue
            values, skipped = compute_each(fused, [a_scored, b_scored], task.todo[name])
            rows += [Row(name, stem, metric, float(value)) for metric, value in values.items()]
            problems += [f"{stem}: {name}: {metric} not computed ({why})" for metric, why in skipped.items()]
    return _PairResult({name: viewable(fused) for name, fused in outputs.items()}, viewable(a_scored),
                       viewable(b_scored), rows, problems, narrow=narrow, grey_rgb=grey_rgb, found=found)


#: How a grey result stored as RGB is scored, said by ``defusion bench`` (per method) and ``defusion metrics``.
GREY_RGB_SCORED = ("scored per colour channel, as VIFB scores a colour result (against a colour source's R, G "
                   "and B rather than its rgb2gray; SF with the channels side by side)")


def _grey_stored_as_rgb(image: np.ndarray) -> bool:
    """Whether a result, as its file holds it (not as rounded to be scored: 8-bit values saved as
    16-bit round to near-black levels 0 and 1, grey whatever their colours), is grey in three channels:
    judged on the 8-bit scale where a 16-bit file holds only 8-bit values (:func:`~defusion.io.arrays.holds_eight_bit_values`),
    on its type's full scale otherwise (:func:`~defusion.fusion.color.is_grey`)."""
    return image.ndim == 3 and is_grey(image, MAX_8BIT if holds_eight_bit_values(image) else None)


def _say_found(pair: _PairResult, told: set[tuple[str, str]]) -> None:
    """Say what evaluating a pair found worth a line, here (not in a worker, where lines would repeat
    in each): the lines its reading and fusing said, the first narrow source of the run, and each
    method's results grey stored as RGB, once per method. ``told`` holds what was said once already:
    ``("narrow", "")``, ``("grey-rgb", method)``."""
    for line in pair.said:
        say(*split_line(line))
    for path, lo, hi in pair.narrow:
        if ("narrow", "") not in told:
            told.add(("narrow", ""))
            note(f"{path} holds 16-bit values {lo:.0f}-{hi:.0f} ({(hi - lo) / 655.35:.0f}% of the range, as raw "
                 "thermal frames do): DeFusion stretches such a source to the full range before fusing, the "
                 "baselines and the metrics take it as it is, so they compare different inputs; stretch the "
                 "sources first (e.g. to 8-bit) to compare like with like (said once, of the first such source)")
    for name, example in pair.grey_rgb.items():
        if ("grey-rgb", name) not in told:
            told.add(("grey-rgb", name))
            note(f"{name}'s results are grey stored as RGB (R = G = B; e.g. {example}): {GREY_RGB_SCORED}, so they "
                 "score otherwise than the same pixels in 1-channel files, which score as grey")




def _same_size_pairs(pairs: list[tuple[str, Path, Path]], problems: list[str]) -> list[tuple[str, Path, Path]]:
    """``pairs`` less those whose sources' headers give different sizes, each noted in ``problems``:
    no method or metric can take such a pair, and counting it would mix means over different pairs."""
    kept = []
    for stem, path_a, path_b in pairs:
        size_a, size_b = header_size(path_a), header_size(path_b)
        if size_a is not None and size_b is not None and size_a != size_b:
            problems.append(_sizes_differ(stem, size_a, size_b))
        else:
            kept.append((stem, path_a, path_b))
    return kept


def _sizes_differ(stem: str, size_a: tuple[int, int], size_b: tuple[int, int]) -> str:
    """The note on a pair left out because its sources differ in size (no method, no metric can take it)."""
    return f"{stem}: the sources differ in size ({size_a[0]}x{size_a[1]} vs {size_b[0]}x{size_b[1]}); left out"


def _unpaired_results(name: str, where: Path, files: dict[str, Path], pairs: list[str]) -> list[str]:
    """Notes on what a ``--fused`` folder holds besides results of ``pairs``: images named after no
    pair (with the pair a name matches but for case: stems are matched exactly) and other files,
    as the source folders' are noted, so that a misnamed result is not passed over silently. Of a
    pattern (:func:`~defusion.io.pairs.is_stem_pattern`), the files it matches named after no pair
    only: its folder may hold other methods' results too (VIFB's ``<image>_<method>.jpg``)."""
    known = set(pairs)
    by_lower = {stem.lower(): stem for stem in pairs}
    stray = [files[stem].name for stem in sorted(files) if stem not in known]
    pattern = is_stem_pattern(where)
    notes = [] if pattern else [f"--fused {name}: {where}: left out {line}" for line in left_out(where)]
    if stray:
        hints = [f"{files[stem].name} for the pair {by_lower[stem.lower()]}?" for stem in sorted(files)
                 if stem not in known and stem.lower() in by_lower]
        matching = f" matching {Path(where).name}" if pattern else ""
        notes.append(f"--fused {name}: {plural(len(stray), 'file')}{matching} named after no pair, "
                     f"left out: {listed(stray)}"
                     + (f" (names must match a pair's exactly, case included: {listed(hints)})" if hints else ""))
    return notes


def _no_result_of_a_pair(name: str, where: Path, files: dict[str, Path], stems: list[str]) -> str:
    """The error of a ``--fused`` folder or pattern (``where``) whose ``files`` are of none of the pairs
    (``stems``): the name the first pair's result would have, a name found (one starting with the pair's,
    where there is one) and, where a found name holds a pair's, the pattern that would match such names."""
    stem, folder = stems[0], results_folder(where)
    pattern = Path(where).name if is_stem_pattern(where) else f"{STEM_FIELD}.png"
    if not is_stem_pattern(where):
        what = f"none of the {len(files)} image files in {folder} is named after a pair"
    elif files:
        what = f"none of the {len(files)} files in {folder} matching {pattern} is named after a pair"
    else:
        what = f"no file in {folder} matches {pattern}"
    found = list(files.values()) or list(images_by_stem(folder).values())
    example = next((p for p in found if p.name.startswith(stem)), found[0] if found else None)
    message = (f"--fused {name}: {what} (expected e.g. {pattern.replace(STEM_FIELD, stem)} for the pair {stem}; "
               + (f"found e.g. {example.name})" if example else f"{folder} holds no image file)"))
    suggested = _suggested_pattern(example.name, stems) if example else None
    if suggested is not None and suggested != pattern:
        message += f"; for names like {example.name} give a pattern: --fused '{name}={folder / suggested}'"
    return message


def _suggested_pattern(file_name: str, stems: list[str]) -> str | None:
    """A pattern (:data:`~defusion.io.pairs.STEM_FIELD`) that matches ``file_name``, where it starts, or its
    stem ends, with one of ``stems`` (the longest): what a ``--fused`` pattern for such names looks like.

    Example:
        >>> _suggested_pattern("p1_fused.png", ["p1", "p10"]), _suggested_pattern("CBF_p10.jpg", ["p1", "p10"])
        ('{stem}_fused.png', 'CBF_{stem}.jpg')
    """
    name = Path(file_name)
    for stem in sorted(stems, key=len, reverse=True):
        if file_name.startswith(stem) and len(file_name) > len(stem):
            return STEM_FIELD + file_name[len(stem):]
        if name.stem.endswith(stem) and len(name.stem) > len(stem):
            return name.stem[:-len(stem)] + STEM_FIELD + name.suffix
    return None


#: The methods of a worker process of :func:`_evaluate_in_workers`.
_WORKER_METHODS: dict[str, FuseFn] = {}


def _start_worker(make_methods: Callable[..., dict[str, FuseFn]], threads: int) -> None:
    import torch

    torch.set_num_threads(threads)
    _WORKER_METHODS.update(make_methods(threads=threads))


def _evaluate_in_worker(task: _PairTask) -> _PairResult:
    return _evaluate_pair(task, _WORKER_METHODS)


def _evaluate_in_workers(tasks: list[_PairTask], make_methods: Callable[..., dict[str, FuseFn]],
                         jobs: int) -> Iterator[_PairResult]:
    """Results of ``tasks`` in order, evaluated ``jobs`` at a time in fresh (spawned) processes
    that share the cores; a worker never holds more than a few pairs ahead of the consumer."""
    import multiprocessing
    import os
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    threads = max(1, (os.cpu_count() or 1) // jobs)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker, initargs=(make_methods, threads)) as pool:
        pending: deque = deque()
        try:
            for task in tasks:
                pending.append(pool.submit(_evaluate_in_worker, task))
                if len(pending) >= 2 * jobs:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _scored(rows: list[Row]) -> dict[tuple[str, str], set[str]]:
    """{(method, image): metrics already in ``rows``}."""
    scored: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        scored.setdefault((r.method, r.image), set()).add(r.metric)
    return scored


def write_results_csv(rows: list[Row], path: Path) -> None:
    """Write ``rows`` atomically: a run killed, or a disk filling, while writing leaves the previous
    file whole and no temporary one (an OSError of one line naming ``path`` says why)."""
    text = io.StringIO(newline="")
    writer = csv.writer(text)
    writer.writerow(["method", "image", "metric", "value"])
    for r in rows:
        writer.writerow([r.method, r.image, r.metric, f"{r.value:.6g}"])
    write_bytes_atomically(path, text.getvalue().encode())


def read_results_csv(path: Path) -> list[Row]:
    """Rows of a results.csv written by :func:`write_results_csv` (ValueError if it is not one)."""
    try:
        with open(path, newline="") as f:
            return [Row(r["method"], r["image"], r["metric"], float(r["value"])) for r in csv.DictReader(f)]
    except (KeyError, TypeError, ValueError, csv.Error, UnicodeDecodeError) as exc:
        raise ValueError(f"{path} is not a defusion results.csv ({exc})") from None
