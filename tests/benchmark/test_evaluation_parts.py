"""The steps of evaluating one pair (``defusion.benchmark.evaluation``): the built-in methods' results,
the published ones read, each with the problems it reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from defusion.benchmark import evaluation
from defusion.benchmark.results_csv import SECONDS
from defusion.io.images import write_image

H, W = 8, 10


def _task(published: dict[str, Path], order: list[str], fuse: tuple[str, ...] = (), timed: frozenset[str] = frozenset()
          ) -> evaluation.PairTask:
    return evaluation.PairTask("p1", Path("a.png"), Path("b.png"), {}, published, order, set(timed), None, list(fuse))


def test_published_results_missing_unreadable_or_of_another_size_are_problems(tmp_path):
    good = write_image(tmp_path / "good.png", np.full((H, W), 50, np.uint8))
    small = write_image(tmp_path / "small.png", np.full((H, W - 2), 50, np.uint8))
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    task = _task({"good": good, "small": small, "broken": broken}, ["none", "good", "small", "broken"])
    outputs, stored, found, problems = evaluation._published_results(task, (H, W))
    assert list(outputs) == ["good"] and outputs["good"].shape[:2] == (H, W)
    assert set(stored) == {"good", "small"} and found == []
    assert problems[0] == "p1: no result of none"
    assert problems[1] == f"p1: small result is {W - 2}x{H}, sources are {W}x{H}; left out"
    assert problems[2].startswith("p1: broken: ")


def test_methods_run_as_named_timed_once_and_a_failure_is_a_problem():
    a = b = np.full((H, W), 0.5, np.float32)
    sources = [np.full((H, W), 128, np.uint8)] * 2

    def fails(a, b):
        raise RuntimeError("out of memory")

    methods = {"avg": lambda a, b: (a + b) / 2, "timed": lambda a, b: a, "skipped": lambda a, b: a, "fails": fails}
    outputs, rows, problems = evaluation._fused_by_methods(
        _task({}, [], fuse=("avg", "timed", "fails"), timed=frozenset({"timed"})), methods, a, b, sources)
    assert list(outputs) == ["avg", "timed"] and outputs["avg"].dtype == np.uint8
    assert [(r.method, r.metric) for r in rows] == [("avg", SECONDS)]
    assert problems == ["p1: fails failed: out of memory"]
