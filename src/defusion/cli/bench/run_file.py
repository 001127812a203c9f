"""OUT/run.json (RUN_FILE): what a ``defusion bench`` run records beside results.csv for a later
``--resume`` (task, metrics, weights, fingerprints of the files scored, --fused folders, --versus,
--jpeg-quality), the build and machine that made it (:func:`~defusion.cli.build_info.this_build`), and
reading an earlier run's; summary.md's "made with" line from it (:func:`made_with_line`)."""

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
#: The packages summary.md's "made with" line names (what the fusion and its timing ran on; RUN_FILE has the rest).
SOFTWARE_SAID = ("Python", "torch", "onnxruntime", "numpy")


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
    build: dict | None = None  # the build and machine making this run's rows (None: this one, this_build())


def run_record(run: ThisRun, earlier: dict, kept: list[Row]) -> dict:
    """RUN_FILE's content: ``run``'s task, the metrics scored (an ``earlier`` record's too, or where it
    does not say those of the ``kept`` rows: results.csv keeps them), the sources' fingerprints, and
    the published folders (or patterns, their folder made absolute as a folder is) and file fingerprints,
    each merged over the ``earlier`` record's (a resume naming only some methods, or --limit, keeps the
    others', so that a later change to their files is still rescored, and their images still reach the
    grids), --versus (None where not given: versus.md's default), which a resume keeps, and the methods
    in the order named, the ``earlier`` record's first (:func:`_method_order`: versus.md's default); the
    build and machine making this run's rows (``build``), and the other builds whose rows it keeps
    (``builds_kept``, :func:`_kept_builds`).

    Example:
        >>> run = ThisRun("ivf", ("Qabf", "SF"), None, None, {}, {}, {"01": ["3f2a", "9c1b"]}, versus="defusion")
        >>> record = run_record(run, {"metrics": ["EN"], "source_files": {"02": ["aa07", "bb12"]}}, [])
        >>> record["metrics"], record["source_files"], record["versus"]
        (['EN', 'Qabf', 'SF'], {'02': ['aa07', 'bb12'], '01': ['3f2a', '9c1b']}, 'defusion')
        >>> sorted(record["build"]), record["builds_kept"]
        (['code', 'defusion', 'machine', 'software', 'time'], [])
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
            "jpeg_quality": run.jpeg_quality, "methods": _method_order(earlier, kept, run.methods),
            **_provenance(run, earlier, kept, computed_methods(run, kept))}


def _provenance(run: ThisRun, earlier: dict, kept: list[Row], computed: set[str]) -> dict:
    """RUN_FILE's "build", "builds_kept" and "method_builds" of a run computing rows of the methods
    ``computed``, keeping the ``kept`` rows of the ``earlier`` record's: ``run``'s build (the kept rows'
    where it computes nothing: their build, machine and date stay said), the other builds whose rows it
    keeps (:func:`_kept_builds`), and which builds made each method's rows (:func:`_method_builds`)."""
    from defusion.cli.build_info import this_build

    build = run.build or this_build()
    if not computed and isinstance(earlier.get("build"), dict):
        build = earlier["build"]  # a resume computing nothing: the kept rows' build, machine and date stay said
    method_builds = _method_builds(earlier, kept, computed, build)
    return {"build": build, "builds_kept": _kept_builds(earlier, kept, build, method_builds),
            "method_builds": method_builds}


def scored_provenance(run: ThisRun, earlier: dict, kept: list[Row], rows: list[Row]) -> dict:
    """:func:`_provenance` of the methods of which ``rows`` (results.csv as saved) hold a row not among the
    ``kept`` ones: what this run did compute, not what it set out to (:func:`computed_methods`), so that a
    method whose every pair then failed to be scored is not said to be this build's.

    Example:
        >>> from defusion.benchmark.runner import Row
        >>> run = ThisRun("ivf", ("EN",), None, None, {}, {}, {"01": ["aa", "bb"]}, methods=("average", "max"),
        ...               build={"defusion": "0.1.0", "code": "cd"})
        >>> scored_provenance(run, {}, [], [Row("average", "01", "EN", 7.0)])["method_builds"]  # max failed
        {'average': [{'defusion': '0.1.0', 'code': 'cd'}]}
    """
    earlier_rows = {(r.method, r.image, r.metric) for r in kept}
    computed = {r.method for r in rows if (r.method, r.image, r.metric) not in earlier_rows}
    return _provenance(run, earlier, kept, computed)


def computed_methods(run: ThisRun, kept: list[Row]) -> set[str]:
    """The methods of which ``run`` computes rows, as the benchmark will (its ``_pair_tasks``): a built-in
    one on a pair whose sources it fingerprinted (read) missing a metric of ``run`` or its time, a --fused
    one on such a pair with a result missing a metric, among the ``kept`` rows. A pair or result that then
    fails to be scored is still counted here: RUN_FILE as written before the first scores; once they are
    saved, :func:`scored_provenance` names what was computed.

    Example:
        >>> from defusion.benchmark.runner import SECONDS, Row
        >>> run = ThisRun("ivf", ("EN",), None, None, {}, {}, {"01": ["aa", "bb"]}, methods=("average", "max"))
        >>> kept = [Row("average", "01", "EN", 7.0), Row("average", "01", SECONDS, 0.1), Row("max", "01", "EN", 7.0)]
        >>> computed_methods(run, kept)  # max lacks its time on 01
        {'max'}
    """
    from defusion.benchmark.runner import SECONDS

    scored: dict[tuple[str, str], set[str]] = {}
    for r in kept:
        scored.setdefault((r.method, r.image), set()).add(r.metric)
    computed = set()
    for method in run.methods:
        fused = method in run.fused_dirs
        needed = set(run.metrics) if fused else {*run.metrics, SECONDS}
        stems = [s for s in run.source_files if not fused or s in run.fused_files.get(method, {})]
        if any(needed - scored.get((method, stem), set()) for stem in stems):
            computed.add(method)
    return computed


def _method_builds(earlier: dict, kept: list[Row], computed: set[str], build: dict) -> dict[str, list]:
    """RUN_FILE's "method_builds": {method: the builds (version and code; None: an earlier defusion's,
    unrecorded) whose rows of it results.csv holds}: the ``earlier`` record's for a method with ``kept``
    rows (an older record, saying none, any of its builds: :func:`recorded_builds`), and this run's
    ``build`` for one it ``computed`` rows of. A resume then warns only of the methods another build made
    rows of (:func:`~defusion.cli.bench.resume.say_other_builds`).

    Example:
        >>> from defusion.benchmark.runner import Row
        >>> now, then = {"defusion": "0.1.0", "code": "cd"}, {"defusion": "0.1.0", "code": "ab", "time": "t"}
        >>> _method_builds({"build": then}, [Row("average", "01", "EN", 7.0)], {"max"}, now)
        {'average': [{'defusion': '0.1.0', 'code': 'ab'}], 'max': [{'defusion': '0.1.0', 'code': 'cd'}]}
    """
    recorded = mapping_in(earlier, "method_builds")
    fallback = [_named(b) for b in recorded_builds(earlier)]
    builds: dict[str, list] = {}
    for method in dict.fromkeys([*(r.method for r in kept), *sorted(computed)]):
        earlier_ones = recorded.get(method) if isinstance(recorded.get(method), list) else fallback
        made = [*(earlier_ones if any(r.method == method for r in kept) else []),
                *([_named(build)] if method in computed else [])]
        builds[method] = [b for i, b in enumerate(made) if b not in made[:i]]
    return builds


def method_build_names(record: dict) -> dict[str, str]:
    """{method: the builds that made its rows, as a line names them (:func:`~defusion.cli.build_info.build_name`),
    joined by "; "}, from RUN_FILE's ``record`` ("method_builds"): means.csv's and stds.csv's build column.
    An older record, naming none per method, names every method of its "methods" by its builds
    (:func:`recorded_builds`).

    Example:
        >>> method_build_names({"method_builds": {"average": [{"defusion": "0.1.0", "code": "ab"}, None]}})
        {'average': 'defusion 0.1.0 (code ab); an earlier defusion (code unrecorded)'}
    """
    from defusion.cli.build_info import build_name

    recorded = record.get("method_builds")
    if not isinstance(recorded, dict):
        methods = record.get("methods") if isinstance(record.get("methods"), list) else []
        recorded = {method: recorded_builds(record) for method in methods}
    return {str(method): "; ".join(dict.fromkeys(build_name(b) for b in builds))
            for method, builds in recorded.items() if isinstance(builds, list)}


def _named(build: object) -> dict | None:
    """A build as version and code (None: one that records none, an earlier defusion's).

    Example:
        >>> _named({"defusion": "0.1.0", "code": "ab", "time": "t"}), _named("?")
        ({'defusion': '0.1.0', 'code': 'ab'}, None)
    """
    if isinstance(build, dict) and isinstance(build.get("code"), str):
        return {"defusion": build.get("defusion"), "code": build["code"]}
    return None


def recorded_builds(record: dict) -> list:
    """The builds whose rows a RUN_FILE's results.csv may hold: its run's (``build``: None where it records
    none, an older version's run, whose rows an earlier defusion made) and those it kept (``builds_kept``).

    Example:
        >>> recorded_builds({"build": {"code": "cd"}, "builds_kept": [{"code": "ab"}]}), recorded_builds({})
        ([{'code': 'cd'}, {'code': 'ab'}], [None])
    """
    kept = record.get("builds_kept")
    return [record.get("build"), *(kept if isinstance(kept, list) else [])]


def _kept_builds(earlier: dict, kept: list[Row], build: dict, method_builds: dict[str, list] | None = None) -> list:
    """The builds other than this run's (``build``) whose rows a resume keeps (``kept``): the ``earlier``
    record's (:func:`recorded_builds`; None: an earlier defusion's, unrecorded), each once and whole (its
    machine and date too, which summary.md names: :func:`made_with_line`), of another code or machine than
    ``build``, and where ``method_builds`` (:func:`_method_builds`) is given, only those it still names
    for a method of the kept rows; none where no row is kept.

    Example:
        >>> from defusion.benchmark.runner import Row
        >>> now, then = {"defusion": "0.1.0", "code": "cd"}, {"defusion": "0.1.0", "code": "ab", "time": "t"}
        >>> _kept_builds({"build": then}, [Row("average", "01", "EN", 7.0)], now)
        [{'defusion': '0.1.0', 'code': 'ab', 'time': 't'}]
        >>> _kept_builds({"build": now}, [Row("average", "01", "EN", 7.0)], now), _kept_builds({}, [], now)
        ([], [])
    """
    from defusion.cli.build_info import same_build

    if not kept:
        return []
    named = None if method_builds is None else [b for r in kept for b in method_builds.get(r.method, [])]
    others: list = []
    for other in recorded_builds(earlier):
        other = other if isinstance(other, dict) and isinstance(other.get("code"), str) else None
        same = other == build or (same_build(other, build) and _machine(other) == _machine(build))
        if not same and other not in others and (named is None or _named(other) in named):
            others.append(other)
    return others


def _machine(build: object) -> dict:
    """A record's build's machine ({} where it says none)."""
    machine = build.get("machine") if isinstance(build, dict) else None
    return machine if isinstance(machine, dict) else {}


def _where(machine: dict) -> str:
    """A machine as summary.md names it: CPU, GPU, cores and platform, those it says.

    Example:
        >>> _where({"cpu": "AMD EPYC", "gpu": None, "cores": 2, "platform": "Linux"})
        'AMD EPYC, 2 cores, Linux'
    """
    return ", ".join(str(machine[key]) if key != "cores" else f"{machine[key]} cores"
                     for key in ("cpu", "gpu", "cores", "platform") if machine.get(key))


def made_with_line(record: dict) -> str:
    """summary.md's last line, from RUN_FILE's ``record``: the build that made the rows (version and code),
    the weights where DeFusion ran, the machine the s/pair column was timed on (and those of the earlier
    rows a resume kept, where another: ``builds_kept``), the date, and the other builds whose rows a
    resume kept.

    Example:
        >>> build = {"defusion": "0.1.0", "code": "e7460ec37b45", "time": "2026-12-08T10:00:00+01:00",
        ...          "software": {"Python": "3.11.9", "torch": "2.13.0", "onnxruntime": None},
        ...          "machine": {"platform": "Linux-6.1-x86_64", "cpu": "AMD EPYC 7B13", "cores": 2, "gpu": None}}
        >>> made_with_line({"defusion_run": "9b2f31a6f14df7c1-x2-g1.5", "weights": "shipped", "build": build,
        ...                 "builds_kept": [{"defusion": "0.1.0", "code": "0a1b2c3d4e5f"}]})
        'Made with defusion 0.1.0 (code e7460ec37b45), weights shipped (9b2f31a6f14df7c1-x2-g1.5), Python 3.11.9, torch 2.13.0; s/pair timed on AMD EPYC 7B13, 2 cores, Linux-6.1-x86_64; 2026-12-08. Also scores kept from defusion 0.1.0 (code 0a1b2c3d4e5f) (run with --overwrite to score them afresh).'
    """
    from defusion.cli.build_info import build_name, same_build

    build = record.get("build") if isinstance(record.get("build"), dict) else {}
    software = build.get("software") if isinstance(build.get("software"), dict) else {}
    machine = build.get("machine") if isinstance(build.get("machine"), dict) else {}
    said = [build_name(build)]
    if record.get("defusion_run"):
        said.append(f"weights {Path(str(record.get('weights') or SHIPPED)).name} ({record['defusion_run']})")
    said += [f"{name} {version}" for name, version in software.items() if name in SOFTWARE_SAID and version]
    kept = [b for b in recorded_builds(record)[1:] if b is None or isinstance(b, dict)]
    where = _where(machine)
    earlier = [w for w in dict.fromkeys(_where(_machine(b)) for b in kept if _machine(b) != machine) if w]
    line = f"Made with {', '.join(said)}" + (f"; s/pair timed on {where}" if where else "")
    line += f"; earlier rows on {' and '.join(earlier)}" if earlier else ""
    line += f"; {str(build['time'])[:10]}." if build.get("time") else "."
    other = list(dict.fromkeys(build_name(b) for b in kept if not same_build(b, build)))
    if other:
        line += f" Also scores kept from {', '.join(other)} (run with --overwrite to score them afresh)."
    return line


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
