"""Conformance of ``defusion.metrics`` with VIFB's own MATLAB metric values.

Runs the 13 VIFB metrics on all fused images of the VIFB benchmark (25 methods x 21 images) and
compares with ``reference_metrics.csv`` (values written by VIFB's MATLAB code). Prints, per
metric, the share of rows within the relative tolerance (default 1%), the median and maximum
relative error, the worst rows, and the total wall time.

    python benchmarks/vifb_conformance.py                   # everything, 1 worker + main process
    python benchmarks/vifb_conformance.py --workers 0       # main process only
    python benchmarks/vifb_conformance.py --images carLight,kettle --methods ADF,GFF

Images are read as VIFB's ``imread`` does: RGB stays RGB, the 1-channel IR JPEGs stay 1-channel
(broadcast over the fused image's channels by the metrics). VI is the first source, IR the second.
Exit status 0 when every metric reaches ``--min-agreement`` (default 99%), else 1.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread per process: the machine is shared

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "bench" / "ivf" / "vifb"

#: VIFB metric name (file/CSV spelling) -> defusion.metrics short name.
VIFB_NAMES = {
    "Entropy": "EN",
    "Variance": "SD",
    "Spatial_frequency": "SF",
    "Avg_gradient": "AG",
    "Edge_intensity": "EI",
    "Mutinf": "MI",
    "Cross_entropy": "CE",
    "Psnr": "PSNR",
    "Rmse": "RMSE",
    "Qabf": "Qabf",
    "Qcb": "Qcb",
    "Qcv": "Qcv",
    "Ssim": "SSIM",
}


def read_image(path: Path) -> np.ndarray:
    """Pixels as MATLAB ``imread`` gives them: ``HxW`` for 1-channel JPEGs, ``HxWx3`` for RGB."""
    from PIL import Image

    with Image.open(path) as im:
        if im.mode not in ("L", "RGB"):
            im = im.convert("RGB")
        return np.asarray(im)


def load_reference(data: Path) -> dict[tuple[str, str, str], float]:
    """``(image, method, short metric name) -> value`` from ``reference_metrics.csv``."""
    ref = {}
    with open(data / "reference_metrics.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            ref[row["image"], row["method"], VIFB_NAMES[row["metric"]]] = float(row["value"])
    return ref


def evaluate(task: tuple[str, str, str]) -> tuple[str, str, dict[str, float], float]:
    """Compute the 13 metrics for one fused image; returns (image, method, values, CPU seconds)."""
    import cv2

    from defusion.metrics import VIFB_METRICS, compute_metrics

    cv2.setNumThreads(1)  # one thread per process (OpenCV would start its own pool)
    data, image, method = task
    d = Path(data)
    t0 = time.process_time()
    vi = read_image(d / "vi" / f"{image}.jpg")
    ir = read_image(d / "ir" / f"{image}.jpg")
    fused = read_image(d / "fused" / method / f"{image}.jpg")
    values = compute_metrics(fused, vi, ir, names=VIFB_METRICS)
    return image, method, values, time.process_time() - t0


def run_all(tasks: list[tuple[str, str, str]], workers: int) -> list:
    """Evaluate tasks in the main process, plus ``workers`` (0 or 1) extra process."""
    if workers <= 0 or len(tasks) < 2:
        return [evaluate(t) for t in tasks]
    import multiprocessing as mp

    with mp.get_context("spawn").Pool(processes=1) as pool:
        pending = pool.map_async(evaluate, tasks[1::2], chunksize=4)
        mine = [evaluate(t) for t in tasks[0::2]]
        return mine + pending.get()


def rel_err(ours: float, ref: float) -> float:
    if ref == 0:
        return abs(ours)
    return abs(ours - ref) / abs(ref)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help=f"VIFB folder (default {DEFAULT_DATA})")
    ap.add_argument("--images", help="comma-separated subset of images")
    ap.add_argument("--methods", help="comma-separated subset of methods")
    ap.add_argument("--workers", type=int, default=1, choices=(0, 1),
                    help="worker processes beside the main one (default 1)")
    ap.add_argument("--tol", type=float, default=0.01, help="relative tolerance (default 0.01)")
    ap.add_argument("--worst", type=int, default=3, help="worst rows shown per metric (default 3)")
    ap.add_argument("--min-agreement", type=float, default=99.0, help="pass mark in %% (default 99)")
    ap.add_argument("--csv", type=Path, help="also write image,method,metric,ours,reference,rel_err")
    args = ap.parse_args(argv)

    if not (args.data / "reference_metrics.csv").is_file():
        print(f"no VIFB data at {args.data}", file=sys.stderr)
        return 2
    ref = load_reference(args.data)
    images = sorted({k[0] for k in ref}) if not args.images else args.images.split(",")
    methods = sorted({k[1] for k in ref}) if not args.methods else args.methods.split(",")
    tasks = [(str(args.data), im, me) for im in images for me in methods]

    t0 = time.perf_counter()
    results = run_all(tasks, args.workers)
    wall = time.perf_counter() - t0

    rows = []  # (metric, image, method, ours, ref, err)
    for image, method, values, _ in results:
        for name, ours in values.items():
            r = ref[image, method, name]
            rows.append((name, image, method, ours, r, rel_err(ours, r)))
    by_metric = defaultdict(list)
    for row in rows:
        by_metric[row[0]].append(row)

    print(f"VIFB conformance: {len(results)} fused images x {len(by_metric)} metrics, "
          f"tolerance {args.tol:.0%} relative")
    print(f"{'metric':<6} {'VIFB name':<18} {'within':>8} {'median':>10} {'max':>10}")
    ok = True
    vifb_of = {v: k for k, v in VIFB_NAMES.items()}
    for name in VIFB_NAMES.values():
        rs = by_metric.get(name, [])
        if not rs:
            continue
        errs = np.array([r[5] for r in rs])
        pct = 100.0 * np.mean(errs <= args.tol)
        ok &= pct >= args.min_agreement
        print(f"{name:<6} {vifb_of[name]:<18} {pct:7.1f}% {np.median(errs):10.2e} {errs.max():10.2e}")
    print(f"\nper method: rows outside {args.tol:.0%} / rows, largest relative error")
    by_method = defaultdict(list)
    for row in rows:
        by_method[row[2]].append(row[5])
    for method, errs in sorted(by_method.items()):
        errs = np.array(errs)
        print(f"  {method:<11} {int((errs > args.tol).sum()):3d} / {len(errs):3d}   {errs.max():9.2e}")
    print("\nworst rows per metric (image, method, ours, reference, relative error):")
    for name in VIFB_NAMES.values():
        for r in sorted(by_metric.get(name, []), key=lambda r: -r[5])[: args.worst]:
            print(f"  {name:<5} {r[1]:<13} {r[2]:<11} {r[3]:>12.6g} {r[4]:>12.6g} {r[5]:9.2e}")
    cpu = [r[3] for r in results]
    procs = 1 + (args.workers > 0 and len(tasks) > 1)
    print(f"\nwall time {wall:.1f} s for {len(results)} images x {len(by_metric)} metrics "
          f"({procs} processes, {os.cpu_count()} CPUs); CPU time {np.sum(cpu):.1f} s in all, "
          f"{np.mean(cpu):.3f} s per image (reading the 3 JPEGs included)")
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["image", "method", "metric", "ours", "reference", "rel_err"])
            for r in sorted(rows, key=lambda r: (r[1], r[2], r[0])):
                w.writerow([r[1], r[2], r[0], repr(r[3]), r[4], f"{r[5]:.3e}"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
