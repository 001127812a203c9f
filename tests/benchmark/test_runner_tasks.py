"""What each pair of a benchmark still needs (``runner._pair_tasks``), from the rows an earlier run kept."""

from __future__ import annotations

from pathlib import Path

from defusion.benchmark.evaluation import PairTask
from defusion.benchmark.runner import SECONDS, Row, _pair_tasks

PAIRS = [("01", Path("a/01.png"), Path("b/01.png")), ("02", Path("a/02.png"), Path("b/02.png"))]
METHODS = {"avg": lambda a, b: a}


def test_a_fresh_run_evaluates_every_pair_with_every_metric():
    tasks = _pair_tasks(PAIRS, METHODS, {"CBF": Path("cbf")}, {"CBF": {"01": Path("cbf/01.png")}}, ("EN",), None, None)
    assert [t.stem for t in tasks] == ["01", "02"]
    assert tasks[0].todo == {"avg": ["EN"], "CBF": ["EN"]} and tasks[0].published == {"CBF": Path("cbf/01.png")}
    assert tasks[1].todo == {"avg": ["EN"]}  # no result of CBF for 02: its absence is the evaluation's to say
    assert tasks[0].fuse == ["avg"] and tasks[0].timed == set()


def test_a_resumed_pair_with_everything_scored_is_its_stem_alone():
    previous = [Row("avg", "01", "EN", 7.0), Row("avg", "01", SECONDS, 0.1), Row("avg", "02", SECONDS, 0.1)]
    tasks = _pair_tasks(PAIRS, METHODS, {}, {}, ("EN",), previous, None)
    assert tasks[0] == "01"
    assert isinstance(tasks[1], PairTask) and tasks[1].todo == {"avg": ["EN"]} and tasks[1].timed == {"avg"}


def test_a_scored_method_runs_again_only_to_save_its_missing_result(tmp_path):
    """In pairs where another method has something missing, a scored and timed one runs where its
    result is not yet in ``save_dir``."""
    previous = [Row("avg", stem, metric, 1.0) for stem in ("01", "02") for metric in ("EN", SECONDS)]
    (tmp_path / "avg").mkdir()
    (tmp_path / "avg" / "01.png").write_bytes(b"")
    tasks = _pair_tasks(PAIRS, {**METHODS, "max": max}, {}, {}, ("EN",), previous, tmp_path)
    assert [t.fuse for t in tasks] == [["max"], ["avg", "max"]]
    assert tasks[0].todo == {"avg": [], "max": ["EN"]}
