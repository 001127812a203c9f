"""What ``defusion bench --resume`` takes from the earlier run in OUT (its RUN_FILE and results.csv):
refusing one of another protocol (--task, --jpeg-quality), keeping its --versus, saying its new
metrics, the scores still valid (sources, weights and published results unchanged and readable; those
another build of defusion made are kept, with a warning: :func:`say_other_builds`), and the weights and
JPEG encoding of those kept where this run makes none of their kind."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.bench.run_file import RUN_FILE, SHIPPED, mapping_in, recorded_builds
from defusion.cli.errors import UserError
from defusion.io.notes import listed, note, plural, warn

if TYPE_CHECKING:
    from defusion.benchmark.runner import Row
    from defusion.cli.bench.fingerprints import Published, Unreadable


def check_task(out: Path, recorded: dict, task: str) -> None:
    """Refuse to resume the run in ``out`` (its ``recorded`` RUN_FILE) with another --task: its scores
    are another protocol's (other defaults, another DeFusion), and one folder holds one task's tables.
    Nothing is removed: the user picks another --out, or the task the folder holds. A RUN_FILE that
    does not say (an older version's) is taken to be of this task."""
    earlier = recorded.get("task")
    if (out / "results.csv").is_file() and isinstance(earlier, str) and earlier != task:
        raise UserError(f"--resume: {out} holds a --task {earlier} run, not --task {task}; give another --out, "
                        f"or --task {earlier} to resume it")


def check_jpeg_quality(out: Path, recorded: dict, quality: int | str | None) -> None:
    """Refuse to resume a run whose built-in methods were scored after another JPEG encoding (or none,
    as a RUN_FILE without the key says): one table would mix the two. A run that named no built-in
    method (:func:`ran_builtin`) encoded nothing: any --jpeg-quality resumes it."""
    earlier = recorded.get("jpeg_quality")
    if (out / "results.csv").is_file() and earlier != quality and ran_builtin(recorded):
        def said(q: object) -> str:
            return f"--jpeg-quality {q}" if q is not None else "no --jpeg-quality (scored lossless)"
        to_resume = f"--jpeg-quality {earlier}" if earlier is not None else "leave --jpeg-quality out"
        raise UserError(f"--resume: {out} holds a run with {said(earlier)}, not {said(quality)}; give another --out, "
                        f"or {to_resume} to resume it")


def is_builtin(method: str) -> bool:
    """Whether ``method`` is a built-in one (a DeFusion variant or a baseline, as spelt:
    :func:`~defusion.cli.bench.method_options.builtin_names`), whose results --jpeg-quality encodes; a
    --fused result cannot take such a name, whether or not this run names the method
    (:func:`~defusion.cli.bench.method_options.check_fused_names`).

    Example:
        >>> is_builtin("defusion"), is_builtin("average"), is_builtin("GFF")
        (True, True, False)
    """
    from defusion.cli.bench.method_options import builtin_names

    return method in builtin_names()


def ran_builtin(recorded: dict) -> bool:
    """Whether the run ``recorded`` (its RUN_FILE) named a built-in method; one whose RUN_FILE does not
    list its methods (an older version's) is taken to have.

    Example:
        >>> ran_builtin({"methods": ["GFF", "Mine"]}), ran_builtin({"methods": ["Mine", "average"]}), ran_builtin({})
        (False, True, True)
    """
    methods = recorded.get("methods")
    return not isinstance(methods, list) or any(is_builtin(str(m)) for m in methods)


def resumed_versus(out: Path, recorded: dict, given: str | None) -> str | None:
    """--versus of a resumed run: ``given``, else the earlier run's (``recorded`` in ``out``'s RUN_FILE),
    so that adding a method does not rewrite versus.md around another reference; a ``given`` one that
    differs from the earlier run's is said in a note."""
    earlier = recorded.get("versus")
    if not isinstance(earlier, str) or not (out / "results.csv").is_file():
        return given
    if given is None:
        return earlier
    if given != earlier:
        note(f"--versus {given}: the reference of versus.md and versus.png changed from {earlier} (the earlier "
             f"run's in {out}) to {given}")
    return given


def note_new_metrics(out: Path, recorded: dict, metrics: tuple[str, ...], requested: list[str]) -> None:
    """Say which of ``metrics`` the earlier run in ``out`` did not score: computed now for the
    ``requested`` methods on the pairs scored before, as on the others."""
    scored = recorded.get("metrics")
    new = [m for m in metrics if m not in scored] if isinstance(scored, list) else []
    if new and (out / "results.csv").is_file():
        note(f"{listed(new)}: not scored by the earlier run in {out}; computed now for {listed(requested)} "
             "(earlier scores kept)")


def previous_rows(out: Path, weights: str | None, published: Published, recorded: dict,
                  sources: dict[str, list[str]], unreadable: Unreadable) -> tuple[list, str | None]:
    """Rows of an earlier run in ``out`` to keep (those of a pair only if its sources are unchanged,
    by ``sources`` against the ``recorded`` RUN_FILE's, and can be read: not among ``unreadable``;
    DeFusion's only if made with the same weights as this run's, ``weights``; a published result's
    only if its file is still there and unchanged, by ``published``' fingerprints, and can be read)
    and the ID of the weights they were made with. Rows another build made are kept, said in one
    warning (:func:`say_other_builds`)."""
    from defusion.benchmark.runner import DEFUSION_VARIANTS, read_results_csv

    path = out / "results.csv"
    if not path.is_file():
        note(f"nothing to resume in {out}; starting afresh")
        return [], None
    try:
        rows = read_results_csv(path)
    except ValueError as exc:
        raise UserError(f"cannot resume: {exc}") from None
    rows = _readable_rows(rows, unreadable, out)
    rows = _same_sources(rows, sources, recorded, out)
    before, earlier_files = recorded.get("defusion_run"), mapping_in(recorded, "fused_files")
    changed = {(name, stem) for name, files in published.files.items() for stem, digest in files.items()
               if mapping_in(earlier_files, name).get(stem, digest) != digest}
    if changed:
        note(f"{len(changed)} published result file(s) changed since they were scored in {out} "
             f"(e.g. {sorted(changed)[0][0]}'s {sorted(changed)[0][1]}); rescoring them")
        rows = [r for r in rows if (r.method, r.image) not in changed]
    gone = {(r.method, r.image) for r in rows
            if r.method in published.present and r.image not in published.present[r.method]}
    if gone:
        note(f"{len(gone)} published result file(s) scored before are gone (e.g. {sorted(gone)[0][0]}'s "
             f"{sorted(gone)[0][1]}, scored in {out}); their scores are dropped")
        rows = [r for r in rows if (r.method, r.image) not in gone]
    stale = [r for r in rows if r.method in DEFUSION_VARIANTS]
    if weights is not None and stale and before != weights:
        note(f"DeFusion's earlier scores in {out} were made with other (or unknown) weights or inference defaults; "
             "recomputing them")
        rows, before = [r for r in rows if r.method not in DEFUSION_VARIANTS], None
    say_other_builds(rows, recorded, out)
    return rows, before


def say_other_builds(rows: list[Row], recorded: dict, out: Path) -> None:
    """Warn, in one line, where the ``rows`` a resume keeps in ``out`` were made (some or all) by another
    build of defusion than this one, by its ``recorded`` RUN_FILE: the builds it names per method
    ("method_builds"), only the methods another build made rows of; an older one, naming none per method,
    any of its builds (:func:`~defusion.cli.bench.run_file.recorded_builds`; one that records none is
    an earlier version's), for every method ("some of" them where this build made rows of those methods too):
    a change of the code in between (a baseline's, the colour path's, a metric's) may have changed them,
    and nothing says which methods it touched, so they are kept, as --resume asks, and --overwrite is
    named to score them afresh."""
    from defusion.cli.build_info import build_name, same_build, this_code

    now = this_code()
    made_by = mapping_in(recorded, "method_builds")

    def builds_of(method: str) -> list:  # an older RUN_FILE, saying no method's builds: any of its builds
        named = made_by.get(method)
        return named if isinstance(named, list) else recorded_builds(recorded)

    rows = [r for r in rows if any(not same_build(b, now) for b in builds_of(r.method))]
    methods = list(dict.fromkeys(r.method for r in rows))
    others = [build_name(b) for m in methods for b in builds_of(m) if not same_build(b, now)]
    if not rows:
        return
    mixed = any(same_build(b, now) for m in methods for b in builds_of(m))  # this build made some of them
    warn(f"--resume: {'some of ' if mixed else ''}the {plural(len(rows), 'row')} of results.csv kept in {out} "
         f"({listed(methods)}) {'may have been' if mixed else 'were'} made by "
         f"{listed(list(dict.fromkeys(others)))}, not by this {build_name(now)}: a change in between may have changed "
         "them; run with --overwrite to score everything afresh with this build (--resume keeps them)")


def kept_weights(recorded: dict, kept: list[Row], given: Path | None, runs_defusion: bool) -> Path | None:
    """The weights file the tables' DeFusion rows were made with, for RUN_FILE and the title: ``given``
    (--weights; None: the shipped ones) where this run runs DeFusion or keeps none of its rows; else
    the earlier run's, as its ``recorded`` RUN_FILE says, since the ``kept`` rows are its (a resume
    adding only --fused results must not relabel them "shipped").

    Example:
        >>> from defusion.benchmark.runner import Row
        >>> kept = [Row("defusion", "01", "EN", 7.0)]
        >>> kept_weights({"weights": "runs/r1/weights.safetensors"}, kept, None, runs_defusion=False)
        PosixPath('runs/r1/weights.safetensors')
        >>> kept_weights({"weights": "shipped"}, kept, Path("other.safetensors"), runs_defusion=False) is None
        True
        >>> kept_weights({"weights": "shipped"}, kept, Path("w.safetensors"), runs_defusion=True)
        PosixPath('w.safetensors')
    """
    from defusion.benchmark.runner import DEFUSION_VARIANTS

    earlier = recorded.get("weights")
    if runs_defusion or not isinstance(earlier, str) or not any(r.method in DEFUSION_VARIANTS for r in kept):
        return given
    return None if earlier == SHIPPED else Path(earlier)


def kept_jpeg_quality(recorded: dict, given: int | str | None, runs_builtin: bool,
                      kept: list[Row]) -> int | str | None:
    """--jpeg-quality as RUN_FILE and the title record it: ``given`` where a built-in method runs
    (it encodes only their results); else, on a resume keeping built-in rows (``kept``), the earlier
    run's (``recorded`` in its RUN_FILE: not refused, :func:`check_jpeg_quality`), so that a later
    resume running them is still checked against the encoding of those rows; else none, since nothing
    was encoded: a title saying "built-in results as JPEG" of a table of --fused results alone would
    mislead. A ``given`` one that sets nothing is said, not dropped unseen.

    Example:
        >>> from defusion.benchmark.runner import Row
        >>> kept_jpeg_quality({"jpeg_quality": 75}, None, False, [Row("average", "01", "EN", 7.0)])
        75
        >>> kept_jpeg_quality({"jpeg_quality": 75}, None, False, [Row("GFF", "01", "EN", 7.0)]) is None  # none built-in
        True
    """
    if runs_builtin:
        return given
    if any(is_builtin(r.method) for r in kept):
        earlier = recorded.get("jpeg_quality")
        if given is not None and given != earlier:
            encoding = f"--jpeg-quality {earlier}" if earlier is not None else "lossless"
            note(f"--jpeg-quality {given} sets nothing here: no built-in method runs (it encodes only theirs); "
                 f"the kept rows' encoding ({encoding}) stays recorded")
        return earlier
    if given is not None:
        note(f"--jpeg-quality {given} sets nothing here: no built-in method runs (it encodes only theirs; "
             "--fused results are scored as stored)")
    return None


def _readable_rows(rows: list[Row], unreadable: Unreadable, out: Path) -> list[Row]:
    """``rows`` (of ``out``) less the scores of a pair with a source this run cannot read and of a
    published result it cannot read (``unreadable``), said in one note: nothing tells whether the
    file changed since it was scored, and the evaluation says why it is left out."""
    def unread(r: Row) -> bool:
        return r.image in unreadable.pairs or (r.method, r.image) in unreadable.results

    dropped = [r for r in rows if unread(r)]
    if dropped:
        count = len({(r.method, r.image) for r in dropped})
        note(f"{plural(count, 'method result')} scored before in {out} (e.g. {dropped[0].method} "
             f"on {dropped[0].image}) now {'has' if count == 1 else 'have'} a source or result file that cannot "
             f"be read; {'its' if count == 1 else 'their'} scores are dropped (nothing tells whether it changed)")
    return [r for r in rows if not unread(r)]


def _same_sources(rows: list[Row], sources: dict[str, list[str]], recorded: dict, out: Path) -> list[Row]:
    """``rows`` (of ``out``) less every method's scores of a pair whose sources changed since the
    ``recorded`` run (its fingerprints against ``sources``), said in one note. A RUN_FILE with no
    fingerprints of the sources (an older version's) cannot tell: its rows are kept, as are a
    published result's whose digest was not recorded, and one note says so."""
    if not rows:
        return rows
    if "source_files" not in recorded:
        note(f"{out / RUN_FILE} records no fingerprints of the sources (an older run): the earlier scores are "
             "kept as if the sources were unchanged (run with --overwrite, not --resume, to score them afresh)")
        return rows
    earlier = mapping_in(recorded, "source_files")
    changed = sorted(stem for stem, digests in sources.items() if earlier.get(stem, digests) != digests)
    dropped = [r for r in rows if r.image in changed]
    if dropped:
        methods = sorted({r.method for r in dropped})
        count = len({r.image for r in dropped})
        one = count == 1
        note(f"the sources of {count} pair{'' if one else 's'} changed since {'it was' if one else 'they were'} scored "
             f"in {out} (e.g. {dropped[0].image}): the scores of every method on {'it' if one else 'them'} "
             f"({listed(methods)}) are dropped, and this run's methods scored again")
    return [r for r in rows if r.image not in changed]
