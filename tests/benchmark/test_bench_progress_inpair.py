"""`defusion bench` says which method runs within a pair (performance audit): its bar moved per pair only, so a
log (stderr not a terminal) had its first line after pair 1 ended, 2 min 8 s in on TNO, and a large MEFB pair at
--scale 2 was silent for minutes."""

from __future__ import annotations

import time

import numpy as np
import pytest

from defusion.benchmark import runner
from defusion.benchmark.methods import StoredAsJpeg
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image


def _pairs(tmp_path, stems=("p1", "p2")):
    rng = np.random.default_rng(3)
    da, db = tmp_path / "a", tmp_path / "b"
    for stem in stems:
        write_image(da / f"{stem}.png", smooth_image(rng, 32, 40))
        write_image(db / f"{stem}.png", smooth_image(rng, 32, 40, 1))
    return da, db


def _average(a, b):
    return ((a.astype(np.float32) + b) / 2).astype(np.uint8)


def _slow(a, b):
    time.sleep(0.3)
    return np.maximum(a, b)


def _lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("benchmark: pair ")]


def test_a_log_says_each_method_of_the_first_pair_then_the_slow_ones(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(runner, "IN_PAIR_LINE_SECONDS", 0.2)
    da, db = _pairs(tmp_path, ("p1", "p2", "p3"))
    methods = {"average": _average, "slow": _slow, "jpeg": StoredAsJpeg(_average, 90)}
    done = list(runner.run_benchmark(da, db, methods, {}, "EN,SD", progress=True))
    lines = [line.split(", ")[0] for line in _lines(capsys.readouterr().err)]  # without the time into the pair
    assert lines == ["benchmark: pair 1/3 (p1): average (method 1 of 3)",  # the first pair: every method
                     "benchmark: pair 1/3 (p1): slow (method 2 of 3)",
                     "benchmark: pair 1/3 (p1): jpeg (method 3 of 3)",
                     "benchmark: pair 2/3 (p2): slow (method 2 of 3)",  # slow before: said
                     "benchmark: pair 2/3 (p2): jpeg (method 3 of 3)",  # the last line 0.3 s ago: said
                     "benchmark: pair 3/3 (p3): slow (method 2 of 3)",
                     "benchmark: pair 3/3 (p3): jpeg (method 3 of 3)"]
    assert [stem for stem, *_ in done] == ["p1", "p2", "p3"]


def test_no_progress_says_no_method(tmp_path, capsys):
    da, db = _pairs(tmp_path)
    list(runner.run_benchmark(da, db, {"average": _average}, {}, "EN", progress=False))
    assert _lines(capsys.readouterr().err) == []


def test_in_a_terminal_the_bar_shows_the_method(tmp_path, monkeypatch):
    shown = []

    class Bar(list):
        file = None

        def set_postfix_str(self, text=""):
            shown.append(text)

    monkeypatch.setattr("defusion.io.progress.progress_bar", lambda tasks, **_: Bar(tasks))
    da, db = _pairs(tmp_path)
    list(runner.run_benchmark(da, db, {"average": _average, "max": np.maximum}, {}, "EN", progress=True))
    assert shown == ["p1: average (1 of 2)", "p1: max (2 of 2)", "", "p2: average (1 of 2)", "p2: max (2 of 2)", ""]


@pytest.mark.parametrize("jobs", ["2"])
def test_with_worker_processes_the_parent_says_the_methods(tmp_path, capsys, jobs):
    da, db = _pairs(tmp_path, ("p1", "p2", "p3"))
    code = main(["bench", "--task", "mef", "--a", str(da), "--b", str(db), "--out", str(tmp_path / "out"),
                 "--methods", "average,max", "--metrics", "EN", "--jobs", jobs])
    err = capsys.readouterr().err
    assert code == 0, err
    lines = _lines(err)
    assert "benchmark: pair 1/3 (p1): average (method 1 of 2)" in lines, err
    assert "benchmark: pair 1/3 (p1): max (method 2 of 2)" in [line.split(", ")[0] for line in lines], err
