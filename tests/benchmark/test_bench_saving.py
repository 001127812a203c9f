"""`defusion bench` never loses scored work: a read-only or full --out is one line (no traceback, no
temporary left), Ctrl-C says what is saved and how to go on, and a run without --resume keeps an
earlier run's results until it has scores of its own."""

from __future__ import annotations

import csv
import errno
import os
from pathlib import Path

import pytest

from defusion.baselines import BASELINES
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image
from tests.io.test_write_outputs import fail_writes_in


def _pairs(tmp_path: Path, rng, stems=("p1", "p2", "p3")) -> tuple[Path, Path]:
    da, db = tmp_path / "a", tmp_path / "b"
    for stem in stems:
        write_image(da / f"{stem}.png", smooth_image(rng, 32, 40))
        write_image(db / f"{stem}.png", smooth_image(rng, 32, 40))
    return da, db


def _bench(da: Path, db: Path, out: Path, *extra: str) -> int:
    return main(["bench", "--task", "mef", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", "average",
                 "--metrics", "EN", "--no-progress", *extra])


def _scored(out: Path) -> set[tuple[str, str]]:
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        return {(r["method"], r["image"]) for r in csv.DictReader(f)}


def _interrupt_at(monkeypatch, call: int) -> None:
    """Make the average baseline raise KeyboardInterrupt at its ``call``-th pair (from 1)."""
    real, calls = BASELINES["average"], []

    def average(a, b):
        calls.append(1)
        if len(calls) == call:
            raise KeyboardInterrupt
        return real(a, b)

    monkeypatch.setitem(BASELINES, "average", average)


@pytest.mark.parametrize("code", [errno.EROFS, errno.ENOSPC])
def test_an_out_folder_that_cannot_be_written_is_one_line_before_any_work(tmp_path, rng, monkeypatch, capsys, code):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    out.mkdir()
    fail_writes_in(monkeypatch, out, code)
    assert _bench(da, db, out) == 2
    err = capsys.readouterr().err
    assert err == f"defusion: error: --out {out}: cannot write in {out} ({os.strerror(code)})\n"
    assert os.listdir(out) == []


def test_a_disk_filling_mid_run_keeps_the_saved_scores_and_says_how_to_go_on(tmp_path, rng, monkeypatch, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    # full once the first pair's scores are saved (the check before any work passes)
    fail_writes_in(monkeypatch, out, errno.ENOSPC,
                   when=lambda path: path.suffix == ".tmp" and (out / "results.csv").exists())
    assert _bench(da, db, out) == 2
    err = capsys.readouterr().err.strip()
    assert err.splitlines()[-1] == (f"defusion: error: {out / 'results.csv'}: cannot write (No space left on device); "
                                    f"1 pair scored and saved in {out / 'results.csv'}: run the same command with "
                                    "--resume to go on")
    assert "Traceback" not in err and not list(out.glob("*.tmp"))
    assert _scored(out) == {("average", "p1")}
    monkeypatch.undo()
    assert _bench(da, db, out, "--resume") == 0
    assert _scored(out) == {("average", stem) for stem in ("p1", "p2", "p3")}


def test_an_interrupt_says_what_is_saved_and_a_rerun_keeps_it_until_it_has_its_own(tmp_path, rng, monkeypatch,
                                                                                     capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    _interrupt_at(monkeypatch, 2)
    assert _bench(da, db, out) == 130
    err = capsys.readouterr().err
    assert err.endswith(f"defusion: interrupted; 1 pair scored and saved in {out / 'results.csv'}: run the same "
                        "command with --resume to go on\n")
    assert _scored(out) == {("average", "p1")}
    # the same command again, without --resume, stopped at once: the earlier scores are still there
    _interrupt_at(monkeypatch, 1)
    assert _bench(da, db, out, "--overwrite") == 130
    err = capsys.readouterr().err
    assert "starting afresh" not in err  # --overwrite said to replace them: no note repeats it, nor offers --resume
    assert err.endswith(f"no pair was scored yet; {out / 'results.csv'} holds the earlier run's results as they "
                        "were\n")
    assert _scored(out) == {("average", "p1")} and (out / "run.json").is_file()
    monkeypatch.undo()
    assert _bench(da, db, out, "--resume") == 0
    assert _scored(out) == {("average", stem) for stem in ("p1", "p2", "p3")}


def test_a_run_that_evaluates_no_pair_keeps_the_earlier_outputs(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out) == 0
    before = {name: (out / name).read_bytes() for name in ("results.csv", "summary.md", "run.json")}
    for stem in ("p1", "p2", "p3"):
        (db / f"{stem}.png").write_bytes(b"broken")
    assert _bench(da, db, out, "--overwrite") == 2
    assert "no pair could be evaluated" in capsys.readouterr().err
    assert {name: (out / name).read_bytes() for name in before} == before


def _write_means(out: Path) -> None:
    from defusion.benchmark.report import means_csv

    means_csv(_report_rows(), out / "means.csv")


def _write_summary_chart(out: Path) -> None:
    from defusion.benchmark.report import summary_chart

    summary_chart(_report_rows(), out / "summary.png")


def _write_versus_chart(out: Path) -> None:
    from defusion.benchmark.compare import versus_chart

    versus_chart(_report_rows(), "average", out / "versus.png")


def _report_rows() -> list:
    from defusion.benchmark.runner import Row

    return [Row(method, f"p{i}", "EN", 6.0 + i / 10 + (method == "max")) for method in ("average", "max")
            for i in range(3)]


@pytest.mark.parametrize(("name", "write"), [("means.csv", _write_means), ("summary.png", _write_summary_chart),
                                             ("versus.png", _write_versus_chart)])
def test_a_full_disk_keeps_the_previous_table_or_chart_and_leaves_no_temporary(tmp_path, monkeypatch, name, write):
    """means.csv and the charts were written in place: a disk filling mid-write left a partial file."""
    path = tmp_path / name
    write(tmp_path)
    before = path.read_bytes()
    assert before
    fail_writes_in(monkeypatch, tmp_path, errno.ENOSPC)
    with pytest.raises(OSError) as err:
        write(tmp_path)
    assert str(err.value) == f"{path}: cannot write ({os.strerror(errno.ENOSPC)})"
    assert err.value.errno == errno.ENOSPC
    assert os.listdir(tmp_path) == [name] and path.read_bytes() == before


def test_a_disk_filling_while_the_summary_chart_is_written_keeps_the_earlier_one(tmp_path, rng, monkeypatch, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out) == 0
    before = (out / "summary.png").read_bytes()
    real = os.replace

    def replace(src, dst):
        if Path(dst).name == "summary.png":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    assert _bench(da, db, out, "--resume") == 2  # a fresh run would clear the earlier outputs first
    err = capsys.readouterr().err
    assert err.splitlines()[-1].startswith(f"defusion: error: {out / 'summary.png'}: cannot write "
                                           f"({os.strerror(errno.ENOSPC)})")
    assert (out / "summary.png").read_bytes() == before and not list(out.glob(".*.tmp"))
