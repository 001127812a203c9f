"""Fusing a large pair in bounded memory: peak RSS and seam check, tiled vs whole.

Synthesizes a W x H multi-focus pair (default 4000 x 3000), fuses it with automatic
tiling, and prints
wall time, peak resident memory and a seam statistic: the mean absolute horizontal
step of the fused image across tile boundaries over that just beside them (1.0 = no seam).

--tile and --overlap count network pixels, as in ``defusion fuse``: at inference scale s the
image is cut into tiles of tile/s pixels, each run at s times its size.

Usage: python benchmarks/large_image.py [--width 4000 --height 3000 --tile 768 --scale 2 --weights PATH]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
from scipy.ndimage import gaussian_filter, zoom
from tqdm import tqdm

from defusion import Fuser
from defusion.fusion.fuser import DEFAULT_SCALE
from defusion.fusion.tiling import tile_starts


def synth_pair(width: int, height: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    base = gaussian_filter(rng.random((height // 4, width // 4, 3)), (2, 2, 0))
    # Cubic up-sampling, not pixel repetition: 4-pixel blocks would put a step every 4th column,
    # which the seam statistic (tile boundaries fall on multiples of 16) would mistake for seams.
    base = zoom(base, (height / base.shape[0], width / base.shape[1], 1), order=3)[:height, :width]
    base = (base - base.min()) / (base.max() - base.min())
    blurred = gaussian_filter(base, (6, 6, 0))
    ramp = np.clip((np.arange(width) - width / 2) / (width / 10) + 0.5, 0, 1)[None, :, None]
    a = base * (1 - ramp) + blurred * ramp
    b = blurred * (1 - ramp) + base * ramp
    return (a * 255).astype(np.uint8), (b * 255).astype(np.uint8)


def seam_ratio(image: np.ndarray, tile: int, overlap: int, near: tuple[int, int] = (4, 16)) -> float:
    """Mean |horizontal step| on the columns where a seam would sit (each overlap's start,
    centre and end) over that on the columns ``near`` pixels to either side of them: 1.0 = the
    boundaries look like their surroundings. Comparing with the neighbourhood, not the whole
    image, keeps the scene's own variation (here the focus ramp) out of the figure."""
    grey = image.astype(np.float32).mean(axis=2)
    step = np.abs(np.diff(grey, axis=1)).mean(axis=0)
    starts = tile_starts(grey.shape[1], tile, overlap)[1:]
    seams, around = [], []
    for c in sorted({s + k for s in starts for k in (-1, overlap // 2 - 1, overlap - 1)}):
        side = [c + d for d in range(near[0], near[1] + 1)] + [c - d for d in range(near[0], near[1] + 1)]
        side = [x for x in side if 0 <= x < step.size]
        if 0 <= c < step.size and side:
            seams.append(step[c])
            around.append(step[side].mean())
    return float(np.mean(seams) / np.mean(around))


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=4000)
    p.add_argument("--height", type=int, default=3000)
    p.add_argument("--tile", type=int, default=768)
    p.add_argument("--overlap", type=int, default=64)
    p.add_argument("--scale", type=int, default=DEFAULT_SCALE, help=f"inference scale (default {DEFAULT_SCALE}, the fusion core's)")
    p.add_argument("--weights")
    p.add_argument("--no-progress", action="store_true", help="no progress bar over the tiles (on stderr)")
    args = p.parse_args()
    a, b = synth_pair(args.width, args.height)
    fuser = Fuser.from_pretrained(args.weights, device="cpu", tile=args.tile, overlap=args.overlap, scale=args.scale)
    tile, overlap = fuser.tile_layout(args.height, args.width)  # in image pixels
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    tiles = fuser.tiles_for(args.height, args.width)
    with tqdm(total=tiles, desc="tiles", unit="tile", file=sys.stderr,
              disable=args.no_progress) as bar:
        fused = fuser.fuse(a, b, on_tile=bar.update)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{args.width}x{args.height} pair, inference scale {fuser.options.scale}, tile {args.tile}, "
          f"overlap {args.overlap} (network pixels; {tile} and {overlap} image pixels): "
          f"{tiles} tiles")
    print(f"  wall time          {seconds:.1f} s")
    print(f"  peak RSS           {peak:.0f} MiB (before fusing: {before:.0f} MiB)")
    print(f"  seam ratio         {seam_ratio(fused, tile, overlap):.3f} (1.0 = boundaries like their surroundings)")


if __name__ == "__main__":
    main()
