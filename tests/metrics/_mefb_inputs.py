"""Inputs shared by the tests of MEFB's metrics (NMI, Qncie, Qy, FMI, TE, Qc, Qw, Qp): a textured image
with no flat window, a pair of them with their mean as the fused image, and `defusion metrics` run
in-process."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import defusion
from defusion.cli import metrics as cli
from defusion.cli.errors import run_guarded

EXAMPLES = Path(defusion.__file__).parent / "examples"


def textured_image(h: int = 40, w: int = 48, seed: int = 0) -> np.ndarray:
    """A uint8 image with structure at several scales and noise (no flat 7x7 window)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    base = 128 + 60 * np.sin(x / 5.0 + seed) * np.cos(y / 7.0) + 30 * np.sin((x + y) / 13.0)
    return np.clip(base + rng.normal(0, 8, (h, w)), 0, 255).astype(np.uint8)


A, B = textured_image(seed=1), textured_image(seed=2)
F = ((A.astype(np.float64) + B) / 2).round().astype(np.uint8)


def run_metrics_cli(argv: list[str]) -> int:
    """``defusion metrics ARGV`` in this process, its errors as the command shows them."""
    parser = argparse.ArgumentParser(prog="defusion metrics")
    cli.add_arguments(parser)
    return run_guarded(lambda: cli.run(parser.parse_args(argv)), cli.EXPECTED_ERRORS)
