"""``defusion metrics``: image-fusion quality metrics of a fused image against its sources (two, or
a whole bracket or stack for the metrics defined for any number).

``--json`` prints one object: ``fused``, ``sources`` (every source, in the order given), ``metrics``
({name: value, null where it has none}), where some have none ``skipped`` ({name: why}), and where a
set named in ``--metrics`` has metrics a bracket cannot take ``left_out`` (their names); also
``a``, ``b`` and, with more than two sources, ``more`` (the first, the second and the rest), as
earlier versions wrote them, for the scripts that read those."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from defusion.cli.errors import UserError
from defusion.cli.options import positive_int
from defusion.io.formats import DEFAULT_MAX_PIXELS  # defined there, light: --help stays fast
from defusion.io.notes import note, warn

if TYPE_CHECKING:
    import numpy as np

HELP = "compute fusion quality metrics (EN, MI, SSIM, Qabf, ... as in VIFB) of FUSED vs sources A, B [C ...]"

#: Errors printed as one line without a traceback (UserError: unreadable file, size mismatch,
#: unknown metric name, an image the metrics refuse, such as one under 2x2).
EXPECTED_ERRORS: tuple[type[Exception], ...] = (UserError,)


#: Why a metric computed as NaN or infinity has no value: a zero variance or error in its formula
#: (PSNR of identical images, CC of a flat one); listed with the metrics not computed.
UNDEFINED = "not defined: flat or identical images"


#: Under --help: what the exit status says.
EPILOG = ("exit status: 0 when every metric named in --metrics was computed (or, without --metrics, whatever "
          "the images are too small for is shown as n/a); 1 when one named in --metrics could not be (shown as "
          "n/a, or null in --json, with why); 2 on a usage error, an unreadable file, a size mismatch or an "
          "image no metric takes (under 2x2 pixels, say).")
#: Ends the note on a metric named in --metrics that could not be computed, as bench's last line does.
NOT_COMPUTED_STATUS = "; exit status 1"
#: How to score folders of results, said when a path given is a folder (flags as ``defusion bench --help``).
FOLDERS_HINT = "defusion bench --task ivf --a VIS --b IR --out OUT --methods none --fused NAME=DIR"


#: How the sources are named in the usage and the help: two or more.
SOURCES = "A B [C ...]"


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help, with the sources said :data:`SOURCES` in the usage too (argparse itself would say
    ``A B [C ...] [A B [C ...] ...]`` of a one-or-more argument): argparse builds the usage, so that it
    names every option and wraps it to the terminal's width, as every other command's."""

    def _format_args(self, action: argparse.Action, default_metavar: str) -> str:
        if action.metavar == SOURCES:
            return SOURCES
        return super()._format_args(action, default_metavar)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.epilog = EPILOG
    p.formatter_class = _HelpFormatter
    p.add_argument("fused", type=Path, metavar="FUSED", help="fused image")
    p.add_argument("sources", type=Path, nargs="+", metavar=SOURCES,
                   help="the sources: two (VIFB: visible first, then infrared), or more (a bracket or focus "
                        "stack): then only the metrics defined for any number of sources (EN, SD, SF, AG, EI, "
                        "MEF-SSIM, MS-MEF-SSIM, Qabf)")  # defusion.metrics.ANY_SOURCE_METRICS, written out: importing
    # the metrics to build the parser would slow every --help; tests/cli/test_metrics_help.py keeps the two alike
    # --metrics as defusion bench names it; --names, its earlier name, kept as an alias (one dest: the last given wins)
    p.add_argument("--metrics", "--names", dest="names", metavar="NAMES",
                   help="comma-separated metric names, any case (default: all but the slow Qp, or all that take any "
                        "number of sources; e.g. EN,SSIM,Qabf; 'vifb' = the 13 VIFB metrics, 'mefb' = MEFB's 20, of "
                        "which a bracket or stack gets those defined for any number of sources)")
    p.add_argument("--json", action="store_true",
                   help="machine-readable output: fused, sources (a list, in the order given), metrics and, "
                        "where some have no value, skipped (why); a, b and more (the first two sources and the "
                        "rest) as before")
    p.add_argument("--max-pixels", type=positive_int, default=DEFAULT_MAX_PIXELS,
                   help=f"refuse inputs with more pixels (default {DEFAULT_MAX_PIXELS:,})")  # as defusion fuse's


def _read(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS, source: bool = False) -> np.ndarray:
    """The image as ``defusion bench`` reads it to score it (``read_scored``: EXIF-upright; floats as the
    float32 values they are, unquantised, where they lie in [0, 1] or on 0..255, so that a float file
    scores as its array does in Python; 16-bit rounded to 8 bits, with a note where a 16-bit file holds
    only 8-bit values), so both commands score a file alike; refused over ``max_pixels`` (--max-pixels).
    A ``source`` that is a raw 16-bit thermal frame gets bench's note on it (``raw_thermal_note``): the
    metrics score it as it is, near flat in 8 bits, not as DeFusion stretched it to fuse it."""
    from defusion.benchmark.scored_images import raw_thermal_note, read_scored, read_scored_source
    from defusion.io.errors import ImageReadError

    try:
        if not source:
            return read_scored(path, max_pixels=max_pixels)
        image, band = read_scored_source(path, max_pixels=max_pixels)
    except ImageReadError as exc:
        raise UserError(str(exc)) from None
    if band is not None:
        note(raw_thermal_note(path, *band))
    return image


def _folder_problem(paths: list[Path]) -> str | None:
    """The one line refusing a folder where an image file is expected, saying how folders of results
    are scored; ``None`` where no path is a folder.

    Example:
        >>> _folder_problem([Path(".")]).split(";")[0]
        '.: is a folder, not an image file (defusion metrics scores one fused image)'
    """
    folder = next((path for path in paths if path.is_dir()), None)
    if folder is None:
        return None
    return (f"{folder}: is a folder, not an image file (defusion metrics scores one fused image); to score a folder "
            f"of results against folders of sources (pairs matched by name): {FOLDERS_HINT} (--task mef or mff "
            "for exposure or focus pairs)")


def _grey_rgb_note(path: Path, scored: np.ndarray, max_pixels: int = DEFAULT_MAX_PIXELS) -> str | None:
    """The note on a fused file of grey pixels stored as RGB (R = G = B), in ``defusion bench``'s
    words: VIFB's rule scores it per channel, otherwise than the same pixels in a 1-channel file
    (SF and Qabf differ, enough to reorder two methods). Judged by bench's rule
    (``grey_stored_as_rgb``) on the file as stored, not as rounded to be scored (a 16-bit file of
    8-bit values rounds to near-black levels 0 and 1, grey whatever its colours): an integer RGB
    file that scores grey is read again for that (said lines are said once); one that scores in
    colour was not grey as stored either, and a float one is scored as stored; read again under the
    ``max_pixels`` it was read under."""
    from defusion.benchmark.findings import GREY_RGB_SCORED
    from defusion.benchmark.scored_images import grey_stored_as_rgb
    from defusion.io.images import read_image

    if scored.ndim != 3 or not grey_stored_as_rgb(scored):
        return None  # rounding never makes a grey file colour: no second read for a colour result
    stored = scored if scored.dtype.kind == "f" else read_image(path, max_pixels, floats="levels")
    if not grey_stored_as_rgb(stored):
        return None
    return (f"{path} is grey stored as RGB (R = G = B): {GREY_RGB_SCORED}, so it scores otherwise than the same "
            "pixels in a 1-channel file, which score as grey")


def _names(spec: str | None, sources: int = 2) -> tuple[list[str], list[str]]:
    """The metrics to compute; with more than two sources a set (``mefb``) keeps those that apply,
    with a note naming the rest, while a pairwise metric named on its own is a one-line error."""
    from defusion.metrics import ANY_SOURCE_METRICS, DEFAULT_METRICS, names_for_sources

    if not spec:
        return (list(DEFAULT_METRICS) if sources == 2 else list(ANY_SOURCE_METRICS)), []
    try:
        names, left_out = names_for_sources(spec, sources)  # before any image is read
    except (KeyError, ValueError) as exc:
        raise UserError(exc.args[0]) from None
    if left_out:
        note(f"{', '.join(left_out)} left out: they compare the fused image with two sources, not {sources}")
    return names, left_out


def run(args: argparse.Namespace) -> int:
    from defusion.metrics import METRICS, MetricInputError, compute_each, source_labels
    from defusion.metrics._errors import size_mismatch
    from defusion.metrics._inputs import input_warnings

    if len(args.sources) < 2:
        raise UserError("need the fused image and at least two sources: FUSED A B [C ...]")
    args.a, args.b, *args.more = args.sources

    names, left_out = _names(args.names, 2 + len(args.more))
    labels = ["fused", *source_labels(len(args.sources))]
    paths = [args.fused, args.a, args.b, *args.more]
    folder = _folder_problem(paths)
    if folder:
        raise UserError(folder)
    images = {label: _read(path, args.max_pixels, source=label != "fused") for label, path in zip(labels, paths)}
    mismatch = size_mismatch({label: image.shape for label, image in images.items()})
    if mismatch:
        raise UserError(mismatch)

    fused, *sources = images.values()
    grey_rgb = _grey_rgb_note(args.fused, fused, args.max_pixels)
    if grey_rgb:
        note(grey_rgb)
    files = dict(zip(labels, paths))  # what the metrics warn of an input is said of its file

    def said_of_file(label: str, what: str, message: str) -> None:
        warn(f"{files.get(label, label)}: {message}")

    try:
        with input_warnings(said_of_file):
            computed, skipped = compute_each(fused, sources, names)
    except MetricInputError as exc:  # an image no metric takes (under 2x2: defusion fuse writes 1x1): bad input
        raise UserError(str(exc)) from None
    values: dict[str, float | None] = {name: computed.get(name) for name in names}
    undefined = [name for name, v in values.items() if v is not None and not math.isfinite(v)]

    if args.json:
        clean = {k: (v if v is not None and math.isfinite(v) else None) for k, v in values.items()}
        out = {"fused": str(args.fused), "sources": [str(p) for p in args.sources], "a": str(args.a),
               "b": str(args.b), "metrics": clean}
        if args.more:
            out["more"] = [str(p) for p in args.more]
        why_none = {**skipped, **dict.fromkeys(undefined, UNDEFINED)}  # beside those not computed, with why
        if why_none:
            out["skipped"] = why_none
        if left_out:  # of a set named in --metrics, those a bracket or stack cannot take
            out["left_out"] = left_out
        print(json.dumps(out, indent=2))
    else:
        width = max(len(n) for n in ["metric", *names])
        print(f"{'metric':<{width}}  {'value':>12}  better  definition (docs/metrics.md)")
        for name, v in values.items():
            shown = "n/a" if v is None else f"{v:.6g}"
            better = "higher" if METRICS[name].higher_is_better else "lower"
            print(f"{name:<{width}}  {shown:>12}  {better:<6}  {METRICS[name].description}")
        status = NOT_COMPUTED_STATUS if args.names else ""  # named, so wanted: the command fails
        for name, why in skipped.items():
            print(f"defusion: note: {name} not computed: {why}{status}", file=sys.stderr)
        if undefined:
            print(f"defusion: note: {', '.join(undefined)}: no value, {UNDEFINED}", file=sys.stderr)
    return 1 if args.names and skipped else 0  # a value not defined was computed: not a failure
