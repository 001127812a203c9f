"""What a folder run's images (``defusion fuse``'s folders, ``defusion video``'s frame folders) were fused
with, kept beside them in the output folder (:data:`SETTINGS_FILE`),
so that --skip-existing cannot leave images of other settings among this run's unsaid: a run with
other settings is refused in one line, as ``defusion bench --resume`` refuses with its run.json.

Only what changes the fused pixels is recorded: the fusion options (as the Fuser makes them from
--task and the options given, so --task and its options spelled out are the same run; the detail gain
as it runs), the weights (their digest: a file of the same name with other weights
differs), the precision, --resize, and --quality where the images are JPEGs: a run with others is
refused. What changes them a little, or may, is recorded apart (:data:`WARNED`): the tiling
(:data:`MEMORY_FIELDS`: how the work fits in memory, which a rerun after running out of memory has to
change; it changes the pixels where tiles meet: an audit found the MEF example's differ by up to 24
grey levels, in 10.9% of its values, at --tile 136), the runtime (the same output to rounding) and defusion's build (its version
and code, :func:`~defusion.cli.build_info.code_fingerprint`: a change of the code may change the
pixels): a run with others goes on, said in one warning line. A record without them (an earlier
version's) is read as ever, its images taken to be an earlier defusion's.

The record holds, per output format, the settings of every run that wrote images of that format since
one run wrote every such image there (:func:`record_settings` as a run starts, :func:`settle_settings`
as it ends whole): an interrupted run leaves the folder holding images of its settings and of those
before, and --skip-existing is refused unless every one of them is the new run's. (Version 1 held the
latest run's alone: an audit interrupted a run with --align affine after 1 of 4 groups, and
--skip-existing then kept the 3 unaligned groups of the run before, saying nothing to do.) A record of a
later layout is left as it is, and --skip-existing refused over it. Two runs into one -o at once are not
supported: each reads and rewrites the record.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.errors import UserError
from defusion.io.formats import DEFAULT_JPEG_QUALITY
from defusion.io.notes import note, plural, warn

if TYPE_CHECKING:
    from defusion.fusion.options import FuseOptions

#: Written into a folder run's output folder (hidden: no listing of results takes it for one).
SETTINGS_FILE = ".defusion-fuse.json"
#: The layout of SETTINGS_FILE: {"version", "settings": the latest run's (what version 1 held alone),
#: "runs": {format: [settings of each run that may have left images of that format]}}. A later version
#: may add settings: two runs are compared on those both hold.
SETTINGS_VERSION = 2
#: FuseOptions fields not recorded: how the work is split to fit in memory (see the module's docstring).
MEMORY_FIELDS = ("tile", "overlap", "auto_tile_pixels", "auto_tile_size")
#: The record's name for the weights: the shipped ones where no --weights or --onnx is given.
SHIPPED = "shipped"
#: The settings' key of those a rerun with others is warned of, not refused (see the module's docstring):
#: {"--tile": N or "auto", "--overlap", "--runtime" (``auto`` as it resolves here), "defusion": its
#: version, "code": :func:`~defusion.cli.build_info.code_fingerprint`}. Apart, so that a defusion before
#: them, comparing the settings both runs hold, never refuses over them.
WARNED = "warned"
#: The record's --tile where none is given: tiles chosen by the image's size (FuseOptions.tile None).
AUTO_TILE = "auto"


def fused_settings(args: argparse.Namespace, options: dict) -> dict[str, object] | None:
    """The settings of a folder run that change its pixels, keyed by the option that sets each
    (``options``: the Fuser's FuseOptions fields, as ``make_fuser`` is given them). None where the
    weights are no file to read (loading them says what is wrong) or the fusion core refuses the
    options (it says why, as the model loads)."""
    from defusion.fusion.options import FuseOptions
    from defusion.model.weights import weights_digest

    weights = getattr(args, "onnx", None) or args.weights
    try:
        fuse_options = FuseOptions.for_task(None, **options)
        digest = weights_digest(weights)
    except (ValueError, TypeError, OSError):
        return None
    fields = {name: value for name, value in asdict(fuse_options).items() if name not in MEMORY_FIELDS}
    fields["detail_gain"] = fuse_options.resolved_detail_gain  # unset: the unique gain's default, as it runs
    if fields.get("infrared") is not None:  # as --infrared counts the images: from 1
        fields["infrared"] += 1
    # --task is in the options it resolves to (fusion_options): spelling a task's options out is the same run
    settings: dict[str, object] = {**{f"--{name.replace('_', '-')}": value for name, value in fields.items()},
                                   "--weights": {"name": SHIPPED if weights is None else Path(weights).name,
                                                 "digest": digest},
                                   "precision": _precision(args), "--resize": bool(getattr(args, "resize", False))}
    if getattr(args, "format", None) == "jpg":  # defusion video writes PNG frames
        settings["--quality"] = DEFAULT_JPEG_QUALITY if args.quality is None else args.quality  # as it writes
    try:
        settings[WARNED] = _warned_settings(args, fuse_options)
    except (ValueError, TypeError):  # a device not here: loading the model says so
        return None
    return json.loads(json.dumps(settings))  # as the file holds them: tuples as lists


def _warned_settings(args: argparse.Namespace, fuse_options: FuseOptions) -> dict[str, object]:
    """The settings (:data:`WARNED`) that change the pixels a little, or may: the tiling, the runtime
    and defusion's build."""
    from defusion.cli.build_info import this_code

    return {"--tile": AUTO_TILE if fuse_options.tile is None else fuse_options.tile,
            "--overlap": fuse_options.overlap, "--runtime": _runtime(args), **this_code()}


def _runtime(args: argparse.Namespace) -> str:
    """The runtime the network runs on: ONNX Runtime for an export (--onnx, or --weights X.onnx), else
    --runtime, ``auto`` as it resolves on --device (:func:`~defusion.fusion.runtime.resolve_runtime`), so
    that ``auto`` and the runtime it stands for here are one."""
    from defusion.fusion.choices import DEFAULT_RUNTIME, is_onnx_export

    if getattr(args, "onnx", None) is not None or is_onnx_export(getattr(args, "weights", None)):
        return "onnxruntime"
    runtime = getattr(args, "runtime", DEFAULT_RUNTIME)
    if runtime != "auto":
        return runtime
    from defusion.fusion.device import resolve_device
    from defusion.fusion.runtime import resolve_runtime

    return resolve_runtime(runtime, resolve_device(getattr(args, "device", "auto")), getattr(args, "half", False))


def _precision(args: argparse.Namespace) -> str:
    """The network's arithmetic where it changes the pixels beyond rounding: fp16 (--half), bf16
    (--runtime compile-bf16), else fp32 (every runtime's, to rounding)."""
    if getattr(args, "half", False):
        return "fp16"
    return "bf16" if getattr(args, "runtime", None) == "compile-bf16" else "fp32"


def recorded_runs(out: Path, fmt: str) -> list[dict] | None:
    """The settings of every run that may have left ``fmt`` images in ``out`` (a version 1 record: its one
    run's, whatever the format); None where no record says (no SETTINGS_FILE, an unreadable one, or no run
    recorded wrote that format).

    Example:
        >>> recorded_runs(Path("no-such-folder"), "png") is None
        True
    """
    record = _record(out)
    if record is None:
        return None
    runs = record.get("runs")
    if not isinstance(runs, dict):  # version 1
        return [record["settings"]]
    found = runs.get(fmt)
    found = [run for run in found if isinstance(run, dict)] if isinstance(found, list) else []
    return found or None


def _newer(record: dict | None) -> bool:
    """Whether ``record`` is of a later layout than this version writes (left as it is, never rewritten).

    Example:
        >>> _newer({"version": SETTINGS_VERSION + 1, "settings": {}}), _newer(None)
        (True, False)
    """
    version = record.get("version") if record is not None else None
    return isinstance(version, int) and version > SETTINGS_VERSION


def _record(out: Path) -> dict | None:
    """``out``'s SETTINGS_FILE as read, where it holds a dict of settings; else None."""
    try:
        record = json.loads((out / SETTINGS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(record, dict) or not isinstance(record.get("settings"), dict):
        return None
    return record


def differences(recorded: dict, now: dict) -> list[str]:
    """Each setting both hold that differs, as "OPTION THEN, now NOW" (the weights by name).

    Example:
        >>> differences({"--scale": 1, "--deghost": False, "--infrared": None, "--rig": {"cameras": [1]}},
        ...             {"--scale": 2, "--deghost": True, "--infrared": 2, "--rig": {"cameras": [2]}, "--new": 1})
        ['--scale 1, now 2', '--deghost off, now on', '--infrared unset, now 2', '--rig differs']
    """
    said = []
    for key in (key for key in now if key in recorded and recorded[key] != now[key]):
        then, current = _shown(recorded[key]), _shown(now[key])
        if key == "--weights" and then == current:  # one name, other weights
            then, current = (f"{then} ({value.get('digest')})" for value in (recorded[key], now[key]))
        elif isinstance(recorded[key], (dict, list)) or isinstance(now[key], (dict, list)):
            said.append(f"{key} differs")  # a --rig's calibration: too long to say
            continue
        said.append(f"{key} {then}, now {current}")
    return said


def _shown(value: object) -> str:
    """A setting as a refusal says it: on/off, unset, the weights' name, else as written.

    Example:
        >>> _shown(True), _shown(None), _shown({"name": "shipped", "digest": "ab12"}), _shown(1.5)
        ('on', 'unset', 'shipped', '1.5')
    """
    if isinstance(value, bool):
        return "on" if value else "off"
    if value is None:
        return "unset"
    if isinstance(value, dict) and "name" in value:
        return str(value["name"])
    return value if isinstance(value, str) else json.dumps(value)


def check_kept(args: argparse.Namespace, settings: dict | None, kept: int, unit: str) -> bool:
    """Before --skip-existing leaves ``kept`` of ``unit`` fused in -o: refuse (UserError) where -o's
    SETTINGS_FILE says a run with other ``settings`` may have left some of them (one whose images of this
    format no later run replaced whole); a note where -o has no such record (a folder an older defusion
    fused): they are kept whatever made them. True where they are kept though made with another tiling,
    runtime or build (warned of): :func:`settle_settings` then keeps those runs on record too."""
    if not (args.skip_existing and kept) or settings is None:
        return False
    if _newer(_record(Path(args.output))):
        raise UserError(f"--skip-existing: {args.output}'s {SETTINGS_FILE} was written by a later defusion, "
                        "whose record of the settings this one cannot read: update defusion, give another -o, "
                        f"or leave out --skip-existing to fuse every {unit[:-1]} again")
    recorded = recorded_runs(Path(args.output), output_format(args))
    if recorded is None:
        note(f"{args.output} holds no record of the settings its {plural(kept, unit[:-1])} "
             f"were fused with ({SETTINGS_FILE}, which folder runs write from this version on): --skip-existing "
             "keeps them as they are, whatever made them")
        return False
    refused = {key: value for key, value in settings.items() if key != WARNED}
    changed = list(dict.fromkeys(said for run in recorded for said in differences(run, refused)))
    if changed:
        raise UserError(f"--skip-existing: the {plural(kept, unit[:-1])} already in {args.output} "
                        f"were fused with other settings ({'; '.join(changed)}): give another -o, or leave out "
                        f"--skip-existing to fuse every {unit[:-1]} again with these")
    slight = list(dict.fromkeys(said for run in recorded for said in _warned_differences(run, settings)))
    if slight:
        warn(f"--skip-existing: the {plural(kept, unit[:-1])} already in {args.output} were fused with another "
             f"tiling, runtime or build ({'; '.join(slight)}), which may change the pixels a little (tiles meet "
             f"elsewhere, runtimes round differently, a build's code may differ): kept; leave out --skip-existing "
             f"to fuse every {unit[:-1]} again with these")
    return bool(slight)


def _warned_differences(recorded: dict, now: dict) -> list[str]:
    """The :data:`WARNED` settings of a ``recorded`` run that differ from ``now``'s, as :func:`differences`
    says them; the build as one difference (``defusion 0.1.0 (code ab..), now ...``), and a run that
    recorded none (an earlier version's) as of an earlier defusion.

    Example:
        >>> now = {WARNED: {"--tile": "auto", "--runtime": "torch", "defusion": "0.1.0", "code": "cd34"}}
        >>> _warned_differences({WARNED: {"--tile": 136, "--runtime": "torch", "defusion": "0.1.0", "code": "ab12"}}, now)
        ['--tile 136, now auto', 'defusion 0.1.0 (code ab12), now defusion 0.1.0 (code cd34)']
        >>> _warned_differences({"--scale": 2}, now)
        ['an earlier defusion (code unrecorded), now defusion 0.1.0 (code cd34)']
    """
    from defusion.cli.build_info import build_name, same_build

    then, current = recorded.get(WARNED), now.get(WARNED)
    if not isinstance(current, dict):
        return []
    then = then if isinstance(then, dict) else {}
    build_keys = ("defusion", "code")
    said = differences({k: v for k, v in then.items() if k not in build_keys},
                       {k: v for k, v in current.items() if k not in build_keys})
    if not same_build(then, current):
        said.append(f"{build_name(then)}, now {build_name(current)}")
    return said


def output_format(args: argparse.Namespace) -> str:
    """The format a folder run writes its images in: --format (defusion fuse), else PNG (defusion video's frames)."""
    return getattr(args, "format", None) or "png"


def record_settings(out: Path, settings: dict | None, fmt: str = "png") -> None:
    """Add ``settings`` to ``out``'s SETTINGS_FILE as a run writing ``fmt`` images there starts (beside
    those of the runs whose images it may not replace), atomically: a run killed while writing it leaves
    the previous record whole."""
    record = _record(out)
    if settings is None or _newer(record):
        return
    runs = dict(record.get("runs") or {}) if record is not None and isinstance(record.get("runs"), dict) else {}
    before = recorded_runs(out, fmt) or []
    runs[fmt] = before + ([settings] if settings not in before else [])
    _write(out, settings, runs)


def settle_settings(out: Path, settings: dict | None, fmt: str = "png", kept_others: bool = False) -> None:
    """As a run ends having fused or kept every image of its pairs, groups or frames in ``out`` (none
    failed where an older fusion of it is left): its ``settings`` alone are what they were fused with,
    unless it kept images :func:`check_kept` warned were fused with another tiling, runtime or build
    (``kept_others``, what it returned): then they are added to the runs before (whose settings those images keep), so that a later rerun is
    warned of those, not told the kept images are this run's. The record speaks for the images runs of
    this ``out`` fuse; one no run wrote is not tracked."""
    record = _record(out)
    if settings is None or _newer(record):
        return
    runs = dict(record["runs"]) if record is not None and isinstance(record.get("runs"), dict) else {}
    before = (recorded_runs(out, fmt) or []) if kept_others else []
    runs[fmt] = before + ([settings] if settings not in before else [])
    _write(out, settings, runs)


def _write(out: Path, settings: dict, runs: dict) -> None:
    from defusion.io.writing import write_bytes_atomically

    record = {"version": SETTINGS_VERSION, "settings": settings, "runs": runs}
    write_bytes_atomically(out / SETTINGS_FILE, (json.dumps(record, indent=1) + "\n").encode())


__all__ = ["AUTO_TILE", "MEMORY_FIELDS", "SETTINGS_FILE", "SETTINGS_VERSION", "SHIPPED", "WARNED", "check_kept",
           "differences", "fused_settings", "output_format", "record_settings", "recorded_runs", "settle_settings"]
