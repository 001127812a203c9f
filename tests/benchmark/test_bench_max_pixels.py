"""`defusion bench --max-pixels`: the bound on every file the run reads (sources, --fused results, the
grids' stored results), a pair or result over it left out on one line naming the option; and what
--resume keeps, said once with or without a progress bar."""

from __future__ import annotations

import csv

import pytest

from defusion.cli.bench.grids import Grids
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image

#: The pairs' sizes (H, W): p1 of 1,280 pixels, p2 of 320.
SIZES = {"p1": (32, 40), "p2": (16, 20)}


def _pairs(tmp_path, rng, sizes=SIZES):
    da, db = tmp_path / "a", tmp_path / "b"
    for stem, (h, w) in sizes.items():
        write_image(da / f"{stem}.png", smooth_image(rng, h, w))
        write_image(db / f"{stem}.png", smooth_image(rng, h, w))
    return da, db


def _bench(da, db, out, *extra):
    return main(["bench", "--task", "mef", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", "average",
                 "--metrics", "EN,SD", *extra])


def _scored(out):
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        return {(r["method"], r["image"]) for r in csv.DictReader(f)}


def test_a_pair_over_max_pixels_is_left_out_on_one_line_naming_the_option(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "--max-pixels", "1000", "--no-progress") == 1  # p1 left out
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "p1" in line and "warning" in line]
    assert lines == [f"defusion: warning: p1: {da / 'p1.png'}: 40x32 is 1,280 pixels, over the limit of 1,000 "
                     "pixels (raise it with --max-pixels)"], err
    assert _scored(out) == {("average", "p2")}
    assert _bench(da, db, out, "--max-pixels", "1280", "--no-progress", "--overwrite") == 0  # at the bound: scored
    assert _scored(out) == {("average", "p1"), ("average", "p2")}


def test_without_max_pixels_the_default_bound_scores_every_pair(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    assert _bench(da, db, tmp_path / "out", "--no-progress") == 0
    assert _scored(tmp_path / "out") == {("average", "p1"), ("average", "p2")}


def test_a_published_result_over_max_pixels_is_left_out_naming_the_option(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng, {"p1": (32, 40)})
    pub = tmp_path / "pub"
    write_image(pub / "p1.png", smooth_image(rng, 64, 80))  # 5,120 pixels: read (and refused) before its size is
    out = tmp_path / "out"
    assert _bench(da, db, out, "--fused", f"PUB={pub}", "--max-pixels", "2000", "--no-progress") == 1
    err = capsys.readouterr().err
    assert (f"defusion: warning: p1: PUB: {pub / 'p1.png'}: 80x64 is 5,120 pixels, over the limit of 2,000 pixels "
            "(raise it with --max-pixels)") in err.splitlines()
    assert _scored(out) == {("average", "p1")}


def test_a_stored_result_over_max_pixels_is_not_drawn_in_a_grid(tmp_path, rng):
    write_image(tmp_path / "p1.png", smooth_image(rng, 32, 40))
    stored = {"pub": {"p1": tmp_path / "p1.png"}}
    assert Grids(tmp_path / "grids", [], stored, {}, max_pixels=1000)._stored("pub", "p1", (32, 40)) is None
    assert Grids(tmp_path / "grids", [], stored, {})._stored("pub", "p1", (32, 40)).shape[:2] == (32, 40)


def test_max_pixels_must_be_a_positive_whole_number(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    with pytest.raises(SystemExit) as caught:
        _bench(da, db, tmp_path / "out", "--max-pixels", "0")
    assert caught.value.code == 2 and "--max-pixels: must be at least 1, got 0" in capsys.readouterr().err


@pytest.mark.parametrize("progress", [["--no-progress"], []])  # []: plain lines, as stderr is no terminal here
def test_resume_says_once_what_it_kept_with_or_without_a_progress_bar(tmp_path, rng, capsys, fresh_notes, progress):
    """--no-progress resumed in silence: only a terminal's bar showed the kept pairs go by."""
    da, db = _pairs(tmp_path, rng, {"p1": (32, 40), "p2": (32, 40), "p3": (32, 40)})
    out = tmp_path / "out"
    assert _bench(da, db, out, *progress) == 0
    assert "resuming" not in capsys.readouterr().err  # afresh: nothing kept, nothing said
    rows = (out / "results.csv").read_text(encoding="utf-8").splitlines()
    (out / "results.csv").write_text("\n".join(r for r in rows if ",p3," not in r) + "\n",
                                     encoding="utf-8")  # as if killed before p3
    assert _bench(da, db, out, "--resume", *progress) == 0
    notes = [line for line in capsys.readouterr().err.splitlines() if "resuming" in line]
    assert notes == ["defusion: note: resuming: kept the earlier run's 6 rows (2 pairs); 1 of this run's 3 pairs "
                     "has something left to compute"]  # EN, SD and the seconds of each pair scored before
    assert _scored(out) == {("average", stem) for stem in ("p1", "p2", "p3")}


def test_bench_and_train_take_max_pixels_as_fuse_does():
    """Neither had the option: a 120 MP focus stack could not be benchmarked, nor large photos trained on."""
    from defusion.cli.main import build_parser
    from defusion.io.formats import DEFAULT_MAX_PIXELS

    commands = build_parser()._subparsers._group_actions[0].choices
    fuse, bench, train = ({a.dest: a for a in commands[name]._actions}["max_pixels"]
                          for name in ("fuse", "bench", "train"))
    assert bench.type is train.type is fuse.type and bench.default == fuse.default == DEFAULT_MAX_PIXELS
    assert train.default is None  # unset: the config's max_pixels, whose default is the same
    assert all(f"(default {DEFAULT_MAX_PIXELS:,})" in action.help for action in (fuse, bench, train))
