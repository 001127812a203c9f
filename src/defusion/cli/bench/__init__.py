"""``defusion bench``: built-in and published methods side by side, scored identically.

Exit status: 0 when every requested pair and result was scored; 1 when some were left out (a source or
result that cannot be read or is of another size, a method failing on a pair: each said on a
``defusion: warning: ...`` line, every run, and counted in the last line), so that a script notices;
2 on a usage error or when no pair could be scored. Results that are (nearly) one value (failed
fusions?) are warned of too, one line per method, and counted in the last line, but they are scored:
they leave the exit status 0. Stems found in only one of --a and --b are said
(on such a line) but do not count: a data set's two folders often differ by a few files, and no pair
was asked for there. What is only worth knowing is said as a ``defusion: note: ...``, once. An --out
holding an earlier run's results is refused before any work unless --resume keeps them or --overwrite
replaces them.

Its parts: :mod:`~defusion.cli.bench.method_options` (what --methods, --fused and --versus name);
:mod:`~defusion.cli.bench.fingerprints` of the files read and :mod:`~defusion.cli.bench.run_file`, what a
run records for a later --resume; :mod:`~defusion.cli.bench.resume`, what it takes from an earlier run;
:mod:`~defusion.cli.bench.jpeg_note`; :mod:`~defusion.cli.bench.saving` and :mod:`~defusion.cli.bench.grids`
as pairs are scored; :mod:`~defusion.cli.bench.report` (with :mod:`~defusion.cli.bench.titles`) and
:mod:`~defusion.cli.bench.left_out` at the end.
"""

from __future__ import annotations

import argparse
import sys
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from defusion.cli.bench.fingerprints import Published, Unreadable, published_fingerprints, source_fingerprints
from defusion.cli.bench.grids import Grids, stored_results
from defusion.cli.bench.jpeg_note import say_lossless_beside_jpeg, say_lossy
from defusion.cli.bench.left_out import kept_pair_problems, left_out_line, left_out_of_run, nothing_evaluated
from defusion.cli.bench.method_options import check_fused_names, fused_folders, method_names, versus_method
from defusion.cli.bench.report import write_report
from defusion.cli.bench.resume import (check_jpeg_quality, check_task, kept_jpeg_quality, kept_weights,
                                       note_new_metrics, previous_rows, resumed_versus)
from defusion.cli.bench.run_file import ThisRun, recorded_run, run_record, scored_provenance
from defusion.cli.bench.saving import Saver
from defusion.cli.bench.titles import default_title, folder_name, with_encoding
from defusion.cli.errors import EXIT_INTERRUPTED, UserError, close_progress_bars
from defusion.cli.options import note_quick_test_weights, positive_int
from defusion.fusion.choices import DEFAULT_DEVICE, DEVICES, TASKS
from defusion.io.formats import DEFAULT_MAX_PIXELS
from defusion.model.errors import WeightsError

if TYPE_CHECKING:
    import numpy as np

    from defusion.benchmark.runner import BenchResult, FuseFn


HELP = "benchmark DeFusion, classical baselines and published results on folders of pairs"
#: Under --help: what the exit status says.
EPILOG = ("exit status: 0 when every pair and result was scored; 1 when some were left out (unreadable, "
          "another size, a method failing on a pair: each said on a 'defusion: warning:' line, and counted in "
          "the last line); 2 on a usage error or when no pair could be scored. Stems in only one of --a and --b "
          "are said, not counted; results (nearly) one value are warned of and counted, but scored (status 0).")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog = EPILOG
    p.add_argument("--task", required=True, choices=TASKS,
                   help="picks the default metrics, and DeFusion's options for the task (defusion fuse --task)")
    p.add_argument("--a", dest="dir_a", required=True, type=Path, help="first sources (pairs matched by stem)")
    p.add_argument("--b", dest="dir_b", required=True, type=Path, help="second sources")
    p.add_argument("--out", required=True, type=Path, help="output folder")
    p.add_argument("--methods", default="default",
                   help="comma-separated built-in methods (defusion, the task's defaults, and its variants: "
                        "defusion-network, -sources, -rgb, -ycbcr, -x1, -g1.5, ... as in "
                        "defusion.benchmark.runner.DEFUSION_VARIANTS; the baselines); "
                        "'default' = defusion and every available baseline; 'none' = only --fused results; "
                        "any case")
    p.add_argument("--fused", action="append", default=[], metavar="NAME=DIR|NAME=PATTERN",
                   help="a published method's fused results (repeatable): a folder of files named as the pairs "
                        "(DIR/<pair>.<any image extension>: 01.png for the pair 01), or a file pattern where "
                        "{stem} stands for the pair's name; the pattern includes the extension, or {ext} for any "
                        "image extension: 'Mine=results/{stem}_mine.png', VIFB's "
                        "'CBF=output/fused_images/{stem}_CBF.jpg', MFIFB's 'CNN=results/{stem}_CNN.{ext}' (of .jpg, "
                        ".png and .bmp files; quote it)")
    p.add_argument("--jpeg-quality", type=jpeg_quality_arg, metavar="Q|match",
                   help="score the built-in methods' results after saving them as JPEG of quality Q (1-100, 4:2:0), "
                        "as published results stored as JPEG are scored (VIFB's are quality 75; a note says when "
                        "--fused results are JPEG); 'match': each pair's as most of its --fused results are stored "
                        "(JPEG of their quality, lossless where they are PNG: MFIFB's mix); default: scored lossless")
    p.add_argument("--metrics", help="comma-separated metric names, any case; 'vifb' = the 13 VIFB metrics, 'mefb' = MEFB's 20 "
                                      "(default: the task's set)")
    p.add_argument("--weights", type=Path, help="DeFusion weights (default: the shipped weights)")
    p.add_argument("--device", default=DEFAULT_DEVICE, choices=DEVICES)
    p.add_argument("--runtime", default="auto", choices=("auto", "torch", "onnxruntime"),
                   help="DeFusion's inference engine: auto (default: onnxruntime on a CPU, same output as torch to "
                        "rounding and about 2.3x faster; torch on a GPU), torch or onnxruntime")
    p.add_argument("--limit", type=positive_int, help="only the first N pairs (quick look)")
    p.add_argument("--jobs", type=positive_int, default=1,
                   help="evaluate N pairs at once in worker processes sharing the cores (same scores; "
                        "default 1)")
    p.add_argument("--title", help="title of the summary (default: the folder names, --a's and --b's too)")
    p.add_argument("--versus", metavar="METHOD",
                   help="the method the others are compared with image by image in versus.md (wins, ties, "
                        "losses and a Wilcoxon signed-rank test per metric; default: defusion if run, else the "
                        "first method; any case where only one method matches; --resume keeps the earlier "
                        "run's --versus unless given)")
    p.add_argument("--std", action="store_true",
                   help="show each mean as mean ± standard deviation over pairs in summary.md and summary.tex "
                        "(stds.csv, beside means.csv, always holds the standard deviations)")
    p.add_argument("--save-fused", action="store_true", help="also write built-in methods' results to OUT/fused/")
    p.add_argument("--resume", action="store_true",
                   help="keep the scores already in OUT/results.csv and compute only what is missing, "
                        "new metrics included, for the methods named (DeFusion's are recomputed if the weights "
                        "changed, every method's on a pair whose sources changed); a folder of another --task's "
                        "run is refused")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the results of an earlier run in OUT (OUT/results.csv, the tables, grids/), "
                        "once this run has scores of its own; without it (or --resume) such an --out is refused")
    p.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS,
                   help=f"leave out pairs and results with more pixels (default {DEFAULT_MAX_PIXELS:,})")
    p.add_argument("--no-progress", action="store_true")


def jpeg_quality_arg(text: str) -> int | str:
    """--jpeg-quality: a JPEG quality, 1 to 100, or ``match`` (each pair's published results' own).

    Example:
        >>> jpeg_quality_arg("75"), jpeg_quality_arg("Match")
        (75, 'match')
    """
    from defusion.benchmark.methods import JPEG_MATCH
    from defusion.io.jpeg import QUALITIES

    if text.strip().lower() == JPEG_MATCH:
        return JPEG_MATCH
    try:
        quality = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number or 'match': {text!r}") from None
    if quality not in QUALITIES:
        raise argparse.ArgumentTypeError(f"a JPEG quality is 1 to 100, got {quality}")
    return quality


def run(args: argparse.Namespace) -> int:
    """Run the benchmark ``args`` describe; the exit status (module docstring), 2 raised as a UserError."""
    from defusion.benchmark.runner import DEFUSION_VARIANTS, BenchResult, defusion_run_id, run_benchmark
    from defusion.cli.build_info import this_build

    metrics = _checked_metrics(args)
    _check_earlier_results(args)
    fused_dirs, methods, make_methods = _benchmarked_methods(args)
    requested = [*methods, *fused_dirs]
    args.versus = versus_method(args.versus, requested)
    sources = (folder_name(args.dir_a), folder_name(args.dir_b))
    runs_defusion = any(m in DEFUSION_VARIANTS for m in methods)
    weights = defusion_run_id(args.weights, args.task) if runs_defusion else None
    wanted, source_files = _evaluated_sources(args)
    recorded = recorded_run(args.out) if args.resume else {}
    published = published_fingerprints(fused_dirs, wanted, recorded)
    previous, weights, args.versus = _resume_state(args, recorded, published, wanted, source_files, weights,
                                                   metrics, requested, list(methods))
    if args.resume:  # for run.json and the title: what kept rows were made with, where this run makes none
        args.weights = kept_weights(recorded, previous or [], args.weights, runs_defusion)
    args.jpeg_quality = kept_jpeg_quality(recorded, args.jpeg_quality, bool(methods), previous or [])
    title = with_encoding(args.title, args) if args.title else default_title(args)
    _check_writable(args.out)
    this_run = ThisRun(task=args.task, metrics=metrics, defusion_run=weights, weights=args.weights,
                       fused_dirs=fused_dirs, fused_files=published.files, source_files=source_files,
                       versus=args.versus, jpeg_quality=args.jpeg_quality, methods=tuple(requested),
                       build=this_build())  # once: the run's time stays the same as its record is updated
    record = run_record(this_run, recorded, previous or [])  # afresh, recorded is {}: nothing carried over
    saver = Saver(args.out, record, previous, overwrite=args.overwrite,  # run.json's builds: of the rows saved
                  provenance=partial(scored_provenance, this_run, recorded, previous or []))
    grids = Grids(args.out / "grids", previous or [], stored_results(args.out, record, fused_dirs),
                  record["fused_files"], args.max_pixels, sources=(args.dir_a, args.dir_b))
    result = BenchResult()  # filled as the pairs are scored; its problems also where none could be
    pairs = run_benchmark(args.dir_a, args.dir_b, methods, fused_dirs, metrics,
                          save_dir=args.out / "fused" if args.save_fused else None, limit=args.limit,
                          progress=not args.no_progress, previous=previous, jobs=args.jobs, make_methods=make_methods,
                          result=result, max_pixels=args.max_pixels)
    try:
        produced = _score(pairs, saver, grids)
        grids.say_kept()
        if not result.rows:
            raise nothing_evaluated(args, result.problems)
        saver.save(result.rows)  # also when nothing was new (scores dropped)
        _, lost = left_out_of_run(result, wanted, requested, metrics, produced)
        result.problems += kept_pair_problems(lost, produced, published.present)  # said with the others
        earlier = {(r.method, r.image, r.metric) for r in previous or []}
        write_report(args, result, metrics, title, sources, requested, earlier, produced, record["methods"])
    except KeyboardInterrupt:
        close_progress_bars()
        print(f"defusion: interrupted; {saver.progress()}", file=sys.stderr)
        return EXIT_INTERRUPTED
    except OSError as exc:  # a full or read-only disk: what is saved stays saved
        raise UserError(f"{_reason(exc)}; {saver.progress()}") from None
    return _exit_status(result, wanted, requested, metrics, produced)


def _checked_metrics(args: argparse.Namespace) -> tuple[str, ...]:
    """The metrics ``args`` score (--metrics, else the task's), once the source folders are found and
    --out is no file; else a UserError."""
    from defusion.benchmark.runner import TASK_METRICS
    from defusion.metrics import metric_names

    for folder in (args.dir_a, args.dir_b):
        if not folder.is_dir():
            raise UserError(f"folder not found: {folder}")
    try:
        metrics = tuple(metric_names(args.metrics)) if args.metrics else TASK_METRICS[args.task]
    except KeyError as exc:
        raise UserError(exc.args[0]) from None
    if not metrics:
        raise UserError("--metrics: no metric named")
    if args.out.exists() and not args.out.is_dir():
        raise UserError(f"--out {args.out}: is a file; give a folder")
    return metrics


def _check_earlier_results(args: argparse.Namespace) -> None:
    """Refuse, before any work, an --out holding an earlier run's results unless --resume (keep them)
    or --overwrite (replace them) says what to do with them: a rerun replaced hours of scores after
    only a note. Both at once are refused too."""
    if args.resume and args.overwrite:
        raise UserError("--resume keeps the earlier results in --out and --overwrite replaces them: give one")
    results = args.out / "results.csv"
    if results.is_file() and not (args.resume or args.overwrite):
        raise UserError(f"--out {args.out} holds an earlier run's results ({results}): give --resume to keep them "
                        "and add to them, --overwrite to replace them, or another --out")


def _evaluated_sources(args: argparse.Namespace) -> tuple[list[str], dict[str, list[str]]]:
    """The stems of the pairs run_benchmark evaluates, and their sources' fingerprints
    (:func:`source_fingerprints`); a folder with no image to pair, or two pairs whose names differ only
    in case (:func:`~defusion.io.pairs.case_clashes`: one grid file on Windows and macOS), is a UserError."""
    from defusion.benchmark.runner import evaluated_pairs
    from defusion.io.pairs import PairsError, case_clashes

    try:
        evaluated = evaluated_pairs(args.dir_a, args.dir_b, args.limit)  # those run_benchmark evaluates
    except PairsError as exc:  # a folder with no image to pair
        raise UserError(str(exc)) from None
    stems = [stem for stem, _, _ in evaluated]
    clashes = case_clashes(stems)
    if clashes:  # each pair's grid (and --save-fused result) is a file named by its stem
        first, other = clashes[0]
        raise UserError(f"pairs {first!r} and {other!r} would share one grid, {args.out / 'grids' / first}.jpg, on "
                        "Windows and macOS (names that differ only in case are one file there); rename one of "
                        f"them in {args.dir_a} and {args.dir_b}")
    return stems, source_fingerprints(evaluated)


def _resume_state(args: argparse.Namespace, recorded: dict, published: Published, wanted: list[str],
                  source_files: dict[str, list[str]], weights: str | None, metrics: tuple[str, ...],
                  requested: list[str], methods: list[str]) -> tuple[list | None, str | None, str | None]:
    """What this run takes from an earlier one in --out (``recorded``: its RUN_FILE): with --resume,
    once an earlier run of another task is refused (or of another JPEG quality, where built-in methods
    run), the rows to keep, DeFusion's run ID (this run's, else the kept rows') and the --versus method;
    afresh, no rows (an earlier run's results.csv is there only with --overwrite, which said to replace it:
    :func:`_check_earlier_results`; no note repeats it). JPEG --fused results (beside lossless ones) are said
    after a refusal, never before."""
    if args.resume:
        check_task(args.out, recorded, args.task)
        if methods:  # --jpeg-quality changes only the built-in methods' results
            check_jpeg_quality(args.out, recorded, args.jpeg_quality)
    say_lossy(published, args.jpeg_quality, methods)  # after a refusal, never before it
    say_lossless_beside_jpeg(published)
    if not args.resume:
        return None, weights, args.versus
    versus = resumed_versus(args.out, recorded, args.versus)
    note_new_metrics(args.out, recorded, metrics, requested)
    unreadable = Unreadable({stem for stem in wanted if stem not in source_files}, published.unreadable)
    previous, earlier_weights = previous_rows(args.out, weights, published, recorded, source_files, unreadable)
    return previous, weights or earlier_weights, versus  # DeFusion rows kept from an earlier run keep their ID


def _check_writable(out: Path) -> None:
    """Refuse an --out folder that cannot be written (read-only, full, not allowed): said now, not
    after the first pair's minutes."""
    from defusion.io.writing import check_writable_folder

    try:
        check_writable_folder(out)
    except OSError as exc:
        raise UserError(f"--out {out}: {exc}") from None


def _exit_status(result: BenchResult, wanted: list[str], requested: list[str], metrics: tuple[str, ...],
                 produced: dict[str, set[str]]) -> int:
    """0 when every pair ``wanted`` and every result ``requested`` was scored; else 1, the last line
    saying what was left out (:func:`left_out_of_run`; on the pairs a resume kept whole, said again:
    :func:`kept_pair_problems`). Results that are (nearly) one value (``result.flat``) are scored: they
    leave the status as it is, but the last line counts them, as the warnings above they are."""
    lost_pairs, lost_results = left_out_of_run(result, wanted, requested, metrics, produced)
    if lost_pairs or lost_results or result.flat:
        print(f"defusion: {left_out_line(lost_pairs, len(wanted), lost_results, result.flat)}", file=sys.stderr)
    return 1 if lost_pairs or lost_results else 0


def _benchmarked_methods(args: argparse.Namespace
                         ) -> tuple[dict[str, Path], dict[str, FuseFn], Callable[..., dict[str, FuseFn]]]:
    """What ``args`` benchmark: the published results (--fused: {name: folder or pattern}), the built-in
    methods (--methods), made here so that one failing to load fails now, once, and how worker
    processes make them again (--jobs). Refused: a published result named as a built-in method (any,
    :func:`~defusion.cli.bench.method_options.check_fused_names`), and nothing at all to benchmark."""
    from defusion.benchmark.methods import JPEG_MATCH
    from defusion.benchmark.runner import DEFUSION_VARIANTS, builtin_methods

    fused_dirs = fused_folders(args.fused)
    check_fused_names(fused_dirs)  # any built-in method's name, run now or not
    names = method_names(args.methods)
    if any(name in DEFUSION_VARIANTS for name in names):
        note_quick_test_weights(args.weights)  # scores of the quick-test network would mislead most here
    methods = builtin_methods(names, args.weights, args.device, args.runtime, task=args.task,
                              jpeg_quality=args.jpeg_quality)  # fails here, once
    make_methods = partial(builtin_methods, names, args.weights, args.device, args.runtime, task=args.task,
                           jpeg_quality=args.jpeg_quality)
    if not methods and not fused_dirs:
        raise UserError("nothing to benchmark: --methods none and no --fused")
    if args.jpeg_quality == JPEG_MATCH and methods and not fused_dirs:  # nothing to match: all would be lossless
        raise UserError("--jpeg-quality match stores each pair's built-in results as its --fused results are "
                        "stored: give the --fused results (again on a --resume), or a quality")
    return fused_dirs, methods, make_methods


def _score(pairs: Iterator[tuple[str, dict[str, np.ndarray], np.ndarray | None, np.ndarray | None, BenchResult]],
           saver: Saver, grids: Grids) -> dict[str, set[str]]:
    """Draw each pair's grid and save the scores as ``pairs`` (run_benchmark's) are scored: nothing is
    lost on a kill. {pair: the methods whose result was at hand}, to tell what was left out."""
    produced = {}
    for stem, outputs, a, b, result in pairs:
        if a is None:  # scored in an earlier run (--resume)
            continue
        produced[stem] = set(outputs)
        saver.start()
        grids.draw(stem, a, b, outputs, result.methods)
        saver.save(result.rows)
    return produced


def _reason(exc: OSError) -> str:
    """An OSError in one line: the file and the OS's reason (not ``[Errno 28] ...: 'path'``); those of
    :func:`~defusion.io.writing.write_bytes_atomically` are already so."""
    if exc.filename and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


EXPECTED_ERRORS = (WeightsError, ValueError, OSError)
