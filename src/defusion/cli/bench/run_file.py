"""OUT/run.json (RUN_FILE): what a ``defusion bench`` run records beside results.csv for a later
``--resume`` (task, metrics, weights, fingerprints of the files scored, --fused folders, --versus,
--jpeg-quality), and reading an earlier run's."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from defusion.benchmark.runner import Row


#: Written into OUT: what a later ``--resume`` must know about this run.
RUN_FILE = "run.json"
#: RUN_FILE's "weights" where DeFusion's rows were made with the shipped weights (or none were made).
SHIPPED = "shipped"


def recorded_run(out: Path) -> dict:
    """What an earlier run wrote into ``out``'s RUN_FILE ({} where there is none, or it is unreadable).

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as out:
        ...     _ = (Path(out) / RUN_FILE).write_text('{"task": "ivf", "versus": "defusion"}')
        ...     recorded_run(Path(out))
        {'task': 'ivf', 'versus': 'defusion'}
        >>> recorded_run(Path("no-such-run"))
        {}
    """
    try:
        recorded = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return _composed_stems(recorded) if isinstance(recorded, dict) else {}


def _composed_stems(recorded: dict) -> dict:
    """``recorded`` with its pairs' names in composed form (:func:`~defusion.io.pairs.pair_stem`), as
    this run names them: a run before 2026-12-07 kept the decomposed names a Mac's files came with.

    Example:
        >>> _composed_stems({"source_files": {"cafe\u0301": ["aa"]}, "fused_files": {"CBF": {"cafe\u0301": "bb"}}})
        {'source_files': {'café': ['aa']}, 'fused_files': {'CBF': {'café': 'bb'}}}
    """
    from defusion.io.pairs import pair_stem

    composed = dict(recorded)
    if isinstance(recorded.get("source_files"), dict):
        composed["source_files"] = {pair_stem(str(k)): v for k, v in recorded["source_files"].items()}
    if isinstance(recorded.get("fused_files"), dict):
        composed["fused_files"] = {method: {pair_stem(str(k)): v for k, v in files.items()} if isinstance(files, dict)
                                   else files for method, files in recorded["fused_files"].items()}
    return composed


def mapping_in(record: dict, key: str) -> dict:
    """``record[key]`` where it is a mapping (a hand-edited or older RUN_FILE may lack it), else {}.

    Example:
        >>> mapping_in({"fused_dirs": {"CBF": "vifb/CBF"}}, "fused_dirs"), mapping_in({"fused_dirs": "?"}, "fused_dirs")
        ({'CBF': 'vifb/CBF'}, {})
    """
    value = record.get(key)
    return value if isinstance(value, dict) else {}


@dataclass
class ThisRun:
    """What RUN_FILE records of this run (:func:`run_record`)."""

    task: str
    metrics: tuple[str, ...]
    defusion_run: str | None  # the ID of the weights and defaults DeFusion's scores were made with
    weights: Path | None  # --weights (None: the shipped ones)
    fused_dirs: dict[str, Path]  # --fused: folders, or patterns with {stem}
    fused_files: dict[str, dict[str, str]]  # {method: {stem: fingerprint}} of results (:func:`published_fingerprints`)
    source_files: dict[str, list[str]]  # {stem: fingerprints of its two sources} (:func:`source_fingerprints`)
    versus: str | None = None  # --versus, or the earlier run's on a resume (:func:`resumed_versus`)
    methods: tuple[str, ...] = ()  # the methods named (--methods, then --fused), in that order
    jpeg_quality: int | str | None = None  # --jpeg-quality (a quality, or 'match'): the built-in methods' results scored as such JPEGs


def run_record(run: ThisRun, earlier: dict, kept: list[Row]) -> dict:
    """RUN_FILE's content: ``run``'s task, the metrics scored (an ``earlier`` record's too, or where it
    does not say those of the ``kept`` rows: results.csv keeps them), the sources' fingerprints, and
    the published folders (or patterns, their folder made absolute as a folder is) and file fingerprints,
    each merged over the ``earlier`` record's (a resume naming only some methods, or --limit, keeps the
    others', so that a later change to their files is still rescored, and their images still reach the
    grids), --versus (None where not given: versus.md's default), which a resume keeps, and the methods
    in the order named, the ``earlier`` record's first (:func:`_method_order`: versus.md's default).

    Example:
        >>> run = ThisRun("ivf", ("Qabf", "SF"), None, None, {}, {}, {"01": ["3f2a", "9c1b"]}, versus="defusion")
        >>> record = run_record(run, {"metrics": ["EN"], "source_files": {"02": ["aa07", "bb12"]}}, [])
        >>> record["metrics"], record["source_files"], record["versus"]
        (['EN', 'Qabf', 'SF'], {'02': ['aa07', 'bb12'], '01': ['3f2a', '9c1b']}, 'defusion')
    """
    from defusion.benchmark.runner import SECONDS
    from defusion.io.pairs import is_stem_pattern

    folders = {name: str(folder.parent.resolve() / folder.name if is_stem_pattern(folder) else folder.resolve())
               for name, folder in run.fused_dirs.items()}
    scored = earlier.get("metrics")
    if not isinstance(scored, list):
        scored = [r.metric for r in kept if r.metric != SECONDS]
    return {"defusion_run": run.defusion_run, "weights": str(run.weights or SHIPPED), "task": run.task,
            "metrics": list(dict.fromkeys([*scored, *run.metrics])),
            "source_files": {**mapping_in(earlier, "source_files"), **run.source_files},
            "fused_files": _merged_files(mapping_in(earlier, "fused_files"), run.fused_files),
            "fused_dirs": {**mapping_in(earlier, "fused_dirs"), **folders}, "versus": run.versus,
            "jpeg_quality": run.jpeg_quality, "methods": _method_order(earlier, kept, run.methods)}


def _method_order(earlier: dict, kept: list[Row], now: tuple[str, ...]) -> list[str]:
    """RUN_FILE's methods: those the ``earlier`` record names (or, an older one's that does not, those
    of the ``kept`` rows, as results.csv holds them), then those named ``now``: the order versus.md's
    default reference is the first of, which a resume adding a method keeps, and not results.csv's,
    where a method lacking the first pair comes late.

    Example:
        >>> _method_order({"methods": ["Mine", "GFF"]}, [], ("average", "Mine"))
        ['Mine', 'GFF', 'average']
    """
    named = earlier.get("methods")
    if not isinstance(named, list):
        named = [r.method for r in kept]
    return list(dict.fromkeys([*named, *now]))


def _merged_files(earlier: dict, now: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
    """RUN_FILE's fingerprints of the published results: this run's (``now``) over the ``earlier``
    record's, pair by pair, so that a run fingerprinting only some pairs (--limit) keeps those of the
    pairs an earlier run scored, and a later change to their files is still rescored."""
    merged = {name: dict(files) for name, files in earlier.items() if isinstance(files, dict)}
    for name, files in now.items():
        merged[name] = {**merged.get(name, {}), **files}
    return merged
