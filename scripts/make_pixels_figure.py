"""Figure for docs/features.md and docs/benchmarks.md: focus pairs fused from the network and from the sources.

Each row: the two sources, the network's reconstruction (``--task mff --pixels network``) and the
sources' own pixels picked by the network's decomposition (``--task mff``, the default), then the best
published method's result where the benchmark ships it; all cropped to the same central region and
shown at 2x, so that the softness of the reconstruction and the sharpness of the picked pixels show.
Usage: python scripts/make_pixels_figure.py [--data ../shared/data/bench/mff/mfifb] [--weights PATH]
  [--runtime torch] [--pairs newspaper,lytro_04] [-o OUT]   (default OUT: docs/images/pixels_sources.jpg)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from defusion import Fuser
from defusion.benchmark.report import labelled_tile
from defusion.io.images import read_image

#: Shown at twice its size: the central square of this side (source pixels).
CROP = 160
#: A published method shown beside DeFusion when the benchmark folder has its results (MFIFB's best Qabf).
PUBLISHED = "DPRL"
OUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "pixels_sources.jpg"


def centre_2x(image: np.ndarray) -> np.ndarray:
    h, w = image.shape[:2]
    size = min(CROP, h, w)
    top, left = (h - size) // 2, (w - size) // 2
    crop = image[top:top + size, left:left + size]
    return cv2.resize(crop, (2 * size, 2 * size), interpolation=cv2.INTER_NEAREST)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=Path("../shared/data/bench/mff/mfifb"))
    p.add_argument("--weights")
    p.add_argument("--runtime", default="onnxruntime")
    p.add_argument("--pairs", default="newspaper,lytro_04", help="file stems of the pairs, comma separated")
    p.add_argument("-o", "--out", type=Path, default=OUT)
    args = p.parse_args()
    fusers = {"network": Fuser.from_pretrained(args.weights, runtime=args.runtime, task="mff", pixels="network"),
              "sources": Fuser.from_pretrained(args.weights, runtime=args.runtime, task="mff")}
    rows = []
    for stem in args.pairs.split(","):
        path_a = next((args.data / "A").glob(stem + ".*"))
        a, b = read_image(path_a), read_image(next((args.data / "B").glob(stem + ".*")))
        images = {f"{stem} A": a, f"{stem} B": b,
                  "defusion, network": fusers["network"].fuse(a, b),
                  "defusion, sources": fusers["sources"].fuse(a, b)}
        published = args.data / "fused" / PUBLISHED / path_a.name
        if published.is_file():
            images[PUBLISHED] = read_image(published)
        tiles = [labelled_tile(centre_2x(image), f"{label}, centre 2x") for label, image in images.items()]
        rows.append(np.concatenate([np.asarray(t) for t in tiles], axis=1))
        print(f"fused {stem}")
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 0), (0, width - r.shape[1]), (0, 0)), constant_values=255) for r in rows]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out, quality=90)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
