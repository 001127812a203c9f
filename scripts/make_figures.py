"""Figures for the model card: the shipped examples fused and decomposed.

For each example pair: A, B, fused, common, unique A, unique B in one labelled row.
Usage: python scripts/make_figures.py [--weights PATH]  -> docs/images/example_*.jpg
"""

import argparse
from importlib import resources
from pathlib import Path

import numpy as np

from defusion import Fuser
from defusion.benchmark.report import labelled_tile
from defusion.io.images import read_image

PAIRS = {"mef": ("mef_under.png", "mef_over.png"), "mff": ("mff_near.png", "mff_far.png")}
OUT = Path(__file__).resolve().parents[1] / "docs" / "images"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--weights")
    args = p.parse_args()
    fuser = Fuser.from_pretrained(args.weights, device="cpu")
    examples = resources.files("defusion") / "examples"
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (fa, fb) in PAIRS.items():
        a, b = read_image(examples / fa), read_image(examples / fb)
        parts = fuser.decompose(a, b)
        tiles = [labelled_tile(a, "A"), labelled_tile(b, "B"), labelled_tile(parts.fused, "fused  Pr"), labelled_tile(parts.common, "common  Pc"),
                 labelled_tile(parts.unique_a, "unique A  Pu"), labelled_tile(parts.unique_b, "unique B  Pu")]
        row = np.concatenate([np.asarray(t) for t in tiles], axis=1)
        from PIL import Image
        Image.fromarray(row).save(OUT / f"example_{name}.jpg", quality=90)
        print(f"wrote {OUT / f'example_{name}.jpg'}")


if __name__ == "__main__":
    main()
