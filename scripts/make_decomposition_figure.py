"""What each weight file decomposes a pair into: one row per file of the fused image, the common
projection and the two unique ones (`Fuser.decompose`, the same as `defusion fuse --components`),
under a row with the two sources, plus the figures that say the same in numbers.

Usage: python scripts/make_decomposition_figure.py A B WEIGHTS [WEIGHTS ...] -o FIGURE.jpg
       [--labels shipped,run5] [--scale N]   (WEIGHTS "shipped" = the package's weights)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from defusion import Fuser
from defusion.benchmark.report import labelled_tile, tile_rows
from defusion.fusion.fuser import DEFAULT_SCALE
from defusion.io.images import read_image


def grey(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float64).mean(axis=2) if image.ndim == 3 else image.astype(np.float64)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("weights", nargs="+")
    p.add_argument("-o", "--out", type=Path, required=True)
    p.add_argument("--labels", help="comma-separated row labels (default: the file names)")
    p.add_argument("--scale", type=int, default=DEFAULT_SCALE, help=f"inference scale (default {DEFAULT_SCALE}, the fusion core's)")
    args = p.parse_args()
    labels = args.labels.split(",") if args.labels else [Path(w).stem for w in args.weights]
    if len(labels) != len(args.weights):
        raise SystemExit("give one label per weight file")
    a, b = read_image(args.a), read_image(args.b)
    rows = [[labelled_tile(a, f"A: {args.a.name}"), labelled_tile(b, f"B: {args.b.name}")]]
    print(f"sources: SD A {grey(a).std():.1f}, SD B {grey(b).std():.1f} (grey levels)")
    for weights, label in zip(args.weights, labels):
        fuser = Fuser.from_pretrained(None if weights == "shipped" else weights, device="cpu", scale=args.scale)
        parts = fuser.decompose(a, b)
        rows.append([labelled_tile(image, f"{label}: {name}") for name, image in
                     zip(("fused", "common", "unique A", "unique B"), parts)])
        print(f"{label}: SD fused {grey(parts.fused).std():.1f}, common {grey(parts.common).std():.1f}; "
              f"mean unique A {grey(parts.unique_a).mean():.1f}, unique B {grey(parts.unique_b).mean():.1f}")
    figure = tile_rows(rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figure.save(args.out, quality=90)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
