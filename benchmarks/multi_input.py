"""More than two inputs: how the stack order of a pairwise network changes the result.

DeNet fuses pairs, so a bracket of N exposures is fused in N - 1 pairwise steps. This script
synthesizes exposure brackets (N = 3, 4, 5) from well-exposed photographs, fuses each with
both stack orders of :class:`defusion.FuseOptions` (``balanced`` and ``sequential``) and prints,
per N and order, side by side:

- MEF-SSIM over the whole bracket (Ma et al. 2015; higher is better), next to OpenCV's Mertens
  exposure fusion of the same bracket as a classical anchor;
- order sensitivity: the mean absolute difference (grey levels) between fusing the bracket
  dark-to-bright and bright-to-dark (a set of exposures should not depend on its order);
- how much of each exposure is in the result: the spread (max - min) of the weights of a
  least-squares fit of the fused luminance on the bracket's (0 = every exposure counts the same).

Usage: python benchmarks/multi_input.py [--images DIR] [--limit 6] [--size 384] [--weights PATH] [--scale N]
                                       [--task mef] [--figure docs/images/multi_input.jpg]
(--task: fuse at that kind of image's gains, FuseOptions.for_task; the inputs stay in the order
given, ``order="given"``, so both orders are measured whatever the task would sort them into.)
(default images: the visible images of VIFB in ../shared, read only as test scenes; --figure
draws one scene's 4-exposure bracket and each method's result, in both orders.)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import cv2
import numpy as np
from PIL import Image
from tqdm import tqdm

from defusion import Fuser
from defusion.benchmark.report import labelled_tile
from defusion.fusion.color import as_rgb, luminance
from defusion.fusion.fuser import DEFAULT_SCALE, TASKS
from defusion.io.images import read_image
from defusion.metrics import mef_ssim

#: Exposure offsets (stops) of each bracket size.
BRACKETS = {3: (-2.0, 0.0, 2.0), 4: (-3.0, -1.0, 1.0, 3.0), 5: (-2.0, -1.0, 0.0, 1.0, 2.0)}
DEFAULT_IMAGES = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "bench" / "ivf" / "vifb" / "vi"
GAMMA = 2.2


def bracket(image: np.ndarray, stops: tuple[float, ...]) -> list[np.ndarray]:
    """uint8 exposures of ``image`` (uint8 RGB), scaled in linear light and clipped like a camera."""
    linear = (image.astype(np.float64) / 255.0) ** GAMMA
    return [np.round(255 * np.clip(linear * 2.0**s, 0, 1) ** (1 / GAMMA)).astype(np.uint8) for s in stops]


def mertens(stack: list[np.ndarray]) -> np.ndarray:
    fused = cv2.createMergeMertens().process([np.ascontiguousarray(s[..., ::-1]) for s in stack])
    return np.clip(fused[..., ::-1] * 255, 0, 255).round().astype(np.uint8)


def weight_spread(fused: np.ndarray, stack: list[np.ndarray]) -> float:
    """max - min of the least-squares weights of the fused luminance on the exposures'."""
    def luma(image: np.ndarray) -> np.ndarray:  # the fusion core's BT.601 luminance, any scale
        return luminance(image.astype(np.float64)).ravel()

    design = np.stack([luma(s) for s in stack] + [np.ones(fused.shape[0] * fused.shape[1])], 1)
    weights = np.linalg.lstsq(design, luma(fused), rcond=None)[0][:-1]
    return float(weights.max() - weights.min())


def load_scenes(folder: Path, limit: int, size: int) -> list[tuple[str, np.ndarray]]:
    """The first ``limit`` images of ``folder`` as (stem, RGB at ``size`` px on the long side), or
    exit saying the folder is missing."""
    if not folder.is_dir():
        raise SystemExit(f"no scenes: {folder} is not a folder (pass --images)")
    scenes = []
    for path in sorted(folder.iterdir())[:limit]:
        image = as_rgb(read_image(path))
        h, w = image.shape[:2]
        scale = size / max(h, w)
        scenes.append((path.stem, cv2.resize(image, (round(w * scale), round(h * scale)),
                                             interpolation=cv2.INTER_AREA)))
    return scenes


def figure(image: np.ndarray, fusers: dict[str, Fuser], path: Path) -> None:
    """Row 1: a 4-exposure bracket; row 2: each stack order dark-to-bright and bright-to-dark, Mertens."""
    stops = BRACKETS[4]
    stack = bracket(image, stops)
    top = [labelled_tile(s, f"{stop:+g} EV") for s, stop in zip(stack, stops)]
    bottom = []
    for order, fuser in fusers.items():
        bottom.append(labelled_tile(fuser.fuse(*stack), f"{order}, dark first"))
        bottom.append(labelled_tile(fuser.fuse(*stack[::-1]), f"{order}, bright first"))
    bottom.append(labelled_tile(mertens(stack), "mertens"))
    width, height = top[0].size
    sheet = Image.new("RGB", (width * len(bottom), height * 2), (255, 255, 255))
    for row, tiles in enumerate((top, bottom)):
        for i, tile in enumerate(tiles):
            sheet.paste(tile.resize((width, height)), (i * width, row * height))
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=88)
    print(f"figure: {path}")


def add_scene_arguments(p: argparse.ArgumentParser, limit: int) -> None:
    """--images, --limit, --size (the test scenes, for :func:`load_scenes`), --weights, --runtime,
    --figure-scene (the scene a script's --figure draws) and --no-progress."""
    p.add_argument("--images", type=Path, default=DEFAULT_IMAGES)
    p.add_argument("--limit", type=int, default=limit)
    p.add_argument("--size", type=int, default=384, help="longer side of each scene (px)")
    p.add_argument("--weights", help="default: the shipped weights")
    p.add_argument("--runtime", default="onnxruntime")
    p.add_argument("--figure-scene", help="the scene --figure draws: its file stem (default: the first)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar over the scenes (on stderr)")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_scene_arguments(p, limit=6)
    p.add_argument("--scale", type=int, default=DEFAULT_SCALE, help=f"inference scale (default {DEFAULT_SCALE}, the fusion core's)")
    p.add_argument("--task", choices=TASKS, help="fuse at this task's gains (default: the general defaults)")
    p.add_argument("--figure", type=Path, help="also draw one scene's bracket and results here")
    args = p.parse_args()
    scenes = load_scenes(args.images, args.limit, args.size)
    fusers = {order: Fuser.from_pretrained(args.weights, runtime=args.runtime, task=args.task, stack=order,
                                           order="given", scale=args.scale)
              for order in ("balanced", "sequential")}
    if args.figure:
        chosen = [image for name, image in scenes if name == args.figure_scene] or [scenes[0][1]]
        figure(chosen[0], fusers, args.figure)
    print(f"{len(scenes)} scenes from {args.images} at {args.size} px; brackets {BRACKETS}; "
          f"task {args.task or 'none (general defaults)'}")
    print("\n| N | method | MEF-SSIM dark-to-bright / bright-to-dark | order sensitivity (grey levels) | weight spread | s per bracket |")
    print("|---|---|---|---|---|---|")
    for n, stops in BRACKETS.items():
        rows: dict[str, list[tuple[float, float, float, float]]] = {}
        for _, image in tqdm(scenes, desc=f"N = {n}", unit="scene", file=sys.stderr, leave=False,
                             disable=args.no_progress):
            stack = bracket(image, stops)
            for name, fuse in [*((f"defusion `{o}`", f.fuse) for o, f in fusers.items()),
                               ("mertens (OpenCV)", lambda *s: mertens(list(s)))]:
                start = time.perf_counter()
                fused = fuse(*stack)
                seconds = time.perf_counter() - start
                reverse = fuse(*stack[::-1])
                rows.setdefault(name, []).append((
                    mef_ssim(fused, *stack), mef_ssim(reverse, *stack),
                    float(np.abs(fused.astype(float) - reverse.astype(float)).mean()),
                    weight_spread(fused, stack),
                    seconds))
            rows.setdefault("best single exposure", []).append(
                (max(mef_ssim(s, *stack) for s in stack),) * 2 + (0.0, float("nan"), 0.0))
        for name, values in rows.items():
            m = np.mean(values, axis=0)
            print(f"| {n} | {name} | {m[0]:.4f} / {m[1]:.4f} | {m[2]:.2f} | {m[3]:.3f} | {m[4]:.2f} |", flush=True)


if __name__ == "__main__":
    main()
