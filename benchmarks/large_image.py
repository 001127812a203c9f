"""Fusing a large pair in bounded memory: wall time, peak RSS and seams, tiled against untiled.

Synthesizes a W x H multi-focus pair (default 4000 x 3000), fuses it with tiling, and prints
wall time and peak resident memory, then the seams: the same pair fused in one untiled pass (the
reference; it runs after the tiled fusion's figures are taken) and the absolute difference of the
two, in grey levels of 0..255 (every channel), on the pixels at tile boundaries (the rows and
columns where the tiler blends two tiles, on both axes, where :func:`~defusion.fusion.tiling.run_tiled`
places them) next to that on pixels away from them (over an overlap outside every blend): a seam is
a boundary figure well over the away one. The untiled pass's own wall time and peak are printed beside
the tiled ones. The untiled fusion takes about :data:`UNTILED_BYTES_PER_PIXEL` per network input pixel,
which a large pair may not have (a 4000 x 3000 pair at scale 2: about 96 GB): then the seams are n/a
with the reason and the largest pair of that shape whose reference fits.

This replaces a seam ratio (the horizontal step across vertical boundaries over that beside them)
that saw no horizontal boundary and moved with the scene's own edges near a boundary.

--tile and --overlap count network pixels, as in ``defusion fuse``: at inference scale s the
image is cut into tiles of tile/s pixels, each run at s times its size. --runtime picks the
inference engine as in ``defusion fuse`` (default auto: ONNX Runtime on a CPU where installed);
the report names the one that ran (auto falls back to PyTorch with a warning).

Usage: python benchmarks/large_image.py [--width 4000 --height 3000 --tile 768 --scale 2 --runtime auto
                                        --weights PATH --reference-gb GB]
       python benchmarks/large_image.py --width 1200 --height 900   # seams against the untiled fusion
       python benchmarks/large_image.py --width 256 --height 192 --runtime torch   # a quick check
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import time
from typing import NamedTuple

import numpy as np
from scipy.ndimage import gaussian_filter, zoom
from tqdm import tqdm

from defusion import DefusionError, Fuser
from defusion.cli.job_size import available_memory
from defusion.fusion.choices import DEFAULT_RUNTIME, RUNTIMES
from defusion.fusion.fuser import DEFAULT_SCALE
from defusion.fusion.tiling import TileSize, padded_side, tile_shape, tile_starts

#: Memory an untiled fusion takes per network input pixel (source pixels times scale squared) over
#: the process's own: untiled fusions of this script's pair at scale 2 peaked 785 MiB (500x375), 3237 MiB
#: (1000x750) and 5993 MiB (1200x900, after its tiled fusion) over the process before fusing under ONNX
#: Runtime, 920 MiB (500x375) under PyTorch eager: 1.10-1.46 kB per network pixel, rising with the size
#: (2026-12-07, the shared 2-core AMD EPYC); taken with room for larger pairs.
UNTILED_BYTES_PER_PIXEL = 2000
#: The share of the memory available that the untiled reference may be planned to take: the estimate is
#: a measurement's, and a reference that swaps or is killed for memory would leave no figure at all.
REFERENCE_SHARE = 0.8
_MIB = 1024 * 1024
_GB = 1e9


def synth_pair(width: int, height: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A multi-focus pair of a smooth random scene: the left of ``a`` and the right of ``b`` sharp,
    the other side blurred, with a focus ramp in the middle tenth."""
    rng = np.random.default_rng(seed)
    base = gaussian_filter(rng.random((height // 4, width // 4, 3)), (2, 2, 0))
    # Cubic up-sampling, not pixel repetition: no 4-pixel blocks, no step every 4th column
    base = zoom(base, (height / base.shape[0], width / base.shape[1], 1), order=3)[:height, :width]
    base = (base - base.min()) / (base.max() - base.min())
    blurred = gaussian_filter(base, (6, 6, 0))
    ramp = np.clip((np.arange(width) - width / 2) / (width / 10) + 0.5, 0, 1)[None, :, None]
    a = base * (1 - ramp) + blurred * ramp
    b = blurred * (1 - ramp) + base * ramp
    return (a * 255).astype(np.uint8), (b * 255).astype(np.uint8)


def blend_bands(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """The [start, end) spans of one axis where two tiles overlap, so the tiler blends them: each
    tile's start to the end of the tile before it (:func:`~defusion.fusion.tiling.tile_starts`, as
    :func:`~defusion.fusion.tiling.run_tiled` places them; wider than ``overlap`` where the tiles
    spread evenly leave more).

    Example:
        >>> blend_bands(1000, 512, 64), blend_bands(300, 512, 64)
        ([(244, 512), (488, 756)], [])
    """
    starts = tile_starts(length, tile, overlap)
    return [(start, before + tile) for before, start in zip(starts, starts[1:])]


def _on_axis(length: int, bands: list[tuple[int, int]], margin: int = 0) -> np.ndarray:
    """A bool mask of ``length``: True in ``bands``, each widened by ``margin`` on either side."""
    mask = np.zeros(length, bool)
    for start, end in bands:
        mask[max(start - margin, 0):end + margin] = True
    return mask


def boundary_masks(height: int, width: int, tile: TileSize, overlap: int) -> tuple[np.ndarray, np.ndarray]:
    """Two HxW bool masks: the pixels at tile boundaries (in a row or column the tiler blends) and
    those away from them (over ``overlap`` outside every blend, on both axes: the tiles' cores).
    ``tile`` in image pixels, N or (height, width), as :func:`~defusion.fusion.tiling.tile_layout` gives it.

    Example:
        >>> blend_bands(100, 64, 8), blend_bands(150, 64, 8)  # rows, columns
        ([(36, 64)], [(43, 64), (86, 107)])
        >>> at, away = boundary_masks(100, 150, 64, 8)
        >>> [bool(m) for m in (at[:, 90].all(), at[50].all(), at[10, 10], away[10, 10], away[30, 10])]
        [True, True, False, True, False]
    """
    tile_h, tile_w = tile_shape(tile)
    rows, cols = blend_bands(height, tile_h, overlap), blend_bands(width, tile_w, overlap)
    at = _on_axis(height, rows)[:, None] | _on_axis(width, cols)[None, :]
    near = _on_axis(height, rows, overlap)[:, None] | _on_axis(width, cols, overlap)[None, :]
    return at, ~near


class Seams(NamedTuple):
    """|tiled - untiled| in grey levels (0..255, every channel): mean and max at tile boundaries and
    away from them, and the share of pixels each covers; nan for a set with no pixel."""

    at_mean: float
    at_max: float
    at_share: float
    away_mean: float
    away_max: float
    away_share: float


def seams(tiled: np.ndarray, untiled: np.ndarray, tile: TileSize, overlap: int) -> Seams:
    """How far the tiled fusion is from the untiled one at tile boundaries and away from them
    (:func:`boundary_masks`): a seam shows as a boundary mean or max well over the away one.

    Example:
        >>> untiled = np.zeros((100, 150, 3), np.uint8)
        >>> tiled = untiled.copy(); tiled[36:64] = 6  # a horizontal seam: over the rows blended
        >>> s = seams(tiled, untiled, 64, 8)
        >>> round(s.at_mean, 2), s.at_max, s.away_mean, s.away_max
        (3.49, 6.0, 0.0, 0.0)
    """
    diff = np.abs(tiled.astype(np.int16) - untiled.astype(np.int16))
    at, away = boundary_masks(*tiled.shape[:2], tile, overlap)

    def figures(mask: np.ndarray) -> tuple[float, float, float]:
        values = diff[mask]
        if not values.size:
            return math.nan, math.nan, 0.0
        return float(values.mean()), float(values.max()), float(mask.mean())

    return Seams(*figures(at), *figures(away))


def reference_needs(height: int, width: int, scale: int) -> int:
    """Bytes an untiled fusion of a height x width pair at ``scale`` is expected to take over the
    process's own (:data:`UNTILED_BYTES_PER_PIXEL` per network input pixel, each side padded as a pass runs it).

    Example:
        >>> round(reference_needs(3000, 4000, 2) / 1e9), round(reference_needs(900, 1200, 2) / 1e9, 1)
        (96, 8.6)
    """
    return UNTILED_BYTES_PER_PIXEL * padded_side(height * scale) * padded_side(width * scale)


def reference_refusal(height: int, width: int, scale: int, available: int | None) -> str | None:
    """Why the untiled reference is not run for a height x width pair at ``scale`` with ``available``
    bytes (None: not known, run it), with the largest pair of that shape that fits; None where it fits.

    Example:
        >>> reference_refusal(900, 1200, 2, 20 * 10**9) is None
        True
        >>> print(reference_refusal(3000, 4000, 2, 20 * 10**9))
        the untiled fusion to compare with would take about 96 GB, over 80% of the 20 GB available: a pair of at most 1632x1224 fits
    """
    needs = reference_needs(height, width, scale)
    if available is None or needs <= REFERENCE_SHARE * available:
        return None
    budget = REFERENCE_SHARE * available
    shrink = math.sqrt(budget / needs)
    fit_w, fit_h = int(width * shrink), int(height * shrink)
    while min(fit_w, fit_h) > 1 and reference_needs(fit_h, fit_w, scale) > budget:  # each side padded
        fit_w, fit_h = fit_w - max(fit_w // 100, 1), fit_h - max(fit_h // 100, 1)
    fitting = min(fit_w, fit_h) >= 1 and reference_needs(fit_h, fit_w, scale) <= budget
    fits = f"a pair of at most {fit_w}x{fit_h} fits" if fitting else "no pair fits"
    return (f"the untiled fusion to compare with would take about {needs / _GB:.3g} GB, over "
            f"{REFERENCE_SHARE:.0%} of the {available / _GB:.3g} GB available: {fits}")


def runtime_ran(model: object) -> str:
    """The runtime (:data:`RUNTIMES` name) that runs ``model``, a Fuser's network: what ``auto``
    resolved to, or ``torch`` where it fell back.

    Example:
        >>> from defusion.model.registry import create_model
        >>> runtime_ran(create_model("defusion-tiny"))
        'torch'
    """
    from defusion.fusion.runtime import CompiledNet
    from defusion.fusion.onnx_runtime import OnnxDeNet

    if isinstance(model, OnnxDeNet):
        return "onnxruntime"
    if isinstance(model, CompiledNet):
        return "compile-bf16" if model.bf16 else "compile"
    return "torch"


def _peak_mib() -> float:
    """This process's peak resident memory so far, MiB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _figure(value: float, digits: int) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


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
    p.add_argument("--reference-gb", type=float,
                   help="the most memory (GB) the untiled reference may take (default: what is available)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar over the tiles (on stderr)")
    args = p.parse_args()
    if args.reference_gb is not None and not args.reference_gb > 0:
        sys.exit(f"{p.prog}: error: --reference-gb must be a positive number of GB, got {args.reference_gb}")
    try:  # refused options (an ONNX export on torch, a tile too small) in one line, as the CLI does
        fuser = Fuser.from_pretrained(args.weights, device="cpu", runtime=args.runtime, tile=args.tile,
                                      overlap=args.overlap, scale=args.scale)
    except DefusionError as exc:
        sys.exit(f"{p.prog}: error: {exc}")
    a, b = synth_pair(args.width, args.height)
    tile, overlap = fuser.tile_layout(args.height, args.width)  # in image pixels
    before = _peak_mib()
    start = time.perf_counter()
    tiles = fuser.tiles_for(args.height, args.width)
    with tqdm(total=tiles, desc="tiles", unit="tile", file=sys.stderr,
              disable=args.no_progress) as bar:
        fused = fuser.fuse(a, b, on_tile=bar.update)
    seconds = time.perf_counter() - start
    peak = _peak_mib()
    tile_h, tile_w = tile_shape(tile)
    print(f"{args.width}x{args.height} pair, inference scale {fuser.options.scale}, tile {args.tile}, "
          f"overlap {args.overlap} (network pixels; {tile_w if tile_w == tile_h else f'{tile_w}x{tile_h}'} "
          f"and {overlap} image pixels): {tiles} tiles")
    print(f"  runtime            {runtime_ran(fuser.model)} (--runtime {args.runtime})")
    if tiles == 1:  # --tile 0 or an image within one tile: no boundary, nothing to compare
        print(f"  wall time          {seconds:.1f} s")
        print(f"  peak RSS           {peak:.0f} MiB (before fusing: {before:.0f} MiB)")
        print("  seams              n/a (one pass, no tile boundaries)")
        return
    available = available_memory() if args.reference_gb is None else int(args.reference_gb * _GB)
    refusal = reference_refusal(args.height, args.width, fuser.options.scale, available)
    if refusal:
        print(f"  wall time          {seconds:.1f} s tiled, untiled n/a")
        print(f"  peak RSS           {peak:.0f} MiB tiled (before fusing: {before:.0f} MiB), untiled n/a")
        print(f"  seams              n/a: {refusal}")
        return
    start = time.perf_counter()
    untiled = fuser.with_options(tile=0).fuse(a, b)
    untiled_seconds = time.perf_counter() - start
    untiled_peak = _peak_mib()  # the process's peak: the untiled pass's own where it is over the tiled one's
    untiled_said = f"{untiled_peak:.0f} MiB" if untiled_peak > peak else f"at most {peak:.0f} MiB"
    s = seams(fused, untiled, tile, overlap)
    print(f"  wall time          {seconds:.1f} s tiled, {untiled_seconds:.1f} s untiled")
    print(f"  peak RSS           {peak:.0f} MiB tiled (before fusing: {before:.0f} MiB), {untiled_said} untiled")
    print(f"  seams              |tiled - untiled| at tile boundaries ({s.at_share:.0%} of pixels) mean "
          f"{_figure(s.at_mean, 2)}, max {_figure(s.at_max, 0)}; away from them ({s.away_share:.0%}) mean "
          f"{_figure(s.away_mean, 2)}, max {_figure(s.away_max, 0)} (grey levels of 0..255)")


if __name__ == "__main__":
    main()
