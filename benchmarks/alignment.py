"""How well `--align` registers a bracket or focus stack shot by hand, and what it costs.

Each registered pair (the shipped examples, or the first pairs of two benchmark folders) is
turned into a handheld shot: its second image rotated, zoomed (focus breathing) and shifted by a
seeded random motion. Per motion model, side by side: the mean absolute error of the second image
against its registered original (in [0, 1], away from the borders the warp had to invent)
before and after registration, how many pairs could not be registered, and seconds per pair.
With ``--fuse`` also the mean grey-level difference of the fused image (shipped weights, the
task's defaults) from the fusion of the registered pair, unaligned and aligned.

With ``--figure PATH`` it also draws the first shot: the first image, the moved second, and
their fusion unaligned and aligned.

With ``--scenes`` also, per motion, ECC's final correlation (``align_images``' ``on_correlation``)
of each handheld shot with its first image (one scene) and of each first image with the next pair's
second (two scenes; the last with the first pair's): how many registrations passed the bounds of a
handheld shot, their correlation's least, 5th percentile, median and largest, and how many fell under
``LOW_CORRELATION``, the note's bound.

Usage: python benchmarks/alignment.py [--a DIR --b DIR] [--limit 8] [--shots 3] [--fuse] [--figure PNG] [--scenes]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import cv2
import numpy as np

from defusion.fusion.align import LOW_CORRELATION, MOTIONS, AlignmentError, align_images
from defusion.fusion.color import from_float, to_float
from defusion.io.images import read_image
from defusion.io.pairs import match_pairs

EXAMPLES = Path(__file__).resolve().parents[1] / "src" / "defusion" / "examples"
#: Range of the simulated handheld motion: degrees, zoom, pixels of shift.
MAX_ANGLE, MAX_ZOOM, MAX_SHIFT = 2.0, 0.03, 12.0
MARGIN = 24


def handheld(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """``image`` as a second shot by hand (a random rotation, zoom and shift; edges repeated)."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), rng.uniform(-MAX_ANGLE, MAX_ANGLE),
                                     1.0 + rng.uniform(-MAX_ZOOM, MAX_ZOOM))
    matrix[:, 2] += rng.uniform(-MAX_SHIFT, MAX_SHIFT, 2)
    return cv2.warpAffine(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)


def interior_error(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64))[MARGIN:-MARGIN, MARGIN:-MARGIN].mean())


def load_pairs(dir_a: Path | None, dir_b: Path | None, limit: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    if dir_a is None:
        found = [("mef example", EXAMPLES / "mef_under.png", EXAMPLES / "mef_over.png"),
                 ("mff example", EXAMPLES / "mff_near.png", EXAMPLES / "mff_far.png")]
    else:
        found = match_pairs(dir_a, dir_b)[0][:limit]
    return [(name, read_image(a), read_image(b)) for name, a, b in found]


def correlations(pairs: list[tuple[np.ndarray, np.ndarray]], motion: str) -> list[float]:
    """ECC's final correlation of each pair's second image registered onto its first, for those that
    registered within a handheld shot's bounds."""
    found: list[float] = []
    for first, second in pairs:
        told: dict[int, float] = {}
        try:
            align_images([first, second], motion, on_correlation=told.__setitem__)
        except AlignmentError:
            continue
        found.append(told[1])
    return found


def scene_table(one: list[tuple[np.ndarray, np.ndarray]], firsts: list[np.ndarray], seconds: list[np.ndarray]) -> None:
    """Print :func:`correlations` per motion for one scene (``one``: each first image and its handheld
    shot) and for two (each of ``firsts`` beside the next pair's of ``seconds``, resized to it)."""
    two = [(a, cv2.resize(b, a.shape[1::-1], interpolation=cv2.INTER_AREA))
           for a, b in zip(firsts, seconds[1:] + seconds[:1])]
    print(f"correlation once registered (passed: within a handheld shot's bounds; low: under {LOW_CORRELATION:g})")
    print(f"{'motion':12s} {'scenes':>6s} {'passed':>9s} "
          + " ".join(f"{head:>6s}" for head in ("least", "5%", "median", "most")) + f" {'low':>4s}")
    for motion in MOTIONS[1:]:
        for scenes, pairs in (("one", one), ("two", two)):
            found = correlations(pairs, motion)
            stats = " ".join(f"{v:6.3f}" for v in np.percentile(found, [0, 5, 50, 100])) if found else "     -" * 4
            low = sum(value < LOW_CORRELATION for value in found)
            print(f"{motion:12s} {scenes:>6s} {len(found):4d}/{len(pairs):<4d} {stats} {low:4d}")


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--a", type=Path, help="folder of first images (default: the shipped examples)")
    p.add_argument("--b", type=Path, help="folder of second images")
    p.add_argument("--limit", type=int, default=8, help="pairs from the folders (default 8)")
    p.add_argument("--shots", type=int, default=3, help="simulated handheld shots per pair (default 3)")
    p.add_argument("--task", default="mef", choices=("ivf", "mef", "mff"), help="defaults for --fuse")
    p.add_argument("--fuse", action="store_true", help="also fuse (shipped weights, scale 1) unaligned and aligned")
    p.add_argument("--figure", type=Path, help="draw the first shot fused unaligned and aligned to this PNG")
    p.add_argument("--scenes", action="store_true",
                   help="also ECC's correlation once registered, for one scene and for two (the next pair's)")
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    pairs = load_pairs(args.a, args.b, args.limit)
    shots = [(name, to_float(a).astype(np.float32), to_float(b).astype(np.float32), a, b)
             for name, a, b in pairs for _ in range(args.shots)]
    moved = [handheld(b, rng) for _, _, b, _, _ in shots]
    before = np.mean([interior_error(m, b) for m, (_, _, b, _, _) in zip(moved, shots)])
    print(f"{len(pairs)} pairs x {args.shots} handheld shots (up to {MAX_ANGLE} deg, {MAX_ZOOM:.0%} zoom, "
          f"{MAX_SHIFT:g} px); error of the moved image against its registered original, in [0, 1]")
    print(f"{'motion':12s} {'error before':>12s} {'error after':>12s} {'ratio':>7s} {'failed':>7s} {'s/pair':>8s}")
    for motion in MOTIONS[1:]:
        errors, failed, start = [], 0, time.perf_counter()
        for m, (_, a, b, _, _) in zip(moved, shots):
            try:
                errors.append(interior_error(align_images([a, m], motion)[1], b))
            except AlignmentError:
                failed += 1
        seconds = (time.perf_counter() - start) / len(shots)
        after = np.mean(errors) if errors else float("nan")
        print(f"{motion:12s} {before:12.4f} {after:12.4f} {after / before:7.3f} {failed:7d} {seconds:8.3f}")
    if args.scenes:
        floats = [(to_float(a).astype(np.float32), to_float(b).astype(np.float32)) for _, a, b in pairs]
        one = [(a, m) for (_, a, _, _, _), m in zip(shots, moved)]
        scene_table(one, [a for a, _ in floats], [b for _, b in floats])
    if args.fuse or args.figure:
        from defusion import Fuser

        plain = Fuser.from_pretrained(task=args.task, scale=1)
        aligned = Fuser.from_pretrained(task=args.task, scale=1, align="affine")
    if args.figure:
        from defusion.benchmark.report import labelled_tile, tile_rows
        from defusion.fusion.color import to_uint8

        _, _, _, a8, _ = shots[0]
        m8 = to_uint8(moved[0])
        tiles = [(a8, "first image"), (m8, "second, shot by hand"), (plain.fuse(a8, m8), "fused, unaligned"),
                 (aligned.fuse(a8, m8), "fused, --align affine")]
        args.figure.parent.mkdir(parents=True, exist_ok=True)
        tile_rows([[labelled_tile(to_uint8(im), label) for im, label in tiles]]).save(args.figure)
        print(f"wrote {args.figure}")
    if args.fuse:
        off = {"unaligned": [], "aligned (affine)": []}
        for m, (_, _, b, a8, b8) in zip(moved, shots):
            m8 = from_float(m, b8.dtype)
            reference = plain.fuse(a8, b8)
            off["unaligned"].append(interior_error(plain.fuse(a8, m8), reference))
            off["aligned (affine)"].append(interior_error(aligned.fuse(a8, m8), reference))
        print("fused image against the fusion of the registered pair (mean grey-level difference, "
              f"shipped weights, --task {args.task} --scale 1):")
        for name, values in off.items():
            print(f"  {name:18s} {np.mean(values):8.3f}")


if __name__ == "__main__":
    main()
