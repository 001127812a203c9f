"""Focus stacks against the truth: how close each way of fusing N shots comes to the all-in-focus scene.

Focus-stacking benchmarks (MFIFB, Lytro) have no ground truth, so their metrics compare the
fused image with the blurred sources. This script makes stacks whose truth is known: it gives
each sharp photograph a smooth random depth map, and synthesizes N shots focused at N depths
(each pixel blurred by a Gaussian whose sigma grows with its distance from the shot's
depth of field; every pixel is sharp in at least one shot). Each stack is fused by:

- DeFusion, the network's reconstruction (``--task mff --pixels network``: scale 2, detail gain 1.5);
- DeFusion, pixels from the sources (``--task mff``, the default there: scale 1; the decision map
  read from the unique projections, :mod:`defusion.fusion.selection`);
- ``gff`` (guided filtering fusion, the best classical baseline on MFIFB), folded over the stack
  in the same balanced pairing;
- and, as anchors, the best single shot (chosen knowing the truth) and the mean of the shots.

It prints, per N, PSNR (dB) and SSIM of the fused luminance against the truth's, and seconds
per stack, side by side. Then how well the source map of ``--pixels sources`` (which shot each
pixel came from: a depth map, :func:`defusion.fusion.selection.source_map`) finds the shot that
is sharp at each pixel, where the choice matters (the shots differ there by more than
``MATTERS`` grey levels), next to a per-pixel focus measure on the shots themselves.

Usage: python benchmarks/focus_stack.py [--images DIR] [--limit 8] [--size 384] [--stacks 2,3,5]
                                       [--weights PATH] [--figure docs/images/focus_stack.jpg --figure-scene NAME]
(default images: the visible images of VIFB in ../shared, read only as test scenes.)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Callable

import cv2
import numpy as np
from tqdm import tqdm

from defusion import Fuser
from defusion.baselines import BASELINES
from defusion.benchmark.report import labelled_tile, tile_rows
from defusion.fusion.color import luminance, to_float, to_uint8
from defusion.fusion.selection import activity, source_map
from defusion.metrics import ssim_mean
from multi_input import add_scene_arguments, load_scenes  # the same test scenes, loaded the same way

#: Gaussian blur sigma (pixels) per unit of depth outside a shot's depth of field (depth in [0, 1]).
BLUR_PER_DEPTH = 12.0
#: Sigma step of the blurred layers that per-pixel defocus is interpolated between.
SIGMA_STEP = 0.5
#: The depth map: random values on a coarse grid of this many cells, smoothly up-sampled.
DEPTH_CELLS = (4, 5)
#: A pixel's choice of shot matters where its shots' luminance spans more than this (grey levels).
MATTERS = 2.0

Fuse = Callable[..., np.ndarray]


def depth_map(h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth HxW depth in [0, 1]: a few near and far regions with gradual slopes between."""
    coarse = rng.random(DEPTH_CELLS).astype(np.float32)
    depth = cv2.resize(coarse, (w, h), interpolation=cv2.INTER_CUBIC)
    return (depth - depth.min()) / max(float(depth.max() - depth.min()), 1e-6)


def defocus(depth: np.ndarray, n: int) -> np.ndarray:
    """NxHxW blur sigma of each of N shots focused at depths (i + 1/2) / N, each sharp within 1/(2N) of it."""
    return BLUR_PER_DEPTH * np.clip(np.abs(depth[None] - (np.arange(n)[:, None, None] + 0.5) / n) - 0.5 / n, 0, 1)


def focus_stack(image: np.ndarray, depth: np.ndarray, n: int) -> list[np.ndarray]:
    """N uint8 shots of ``image`` focused at depths (i + 1/2) / N (:func:`defocus`)."""
    sigmas = defocus(depth, n)
    levels = np.arange(0.0, float(sigmas.max()) + SIGMA_STEP, SIGMA_STEP)
    layers = np.stack([image.astype(np.float32) if s == 0 else cv2.GaussianBlur(image.astype(np.float32), (0, 0), s)
                       for s in levels])
    shots = []
    for sigma in sigmas:
        position = sigma / SIGMA_STEP
        low = np.minimum(np.floor(position).astype(int), len(levels) - 1)
        high = np.minimum(low + 1, len(levels) - 1)
        t = (position - low)[..., None]
        rows, cols = np.indices(sigma.shape)
        shot = (1 - t) * layers[low, rows, cols] + t * layers[high, rows, cols]
        shots.append(np.clip(shot + 0.5, 0, 255).astype(np.uint8))
    return shots


def balanced(pair: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> Fuse:
    """A pairwise method over a stack in the fusion core's balanced pairing (halves, then both)."""
    def fuse(*images: np.ndarray) -> np.ndarray:
        if len(images) == 1:
            return images[0]
        cut = (len(images) + 1) // 2
        return pair(fuse(*images[:cut]), fuse(*images[cut:]))
    return fuse


def gff_pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    fused = BASELINES["gff"](to_float(a), to_float(b))
    return np.clip(fused * 255 + 0.5, 0, 255).astype(np.uint8)


def score(fused: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """PSNR (dB) and SSIM of the fused luminance against the truth's."""
    f, t = (luminance(x.astype(np.float64) / 255.0) * 255.0 for x in (fused, truth))
    mse = float(np.mean((f - t) ** 2))
    return 10 * np.log10(255.0**2 / max(mse, 1e-10)), ssim_mean(f, t, t)


def map_accuracy(weights: list[np.ndarray], shots: list[np.ndarray], depth: np.ndarray) -> tuple[float, float]:
    """Where the choice of shot matters: the share of pixels whose largest weight is on a shot
    sharp there, and the mean distance (in shots) of the source map from the sharp shots' depth."""
    n = len(shots)
    lum = np.stack([luminance(s.astype(np.float32)) for s in shots])
    matters = lum.max(axis=0) - lum.min(axis=0) > MATTERS
    sharp = defocus(depth, n) == 0  # NxHxW: the shots sharp at each pixel (one, or two on a boundary)
    picked = np.argmax(np.stack(weights), axis=0)
    right = np.take_along_axis(sharp, picked[None], axis=0)[0]
    true_index = np.clip(np.floor(depth * n), 0, n - 1)
    off = np.abs(source_map(weights) * (n - 1) - true_index)
    return float(right[matters].mean()) if matters.any() else 1.0, float(off[matters].mean()) if matters.any() else 0.0


def focus_measure_weights(shots: list[np.ndarray]) -> list[np.ndarray]:
    """One-hot weights of the shot with the most fine detail at each pixel (Laplacian energy of its
    luminance, the same :func:`activity` the decision map reads from the unique projections)."""
    energy = np.stack([activity(luminance(to_float(s))) for s in shots])
    best = np.argmax(energy, axis=0)
    return [(best == i).astype(np.float32) for i in range(len(shots))]


def figure(shots: list[np.ndarray], results: dict[str, np.ndarray], truth: np.ndarray, path: Path,
           maps: dict[str, np.ndarray] | None = None) -> None:
    """Row 1: the shots, the truth (and ``maps``: depth or source maps in [0, 1]); row 2: each
    method's result; row 3: their centres at 2x."""
    def centre(image: np.ndarray) -> np.ndarray:
        h, w = image.shape[:2]
        crop = image[h // 4: h // 4 + h // 2, w // 4: w // 4 + w // 2]
        return cv2.resize(crop, (w, h), interpolation=cv2.INTER_NEAREST)

    top = [labelled_tile(s, f"shot {i + 1}") for i, s in enumerate(shots)] + [labelled_tile(truth, "truth")]
    top += [labelled_tile(to_uint8(m), name) for name, m in (maps or {}).items()]
    middle = [labelled_tile(image, name) for name, image in results.items()]
    bottom = [labelled_tile(centre(image), f"{name}, centre 2x") for name, image in results.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    tile_rows([top, middle, bottom]).save(path, quality=90)
    print(f"figure: {path}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_scene_arguments(p, limit=8)
    p.add_argument("--stacks", default="2,3,5", help="stack sizes N, comma separated")
    p.add_argument("--seed", type=int, default=0, help="seed of the depth maps")
    p.add_argument("--figure", type=Path, help="also draw one scene's 3-shot stack and results here")
    args = p.parse_args()
    sizes = [int(n) for n in args.stacks.split(",")]
    scenes = load_scenes(args.images, args.limit, args.size)
    selecting = Fuser.from_pretrained(args.weights, runtime=args.runtime, task="mff")  # pixels from the sources
    last: dict[str, list[np.ndarray]] = {}  # the source weights of the last stack --pixels sources fused

    def fuse_sources(*shots: np.ndarray) -> np.ndarray:
        fused, last["weights"] = selecting.fuse_with_weights(*shots)
        return fused

    methods: dict[str, Fuse] = {
        "defusion, network (--task mff --pixels network)": Fuser.from_pretrained(
            args.weights, runtime=args.runtime, task="mff", pixels="network").fuse,
        "defusion, sources (--task mff)": fuse_sources,
        "gff, folded": balanced(gff_pair),
        "mean of the shots": lambda *shots: np.mean(shots, axis=0).round().astype(np.uint8),
    }
    rng = np.random.default_rng(args.seed)
    depths = [depth_map(*image.shape[:2], rng) for _, image in scenes]
    if args.figure:
        chosen = [i for i, (name, _) in enumerate(scenes) if name == args.figure_scene] or [0]
        image = scenes[chosen[0]][1]
        shots = focus_stack(image, depths[chosen[0]], 3)
        results = {name.split(" (")[0]: fuse(*shots) for name, fuse in methods.items()}
        true_index = np.clip(np.floor(depths[chosen[0]] * 3), 0, 2) / 2
        figure(shots, results, image, args.figure,
               {"true depth (sharp shot)": true_index, "source map": source_map(last["weights"])})
    print(f"{len(scenes)} scenes from {args.images} at {args.size} px; stacks of {sizes} shots; "
          f"blur sigma {BLUR_PER_DEPTH:g} px per unit depth outside each shot's depth of field")
    print("\n| N | method | PSNR (dB) | SSIM | s per stack |")
    print("|---|---|---|---|---|")
    maps: dict[int, dict[str, list[tuple[float, float]]]] = {}
    for n in sizes:
        rows: dict[str, list[tuple[float, float, float]]] = {}
        for (_, image), depth in tqdm(list(zip(scenes, depths)), desc=f"N = {n}", unit="scene", file=sys.stderr,
                                      leave=False, disable=args.no_progress):
            shots = focus_stack(image, depth, n)
            for name, fuse in methods.items():
                start = time.perf_counter()
                fused = fuse(*shots)
                rows.setdefault(name, []).append((*score(fused, image), time.perf_counter() - start))
            found = maps.setdefault(n, {})
            found.setdefault("source map, --pixels sources", []).append(map_accuracy(last["weights"], shots, depth))
            found.setdefault("focus measure on the shots, per pixel", []).append(
                map_accuracy(focus_measure_weights(shots), shots, depth))
            best = max((score(s, image) for s in shots), key=lambda v: v[0])
            rows.setdefault("best single shot (knowing the truth)", []).append((*best, 0.0))
        for name, values in rows.items():
            m = np.mean(values, axis=0)
            print(f"| {n} | {name} | {m[0]:.2f} | {m[1]:.4f} | {m[2]:.2f} |", flush=True)
    print(f"\nWhich shot each pixel came from, where the choice matters (shots over {MATTERS:g} grey levels apart):")
    print("\n| N | map | sharp shot picked (%) | mean distance from the true depth (shots) |")
    print("|---|---|---|---|")
    for n, found in maps.items():
        for name, values in found.items():
            m = np.mean(values, axis=0)
            print(f"| {n} | {name} | {100 * m[0]:.1f} | {m[1]:.3f} |")


if __name__ == "__main__":
    main()
