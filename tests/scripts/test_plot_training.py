"""scripts/plot_training.py: a run's loss curve against the samples it saw, titled from its config."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "plot_training.py"
TERMS = ("total", "common", "unique1", "unique2", "fused")


@pytest.fixture(scope="module")
def plot_training():
    spec = importlib.util.spec_from_file_location("plot_training", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write_log(path, steps, extra: dict[str, list[str]] | None = None, samples: list[str] | None = None) -> None:
    """A metrics.csv as `defusion train` writes it; ``extra`` columns and ``samples`` cells as given."""
    extra = extra or {}
    header = ["step", "epoch", "lr", *TERMS, "images_per_s", "elapsed_s", *(["samples"] if samples else []), *extra]
    lines = [",".join(header)]
    for i, step in enumerate(steps):
        cells = [str(step), "0", "0.001", *[f"{0.5 / (i + 1):.4f}"] * len(TERMS), "3.0", str(i)]
        cells += [samples[i]] if samples else []
        cells += [column[i] for column in extra.values()]
        lines.append(",".join(cells))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _curve(fig, label: str):
    (line,) = [line for line in fig.axes[0].get_lines() if line.get_label() == label]
    return line.get_xdata(), line.get_ydata()


def test_a_column_a_resume_added_is_missing_before_it_not_a_crash(plot_training, tmp_path):
    log = tmp_path / "metrics.csv"
    _write_log(log, [1, 2, 3, 4], extra={"fused_gradient": ["", "", "0.2", "0.1"]})
    fig = plot_training.plot(log, tmp_path / "loss.png", batch_size=2)
    x, y = _curve(fig, "fused_gradient")
    assert list(x) == [6, 8] and list(y) == [0.2, 0.1]  # only the rows that hold it
    assert len(_curve(fig, "total")[0]) == 4 and (tmp_path / "loss.png").stat().st_size > 0


def test_samples_count_every_process(plot_training, tmp_path):
    log = tmp_path / "metrics.csv"
    _write_log(log, [1, 2, 3], samples=["4", "8", "12"])  # 2 processes of 2 samples a step
    fig = plot_training.plot(log, tmp_path / "loss.png", batch_size=2)
    assert list(_curve(fig, "total")[0]) == [4, 8, 12]
    old = tmp_path / "old" / "metrics.csv"  # a log from before the samples column
    old.parent.mkdir()
    _write_log(old, [1, 2, 3])
    (old.parent / "config.json").write_text(json.dumps({"model": "defusion-tiny", "crop": 32, "batch_size": 2}),
                                            encoding="utf-8")
    fig = plot_training.plot(old, tmp_path / "old.png", processes=2, samples_before=100)
    assert list(_curve(fig, "total")[0]) == [104, 108, 112]
    assert np.array_equal(plot_training.samples_axis([{"step": "5", "samples": ""}], 3), [15])


def test_the_title_names_the_runs_model_and_crop(plot_training, tmp_path):
    log = tmp_path / "metrics.csv"
    _write_log(log, [1, 2])
    assert plot_training.plot(log, tmp_path / "a.png").axes[0].get_title() == "CUD training loss (defusion train)"
    (tmp_path / "config.json").write_text(json.dumps({"model": "defusion-tiny", "crop": 32, "batch_size": 2}),
                                          encoding="utf-8")
    title = plot_training.plot(log, tmp_path / "b.png", where="2-core CPU").axes[0].get_title()
    assert title == "CUD training loss (defusion train, defusion-tiny network, 32x32 crops, 2-core CPU)"
    assert plot_training.plot(log, tmp_path / "c.png", title="run 9").axes[0].get_title() == "run 9"


def test_the_command_line_writes_the_png(tmp_path):
    log = tmp_path / "metrics.csv"
    _write_log(log, list(range(1, 13)), extra={"mfm": [""] * 6 + ["0.01"] * 6})
    out = tmp_path / "plots" / "loss.png"
    subprocess.run([sys.executable, str(SCRIPT), str(log), str(out), "--processes", "2", "--mark", "6", "resumed",
                    "--title", "a run"], check=True, capture_output=True)
    assert out.read_bytes().startswith(b"\x89PNG")


def test_a_crop_a_resume_changed_is_named_as_each_crop(plot_training, tmp_path):
    log = tmp_path / "metrics.csv"
    _write_log(log, [1, 2])
    changes = [{"step": 40, "crop": [32, 64], "lr": [0.001, 0.5]}, {"step": 44, "lr": [0.5, 0.1]},
               {"step": 45, "crop": [64, 128]}]
    (tmp_path / "config.json").write_text(json.dumps({"model": "defusion-tiny", "crop": 128, "batch_size": 2,
                                                      "settings_changed": changes}), encoding="utf-8")
    title = plot_training.plot(log, tmp_path / "a.png").axes[0].get_title()
    assert title == "CUD training loss (defusion train, defusion-tiny network, 32 -> 64 -> 128 px crops)"
    assert plot_training.crops({"crop": 32, "settings_changed": [{"step": 3, "lr": [1, 2]}]}) == [32]


def test_one_logged_step_is_a_visible_point_and_a_note(plot_training, tmp_path, capsys):
    log = tmp_path / "metrics.csv"
    _write_log(log, [7])
    fig = plot_training.plot(log, tmp_path / "one.png")
    line = next(line for line in fig.axes[0].get_lines() if line.get_label() == "total")
    assert line.get_marker() == "o" and len(line.get_xdata()) == 1
    err = capsys.readouterr().err
    assert err == f"plot_training.py: note: only 1 logged step in {log} (step 7): the chart shows one point per term\n"
    many = tmp_path / "many" / "metrics.csv"
    many.parent.mkdir()
    _write_log(many, list(range(1, 31)))
    fig = plot_training.plot(many, tmp_path / "many.png")
    assert all(line.get_marker() in (None, "None") for line in fig.axes[0].get_lines())
    assert capsys.readouterr().err == ""


def test_a_run_folder_is_read_as_its_log_and_mistakes_are_one_line(plot_training, tmp_path, capsys):
    """A training audit: a run folder, a missing file and a log of its header alone ended in tracebacks."""
    run = tmp_path / "run"
    run.mkdir()
    _write_log(run / "metrics.csv", [10, 20, 30])
    plot_training.main([str(run), str(tmp_path / "loss.png")])
    assert (tmp_path / "loss.png").is_file()
    (tmp_path / "empty").mkdir()
    _write_log(tmp_path / "empty" / "metrics.csv", [])
    for log, said in ((tmp_path / "none.csv", "no such log"), (tmp_path / "empty", "no step logged yet")):
        with pytest.raises(SystemExit) as stopped:
            plot_training.main([str(log), str(tmp_path / "x.png")])
        assert stopped.value.code == 2 and said in capsys.readouterr().err
