"""run_benchmark's progress where stderr is a log file (``defusion bench ... 2> log``): whole lines, not
tqdm's ``\\r`` redraws (:mod:`defusion.io.progress`)."""

from __future__ import annotations

import sys

import numpy as np

from defusion.benchmark.runner import run_benchmark
from defusion.io.images import write_image
from tests.conftest import smooth_image


def test_a_logged_benchmark_says_its_pairs_in_whole_lines(tmp_path, rng, monkeypatch):
    da, db = tmp_path / "a", tmp_path / "b"
    for stem in ("p1", "p2", "p3"):
        write_image(da / f"{stem}.png", smooth_image(rng, 32, 40))
        write_image(db / f"{stem}.png", smooth_image(rng, 32, 40))
    log = tmp_path / "log.txt"
    with open(log, "w", encoding="utf-8") as stream, monkeypatch.context() as m:
        m.setattr(sys, "stderr", stream)
        *_, result = list(run_benchmark(da, db, {"max": np.maximum}, {}, "EN"))[-1]
    said = log.read_text(encoding="utf-8")
    assert result.images == ["p1", "p2", "p3"] and "\r" not in said
    assert said.splitlines()[-1].startswith("benchmark: 3/3 pairs (100%), "), said
