"""Conformance with VIFB's MATLAB values on a subset of its fused images (full run:
``python benchmarks/vifb_conformance.py``). Skipped when the shared VIFB data is absent."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from defusion.metrics import VIFB_METRICS, compute_metrics

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "bench" / "ivf" / "vifb"

VIFB_NAMES = {
    "Entropy": "EN", "Variance": "SD", "Spatial_frequency": "SF", "Avg_gradient": "AG",
    "Edge_intensity": "EI", "Mutinf": "MI", "Cross_entropy": "CE", "Psnr": "PSNR", "Rmse": "RMSE",
    "Qabf": "Qabf", "Qcb": "Qcb", "Qcv": "Qcv", "Ssim": "SSIM",
}
# an RGB-stored IR image, a 1-channel IR image, and a small one; four quite different methods
IMAGES = ("carLight", "manWalking", "walking")
METHODS = ("ADF", "GFF", "IFCNN", "TIF")
#: The goal is 1%; the implementation matches to the 5 significant digits VIFB wrote, so a much
#: tighter bound is used to catch regressions.
TOL = 1e-3


@pytest.fixture(scope="module")
def reference() -> dict[tuple[str, str, str], float]:
    if not (DATA / "reference_metrics.csv").is_file():
        pytest.skip(f"VIFB benchmark data not found at {DATA}")
    ref = {}
    with open(DATA / "reference_metrics.csv", newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            if row["image"] in IMAGES and row["method"] in METHODS:
                ref[row["image"], row["method"], VIFB_NAMES[row["metric"]]] = float(row["value"])
    return ref


def _read(path: Path) -> np.ndarray:
    from PIL import Image

    with Image.open(path) as im:
        assert im.mode in ("L", "RGB")
        return np.asarray(im)


@pytest.mark.parametrize("image", IMAGES)
def test_vifb_reference_values(reference, image):
    vi = _read(DATA / "vi" / f"{image}.jpg")
    ir = _read(DATA / "ir" / f"{image}.jpg")
    failures = []
    for method in METHODS:
        fused = _read(DATA / "fused" / method / f"{image}.jpg")
        ours = compute_metrics(fused, vi, ir, names=VIFB_METRICS)
        for name, value in ours.items():
            ref = reference[image, method, name]
            if abs(value - ref) > TOL * abs(ref):
                failures.append(f"{method} {name}: ours {value:.6g}, VIFB {ref:.6g}")
    assert not failures, f"{image}: " + "; ".join(failures)
