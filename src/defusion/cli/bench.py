"""``defusion bench``: built-in and published methods side by side, scored identically.

Exit status: 0 when every requested pair and result was scored; 1 when some were left out (a source or
result that cannot be read or is of another size, a method failing on a pair: each said on a
``defusion: warning: ...`` line, every run, and counted in the last line), so that a script notices;
2 on a usage error or when no pair could be scored. Stems found in only one of --a and --b are said
(on such a line) but do not count: a data set's two folders often differ by a few files, and no pair
was asked for there. What is only worth knowing is said as a ``defusion: note: ...``, once.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator

from defusion.cli.errors import UserError, close_progress_bars
from defusion.cli.options import note_quick_test_weights, positive_int
from defusion.io.notes import listed, note, plural
from defusion.model.errors import WeightsError

if TYPE_CHECKING:
    import numpy as np

    from defusion.benchmark.runner import BenchResult, Row

#: Written into OUT: what a later ``--resume`` must know about this run.
RUN_FILE = "run.json"

HELP = "benchmark DeFusion, classical baselines and published results on folders of pairs"
#: Under --help: what the exit status says.
EPILOG = ("exit status: 0 when every pair and result was scored; 1 when some were left out (unreadable, "
          "another size, a method failing on a pair: each said on a 'defusion: warning:' line, and counted in "
          "the last line); 2 on a usage error or when no pair could be scored. Stems in only one of --a and --b "
          "are said, not counted.")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog = EPILOG
    p.add_argument("--task", required=True, choices=("ivf", "mef", "mff"),
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
    p.add_argument("--jpeg-quality", type=jpeg_quality_arg, metavar="Q",
                   help="score the built-in methods' results after saving them as JPEG of quality Q (1-100, 4:2:0), "
                        "as published results stored as JPEG are scored (VIFB's are quality 75; a note says when "
                        "--fused results are JPEG; default: scored lossless)")
    p.add_argument("--metrics", help="comma-separated metric names, any case; 'vifb' = the 13 VIFB metrics, 'mefb' = MEFB's 20 "
                                      "(default: the task's set)")
    p.add_argument("--weights", type=Path, help="DeFusion weights (default: the shipped weights)")
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
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
    p.add_argument("--no-progress", action="store_true")


def jpeg_quality_arg(text: str) -> int:
    """--jpeg-quality: a JPEG quality, 1 to 100."""
    from defusion.io.jpeg import QUALITIES

    try:
        quality = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if quality not in QUALITIES:
        raise argparse.ArgumentTypeError(f"a JPEG quality is 1 to 100, got {quality}")
    return quality


def _methods(spec: str) -> list[str]:
    """--methods as names: built-in ones in their own spelling whatever the case given (as metric
    names are), each once; an unknown name is left as given, for builtin_methods to refuse."""
    from defusion.baselines import BASELINES, available_baselines
    from defusion.benchmark.runner import DEFUSION_VARIANTS

    if spec.strip().lower() == "none":
        return []
    if spec.strip().lower() == "default":
        return ["defusion", *available_baselines()]
    canonical = {name.lower(): name for name in [*DEFUSION_VARIANTS, *BASELINES]}
    return list(dict.fromkeys(canonical.get(m.strip().lower(), m.strip()) for m in spec.split(",") if m.strip()))


def _versus(name: str | None, methods: list[str]) -> str | None:
    """--versus as ``methods`` (this run's) spell it: exactly, else ignoring case where one method
    matches (``--fused`` names keep the user's spelling, so two may differ in case only)."""
    if name is None or name in methods:
        return name
    matches = [m for m in methods if m.lower() == name.lower()]
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UserError(f"--versus {name}: {', '.join(matches)} differ only in case; give one as spelt")
    raise UserError(f"--versus {name}: not among the methods of this run ({', '.join(methods)})")


def _fused_dirs(specs: list[str]) -> dict[str, Path]:
    """--fused as {name: a folder of results, or a file pattern with {stem}
    (:func:`~defusion.io.pairs.results_by_stem`)}, each checked: a folder or pattern that can hold
    no result is refused now, not after the first pair's minutes."""
    from defusion.io.pairs import EXT_FIELD, PairsError, check_stem_pattern, is_stem_pattern

    out = {}
    for spec in specs:
        name, sep, folder = spec.partition("=")
        if not sep or not name or not folder:
            raise UserError(f"--fused takes NAME=DIR or NAME=PATTERN (results/{{stem}}_mine.png), got {spec!r}")
        if is_stem_pattern(folder):
            try:
                check_stem_pattern(folder)
            except (PairsError, FileNotFoundError) as exc:
                raise UserError(f"--fused {name}: {exc}") from None
        elif not Path(folder).is_dir():
            raise UserError(f"--fused {name}: folder not found: {folder}")
        if name in out:
            either = f" (a pattern ending in .{EXT_FIELD} takes any extension)" if is_stem_pattern(folder) else ""
            raise UserError(f"--fused {name} is given twice ({out[name]} and {folder}); name each folder once{either}")
        out[name] = Path(folder)
    return out


#: Hex digits of a file's SHA-1 kept as its fingerprint in RUN_FILE.
FINGERPRINT_DIGITS = 16


def _digest(path: Path) -> str:
    """A fingerprint of the file's bytes."""
    import hashlib

    return hashlib.sha1(path.read_bytes()).hexdigest()[:FINGERPRINT_DIGITS]


def _readable_digest(path: Path) -> str | None:
    """:func:`_digest` of a file, or None where it cannot be read (permission denied, an I/O error):
    no fingerprint is recorded for it, and the evaluation, reading it too, leaves it out and says why."""
    try:
        return _digest(path)
    except OSError:
        return None


@dataclass
class _Unreadable:
    """What this run could not fingerprint, as it could not read it: the evaluation leaves it out and
    says why (exit status 1), and an earlier run's scores of it are not kept (:func:`_previous_rows`),
    since nothing tells whether the file changed since."""

    pairs: set[str]  # pairs with a source that cannot be read
    results: set[tuple[str, str]]  # (method, pair) of published results that cannot be read


@dataclass
class _Published:
    """The ``--fused`` results as this run finds them (:func:`_fingerprints`)."""

    files: dict[str, dict[str, str]]  # {method: {stem: digest of the file's bytes}} of those fingerprinted
    unreadable: set[tuple[str, str]]  # (method, stem) of those fingerprinted that cannot be read
    present: dict[str, set[str]]  # {method: the stems it has a result file of}, fingerprinted or not
    jpeg: dict[str, list[tuple[int, bool]]] = field(default_factory=dict)  # {method: (quality, exact) of its first JPEGs}


def _fingerprints(fused_dirs: dict[str, Path], stems: list[str], recorded: dict) -> _Published:
    """Fingerprints of the published results of the pairs this run scores (``stems``), so that a resumed
    run rescores a result whose file changed, and of those whose scores an earlier run (its ``recorded``
    RUN_FILE) fingerprinted, since a resume keeps those scores; not of the others (--limit: a few pairs
    of a benchmark's hundreds of results are read, and run.json records only those). Those that cannot
    be read get none (:func:`_readable_digest`). A pattern matching two files of a pair is refused."""
    from defusion.io.jpeg import is_jpeg_name, jpeg_quality
    from defusion.io.pairs import PairsError, results_by_stem

    earlier = _mapping(recorded, "fused_files")
    published = _Published({}, set(), {})
    for name, folder in fused_dirs.items():
        try:
            files = results_by_stem(folder)
        except PairsError as exc:  # {ext} matching two files of one pair
            raise UserError(f"--fused {name}: {exc}") from None
        wanted = set(stems) | set(_mapping(earlier, name))
        published.present[name], published.files[name] = set(files), {}
        for stem in sorted(wanted & files.keys()):
            digest = _readable_digest(files[stem])
            if digest is None:
                published.unreadable.add((name, stem))
            else:
                published.files[name][stem] = digest
        jpegs = [files[stem] for stem in sorted(set(stems) & files.keys()) if is_jpeg_name(files[stem])]
        qualities = [found for found in map(jpeg_quality, jpegs[:JPEG_FILES_READ]) if found is not None]
        if qualities:
            published.jpeg[name] = qualities
    return published


#: How many of a published method's JPEG results are read for the quality they were saved at.
JPEG_FILES_READ = 5


def _qualities(found: Iterable[tuple[int, bool]]) -> str:
    """JPEG qualities (quality, exact: :func:`~defusion.io.jpeg.jpeg_quality`) for a note: ``75``, or
    ``75-95`` where they differ, ``about 75`` where another encoder's tables only come near one."""
    found = list(found)
    low, high = min(q for q, _ in found), max(q for q, _ in found)
    about = "" if all(exact for _, exact in found) else "about "
    return f"{about}{low}" if low == high else f"{about}{low}-{high}"


def _say_lossy(published: _Published, jpeg_quality: int | None, builtin: list[str]) -> None:
    """Note, before anything is fused, published results stored as JPEG where the built-in methods'
    are scored lossless: JPEG at VIFB's quality 75 moves Qabf by 0.02-0.04 on its pairs, as much as
    separates neighbouring methods, so a fair table scores both after the same loss (--jpeg-quality);
    and a --jpeg-quality that is none of the published results' qualities."""
    if not published.jpeg or not builtin:
        return
    every = [found for method in published.jpeg.values() for found in method]
    said = [f"{name} (quality {_qualities(found)})" for name, found in published.jpeg.items()]
    levels = sorted({q for q, _ in every})
    if jpeg_quality is None:
        hint = f"--jpeg-quality {levels[0]}" if len(levels) == 1 else "--jpeg-quality Q"
        note(f"published results stored as JPEG: {listed(said)}; the built-in methods' are scored lossless, which "
             f"favours them (docs/benchmarks.md, 'JPEG results'): {hint} scores them after the same encoding")
    elif jpeg_quality not in levels:
        note(f"--jpeg-quality {jpeg_quality}: the published results' first files are of quality "
             f"{_qualities(every)} ({listed(said)})")


def _source_fingerprints(pairs: list[tuple[str, Path, Path]]) -> dict[str, list[str]]:
    """{stem: [digest of the first source, of the second]} of the ``pairs`` this run evaluates
    (:func:`~defusion.benchmark.runner.evaluated_pairs`): a resumed run rescores a pair whose sources
    changed (or were swapped), since every method's scores of it were made against the old ones.
    A pair with a source that cannot be read (:func:`_readable_digest`) gets none; the evaluation
    leaves it out and says why."""
    fingerprints = {}
    for stem, a, b in pairs:
        digests = [_readable_digest(a), _readable_digest(b)]
        if None not in digests:
            fingerprints[stem] = digests
    return fingerprints


def _recorded_run(out: Path) -> dict:
    """What an earlier run wrote into ``out``'s RUN_FILE ({} where there is none, or it is unreadable)."""
    try:
        recorded = json.loads((out / RUN_FILE).read_text())
    except (OSError, ValueError):
        return {}
    return recorded if isinstance(recorded, dict) else {}


@dataclass
class _ThisRun:
    """What RUN_FILE records of this run (:func:`_run_record`)."""

    task: str
    metrics: tuple[str, ...]
    defusion_run: str | None  # the ID of the weights and defaults DeFusion's scores were made with
    weights: Path | None  # --weights (None: the shipped ones)
    fused_dirs: dict[str, Path]  # --fused: folders, or patterns with {stem}
    fused_files: dict[str, dict[str, str]]  # {method: {stem: fingerprint}} of results (:func:`_fingerprints`)
    source_files: dict[str, list[str]]  # {stem: fingerprints of its two sources} (:func:`_source_fingerprints`)
    versus: str | None = None  # --versus, or the earlier run's on a resume (:func:`_resumed_versus`)
    jpeg_quality: int | None = None  # --jpeg-quality: the built-in methods' results scored as such JPEGs


def _run_record(run: _ThisRun, earlier: dict, kept: list[Row]) -> dict:
    """RUN_FILE's content: ``run``'s task, the metrics scored (an ``earlier`` record's too, or where it
    does not say those of the ``kept`` rows: results.csv keeps them), the sources' fingerprints, and
    the published folders (or patterns, their folder made absolute as a folder is) and file fingerprints,
    each merged over the ``earlier`` record's (a resume naming only some methods, or --limit, keeps the
    others', so that a later change to their files is still rescored, and their images still reach the
    grids), and --versus (None where not given: versus.md's default), which a resume keeps."""
    from defusion.benchmark.runner import SECONDS
    from defusion.io.pairs import is_stem_pattern

    folders = {name: str(folder.parent.resolve() / folder.name if is_stem_pattern(folder) else folder.resolve())
               for name, folder in run.fused_dirs.items()}
    scored = earlier.get("metrics")
    if not isinstance(scored, list):
        scored = [r.metric for r in kept if r.metric != SECONDS]
    return {"defusion_run": run.defusion_run, "weights": str(run.weights or "shipped"), "task": run.task,
            "metrics": list(dict.fromkeys([*scored, *run.metrics])),
            "source_files": {**_mapping(earlier, "source_files"), **run.source_files},
            "fused_files": _merged_files(_mapping(earlier, "fused_files"), run.fused_files),
            "fused_dirs": {**_mapping(earlier, "fused_dirs"), **folders}, "versus": run.versus,
            "jpeg_quality": run.jpeg_quality}


def _merged_files(earlier: dict, now: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """RUN_FILE's fingerprints of the published results: this run's (``now``) over the ``earlier``
    record's, pair by pair, so that a run fingerprinting only some pairs (--limit) keeps those of the
    pairs an earlier run scored, and a later change to their files is still rescored."""
    merged = {name: dict(files) for name, files in earlier.items() if isinstance(files, dict)}
    for name, files in now.items():
        merged[name] = {**merged.get(name, {}), **files}
    return merged


def _check_task(out: Path, recorded: dict, task: str) -> None:
    """Refuse to resume the run in ``out`` (its ``recorded`` RUN_FILE) with another --task: its scores
    are another protocol's (other defaults, another DeFusion), and one folder holds one task's tables.
    Nothing is removed: the user picks another --out, or the task the folder holds. A RUN_FILE that
    does not say (an older version's) is taken to be of this task."""
    earlier = recorded.get("task")
    if (out / "results.csv").is_file() and isinstance(earlier, str) and earlier != task:
        raise UserError(f"--resume: {out} holds a --task {earlier} run, not --task {task}; give another --out, "
                        f"or --task {earlier} to resume it")


def _check_jpeg_quality(out: Path, recorded: dict, quality: int | None) -> None:
    """Refuse to resume a run whose built-in methods were scored after another JPEG encoding (or none,
    as a RUN_FILE without the key says): one table would mix the two."""
    earlier = recorded.get("jpeg_quality")
    if (out / "results.csv").is_file() and earlier != quality:
        def said(q: object) -> str:
            return f"--jpeg-quality {q}" if q is not None else "no --jpeg-quality (scored lossless)"
        to_resume = f"--jpeg-quality {earlier}" if earlier is not None else "leave --jpeg-quality out"
        raise UserError(f"--resume: {out} holds a run with {said(earlier)}, not {said(quality)}; give another --out, "
                        f"or {to_resume} to resume it")


def _resumed_versus(out: Path, recorded: dict, given: str | None) -> str | None:
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


def _new_metrics(out: Path, recorded: dict, metrics: tuple[str, ...], requested: list[str]) -> None:
    """Say which of ``metrics`` the earlier run in ``out`` did not score: computed now for the
    ``requested`` methods on the pairs scored before, as on the others."""
    scored = recorded.get("metrics")
    new = [m for m in metrics if m not in scored] if isinstance(scored, list) else []
    if new and (out / "results.csv").is_file():
        note(f"{listed(new)}: not scored by the earlier run in {out}; computed now for {listed(requested)} "
             "(earlier scores kept)")


def _mapping(record: dict, key: str) -> dict:
    """``record[key]`` where it is a mapping (a hand-edited or older RUN_FILE may lack it), else {}."""
    value = record.get(key)
    return value if isinstance(value, dict) else {}


def _folder_name(folder: Path) -> str:
    """A folder's own name, also where it is given as ``.`` or ``..``."""
    return folder.resolve().name or str(folder)


def _default_title(args: argparse.Namespace) -> str:
    """The task, the data set's folder, which folder is the first source and which the second
    (swapping them changes some methods' results), the weights where they are not the shipped ones, and
    the JPEG encoding the built-in methods' results were scored after (--jpeg-quality)."""
    from defusion.benchmark.report import sources_phrase

    dataset = args.dir_a.parent.name or args.dir_a.name
    return (f"{args.task.upper()}: {dataset} {sources_phrase((_folder_name(args.dir_a), _folder_name(args.dir_b)))}"
            + (f", weights {_weights_label(args.weights)}" if args.weights else "")
            + _encoding_phrase(args))


def _with_encoding(title: str, args: argparse.Namespace) -> str:
    """A --title with :func:`_encoding_phrase` added, unless it says the encoding already."""
    phrase = _encoding_phrase(args)
    said = re.search(rf"\b{re.escape(phrase.lstrip(', '))}(?!\d)", title) if phrase else True
    return title if said else title + phrase


def _encoding_phrase(args: argparse.Namespace) -> str:
    """", built-in results as JPEG of quality 75" where --jpeg-quality is given, else nothing: every
    title says it, a --title too, since it changes how the table's rows compare."""
    quality = getattr(args, "jpeg_quality", None)
    return f", built-in results as JPEG of quality {quality}" if quality else ""


def _weights_label(weights: Path) -> str:
    """Weights as the title names them: the file with its folder (``run1/weights.safetensors``), since
    every training run's file has the same name; the file alone where it has no folder's name.

    Example:
        >>> _weights_label(Path("runs/run1/weights.safetensors")), _weights_label(Path("/tiny.safetensors"))
        ('run1/weights.safetensors', 'tiny.safetensors')
    """
    folder = weights.resolve().parent.name
    return f"{folder}/{weights.name}" if folder else weights.name


#: What ``defusion bench`` writes into OUT (a fresh run removes earlier ones, so none is stale).
OUTPUTS = ("results.csv", "summary.md", "summary.tex", "means.csv", "stds.csv", "summary.png", "versus.md",
           "versus.png", RUN_FILE)


def _clear_outputs(out: Path) -> None:
    """Remove an earlier run's outputs from ``out`` (only the files bench writes)."""
    import shutil

    for name in OUTPUTS:
        (out / name).unlink(missing_ok=True)
    if (out / "grids").is_dir():  # not OUT/fused: a later run may score those files with --fused
        shutil.rmtree(out / "grids")


def _previous_rows(out: Path, weights: str | None, published: _Published, recorded: dict,
                   sources: dict[str, list[str]], unreadable: _Unreadable) -> tuple[list, str | None]:
    """Rows of an earlier run in ``out`` to keep (those of a pair only if its sources are unchanged,
    by ``sources`` against the ``recorded`` RUN_FILE's, and can be read: not among ``unreadable``;
    DeFusion's only if made with the same weights as this run's, ``weights``; a published result's
    only if its file is still there and unchanged, by ``published``' fingerprints, and can be read)
    and the ID of the weights they were made with."""
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
    before, earlier_files = recorded.get("defusion_run"), _mapping(recorded, "fused_files")
    changed = {(name, stem) for name, files in published.files.items() for stem, digest in files.items()
               if _mapping(earlier_files, name).get(stem, digest) != digest}
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
        return [r for r in rows if r.method not in DEFUSION_VARIANTS], None
    return rows, before


def _readable_rows(rows: list[Row], unreadable: _Unreadable, out: Path) -> list[Row]:
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
             "kept as if the sources were unchanged (run without --resume to score them afresh)")
        return rows
    earlier = _mapping(recorded, "source_files")
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


def _stored_results(out: Path, record: dict, fused_dirs: dict[str, Path]) -> dict[str, dict[str, Path]]:
    """{method: {stem: file}} of the results this run does not read itself that a grid can show:
    the ``--fused`` folders (or patterns) of earlier runs (``record``) that still exist, and the
    built-in methods' results saved in OUT/fused (--save-fused)."""
    from defusion.io.pairs import results_folder

    folders = {name: Path(folder) for name, folder in _mapping(record, "fused_dirs").items()
               if name not in fused_dirs and isinstance(folder, str)}
    saved = out / "fused"
    if saved.is_dir():
        folders.update({p.name: p for p in sorted(saved.iterdir()) if p.is_dir() and p.name not in folders})
    return {name: files for name, folder in folders.items() if results_folder(folder).is_dir()
            for files in [_results_or_none(folder)] if files is not None}


def _results_or_none(where: Path) -> dict[str, Path] | None:
    """:func:`~defusion.io.pairs.results_by_stem` of an earlier run's folder or pattern, for a grid; None
    where a pattern now matches two files of a pair (which one was scored, nothing says)."""
    from defusion.io.pairs import PairsError, results_by_stem

    try:
        return results_by_stem(where)
    except PairsError:
        return None


class _Grids:
    """Draws each evaluated pair's comparison grid (OUT/grids/<pair>.jpg) with every method scored
    on it whose image is at hand: this run's outputs, else a stored result (:func:`_stored_results`,
    unchanged since it was scored, by ``fingerprints``). On a resume a built-in method is not run
    again for a grid, so some method's image may not be at hand: an existing grid is then kept where
    this run has no new image for the pair, and otherwise drawn without those methods, since keeping
    it would show the new methods' old images (:meth:`say_kept` says which, once)."""

    def __init__(self, folder: Path, previous: list[Row], stored: dict[str, dict[str, Path]],
                 fingerprints: dict[str, dict[str, str]]) -> None:
        self.folder, self.stored = folder, stored
        self.fingerprints = {name: files for name, files in fingerprints.items() if isinstance(files, dict)}
        self.scored: dict[str, set[str]] = {}  # pair -> methods scored on it in an earlier run
        for r in previous:
            self.scored.setdefault(r.image, set()).add(r.method)
        self.kept: list[str] = []
        self.partial: list[str] = []  # grids drawn without some scored methods
        self.unavailable: set[str] = set()

    def draw(self, stem: str, a: np.ndarray, b: np.ndarray, outputs: dict[str, np.ndarray], methods: list[str]
             ) -> None:
        """Write ``stem``'s grid: the sources, then the methods in ``methods``' order."""
        from defusion.benchmark.report import comparison_grid

        wanted = self.scored.get(stem, set()) | outputs.keys()
        tiles, missing = {}, []
        for name in [m for m in methods if m in wanted]:
            image = outputs[name] if name in outputs else self._stored(name, stem, a.shape[:2])
            if image is None:
                missing.append(name)
            else:
                tiles[name] = image
        path = self.folder / f"{stem}.jpg"
        if missing:
            self.unavailable.update(missing)
            if path.is_file() and not outputs:  # nothing new to show: the old grid is as current
                self.kept.append(stem)
                return
            self.partial.append(stem)
        comparison_grid(a, b, tiles).save(path, quality=GRID_JPEG_QUALITY)

    def _stored(self, name: str, stem: str, size: tuple[int, ...]) -> np.ndarray | None:
        """``name``'s stored result of ``stem`` as it was scored (``read_scored``'s reading, shown as
        uint8), or None where there is none, it changed since it was scored, it cannot be read or its
        size is not the sources'."""
        from defusion.benchmark.runner import read_scored, viewable
        from defusion.io.images import ImageReadError

        path = self.stored.get(name, {}).get(stem)
        recorded = self.fingerprints.get(name, {}).get(stem)
        if path is None or (recorded is not None and _readable_digest(path) != recorded):
            return None
        try:
            image = viewable(read_scored(path, quiet=True))  # its note was said when it was scored
        except ImageReadError:
            return None
        return image if image.shape[:2] == size else None

    def say_kept(self) -> None:
        """One note for the grids kept as they were, naming the methods whose images were not at hand."""
        why = (f"no image of {listed(sorted(self.unavailable))} at hand (a resume does not run a built-in method "
               "again for a grid; --save-fused keeps their results for later grids)")
        if self.kept:
            note(f"kept {plural(len(self.kept), 'grid')} in {self.folder} as "
                 f"{'it was' if len(self.kept) == 1 else 'they were'} (e.g. {self.kept[0]}): {why}")
        if self.partial:
            note(f"drew {plural(len(self.partial), 'grid')} in {self.folder} without "
                 f"some scored methods (e.g. {self.partial[0]}): {why}")


#: JPEG quality of the comparison grids.
GRID_JPEG_QUALITY = 90


def run(args: argparse.Namespace) -> int:
    from defusion.benchmark.runner import (DEFUSION_VARIANTS, TASK_METRICS, BenchResult, builtin_methods,
                                           defusion_run_id, evaluated_pairs, run_benchmark)
    from defusion.io.writing import check_writable_folder
    from defusion.io.pairs import PairsError
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
    fused_dirs = _fused_dirs(args.fused)
    names = _methods(args.methods)
    # exact names only: a published folder may differ from a baseline in case alone (VIFB's GFF, and gff)
    clash = sorted(name for name in fused_dirs if name in names)
    if clash:
        raise UserError(f"--fused {clash[0]}: the name of a built-in method; give the folder another name")
    if any(name in DEFUSION_VARIANTS for name in names):
        note_quick_test_weights(args.weights)  # scores of the quick-test network would mislead most here
    methods = builtin_methods(names, args.weights, args.device, args.runtime, task=args.task,
                              jpeg_quality=args.jpeg_quality)  # fails here, once
    make_methods = partial(builtin_methods, names, args.weights, args.device, args.runtime, task=args.task,
                           jpeg_quality=args.jpeg_quality)
    if not methods and not fused_dirs:
        raise UserError("nothing to benchmark: --methods none and no --fused")
    requested = [*methods, *fused_dirs]
    args.versus = _versus(args.versus, requested)
    title = _with_encoding(args.title, args) if args.title else _default_title(args)
    sources = (_folder_name(args.dir_a), _folder_name(args.dir_b))
    weights = defusion_run_id(args.weights, args.task) if any(m in DEFUSION_VARIANTS for m in methods) else None
    previous = None
    try:
        evaluated = evaluated_pairs(args.dir_a, args.dir_b, args.limit)  # those run_benchmark evaluates
    except PairsError as exc:  # a folder with no image to pair
        raise UserError(str(exc)) from None
    wanted, source_files = [stem for stem, _, _ in evaluated], _source_fingerprints(evaluated)
    recorded = _recorded_run(args.out) if args.resume else {}
    published = _fingerprints(fused_dirs, wanted, recorded)
    unreadable = _Unreadable({stem for stem in wanted if stem not in source_files}, published.unreadable)
    if args.resume:
        _check_task(args.out, recorded, args.task)
        _check_jpeg_quality(args.out, recorded, args.jpeg_quality)
    _say_lossy(published, args.jpeg_quality, list(methods))  # after a refusal, never before it
    if args.resume:
        args.versus = _resumed_versus(args.out, recorded, args.versus)
        _new_metrics(args.out, recorded, metrics, requested)
        previous, earlier_weights = _previous_rows(args.out, weights, published, recorded, source_files,
                                                   unreadable)
        weights = weights or earlier_weights  # DeFusion rows kept from an earlier run keep their ID
    elif (args.out / "results.csv").is_file():
        note(f"{args.out} holds an earlier run's results; starting afresh: they are replaced when this run saves "
             "its first scores (--resume keeps them and adds to them)")
    try:
        check_writable_folder(args.out)
    except OSError as exc:  # read-only, full, not allowed: said now, not after the first pair's minutes
        raise UserError(f"--out {args.out}: {exc}") from None
    this_run = _ThisRun(task=args.task, metrics=metrics, defusion_run=weights, weights=args.weights,
                        fused_dirs=fused_dirs, fused_files=published.files, source_files=source_files,
                        versus=args.versus, jpeg_quality=args.jpeg_quality)
    record = _run_record(this_run, recorded, previous or [])  # afresh, recorded is {}: nothing carried over
    saver = _Saver(args.out, record, previous)
    grids = _Grids(args.out / "grids", previous or [], _stored_results(args.out, record, fused_dirs),
                   record["fused_files"])
    result = BenchResult()  # filled as the pairs are scored; its problems also where none could be
    pairs = run_benchmark(args.dir_a, args.dir_b, methods, fused_dirs, metrics,
                          save_dir=args.out / "fused" if args.save_fused else None, limit=args.limit,
                          progress=not args.no_progress, previous=previous, jobs=args.jobs, make_methods=make_methods,
                          result=result)
    try:
        produced = _score(pairs, saver, grids)
        grids.say_kept()
        if not result.rows:
            raise _nothing_evaluated(args, result.problems)
        saver.save(result.rows)  # also when nothing was new (scores dropped)
        earlier = {(r.method, r.image, r.metric) for r in previous or []}
        _report(args, result, metrics, title, sources, requested, earlier, produced)
    except KeyboardInterrupt:
        close_progress_bars()
        print(f"defusion: interrupted; {saver.progress()}", file=sys.stderr)
        return 130
    except OSError as exc:  # a full or read-only disk: what is saved stays saved
        raise UserError(f"{_reason(exc)}; {saver.progress()}") from None
    lost_pairs, lost_results = _left_out(result, wanted, requested, metrics, produced)
    if lost_pairs or lost_results:
        print(f"defusion: {_left_out_line(lost_pairs, len(wanted), lost_results)}", file=sys.stderr)
        return 1
    return 0


def _left_out(result: BenchResult, pairs: list[str], requested: list[str], metrics: tuple[str, ...],
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


def _left_out_line(pairs: list[str], count: int, results: list[tuple[str, str]]) -> str:
    """The last line of a run that left something out (its exit status is then 1)."""
    parts = []
    if pairs:
        parts.append(f"{len(pairs)} of {plural(count, 'pair')} (e.g. {pairs[0]})")
    if results:
        parts.append(f"{plural(len(results), 'method result')} on the pairs scored "
                     f"(e.g. {results[0][0]} on {results[0][1]})")
    return f"left out {' and '.join(parts)}: see the lines above; exit status 1"


def _score(pairs: Iterator[tuple[str, dict[str, np.ndarray], np.ndarray | None, np.ndarray | None, BenchResult]],
           saver: _Saver, grids: _Grids) -> dict[str, set[str]]:
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


#: How many of a run's problems are said before "no pair could be evaluated" (then how many more).
SHOWN_PROBLEMS = 5


def _nothing_evaluated(args: argparse.Namespace, problems: list[str]) -> UserError:
    """The error of a run that scored nothing, its ``problems`` (why: the first few and how many more)
    said first, since "no pair could be evaluated" alone leaves the user guessing."""
    for problem in problems[:SHOWN_PROBLEMS]:
        _say_left_out(problem)
    if len(problems) > SHOWN_PROBLEMS:
        _say_left_out(f"... and {len(problems) - SHOWN_PROBLEMS} more like these")
    return UserError(f"no pair could be evaluated in {args.dir_a} and {args.dir_b}")


#: How a problem of the run (:attr:`BenchResult.problems`: a pair or result left out, a metric not
#: computed) starts: said on every run, unlike a note, which is said once per process.
LEFT_OUT = "defusion: warning: "


def _say_left_out(problem: str) -> None:
    """Say one of the run's problems on stderr, above any progress bar (:data:`LEFT_OUT`)."""
    from tqdm import tqdm

    tqdm.write(LEFT_OUT + problem, file=sys.stderr)


def _reason(exc: OSError) -> str:
    """An OSError in one line: the file and the OS's reason (not ``[Errno 28] ...: 'path'``); those of
    :func:`~defusion.io.writing.write_bytes_atomically` are already so."""
    if exc.filename and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


class _Saver:
    """Saves OUT/results.csv, with RUN_FILE (what a resume needs beside it), as pairs are scored. A run
    without --resume removes an earlier run's outputs only when it saves its first scores: one stopped,
    or failing, before that leaves them as they were."""

    def __init__(self, out: Path, record: dict, previous: list[Row] | None) -> None:
        self.out, self.record, self.fresh = out, record, previous is None
        self.started = False
        self.saved = {r.image for r in previous or []}  # pairs in results.csv as this run knows it
        self.earlier = self.fresh and (out / "results.csv").is_file()

    def start(self) -> None:
        """Before this run's first output: remove an earlier run's (without --resume), make grids/ and
        write RUN_FILE."""
        if self.started:
            return
        from defusion.io.writing import write_bytes_atomically

        if self.fresh:
            _clear_outputs(self.out)
        (self.out / "grids").mkdir(parents=True, exist_ok=True)
        write_bytes_atomically(self.out / RUN_FILE, (json.dumps(self.record) + "\n").encode())
        self.started = True

    def save(self, rows: list[Row]) -> None:
        """Write ``rows`` to results.csv (atomically: a failure leaves the last one whole)."""
        from defusion.benchmark.runner import write_results_csv

        self.start()
        write_results_csv(rows, self.out / "results.csv")
        self.saved = {r.image for r in rows}

    def progress(self) -> str:
        """What is saved, and how to go on: said when a run is interrupted or cannot write."""
        results = self.out / "results.csv"
        if self.saved:
            count = len(self.saved)
            return (f"{plural(count, 'pair')} scored and saved in {results}: run the same command "
                    "with --resume to go on")
        if self.earlier and not self.started:
            return f"no pair was scored yet; {results} holds the earlier run's results as they were"
        return "no pair was scored yet; nothing was saved"


def _report(args: argparse.Namespace, result: BenchResult, metrics: tuple[str, ...], title: str,
            sources: tuple[str, str], requested: list[str], earlier: set[tuple[str, str, str]],
            produced: dict[str, set[str]]) -> None:
    """Write the tables and charts of this run's pairs and metrics, and print the summary. They are made
    from results.csv as saved (six significant digits), so that a resumed run's tables, whose earlier
    scores come from that file, are those of a run that computed everything at once: the same
    result scored in two runs is then one value, not two a rounding apart (versus.md's ties).
    ``earlier``: the (method, pair, metric) of the rows kept from an earlier run; ``produced``:
    {pair: the methods whose result was at hand}, to name a method of this run with no score at all."""
    from defusion.benchmark.compare import versus_chart, versus_markdown, versus_summary
    from defusion.benchmark.report import (means_csv, stds_csv, summary_chart, summary_latex, summary_markdown,
                                           undefined_notes)
    from defusion.benchmark.runner import SECONDS, read_results_csv
    from defusion.io.writing import write_bytes_atomically

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
        raise _nothing_evaluated(args, result.problems)
    kept = [m for m in dict.fromkeys(r.method for r in rows) if m not in requested]
    if kept:
        scored = {(r.method, r.metric) for r in rows}
        lacking = [m for m in metrics if any((k, m) not in scored for k in kept)]
        note(f"the tables also show {listed(kept)}, scored by an earlier run in {args.out} (--resume keeps the "
             "methods it does not name; not run again)"
             + (f"; without {listed(lacking)} where the earlier run did not score them (name the methods in "
                "--methods or --fused to score those)" if lacking else ""))
    write_bytes_atomically(args.out / "summary.md", summary_markdown(rows, title, sources, args.std).encode())
    write_bytes_atomically(args.out / "summary.tex", summary_latex(rows, title, sources, args.std).encode())
    means_csv(rows, args.out / "means.csv")
    stds_csv(rows, args.out / "stds.csv")
    summary_chart(rows, args.out / "summary.png", title)
    written = "results.csv, summary.md, summary.tex, means.csv, stds.csv, summary.png"
    scored = list(dict.fromkeys(r.method for r in rows))
    reference = args.versus or ("defusion" if "defusion" in scored else scored[0])
    versus = []
    (args.out / "versus.md").unlink(missing_ok=True)
    (args.out / "versus.png").unlink(missing_ok=True)
    if len(scored) < 2 and args.versus:
        note(f"--versus {args.versus}: no other method in {args.out} to compare it with; no versus.md")
    if len(scored) > 1 and reference not in scored:
        note(f"--versus {reference}: no score of it in {args.out}'s tables to compare the others with; no versus.md")
    if len(scored) > 1 and reference in scored:
        write_bytes_atomically(args.out / "versus.md", versus_markdown(rows, reference, title).encode())
        versus_chart(rows, reference, args.out / "versus.png", title)
        versus = versus_summary(rows, reference)
        written += ", versus.md, versus.png"
    for problem in result.problems:
        _say_left_out(problem)
    for line in undefined_notes(rows):
        note(f"{args.out / 'summary.md'}: {line}")
    print(summary_markdown(rows, title, sources, args.std))
    for line in versus:
        print(line)
    print(f"wrote {args.out}/{written} and grids/", file=sys.stderr)


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


EXPECTED_ERRORS = (WeightsError, ValueError, OSError)
