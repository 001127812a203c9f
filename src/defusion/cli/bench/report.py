"""``defusion bench``'s tables and charts (summary.md and .tex, means.csv, stds.csv, metrics.csv, summary.png,
versus.md and .png) of this run's pairs and metrics, made from results.csv as saved, and the summary printed."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.bench.left_out import nothing_evaluated, say_left_out
from defusion.io.notes import listed, note, plural

if TYPE_CHECKING:
    from defusion.benchmark.runner import BenchResult, Row


def write_report(args: argparse.Namespace, result: BenchResult, metrics: tuple[str, ...], title: str,
                 sources: tuple[str, str], requested: list[str], earlier: set[tuple[str, str, str]],
                 produced: dict[str, set[str]], order: list[str]) -> None:
    """Write the tables and charts of this run's pairs and metrics, and print the summary. They are made
    from results.csv as saved (six significant digits), so that a resumed run's tables, whose earlier
    scores come from that file, are those of a run that computed everything at once: the same
    result scored in two runs is then one value, not two a rounding apart (versus.md's ties).
    ``earlier``: the (method, pair, metric) of the rows kept from an earlier run; ``produced``:
    {pair: the methods whose result was at hand}, to name a method of this run with no score at all;
    ``order``: the methods as named, an earlier run's first (versus.md's default reference)."""
    from defusion.benchmark.report import (means_csv, metrics_csv, stds_csv, summary_chart, summary_latex,
                                           summary_markdown, undefined_notes)
    from defusion.io.writing import write_bytes_atomically

    rows = _table_rows(args, result, metrics, requested, earlier, produced)
    _note_earlier_methods(rows, requested, metrics, args.out)
    from defusion.cli.bench.run_file import made_with_line, method_build_names, recorded_run

    record = recorded_run(args.out)  # run.json, as this run saved it with its scores
    made_with, builds = made_with_line(record), method_build_names(record)
    write_bytes_atomically(args.out / "summary.md",
                           summary_markdown(rows, title, sources, args.std, made_with=made_with).encode())
    write_bytes_atomically(args.out / "summary.tex", summary_latex(rows, title, sources, args.std).encode())
    means_csv(rows, args.out / "means.csv", builds)  # a last column: the build that made each method's rows
    stds_csv(rows, args.out / "stds.csv", builds)
    metrics_csv(rows, args.out / "metrics.csv")  # which way is better: the CSVs' bare names do not say
    summary_chart(rows, args.out / "summary.png", title)
    written = "results.csv, summary.md, summary.tex, means.csv, stds.csv, metrics.csv, summary.png"
    versus = _write_versus(args, rows, title, order)
    if versus is not None:
        written += ", versus.md, versus.png"
    for problem in result.problems:
        say_left_out(problem)
    for line in undefined_notes(rows):
        note(f"{args.out / 'summary.md'}: {line}")
    print(summary_markdown(rows, title, sources, args.std))
    for line in versus or []:
        print(line)
    print(f"wrote {args.out}/{written} and grids/", file=sys.stderr)


def _table_rows(args: argparse.Namespace, result: BenchResult, metrics: tuple[str, ...], requested: list[str],
                earlier: set[tuple[str, str, str]], produced: dict[str, set[str]]) -> list[Row]:
    """The rows the tables show: those of results.csv (as saved) of this run's pairs and metrics, less
    the methods with no score at all; a note names those methods, and the earlier run's scores left
    out. None: :func:`~defusion.cli.bench.left_out.nothing_evaluated` raised."""
    from defusion.benchmark.runner import SECONDS, read_results_csv

    # The tables cover this run's pairs and metrics; results.csv keeps everything scored in OUT.
    saved = read_results_csv(args.out / "results.csv")
    pairs, wanted = set(result.images), {*metrics, SECONDS}
    rows = [r for r in saved if r.image in pairs and r.metric in wanted]
    measured = {r.method for r in rows if r.metric != SECONDS}  # not a row of timings alone
    unscored = [m for m in requested if m not in measured and any(m in got for got in produced.values())]
    if unscored:
        one = len(unscored) == 1
        note(f"no score of {listed(unscored)} in {args.out}: every metric was skipped on every pair (said above), "
             f"so {'it is' if one else 'they are'} left out of the tables")
    rows = [r for r in rows if r.method in measured]
    shown = {(r.method, r.image, r.metric) for r in rows}
    hidden = [r for r in saved if (r.method, r.image, r.metric) in earlier - shown]  # this run's rows: said above
    if hidden:
        note(f"{args.out / 'results.csv'} also holds {plural(len(hidden), 'score')} from an "
             f"earlier run, left out of the tables: {_left_out_scores(hidden, rows, pairs, wanted)}")
    if not rows:
        raise nothing_evaluated(args, result.problems)
    return rows


def _note_earlier_methods(rows: list[Row], requested: list[str], metrics: tuple[str, ...], out: Path) -> None:
    """Note the methods the tables show though not ``requested`` (kept by --resume from an earlier
    run in ``out``), and the metrics some of them lack."""
    kept = [m for m in dict.fromkeys(r.method for r in rows) if m not in requested]
    if kept:
        scored = {(r.method, r.metric) for r in rows}
        lacking = [m for m in metrics if any((k, m) not in scored for k in kept)]
        note(f"the tables also show {listed(kept)}, scored by an earlier run in {out} (--resume keeps the "
             "methods it does not name; not run again)"
             + (f"; without {listed(lacking)} where the earlier run did not score them (name the methods in "
                "--methods or --fused to score those)" if lacking else ""))


def _write_versus(args: argparse.Namespace, rows: list[Row], title: str,
                  order: list[str]) -> list[str] | None:
    """Write versus.md and .png, each method compared with --versus (else defusion, else the first in
    the ``order`` named with a score: not the first in results.csv, the first pair's, so that a method
    lacking that pair keeps its place), replacing an earlier run's; their summary lines, or None
    (and a note where --versus was asked for) where there is no other method or no score of that one."""
    from defusion.benchmark.compare import versus_chart, versus_markdown, versus_summary
    from defusion.io.writing import write_bytes_atomically

    scored = list(dict.fromkeys(r.method for r in rows))
    first = next((m for m in order if m in scored), scored[0])  # scored[0]: a hand-edited results.csv's
    reference = args.versus or ("defusion" if "defusion" in scored else first)
    (args.out / "versus.md").unlink(missing_ok=True)
    (args.out / "versus.png").unlink(missing_ok=True)
    if len(scored) < 2 and args.versus:
        note(f"--versus {args.versus}: no other method in {args.out} to compare it with; no versus.md")
    if len(scored) > 1 and reference not in scored:
        note(f"--versus {reference}: no score of it in {args.out}'s tables to compare the others with; no versus.md")
    if len(scored) < 2 or reference not in scored:
        return None
    write_bytes_atomically(args.out / "versus.md", versus_markdown(rows, reference, title).encode())
    versus_chart(rows, reference, args.out / "versus.png", title)
    return versus_summary(rows, reference)


def _left_out_scores(saved: list[Row], shown: list[Row], pairs: set[str], wanted: set[str]) -> str:
    """What the ``saved`` scores left out of the tables (``shown``) are: whole methods by name,
    then other pairs and other metrics."""
    methods = [m for m in dict.fromkeys(r.method for r in saved) if m not in {r.method for r in shown}]
    rest = [r for r in saved if r.method not in methods]
    parts = [f"every score of {listed(methods)}"] if methods else []
    other_pairs = sorted({r.image for r in rest if r.image not in pairs})
    if other_pairs:
        parts.append(f"{plural(len(other_pairs), 'other pair')} "
                     f"({listed(other_pairs)})")
    other_metrics = list(dict.fromkeys(r.metric for r in rest if r.metric not in wanted))
    if other_metrics:
        parts.append(f"other metrics ({listed(other_metrics)})")
    return "; ".join(parts)
