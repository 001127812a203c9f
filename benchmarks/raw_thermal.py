"""Raw thermal frames: what the stretch of 16-bit sources (``--stretch auto``) saves.

Thermal cameras write raw counts, 14-bit values in a 16-bit file with a scene filling a narrow
band of them. Benchmarks ship 8-bit renderings, so this script makes the raw frames back: each
TNO infrared image becomes a 16-bit frame ``BASE + GAIN * value`` (2,040 counts wide at 7,000,
as a 14-bit camera's band over a scene's temperatures), and is fused with its visible image:

- as the 8-bit rendering (the reference, what the benchmark scores);
- as the raw frame with ``--stretch auto`` (the default: mapped onto the full range);
- as the raw frame with ``--stretch none`` (values as they are: a flat, dark grey).

It prints, side by side, each one's mean distance from the reference's fused image (grey levels
of 255), how much of each source the fused image follows (Pearson correlation with the infrared
rendering and with the visible image) and its contrast (SD). Two-source metrics such as Qabf or MI
are left out on purpose: they rise when the fused image copies the visible image alone, which is
what losing the infrared looks like.

Usage: python benchmarks/raw_thermal.py [--tno DIR] [--limit 25] [--weights PATH] [--runtime onnxruntime]
(default: ../shared/data/bench/ivf/tno, read only as test scenes.)
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from tqdm import tqdm

from defusion import Fuser
from defusion.fusion.color import luminance, to_float, to_uint8
from defusion.io.images import read_image
from defusion.metrics import standard_deviation
from pair_folders import SHARED_BENCH, add_pair_arguments, load_pairs  # the pair folders, given the same way

#: The synthetic raw frame: counts = BASE + GAIN * 8-bit value.
BASE, GAIN = 7000, 8
SIDES = ("ir", "vi")
COLUMNS = ("CC with infrared", "CC with visible", "SD")


def raw_frame(image8: np.ndarray) -> np.ndarray:
    """An 8-bit grey image as a raw 16-bit thermal frame in a narrow band of counts."""
    return (BASE + GAIN * image8.astype(np.int64)).astype(np.uint16)


def grey8(image: np.ndarray) -> np.ndarray:
    """Any fused image as 8-bit luminance (16-bit results are scaled down)."""
    return to_uint8(np.asarray(luminance(to_float(image)), np.float32))


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation of two images' values."""
    return float(np.corrcoef(a.astype(np.float64).ravel(), b.astype(np.float64).ravel())[0, 1])


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_pair_arguments(p, "--tno", SHARED_BENCH / "ivf" / "tno", SIDES, limit=25)
    args = p.parse_args(argv)
    pairs = load_pairs(args.folder, SIDES, args.limit)
    auto = Fuser.from_pretrained(args.weights, runtime=args.runtime, task="ivf")
    none = Fuser.from_pretrained(args.weights, runtime=args.runtime, task="ivf", stretch="none")
    rows: dict[str, list[list[float]]] = {}
    start = time.perf_counter()
    for _, ir_path, vi_path in tqdm(pairs, desc="pairs", unit="pair", file=sys.stderr, disable=args.no_progress):
        ir, vi = read_image(ir_path), read_image(vi_path)
        ir8 = ir if ir.ndim == 2 else grey8(ir)
        reference = grey8(auto.fuse(ir8, vi))
        results = {"8-bit rendering (reference)": reference,
                   "raw frame, --stretch auto": grey8(auto.fuse(raw_frame(ir8), vi)),
                   "raw frame, --stretch none": grey8(none.fuse(raw_frame(ir8), vi))}
        for name, fused in results.items():
            distance = float(np.abs(fused.astype(float) - reference).mean())
            rows.setdefault(name, []).append([distance, correlation(fused, ir8), correlation(fused, grey8(vi)),
                                              standard_deviation(fused)])
    print(f"{len(pairs)} TNO pairs from {args.folder}; raw frames {BASE} + {GAIN} x value "
          f"({GAIN * 255} counts wide); {time.perf_counter() - start:.0f} s\n")
    print("| infrared source | distance from the reference (grey levels) | " + " | ".join(COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    for name, values in rows.items():
        m = np.mean(values, axis=0)
        print(f"| {name} | {m[0]:.2f} | " + " | ".join(f"{v:.3f}" for v in m[1:3]) + f" | {m[3]:.2f}" + " |")


if __name__ == "__main__":
    main()
