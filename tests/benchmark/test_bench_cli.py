"""`defusion bench` end to end on generated pairs, with a published-results folder."""

from __future__ import annotations

import csv

from defusion.benchmark.report import mean_ranks, summary_markdown
from defusion.benchmark.runner import Row
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image


def test_bench_writes_results_summary_chart_and_grids(tmp_path, rng, tiny_weights, capsys):
    da, db, pub = tmp_path / "ir", tmp_path / "vi", tmp_path / "published"
    for stem in ("p1", "p2", "p3"):
        write_image(da / f"{stem}.png", smooth_image(rng, 40, 48, 1))
        write_image(db / f"{stem}.jpg", smooth_image(rng, 40, 48))
    write_image(pub / "p1.png", smooth_image(rng, 40, 48))
    (pub / "p2.png").write_bytes(b"broken")  # unreadable: reported, left out; p3 missing
    out = tmp_path / "out"
    code = main(["bench", "--task", "ivf", "--a", str(da), "--b", str(db), "--out", str(out),
                 "--methods", "defusion,average", "--fused", f"PUB={pub}", "--weights", str(tiny_weights),
                 "--metrics", "EN,SSIM,Qabf", "--no-progress"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    with open(out / "results.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert set(rows[0]) == {"method", "image", "metric", "value"}
    scored = {(r["method"], r["image"], r["metric"]) for r in rows}
    assert ("defusion", "p3", "Qabf") in scored and ("average", "p2", "EN") in scored
    assert ("PUB", "p1", "SSIM") in scored and not any(m == "PUB" and i != "p1" for m, i, _ in scored)
    assert ("defusion", "p1", "seconds") in scored
    assert "p2: PUB" in captured.err and "p3: no result of PUB" in captured.err
    summary = (out / "summary.md").read_text()
    assert "| method | rank |" in summary and "**" in summary
    assert (out / "summary.png").stat().st_size > 1000
    assert sorted(p.name for p in (out / "grids").iterdir()) == ["p1.jpg", "p2.jpg", "p3.jpg"]


def test_ranks_respect_metric_direction():
    rows = [Row("x", "i", "EN", 7.0), Row("y", "i", "EN", 6.0), Row("x", "i", "CE", 2.0), Row("y", "i", "CE", 1.0)]
    from defusion.benchmark.report import mean_table
    methods, metrics, means = mean_table(rows)
    assert mean_ranks(methods, metrics, means) == {"x": 1.5, "y": 1.5}
    text = summary_markdown(rows)
    assert "**7**" in text and "**1**" in text


def test_bad_arguments_are_one_line(tmp_path, capsys):
    assert main(["bench", "--task", "mef", "--a", str(tmp_path / "no"), "--b", str(tmp_path), "--out",
                 str(tmp_path / "o")]) == 2
    assert "folder not found" in capsys.readouterr().err
    assert main(["bench", "--task", "mef", "--a", str(tmp_path), "--b", str(tmp_path), "--out",
                 str(tmp_path / "o"), "--fused", "justaname"]) == 2
    assert "NAME=DIR" in capsys.readouterr().err


def test_bench_runtime_onnxruntime_scores_like_torch(tmp_path, rng, lively_weights, monkeypatch):
    """--runtime onnxruntime changes DeFusion's engine, not its results (to a grey level)."""
    import pytest

    pytest.importorskip("onnxruntime")
    monkeypatch.setenv("DEFUSION_CACHE", str(tmp_path / "cache"))
    da, db = tmp_path / "a", tmp_path / "b"
    for stem in ("p1", "p2"):
        write_image(da / f"{stem}.png", smooth_image(rng, 40, 48))
        write_image(db / f"{stem}.png", smooth_image(rng, 40, 48))
    values = {}
    for runtime in ("torch", "onnxruntime"):
        out = tmp_path / runtime
        assert main(["bench", "--task", "mef", "--a", str(da), "--b", str(db), "--out", str(out),
                     "--methods", "defusion", "--weights", str(lively_weights), "--metrics", "EN,SD",
                     "--runtime", runtime, "--no-progress"]) == 0
        with open(out / "results.csv", newline="") as f:
            values[runtime] = {(r["image"], r["metric"]): float(r["value"]) for r in csv.DictReader(f)
                               if r["metric"] != "seconds"}
    assert values["torch"].keys() == values["onnxruntime"].keys() and len(values["torch"]) == 4
    for key, value in values["torch"].items():
        assert abs(values["onnxruntime"][key] - value) <= 0.02 * abs(value) + 0.05
