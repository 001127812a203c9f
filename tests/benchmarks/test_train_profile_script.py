"""benchmarks/train_profile.py end to end on the tiny network and a CPU: plumbing only (a row per
batch size whose parts add up, and the profiler's operator table); figures belong to its own runs."""

from __future__ import annotations

from tests.conftest import REPO, run_script

SCRIPT = REPO / "benchmarks" / "train_profile.py"


def test_prints_a_row_per_batch_and_the_top_operators():
    proc = run_script(SCRIPT, "--device", "cpu", "--model", "defusion-tiny", "--crop", "32", "--batch", "2", "4",
                      "--steps", "2", "--warmup", "1", "--top", "5")
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in proc.stdout.splitlines()
            if line.startswith("| ") and line[2].isdigit()]
    assert [r[0] for r in rows] == ["2", "4"]
    for batch, views, forward, forward_backward, step, rate in rows:
        assert 0 < float(views) and 0 < float(forward) < float(forward_backward) * 1.5
        assert abs(float(rate) - int(batch) / (float(step) / 1e3)) <= 0.05 * float(rate) + 1
    assert "top 5 operators by self_cpu_time_total" in proc.stdout
    assert "aten::" in proc.stdout
