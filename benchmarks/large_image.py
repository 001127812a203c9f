"""Fusing a large pair in bounded memory: peak RSS and seam check, tiled vs whole.

Synthesizes a W x H multi-focus pair (default 4000 x 3000), fuses it with automatic
tiling (and, with --whole-too, in one pass for comparison on a smaller crop), and prints
wall time, peak resident memory and a seam statistic: the mean absolute horizontal
difference of the fused image across tile boundaries over that elsewhere (1.0 = no seam).

Usage: python benchmarks/large_image.py [--width 4000 --height 3000 --tile 768 --weights PATH]
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
from scipy.ndimage import gaussian_filter

from defusion import Fuser
from defusion.fusion.tiling import tile_starts


def synth_pair(width: int, height: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = gaussian_filter(rng.random((height // 4, width // 4, 3)), (2, 2, 0))
    base = np.kron(base, np.ones((4, 4, 1)))[:height, :width]
    base = (base - base.min()) / (base.max() - base.min())
    blurred = gaussian_filter(base, (6, 6, 0))
    ramp = np.clip((np.arange(width) - width / 2) / (width / 10) + 0.5, 0, 1)[None, :, None]
    a = base * (1 - ramp) + blurred * ramp
    b = blurred * (1 - ramp) + base * ramp
    return (a * 255).astype(np.uint8), (b * 255).astype(np.uint8)


def seam_ratio(image: np.ndarray, tile: int, overlap: int) -> float:
    grey = image.astype(np.float32).mean(axis=2)
    diff = np.abs(np.diff(grey, axis=1))
    starts = tile_starts(grey.shape[1], tile, overlap)[1:]
    # A hard seam would sit where one tile's weight takes over: the overlap centres.
    cols = sorted({s + overlap // 2 - 1 for s in starts} | {s - 1 for s in starts} | {s + overlap - 1 for s in starts})
    cols = [c for c in cols if 0 <= c < diff.shape[1]]
    mask = np.zeros(diff.shape[1], bool)
    mask[cols] = True
    return float(diff[:, mask].mean() / diff[:, ~mask].mean())


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=4000)
    p.add_argument("--height", type=int, default=3000)
    p.add_argument("--tile", type=int, default=768)
    p.add_argument("--overlap", type=int, default=64)
    p.add_argument("--weights")
    args = p.parse_args()
    a, b = synth_pair(args.width, args.height)
    fuser = Fuser.from_pretrained(args.weights, device="cpu", tile=args.tile, overlap=args.overlap)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    fused = fuser.fuse(a, b)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.width}x{args.height} pair, tile {args.tile}, overlap {args.overlap}: "
          f"{fuser.tiles_for(args.height, args.width)} tiles")
    print(f"  wall time          {seconds:.1f} s")
    print(f"  peak RSS           {peak:.0f} MiB (before fusing: {before:.0f} MiB)")
    print(f"  seam ratio         {seam_ratio(fused, args.tile, args.overlap):.3f} (1.0 = boundaries like elsewhere)")


if __name__ == "__main__":
    main()
