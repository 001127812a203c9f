"""``defusion metrics``: image-fusion quality metrics of a fused image against its sources (two, or
a whole bracket or stack for the metrics defined for any number)."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from defusion.cli.errors import UserError

HELP = "compute fusion quality metrics (EN, MI, SSIM, Qabf, ... as in VIFB) of FUSED vs sources A, B [C ...]"

#: Errors printed as one line without a traceback (UserError: unreadable file, size mismatch,
#: unknown metric name).
EXPECTED_ERRORS: tuple[type[Exception], ...] = (UserError,)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("fused", type=Path, metavar="FUSED", help="fused image")
    p.add_argument("a", type=Path, metavar="A", help="first source image (VIFB: visible)")
    p.add_argument("b", type=Path, metavar="B", help="second source image (VIFB: infrared)")
    p.add_argument("more", type=Path, nargs="*", metavar="C",
                   help="more sources (a bracket or focus stack): then only the metrics defined for any number "
                        "of sources (EN, SD, SF, AG, EI, MEF-SSIM, MS-MEF-SSIM)")
    p.add_argument("--names", help="comma-separated metric names (default: all, or all that take any number of "
                                    "sources; e.g. EN,SSIM,Qabf; 'vifb' = the 13 VIFB metrics)")
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _read(path: Path):
    """Pixels with Pillow: L stays L (HxW), RGB stays RGB (HxWx3); other 8-bit modes are made L/RGB."""
    import numpy as np
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.load()
            mode = im.mode
            if mode in ("1", "LA", "La"):
                im = im.convert("L")
            elif mode in ("P", "PA", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV"):
                im = im.convert("RGB")
            elif mode not in ("L", "RGB"):
                raise UserError(f"{path}: unsupported image mode {mode} (need 8-bit grey or colour)")
            return np.asarray(im)
    except FileNotFoundError:
        raise UserError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory") from None
    except UnidentifiedImageError:
        raise UserError(f"{path}: not a readable image") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read image ({exc})") from None


def _names(spec: str | None, sources: int = 2) -> list[str]:
    from defusion.metrics import ANY_SOURCE_METRICS, METRICS, VIFB_METRICS, check_source_count

    if not spec:
        return list(METRICS) if sources == 2 else list(ANY_SOURCE_METRICS)
    names: list[str] = []
    by_lower = {name.lower(): name for name in METRICS}  # names are matched case-insensitively
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        if item.lower() == "vifb":
            names.extend(VIFB_METRICS)
        elif item.lower() in by_lower:
            names.append(by_lower[item.lower()])
        else:
            raise UserError(f"unknown metric {item!r}; known: vifb, {', '.join(METRICS)}")
    try:  # before any image is read: a one-line error, not a skipped metric
        check_source_count(names, sources)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return list(dict.fromkeys(names))


def run(args: argparse.Namespace) -> int:
    from defusion.metrics import METRICS, compute_stack_metrics, shared_inputs

    names = _names(args.names, 2 + len(args.more))
    labels = ["fused", "a", "b", *(f"source {i}" for i in range(3, 3 + len(args.more)))]
    paths = [args.fused, args.a, args.b, *args.more]
    images = {label: _read(path) for label, path in zip(labels, paths)}
    sizes = {k: v.shape[:2] for k, v in images.items()}
    if len(set(sizes.values())) != 1:
        shown = ", ".join(f"{k} {w}x{h}" for k, (h, w) in sizes.items())
        raise UserError(f"size mismatch (W x H): {shown}")

    fused, *sources = images.values()
    values: dict[str, float | None] = {}
    skipped: dict[str, str] = {}
    with shared_inputs():  # convert the images once for all metrics
        for name in names:  # one by one, so that one metric's failure leaves the others
            try:
                values[name] = compute_stack_metrics(fused, sources, [name])[name]
            except ValueError as exc:  # e.g. an image too small for a multi-scale metric
                values[name] = None
                skipped[name] = str(exc)

    if args.json:
        clean = {k: (v if v is not None and math.isfinite(v) else None) for k, v in values.items()}
        out = {"fused": str(args.fused), "a": str(args.a), "b": str(args.b), "metrics": clean}
        if args.more:
            out["more"] = [str(p) for p in args.more]
        if skipped:
            out["skipped"] = skipped
        print(json.dumps(out, indent=2))
    else:
        width = max(len(n) for n in ["metric", *names])
        print(f"{'metric':<{width}}  {'value':>12}  better  definition (docs/metrics.md)")
        for name, v in values.items():
            shown = "n/a" if v is None else f"{v:.6g}"
            better = "higher" if METRICS[name].higher_is_better else "lower"
            print(f"{name:<{width}}  {shown:>12}  {better:<6}  {METRICS[name].description}")
        for name, why in skipped.items():
            print(f"defusion: note: {name} not computed: {why}", file=sys.stderr)
    return 0
