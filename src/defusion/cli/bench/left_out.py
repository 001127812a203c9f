"""What a ``defusion bench`` run could not score: its problems said as warnings, the error of a run
that scored nothing, and the last line of one that left something out (exit status 1)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from defusion.cli.errors import UserError
from defusion.io.notes import plural

if TYPE_CHECKING:
    from defusion.benchmark.findings import FlatResult
    from defusion.benchmark.runner import BenchResult


#: How a problem of the run (:attr:`BenchResult.problems`: a pair or result left out, a metric not
#: computed) starts: said on every run, unlike a note, which is said once per process.
LEFT_OUT = "defusion: warning: "


def say_left_out(problem: str) -> None:
    """Say one of the run's problems on stderr, above any progress bar (:data:`LEFT_OUT`)."""
    from tqdm import tqdm

    tqdm.write(LEFT_OUT + problem, file=sys.stderr)


#: How many of a run's problems are said before "no pair could be evaluated" (then how many more).
SHOWN_PROBLEMS = 5


def nothing_evaluated(args: argparse.Namespace, problems: list[str]) -> UserError:
    """The error of a run that scored nothing, its ``problems`` (why: the first few and how many more)
    said first, since "no pair could be evaluated" alone leaves the user guessing.

    Example:
        >>> str(nothing_evaluated(argparse.Namespace(dir_a="TNO/ir", dir_b="TNO/vis"), []))
        'no pair could be evaluated in TNO/ir and TNO/vis'
    """
    for problem in problems[:SHOWN_PROBLEMS]:
        say_left_out(problem)
    if len(problems) > SHOWN_PROBLEMS:
        say_left_out(f"... and {len(problems) - SHOWN_PROBLEMS} more like these")
    return UserError(f"no pair could be evaluated in {args.dir_a} and {args.dir_b}")


def left_out_of_run(result: BenchResult, pairs: list[str], requested: list[str], metrics: tuple[str, ...],
                    produced: dict[str, set[str]]) -> tuple[list[str], list[tuple[str, str]]]:
    """What this run was asked for and could not score: the ``pairs`` not evaluated (a source unreadable,
    or the two of different sizes), and the (method, pair) of the ``requested`` methods with no result
    on a pair that was (a method failing, a published result missing, unreadable or of another size).
    A method whose result was at hand (``produced``: {pair: methods}) counts as scored even where
    a metric could not be computed on it (noted: a metric's limit, not a missing result); one not
    at hand, as scored where results.csv holds every metric of it (kept from an earlier run)."""
    scored: dict[tuple[str, str], set[str]] = {}
    for r in result.rows:
        scored.setdefault((r.method, r.image), set()).add(r.metric)
    evaluated = set(result.images)
    lost = [(method, stem) for stem in result.images for method in requested
            if method not in produced.get(stem, set()) and not set(metrics) <= scored.get((method, stem), set())]
    return [stem for stem in pairs if stem not in evaluated], lost


def kept_pair_problems(lost: list[tuple[str, str]], produced: dict[str, set[str]],
                       present: dict[str, set[str]]) -> list[str]:
    """The problems to say again of the ``lost`` (method, pair) on the pairs a resume kept whole, which it
    does not evaluate (nothing left to compute: no pair in ``produced``): the last line counts them, so
    the lines it points to must be there. A --fused result missing is said as the evaluation said it
    (``present``: {method: the pairs it has a result file of}).

    Example:
        >>> kept_pair_problems([("Broken", "carLight"), ("GFF", "kettle")], {"kettle": {"GFF"}}, {"Broken": set()})
        ["carLight: no result of Broken (as in the earlier run; the pair's other scores are kept)"]
    """
    problems = []
    for method, stem in lost:
        if stem in produced:  # evaluated by this run: its problems are said already
            continue
        why = f"no result of {method}" if stem not in present.get(method, {stem}) else f"{method} not scored"
        problems.append(f"{stem}: {why} (as in the earlier run; the pair's other scores are kept)")
    return problems


def left_out_line(pairs: list[str], count: int, results: list[tuple[str, str]],
                  flat: list[FlatResult] | tuple = ()) -> str:
    """The last line of a run that left something out (its exit status is then 1), or scored results
    that are (nearly) one value (``flat``: failed fusions, warned of above; scored, so exit status 0
    where nothing was left out), counted as the warnings they are.

    Example:
        >>> left_out_line(["07"], 21, [])
        'left out 1 of 21 pairs (e.g. 07): see the lines above; exit status 1'
        >>> left_out_line([], 21, [("CBF", "12"), ("CBF", "14")])
        'left out 2 method results on the pairs scored (e.g. CBF on 12): see the lines above; exit status 1'
        >>> from defusion.benchmark.findings import FlatResult
        >>> left_out_line([], 21, [], [FlatResult("Flat", "07", 0.0), FlatResult("Flat", "09", 0.0)])
        "scored 2 results that are (nearly) one value (e.g. Flat's for 07): see the lines above; exit status 0"
    """
    parts = []
    if pairs:
        parts.append(f"{len(pairs)} of {plural(count, 'pair')} (e.g. {pairs[0]})")
    if results:
        parts.append(f"{plural(len(results), 'method result')} on the pairs scored "
                     f"(e.g. {results[0][0]} on {results[0][1]})")
    said = [f"left out {' and '.join(parts)}"] if parts else []
    if flat:
        said.append(f"scored {plural(len(flat), 'result')} that {'is' if len(flat) == 1 else 'are'} (nearly) one "
                    f"value (e.g. {flat[0].method}'s for {flat[0].stem})")
    return f"{'; '.join(said)}: see the lines above; exit status {1 if parts else 0}"
