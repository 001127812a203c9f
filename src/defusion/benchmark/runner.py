"""Running fusion methods over a benchmark's pairs and scoring them with one metric code.

Every method, built-in or published (a folder of fused results), is scored by the same
:mod:`defusion.metrics` functions on the same decoded sources, so the table compares methods,
not evaluation scripts. Files are read for scoring as :func:`read_scored` reads them, which
``defusion metrics`` uses too, so that both commands score a file alike.

This module holds the run itself (:func:`run_benchmark`); its parts live beside it and their
public names stay importable from here:

- :mod:`defusion.benchmark.scored_images`: reading images as the metrics score them.
- :mod:`defusion.benchmark.methods`: the built-in methods (DeFusion's variants, the baselines).
- :mod:`defusion.benchmark.pairing`: which pairs are evaluated, notes on what is left out.
- :mod:`defusion.benchmark.evaluation`: evaluating one pair; :mod:`defusion.benchmark.workers`, in worker processes.
- :mod:`defusion.benchmark.findings`: what reading found worth a note, said once per run.
- :mod:`defusion.benchmark.results_csv`: the rows and their results.csv.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from defusion.benchmark.evaluation import PairTask, evaluate_pair
from defusion.benchmark.findings import (GREY_RGB_SCORED, Finding, FlatResult, failed_fusions, finding_notes,
                                         flat_found, flat_results, reading_warnings, say_found)
from defusion.benchmark.methods import (DEFUSION_VARIANTS, FuseFn, StoredAsJpeg, builtin_method, builtin_methods,
                                        defusion_run_id)
from defusion.benchmark.pairing import evaluated_pairs, limited, no_result_of_a_pair, same_size_pairs, unpaired_results
from defusion.benchmark.results_csv import SECONDS, Row, read_results_csv, write_results_csv
from defusion.benchmark.scored_images import read_scored, viewable
from defusion.benchmark.workers import evaluate_in_workers
from defusion.io.formats import DEFAULT_MAX_PIXELS
from defusion.io.notes import note, plural, warn
from defusion.io.pairs import PairsError, is_stem_pattern, match_pairs, results_by_stem, stem_clashes

__all__ = [
    "DEFUSION_VARIANTS", "GREY_RGB_SCORED", "SECONDS", "TASK_METRICS", "BenchResult", "FuseFn", "Row", "StoredAsJpeg",
    "builtin_method", "builtin_methods", "defusion_run_id", "evaluated_pairs", "read_results_csv", "read_scored",
    "run_benchmark", "viewable", "write_results_csv",
]

#: Seconds from which a method within a pair is said on a line of its own where stderr is not a terminal
#: (a log): the bar's lines come between pairs, and a pair can take minutes (TNO's first, 2 min 8 s; MEFB's
#: large pairs at --scale 2 longer), silent till it ends. A method starting this long after the last line, or
#: that took this long on the pair before, is said as it starts, as is every method of the first pair.
IN_PAIR_LINE_SECONDS = 30.0

#: Metrics reported per task by default (short names of defusion.metrics.METRICS).
TASK_METRICS: dict[str, tuple[str, ...]] = {
    "ivf": ("EN", "SD", "SF", "AG", "EI", "MI", "CE", "PSNR", "RMSE", "Qabf", "Qcb", "Qcv", "SSIM",
            "VIF", "CC", "SCD", "Nabf"),
    "mef": ("MEF-SSIM", "MS-MEF-SSIM", "SSIM", "SSIM-mean", "PSNR-standard", "EN", "SD", "SF", "AG",
            "Qabf", "MI", "CC"),
    "mff": ("Qabf", "MI", "SSIM", "SSIM-mean", "CC", "SCD", "VIF", "Nabf", "SF", "AG", "EN", "SD"),
}


@dataclass
class BenchResult:
    """All rows plus what went wrong (reported, never fatal): ``problems``, and ``flat``, the results
    that are (nearly) one value (scored, so kept apart to be counted: warned of in ``problems`` too,
    one line per method, once every pair is evaluated)."""

    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    flat: list[FlatResult] = field(default_factory=list)


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
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Iterator[tuple[str, dict[str, np.ndarray], np.ndarray | None, np.ndarray | None, BenchResult]]:
    """Yield (stem, {method: fused uint8}, a, b, result-so-far) pair by pair: the results and sources
    as uint8 to be shown (:func:`viewable`), scored as :func:`read_scored` reads them (docs/metrics.md).
    What is scored, kept and said is ``defusion bench``'s (README.md; docs/benchmarks.md on ``--fused``).

    ``metrics``: names as :func:`defusion.metrics.metric_names` takes them, checked now: an unknown one
    (or none) raises ``KeyError`` here, not halfway through the pairs. ``fused_dirs``: {name: a folder
    of ``<pair>.<ext>`` files, or a pattern with ``{stem}`` and ``{ext}``}
    (:func:`~defusion.io.pairs.results_by_stem`). ``save_dir``: where built-in methods' outputs are
    written (``<method>/<stem>.png``). A pair or result that cannot be scored (unreadable, sources of
    different sizes) is skipped and recorded in ``result.problems``. A result that is (nearly) one value
    though its sources are not (a failed fusion, scored) is kept in ``result.flat`` and, once every pair is
    evaluated, warned of in ``result.problems``, one line per method
    (:func:`~defusion.benchmark.findings.flat_results`).

    ``previous`` rows are kept and not recomputed: only the methods and metrics missing run, so the
    outputs may lack a method scored before, and a pair with nothing missing comes with none and
    ``a = b = None``; how many were kept, and how many pairs still need something, is said in a note
    as the run starts (:func:`_kept_note`), with a progress bar or without. ``jobs > 1`` evaluates that
    many pairs at once in worker processes, each building its methods with ``make_methods(threads=...)``
    (picklable: a ``functools.partial`` of :func:`builtin_methods`; ``methods`` then only names them),
    yielded in order with ``jobs=1``'s scores. ``result``: the BenchResult to fill, so that a caller has
    its ``problems`` even where no pair was yielded. ``max_pixels``: the bound on every file read, sources
    and published results (a larger one is left out, a problem saying how to raise it: ``--max-pixels``).
    """
    from defusion.metrics import metric_names

    names = tuple(metric_names(metrics))
    return _benchmark_pairs(dir_a, dir_b, methods, fused_dirs, names, save_dir, limit, progress, previous, jobs,
                            make_methods, BenchResult() if result is None else result, max_pixels)


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
    max_pixels: int,
) -> Iterator[tuple[str, dict[str, np.ndarray], np.ndarray | None, np.ndarray | None, BenchResult]]:
    """:func:`run_benchmark`'s generator, given metric names as ``METRICS`` spells them."""
    from defusion.io.progress import progress_bar

    every, unmatched = match_pairs(dir_a, dir_b)
    requested = [*methods, *fused_dirs]
    result.rows, result.methods = list(previous or []), list(requested)
    result.methods += sorted({r.method for r in result.rows} - set(requested))
    published = {name: results_by_stem(where) for name, where in fused_dirs.items()}
    result.problems += _pairing_problems(dir_a, dir_b, fused_dirs, published, unmatched,
                                         [stem for stem, _, _ in every])
    pairs = same_size_pairs(limited(every, limit), result.problems)  # evaluated_pairs, from the match already made
    _check_results_of_pairs(fused_dirs, published, [stem for stem, _, _ in pairs])
    tasks = _pair_tasks(pairs, methods, fused_dirs, published, metrics, previous, save_dir, max_pixels)
    work = [t for t in tasks if not isinstance(t, str)]
    if previous:  # a resume: said whether or not a progress bar shows the kept pairs go by
        note(_kept_note(len(previous), len({r.image for r in previous}), len(work), len(tasks)))
    bar = progress_bar(tasks, desc="benchmark", unit="pair", disable=not progress, file=sys.stderr)
    watch = MethodWatch(bar, [t if isinstance(t, str) else t.stem for t in tasks], progress)
    if jobs > 1 and make_methods is not None and len(work) > 1:
        evaluated = evaluate_in_workers(work, make_methods, jobs, watch.started)  # positional: tests stand in for it
    else:
        evaluated = (evaluate_pair(task, methods, watch.started) for task in work)  # said before each timer
    told: set[tuple[str, str]] = set()  # what say_found said once in this run
    found: list[Finding] = []  # said at the end, one note per kind and method or folder
    for task in bar:
        if isinstance(task, str):  # scored in an earlier run
            result.images.append(task)
            yield task, {}, None, None, result
            continue
        pair = next(evaluated)
        watch.ended(task.stem)
        flat = failed_fusions(pair.outputs, (pair.a, pair.b), pair.found) if pair.a is not None else []
        say_found(pair, told, flat)
        found += pair.found
        result.problems += pair.problems
        if pair.a is None:  # a source could not be read
            continue
        result.flat += flat_found(task.stem, pair.outputs, flat, task.published, save_dir)
        result.images.append(task.stem)
        result.rows += pair.rows
        yield task.stem, pair.outputs, pair.a, pair.b, result
    result.problems += flat_results(result.flat)  # one line per method, not one per pair
    for line in finding_notes(found):
        note(line)
    for line in reading_warnings(found):  # the metrics' warnings of results they may misread, once per method
        warn(line)


class MethodWatch:
    """Which method a benchmark is running within a pair, shown as it starts (``started``: evaluation.OnMethod).
    In a terminal, after the pairs' tqdm bar ("01: defusion (5 of 9)"), the bar kept; elsewhere (a log,
    whose bar says nothing till a pair ends) a line of its own, ``benchmark: pair 1/25 (01): defusion
    (method 5 of 9), 2 min 8 s into the pair``, for each method of the first pair evaluated and, after
    it, a method starting :data:`IN_PAIR_LINE_SECONDS` after the last line or that took that long on the
    pair before (the pair's end counts as a line: the bar's come then). Nothing where ``shown`` is False
    (``--no-progress``). ``clock``: for tests.

    Example:
        >>> import io
        >>> from defusion.io.progress import LogProgress
        >>> now = iter([0, 0, 1, 41, 42, 43, 83])
        >>> log = io.StringIO()
        >>> watch = MethodWatch(LogProgress(total=2, file=log), ["01", "02"], clock=lambda: next(now))
        >>> for stem in ("01", "02"):  # max takes 1 s, defusion 40 s
        ...     watch.started(stem, "max", 1, 2); watch.started(stem, "defusion", 2, 2); watch.ended(stem)
        >>> print(log.getvalue(), end="")
        benchmark: pair 1/2 (01): max (method 1 of 2)
        benchmark: pair 1/2 (01): defusion (method 2 of 2), 1 s into the pair
        benchmark: pair 2/2 (02): defusion (method 2 of 2), 1 s into the pair
    """

    def __init__(self, bar: Any, stems: list[str], shown: bool = True,
                 clock: Callable[[], float] | None = None) -> None:
        from defusion.io.progress import LogProgress

        self.bar, self.shown, self.clock = bar, shown, clock or time.monotonic
        self.lines = isinstance(bar, LogProgress)  # else tqdm's bar (or its disabled one)
        self.place = {stem: (i, len(stems)) for i, stem in enumerate(stems, 1)}
        self.pair_started: dict[str, float] = {}  # a pair's first method's start
        self.running: dict[str, tuple[str, float]] = {}  # stem -> (method, its start)
        self.took: dict[str, float] = {}  # method -> seconds on the pair it ran last
        self.first: str | None = None  # the first pair's stem
        self.said_at = self.clock()

    def started(self, stem: str, name: str, place: int, count: int) -> None:
        """Method ``name``, the ``place``-th of the ``count`` to run, starts on pair ``stem``."""
        if not self.shown:
            return
        now = self.clock()
        self._finished(stem, now)
        self.running[stem] = (name, now)
        began = self.pair_started.setdefault(stem, now)
        self.first = self.first or stem
        if not self.lines:
            self.bar.set_postfix_str(f"{stem}: {name} ({place} of {count})")
            return
        slow = self.took.get(name, 0.0) >= IN_PAIR_LINE_SECONDS
        if stem == self.first or slow or now - self.said_at >= IN_PAIR_LINE_SECONDS:
            number, total = self.place.get(stem, (0, 0))
            into = f", {_duration(now - began)} into the pair" if now - began >= 1 else ""
            print(f"benchmark: pair {number}/{total} ({stem}): {name} (method {place} of {count}){into}",
                  file=self.bar.file or sys.stderr, flush=True)
            self.said_at = now

    def ended(self, stem: str) -> None:
        """Pair ``stem`` is evaluated (its bar line follows)."""
        if not self.shown:
            return
        now = self.clock()
        self._finished(stem, now)
        self.pair_started.pop(stem, None)
        self.said_at = now
        if not self.lines:
            self.bar.set_postfix_str("")

    def _finished(self, stem: str, now: float) -> None:
        """The method running on ``stem`` (if any) has ended at ``now``: its time kept."""
        if stem in self.running:
            name, start = self.running.pop(stem)
            self.took[name] = now - start


def _duration(seconds: float) -> str:
    """``seconds`` as the progress lines say them (``2 min 8 s``)."""
    from defusion.io.progress import duration

    return duration(seconds)


def _pairing_problems(dir_a: Path, dir_b: Path, fused_dirs: dict[str, Path], published: dict[str, dict[str, Path]],
                      unmatched: list[str], every_pair: list[str]) -> list[str]:
    """What pairing the folders found wrong, to report: stems with no partner in the other folder,
    files of one folder sharing a stem, and published results (``published``: {method: {pair:
    file}}) named after none of ``every_pair``."""
    problems = [f"{stem}: no partner in the other folder" for stem in unmatched]
    for folder in (dir_a, dir_b, *(where for where in fused_dirs.values() if not is_stem_pattern(where))):
        problems += stem_clashes(folder)  # a pattern names one file per pair
    for name, files in published.items():
        problems += unpaired_results(name, fused_dirs[name], files, every_pair)
    return problems


def _check_results_of_pairs(fused_dirs: dict[str, Path], published: dict[str, dict[str, Path]],
                            stems: list[str]) -> None:
    """Refuse (ValueError) a published method with a result of none of the pairs ``stems``: a wrong
    folder or pattern, said before any pair is evaluated (:func:`no_result_of_a_pair`)."""
    for name, files in published.items():
        if stems and not files.keys() & set(stems):
            raise PairsError(no_result_of_a_pair(name, fused_dirs[name], files, stems))


def _pair_tasks(pairs: list[tuple[str, Path, Path]], methods: dict[str, FuseFn], fused_dirs: dict[str, Path],
                published: dict[str, dict[str, Path]], metrics: tuple[str, ...], previous: list[Row] | None,
                save_dir: Path | None, max_pixels: int = DEFAULT_MAX_PIXELS) -> list[PairTask | str]:
    """What each pair still needs, as a :class:`PairTask`, or its stem alone where the ``previous``
    rows hold every metric of every requested method (nothing to evaluate). A task's built-in methods
    to run are those missing a metric, their time on the pair, or their result in ``save_dir``; its
    files are read under ``max_pixels``.

    Example:
        >>> def fn(a, b): return a
        >>> tasks = _pair_tasks([("01", Path("a/01.png"), Path("b/01.png"))], {"avg": fn}, {}, {}, ("EN", "SD"),
        ...                     [Row("avg", "01", "EN", 7.0), Row("avg", "01", SECONDS, 0.1)], None)
        >>> tasks[0].todo, tasks[0].fuse
        ({'avg': ['SD']}, ['avg'])
    """
    requested = [*methods, *fused_dirs]
    scored = _scored(previous or [])
    tasks: list[PairTask | str] = []
    for stem, path_a, path_b in pairs:
        todo = {name: [m for m in metrics if m not in scored.get((name, stem), ())]
                for name in requested if name in methods or stem in published[name]}
        files = {name: published[name][stem] for name in fused_dirs if stem in published[name]}
        needed = previous is None or any(todo.values())
        timed = {name for name in methods if SECONDS in scored.get((name, stem), ())}
        fuse = [name for name in methods if todo[name] or name not in timed
                or (save_dir is not None and not (save_dir / name / f"{stem}.png").is_file())]
        tasks.append(PairTask(stem, path_a, path_b, todo, files, list(fused_dirs), timed, save_dir, fuse, max_pixels)
                     if needed else stem)
    return tasks


def _kept_note(rows: int, pairs: int, todo: int, total: int) -> str:
    """The note of a resumed run (``defusion bench --resume``) as it starts: how many ``rows`` of an
    earlier run it keeps, of how many ``pairs``, and how many of its ``total`` pairs have something left
    to compute (``todo``), so that a run without a progress bar (``--no-progress``, a log) says it too.

    Example:
        >>> _kept_note(36, 3, 2, 4)
        "resuming: kept the earlier run's 36 rows (3 pairs); 2 of this run's 4 pairs have something left to compute"
        >>> _kept_note(1, 1, 0, 1)
        "resuming: kept the earlier run's 1 row (1 pair); none of this run's 1 pair has something left to compute"
    """
    left = "none" if todo == 0 else str(todo)
    return (f"resuming: kept the earlier run's {plural(rows, 'row')} ({plural(pairs, 'pair')}); {left} of this run's "
            f"{plural(total, 'pair')} {'have' if todo > 1 else 'has'} something left to compute")


def _scored(rows: list[Row]) -> dict[tuple[str, str], set[str]]:
    """{(method, image): metrics already in ``rows``}."""
    scored: dict[tuple[str, str], set[str]] = {}
    for r in rows:
        scored.setdefault((r.method, r.image), set()).add(r.metric)
    return scored
