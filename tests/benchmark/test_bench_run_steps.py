"""`defusion bench`'s first steps on parsed arguments (``_checked_metrics``, ``_exit_status``): no pair fused."""

from __future__ import annotations

import argparse

import pytest

from defusion.benchmark.runner import TASK_METRICS, BenchResult
from defusion.cli import bench
from defusion.cli.errors import UserError


def _args(tmp_path, *argv: str) -> argparse.Namespace:
    (tmp_path / "a").mkdir(exist_ok=True)
    (tmp_path / "b").mkdir(exist_ok=True)
    parser = argparse.ArgumentParser()
    bench.add_arguments(parser)
    return parser.parse_args(["--task", "ivf", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"),
                              "--out", str(tmp_path / "out"), *argv])


def test_the_metrics_named_else_the_tasks(tmp_path):
    assert bench._checked_metrics(_args(tmp_path)) == TASK_METRICS["ivf"]
    assert bench._checked_metrics(_args(tmp_path, "--metrics", "en,ssim")) == ("EN", "SSIM")


@pytest.mark.parametrize(("argv", "message"), [
    (("--metrics", "nope"), "nope"),
    (("--metrics", ","), "no metric named; known: vifb"),
    (("--a", "missing"), "folder not found: missing"),
])
def test_a_bad_argument_is_one_usage_line(tmp_path, argv, message):
    with pytest.raises(UserError, match=message):
        bench._checked_metrics(_args(tmp_path, *argv))


def test_an_out_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "out").write_text("", encoding="utf-8")
    with pytest.raises(UserError, match=r"--out .*out: is a file; give a folder"):
        bench._checked_metrics(_args(tmp_path))


def test_exit_status_is_1_when_a_pair_is_left_out(capsys):
    result = BenchResult(images=["01"], methods=["avg"])
    assert bench._exit_status(result, ["01"], ["avg"], ("EN",), {"01": {"avg"}}) == 0
    assert bench._exit_status(result, ["01", "02"], ["avg"], ("EN",), {"01": {"avg"}}) == 1
    assert capsys.readouterr().err == "defusion: left out 1 of 2 pairs (e.g. 02): see the lines above; exit status 1\n"
