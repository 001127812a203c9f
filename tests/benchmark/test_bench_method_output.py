"""A method's output as ``defusion bench`` scores it: uint16 (either byte order) rounded to 8 bits,
other integer types refused (an int64 0..255 result was read as 16-bit data, near black, silently),
and a result of another size or an HxWx4 one a problem of that method on that pair, not an exception
out of the run."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.benchmark.runner import SECONDS, run_benchmark
from defusion.benchmark.scored_images import in_eight_bits
from defusion.cli.main import main
from tests.benchmark.test_bench_resume_pairs_and_report import _pairs


def _rgba(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """An HxWx4 result (RGB plus alpha), which no metric takes."""
    grey = a.reshape(*a.shape[:2], -1)[..., :1]
    return np.repeat(grey, 4, axis=2)


def _run(tmp_path, rng, methods):
    da, db = _pairs(tmp_path, rng)
    *_, result = list(run_benchmark(da, db, methods, {}, ["EN", "SD"], progress=False))[-1]
    return result


@pytest.mark.parametrize("dtype", ["<u2", ">u2"])
def test_uint16_in_either_byte_order_is_rounded_to_8_bits(dtype):
    image = np.array([[0, 128, 129, 65535]], dtype)
    assert in_eight_bits(image).tolist() == [[0, 0, 1, 255]]


def test_an_int64_result_is_a_failure_of_the_method_not_a_near_black_score(tmp_path, rng):
    result = _run(tmp_path, rng, {"wide": lambda a, b: np.maximum(a, b).astype(np.int64), "max": np.maximum})
    assert {r.method for r in result.rows} == {"max"}
    assert result.problems == [f"{stem}: wide failed: images must be uint8, uint16 or float in [0, 1]; got int64"
                               for stem in ("p1", "p2")]


@pytest.mark.parametrize("fn, message", [
    (lambda a, b: a[:16, :20], "size mismatch (W x H): fused 20x16, a 40x32, b 40x32"),
    (_rgba, "fused: expected an HxW or HxWx3 array, got shape (32, 40, 4)"),
])
def test_a_result_no_metric_takes_is_a_problem_of_that_method_and_pair(tmp_path, rng, fn, message):
    calls: list[int] = []
    bad_on_p2 = lambda a, b: (calls.append(1), fn(a, b) if len(calls) == 2 else np.maximum(a, b))[1]  # noqa: E731
    result = _run(tmp_path, rng, {"odd": bad_on_p2, "max": np.maximum})
    assert result.problems == [f"p2: odd failed: {message}"]
    assert {(r.method, r.image) for r in result.rows} == {("max", "p1"), ("max", "p2"), ("odd", "p1")}
    assert not [r for r in result.rows if r.method == "odd" and r.image == "p2" and r.metric == SECONDS]


def test_bench_records_an_hxwx4_result_and_exits_1(tmp_path, rng, monkeypatch, capsys):
    from defusion import baselines

    monkeypatch.setitem(baselines.BASELINES, "max", _rgba)
    da, db = _pairs(tmp_path, rng)
    assert main(["bench", "--task", "mef", "--a", str(da), "--b", str(db), "--out", str(tmp_path / "out"),
                 "--methods", "average,max", "--metrics", "EN", "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert "p1: max failed: fused: expected an HxW or HxWx3 array" in err and "Traceback" not in err
