"""Figure for the README and docs/benchmarks.md: infrared + visible pairs fused with thermal palettes.

Each row: visible, infrared, the fusion with the sources' own colours (`--palette none`), then with
each palette; the task's defaults (`--task ivf`), shipped weights.
Usage: python scripts/make_palette_figure.py [--data ../shared/data/bench] [--weights PATH] [-o OUT]
  (default OUT: docs/images/palette.jpg)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from defusion import Fuser
from defusion.benchmark.report import labelled_tile, tile_rows
from defusion.fusion.color import to_uint8
from defusion.io.images import read_image

#: (visible, infrared) pairs under the benchmark folder: TNO's grey pair, VIFB's colour one.
PAIRS = (("ivf/tno/vi/01.png", "ivf/tno/ir/01.png"), ("ivf/vifb/vi/carShadow.jpg", "ivf/vifb/ir/carShadow.jpg"))
PALETTES = ("none", "inferno", "hot", "turbo")
OUT = Path(__file__).resolve().parents[1] / "docs" / "images" / "palette.jpg"
#: Every image is cut to this width:height around its centre, so the rows line up.
ASPECT = 4 / 3


def centre_cut(image):
    """``image`` cut to ASPECT around its centre."""
    h, w = image.shape[:2]
    width = min(w, round(h * ASPECT))
    left = (w - width) // 2
    return image[:, left:left + width]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", type=Path, default=Path("../shared/data/bench"))
    p.add_argument("--weights")
    p.add_argument("-o", "--out", type=Path, default=OUT)
    args = p.parse_args()
    fusers = {palette: Fuser.from_pretrained(args.weights, task="ivf", palette=palette) for palette in PALETTES}
    rows = []
    for visible_path, infrared_path in PAIRS:
        visible, infrared = (centre_cut(read_image(args.data / path)) for path in (visible_path, infrared_path))
        row = [labelled_tile(to_uint8(visible), "visible"), labelled_tile(to_uint8(infrared), "infrared")]
        for palette, fuser in fusers.items():
            label = "fused" if palette == "none" else f"--palette {palette}"
            row.append(labelled_tile(to_uint8(fuser.fuse(visible, infrared)), label))
        rows.append(row)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tile_rows(rows).save(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
