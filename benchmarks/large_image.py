"""Fusing a large pair in bounded memory: peak RSS and seam check, tiled vs whole.

Synthesizes a W x H multi-focus pair (default 4000 x 3000), fuses it with automatic
tiling, and prints
wall time, peak resident memory and a seam statistic: the mean absolute horizontal
step of the fused image across tile boundaries over that just beside them (1.0 = no seam).

--tile and --overlap count network pixels, as in ``defusion fuse``: at inference scale s the
image is cut into tiles of tile/s pixels, each run at s times its size. --runtime picks the
inference engine as in ``defusion fuse`` (default auto: ONNX Runtime on a CPU where installed);
the report names the one that ran (auto falls back to PyTorch with a warning).

Usage: python benchmarks/large_image.py [--width 4000 --height 3000 --tile 768 --scale 2 --runtime auto
                                        --weights PATH]
       python benchmarks/large_image.py --width 256 --height 192 --runtime torch   # a quick check
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

import numpy as np
from scipy.ndimage import gaussian_filter, zoom
from tqdm import tqdm

from defusion import DefusionError, Fuser
from defusion.fusion.choices import DEFAULT_RUNTIME, RUNTIMES
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


def runtime_ran(model: object) -> str:
    """The runtime (:data:`RUNTIMES` name) that runs ``model``, a Fuser's network: what ``auto``
    resolved to, or ``torch`` where it fell back.

    Example:
        >>> from defusion.model.registry import create_model
        >>> runtime_ran(create_model("defusion-tiny"))
        'torch'
    """
    from defusion.fusion.runtime import CompiledNet
    from defusion.serving.onnx_model import OnnxDeNet

    if isinstance(model, OnnxDeNet):
        return "onnxruntime"
    if isinstance(model, CompiledNet):
        return "compile-bf16" if model.bf16 else "compile"
    return "torch"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--width", type=int, default=4000)
    p.add_argument("--height", type=int, default=3000)
    p.add_argument("--tile", type=int, default=768)
    p.add_argument("--overlap", type=int, default=64)
    p.add_argument("--scale", type=int, default=DEFAULT_SCALE, help=f"inference scale (default {DEFAULT_SCALE}, the fusion core's)")
    p.add_argument("--weights")
    p.add_argument("--runtime", default=DEFAULT_RUNTIME, choices=RUNTIMES,
                   help=f"inference engine, as in defusion fuse (default {DEFAULT_RUNTIME}: onnxruntime on a CPU)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar over the tiles (on stderr)")
    args = p.parse_args()
    try:  # refused options (an ONNX export on torch, a tile too small) in one line, as the CLI does
        fuser = Fuser.from_pretrained(args.weights, device="cpu", runtime=args.runtime, tile=args.tile,
                                      overlap=args.overlap, scale=args.scale)
    except DefusionError as exc:
        sys.exit(f"{p.prog}: error: {exc}")
    a, b = synth_pair(args.width, args.height)
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
    print(f"  runtime            {runtime_ran(fuser.model)} (--runtime {args.runtime})")
    print(f"  wall time          {seconds:.1f} s")
    print(f"  peak RSS           {peak:.0f} MiB (before fusing: {before:.0f} MiB)")
    if tiles > 1:
        print(f"  seam ratio         {seam_ratio(fused, tile, overlap):.3f} (1.0 = boundaries like their surroundings)")
    else:  # --tile 0 or an image within one tile: no boundary to look at
        print("  seam ratio         n/a (one pass, no tile boundaries)")


if __name__ == "__main__":
    main()
