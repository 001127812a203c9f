"""What a folder run's images (``defusion fuse``'s folders, ``defusion video``'s frame folders) were fused
with, kept beside them in the output folder (:data:`SETTINGS_FILE`),
so that --skip-existing cannot leave images of other settings among this run's unsaid: a run with
other settings is refused in one line, as ``defusion bench --resume`` refuses with its run.json.

Only what changes the fused pixels is recorded: the fusion options (as the Fuser makes them from
--task and the options given, so --task and its options spelled out are the same run; the detail gain
as it runs), the weights (their digest: a file of the same name with other weights
differs), the precision, --resize, and --quality where the images are JPEGs. Tiling is left out
(:data:`MEMORY_FIELDS`): it is how the work fits in memory, which a rerun after running out of memory
has to change, and it changes the pixels only where tiles meet.

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

from defusion.cli.errors import UserError
from defusion.io.formats import DEFAULT_JPEG_QUALITY
from defusion.io.notes import note, plural

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
    return json.loads(json.dumps(settings))  # as the file holds them: tuples as lists


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


def check_kept(args: argparse.Namespace, settings: dict | None, kept: int, unit: str) -> None:
    """Before --skip-existing leaves ``kept`` of ``unit`` fused in -o: refuse (UserError) where -o's
    SETTINGS_FILE says a run with other ``settings`` may have left some of them (one whose images of this
    format no later run replaced whole); a note where -o has no such record (a folder an older defusion
    fused): they are kept whatever made them."""
    if not (args.skip_existing and kept) or settings is None:
        return
    if _newer(_record(Path(args.output))):
        raise UserError(f"--skip-existing: {args.output}'s {SETTINGS_FILE} was written by a later defusion, "
                        "whose record of the settings this one cannot read: update defusion, give another -o, "
                        f"or leave out --skip-existing to fuse every {unit[:-1]} again")
    recorded = recorded_runs(Path(args.output), output_format(args))
    if recorded is None:
        note(f"{args.output} holds no record of the settings its {plural(kept, unit[:-1])} "
             f"were fused with ({SETTINGS_FILE}, which folder runs write from this version on): --skip-existing "
             "keeps them as they are, whatever made them")
        return
    changed = list(dict.fromkeys(said for run in recorded for said in differences(run, settings)))
    if changed:
        raise UserError(f"--skip-existing: the {plural(kept, unit[:-1])} already in {args.output} "
                        f"were fused with other settings ({'; '.join(changed)}): give another -o, or leave out "
                        f"--skip-existing to fuse every {unit[:-1]} again with these")


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


def settle_settings(out: Path, settings: dict | None, fmt: str = "png") -> None:
    """As a run ends having fused or kept every image of its pairs, groups or frames in ``out`` (none
    failed where an older fusion of it is left): its ``settings`` alone are what they were fused with.
    The record speaks for the images runs of this ``out`` fuse; one no run wrote is not tracked."""
    record = _record(out)
    if settings is None or _newer(record):
        return
    runs = dict(record["runs"]) if record is not None and isinstance(record.get("runs"), dict) else {}
    runs[fmt] = [settings]
    _write(out, settings, runs)


def _write(out: Path, settings: dict, runs: dict) -> None:
    from defusion.io.writing import write_bytes_atomically

    record = {"version": SETTINGS_VERSION, "settings": settings, "runs": runs}
    write_bytes_atomically(out / SETTINGS_FILE, (json.dumps(record, indent=1) + "\n").encode())


__all__ = ["MEMORY_FIELDS", "SETTINGS_FILE", "SETTINGS_VERSION", "SHIPPED", "check_kept", "differences",
           "fused_settings", "output_format", "record_settings", "recorded_runs",
           "settle_settings"]
