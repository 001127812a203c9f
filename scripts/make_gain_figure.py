"""Figure for docs/benchmarks.md: one pair per task fused at several unique gains.

Each row: the two sources, then the fused image at each gain (1 is the paper's Pr), all cropped to
the same central region at the sources' own resolution, so detail and halos are visible.
Usage: python scripts/make_gain_figure.py [--data ../shared/data/bench] [--weights PATH]
  [--runtime torch] [-o OUT]   (default OUT: docs/images/unique_gain.jpg)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

from defusion import Fuser
from defusion.benchmark.report import labelled_tile
from defusion.io.images import read_image

#: (label, folder A, folder B, index of the pair in sorted order): one pair per task.
PAIRS = (("TNO", "ivf/tno/vi", "ivf/tno/ir", 3), ("MEFB", "mef/mefb/A", "mef/mefb/B", 2),
         ("MFIFB", "mff/mfifb/A", "mff/mfifb/B", 1))
GAINS = (1.0, 1.25, 1.5, 2.0)
CROP = 256
OUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "unique_gain.jpg"


def centre_crop(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return image[top:top + size, left:left + size]


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--data", type=Path, default=Path("../shared/data/bench"))
    p.add_argument("--weights")
    p.add_argument("--runtime", default="onnxruntime")
    p.add_argument("-o", "--out", type=Path, default=OUT)
    args = p.parse_args()
    fusers = {g: Fuser.from_pretrained(args.weights, device="cpu", runtime=args.runtime, unique_gain=g)
              for g in GAINS}
    rows = []
    for label, dir_a, dir_b, index in PAIRS:
        path_a = sorted((args.data / dir_a).iterdir())[index]
        path_b = next((args.data / dir_b).glob(path_a.stem + ".*"))
        a, b = (centre_crop(read_image(x), CROP) for x in (path_a, path_b))
        tiles = [labelled_tile(a, f"{label} A"), labelled_tile(b, f"{label} B")]
        tiles += [labelled_tile(fusers[g].fuse(a, b), f"gain {g:g}" + (" (paper)" if g == 1 else ""))
                  for g in GAINS]
        rows.append(np.concatenate([np.asarray(t) for t in tiles], axis=1))
        print(f"fused {label} {path_a.stem}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out, quality=90)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
