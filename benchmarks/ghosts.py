"""Ghosts: a bracket with something moving, fused with and without ``--deghost``.

MEFB's pairs are static, so this script makes something move: in one exposure a block of the
scene (a quarter of the short side) appears shifted by its own width, as a person who walked
between the shots. Fusing that pair shows the block twice, half transparent. The ghost-free
result is the fusion of a consistent pair: both exposures showing the scene as the reference
exposure that ``--deghost`` keeps (the best exposed) shows it. It prints, side by side, the
mean distance (grey levels) from that result inside the moved block and outside it, for plain
fusion and ``--deghost``; and, on the untouched pairs, how far ``--deghost`` moves the fusion
of a static bracket (what false detections cost).

Usage: python benchmarks/ghosts.py [--mefb DIR] [--limit 8] [--size 384] [--seed 0] [--weights PATH]
                                  [--figure docs/images/ghosts.jpg]
(default: ../shared/data/bench/mef/mefb, read only as test scenes.)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from tqdm import tqdm

from defusion import Fuser
from defusion.benchmark.report import labelled_tile, tile_rows
from defusion.fusion.color import luminance, to_float
from defusion.fusion.deghost import reference_index
from defusion.io.images import read_image
from pair_folders import SHARED_BENCH, add_pair_arguments, load_pairs  # the pair folders, given the same way

SIDES = ("A", "B")
#: The moving block's side, as a share of the image's short side.
BLOCK = 0.25
#: Pairs drawn by --figure.
FIGURE_ROWS = 3


def shrink(image: np.ndarray, size: int) -> np.ndarray:
    """At most ``size`` pixels on the long side (area interpolation)."""
    h, w = image.shape[:2]
    scale = size / max(h, w)
    return image if scale >= 1 else cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def move_block(image: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, tuple[slice, slice], tuple[slice, slice]]:
    """``image`` with a block copied one block-width to the side: (moved image, where it came from,
    where it is now)."""
    h, w = image.shape[:2]
    side = max(8, int(min(h, w) * BLOCK))
    top = int(rng.integers(0, h - side))
    left = int(rng.integers(0, w - 2 * side))
    source = (slice(top, top + side), slice(left, left + side))
    target = (slice(top, top + side), slice(left + side, left + 2 * side))
    moved = image.copy()
    moved[target] = image[source]
    return moved, source, target


def grey(image: np.ndarray) -> np.ndarray:
    """Luminance in grey levels of 255."""
    return luminance(to_float(image)) * 255.0


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_pair_arguments(p, "--mefb", SHARED_BENCH / "mef" / "mefb", SIDES, limit=8)
    p.add_argument("--size", type=int, default=384)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--figure", type=Path, help="also draw the first FIGURE_ROWS pairs: sources, plain, --deghost")
    args = p.parse_args(argv)
    pairs = load_pairs(args.folder, SIDES, args.limit)
    plain = Fuser.from_pretrained(args.weights, runtime=args.runtime, task="mef")
    cleaning = Fuser.from_pretrained(args.weights, runtime=args.runtime, task="mef", deghost=True)
    rng = np.random.default_rng(args.seed)
    rows: dict[str, list[list[float]]] = {}
    static, figure = [], []
    start = time.perf_counter()
    for stem, path_a, path_b in tqdm(pairs, desc="pairs", unit="pair", file=sys.stderr, disable=args.no_progress):
        a, b = (shrink(read_image(path), args.size) for path in (path_a, path_b))
        moved_b, source, target = move_block(b, rng)
        if reference_index([to_float(a), to_float(moved_b)]) == 0:
            truth = plain.fuse(a, b)  # the reference shows the scene as it was: b's change is the ghost
        else:
            moved_a = a.copy()
            moved_a[target] = a[source]
            truth = plain.fuse(moved_a, moved_b)  # the reference shows the block moved: a's is the ghost
        inside = np.zeros(a.shape[:2], bool)
        inside[target] = True
        fused = {name: fuser.fuse(a, moved_b) for name, fuser in (("plain fusion", plain), ("--deghost", cleaning))}
        for name, image in fused.items():
            off = np.abs(grey(image) - grey(truth))
            rows.setdefault(name, []).append([float(off[inside].mean()), float(off[~inside].mean())])
        if args.figure and len(figure) < FIGURE_ROWS:
            figure.append([labelled_tile(a, f"{stem}: A"), labelled_tile(moved_b, "B, a block moved"),
                           *(labelled_tile(image, name) for name, image in fused.items())])
        static.append(float(np.abs(grey(cleaning.fuse(a, b)) - grey(plain.fuse(a, b))).mean()))
    print(f"{len(pairs)} MEFB pairs from {args.folder} at {args.size} px (long side), a block of {BLOCK:g} of the "
          f"short side moved in the second exposure, seed {args.seed}; {time.perf_counter() - start:.0f} s\n")
    print("| fusion | distance from the ghost-free result, in the moved block | elsewhere |")
    print("|---|---|---|")
    for name, values in rows.items():
        m = np.mean(values, axis=0)
        print(f"| {name} | {m[0]:.2f} | {m[1]:.2f} |")
    if args.figure:
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        tile_rows(figure).save(args.figure, quality=90)
        print(f"figure: {args.figure}")
    print(f"\nStatic pairs (nothing moved): --deghost is {np.mean(static):.2f} grey levels from plain fusion "
          f"on average (largest pair {np.max(static):.2f}).")


if __name__ == "__main__":
    main()
