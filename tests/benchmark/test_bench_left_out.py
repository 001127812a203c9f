"""`defusion bench` on what it leaves out: a file it cannot read (left out, exit status 1, not an
abort), a method of this run with no score at all, and the lines that say a run's problems."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image

SIZE = (32, 40)  # height, width of the generated sources


def _pairs(tmp_path: Path, rng, stems=("p1", "p2", "p3")) -> tuple[Path, Path]:
    da, db = tmp_path / "a", tmp_path / "b"
    for stem in stems:
        write_image(da / f"{stem}.png", smooth_image(rng, *SIZE))
        write_image(db / f"{stem}.png", smooth_image(rng, *SIZE))
    return da, db


def _bench(da: Path, db: Path, out: Path, methods: str, *extra: str, metrics: str = "EN,SD") -> int:
    return main(["bench", "--task", "mef", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", methods,
                 "--metrics", metrics, "--no-progress", *extra])


def _read(out: Path) -> set[tuple[str, str, str]]:
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        return {(r["method"], r["image"], r["metric"]) for r in csv.DictReader(f)}


def _unreadable(monkeypatch, *paths: Path) -> None:
    """Make ``paths`` read as a file without read permission does, for root too: fingerprinting them
    (``fingerprints.digest``) and opening them as images raise PermissionError."""
    from defusion.cli.bench import fingerprints

    blocked = {Path(p).resolve() for p in paths}
    real_digest, real_open = fingerprints.digest, Image.open

    def refuse(path) -> None:
        if isinstance(path, (str, os.PathLike)) and Path(path).resolve() in blocked:
            raise PermissionError(13, "Permission denied", str(path))

    def digest(path):
        refuse(path)
        return real_digest(path)

    def open_image(fp, *args, **kwargs):
        refuse(fp)
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(fingerprints, "digest", digest)
    monkeypatch.setattr(Image, "open", open_image)


# 1. an unreadable source or result is left out (exit status 1), not an abort


def test_an_unreadable_source_leaves_its_pair_out_with_exit_status_1(tmp_path, rng, monkeypatch, capsys):
    da, db = _pairs(tmp_path, rng)
    _unreadable(monkeypatch, db / "p2.png")
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert any(line.startswith(f"defusion: warning: p2: {db / 'p2.png'}") and "Permission denied" in line
               for line in err), err
    assert err[-1] == "defusion: left out 1 of 3 pairs (e.g. p2): see the lines above; exit status 1"
    assert {image for _, image, _ in _read(out)} == {"p1", "p3"}
    recorded = json.loads((out / "run.json").read_text(encoding="utf-8"))["source_files"]
    assert list(recorded) == ["p1", "p3"]  # none recorded for p2


def test_a_source_without_read_permission_is_left_out(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    locked = db / "p2.png"
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("the file is still readable (running as root)")
        assert _bench(da, db, tmp_path / "out", "average") == 1
    finally:
        locked.chmod(0o644)
    err = capsys.readouterr().err
    assert "defusion: warning: p2: " in err and "left out 1 of 3 pairs (e.g. p2)" in err


def test_a_resume_drops_the_scores_of_a_pair_it_cannot_read_now(tmp_path, rng, monkeypatch, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0
    with monkeypatch.context() as patched:
        _unreadable(patched, da / "p3.png")
        capsys.readouterr()
        assert _bench(da, db, out, "average", "--resume") == 1
        err = capsys.readouterr().err
        assert (f"defusion: note: 1 method result scored before in {out} (e.g. average on p3) now has a source or "
                "result file that cannot be read") in err
        assert "defusion: warning: p3: " in err and "left out 1 of 3 pairs (e.g. p3)" in err
        assert {image for _, image, _ in _read(out)} == {"p1", "p2"}
        assert "| p3 |" not in (out / "summary.md").read_text(encoding="utf-8")
    assert _bench(da, db, out, "average", "--resume") == 0  # readable again: scored again
    assert {image for _, image, _ in _read(out)} == {"p1", "p2", "p3"}


def test_an_unreadable_published_result_is_left_out_not_an_abort(tmp_path, rng, monkeypatch, capsys):
    da, db = _pairs(tmp_path, rng)
    pub = tmp_path / "pub"
    for stem in ("p1", "p2", "p3"):
        write_image(pub / f"{stem}.png", smooth_image(rng, *SIZE))
    out = tmp_path / "out"
    assert _bench(da, db, out, "average", "--fused", f"PUB={pub}") == 0
    _unreadable(monkeypatch, pub / "p1.png")
    capsys.readouterr()
    assert _bench(da, db, out, "average", "--fused", f"PUB={pub}", "--resume") == 1
    err = capsys.readouterr().err
    assert f"scored before in {out} (e.g. PUB on p1) now has a source or result file that cannot be read" in err
    assert "defusion: warning: p1: PUB: " in err and "(e.g. PUB on p1)" in err.strip().splitlines()[-1]
    assert "gone" not in err  # the file is there: unreadable, not gone
    assert ("PUB", "p1", "EN") not in _read(out) and ("PUB", "p2", "EN") in _read(out)


# 3. a method of this run with no score at all is named; the earlier run's rows alone are counted


def _skip_every_metric_of_max(monkeypatch) -> None:
    """Every metric is skipped on max's results (per-channel maximum of the sources), as a metric
    the images cannot take would be."""
    import defusion.metrics

    real = defusion.metrics.compute_each

    def compute_each(fused, sources, names):
        if np.array_equal(np.asarray(fused), np.maximum(np.asarray(sources[0]), np.asarray(sources[1]))):
            return {}, {name: "refused in this test" for name in names}
        return real(fused, sources, names)

    monkeypatch.setattr(defusion.metrics, "compute_each", compute_each)


def test_a_method_of_this_run_with_no_score_is_named_not_called_earlier(tmp_path, rng, monkeypatch, capsys):
    da, db = _pairs(tmp_path, rng)
    _skip_every_metric_of_max(monkeypatch)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average,max") == 0
    err = capsys.readouterr().err
    assert ("max", "p1", "seconds") in _read(out) and ("max", "p1", "EN") not in _read(out)  # timings alone
    assert "defusion: warning: p1: max: EN not computed (refused in this test)" in err
    assert (f"defusion: note: no score of max in {out}: every metric was skipped on every pair (said above), so it "
            "is left out of the tables") in err
    assert "from an earlier run" not in err
    assert "| max |" not in (out / "summary.md").read_text(encoding="utf-8")


def test_the_earlier_run_note_counts_only_the_earlier_runs_rows(tmp_path, rng, monkeypatch, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0  # EN and SD
    _skip_every_metric_of_max(monkeypatch)
    capsys.readouterr()
    assert _bench(da, db, out, "average,max", "--resume", metrics="EN") == 0
    err = capsys.readouterr().err
    # average's SD on 3 pairs; not max's 3 timings of this run
    assert (f"defusion: note: {out / 'results.csv'} also holds 3 scores from an earlier run, left out of the "
            "tables: other metrics (SD)\n") in err
    assert f"no score of max in {out}" in err


# 4. a run's problems are said every run, on lines of their own; notes once


def test_problems_are_said_on_every_run_and_never_as_notes(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    pub = tmp_path / "pub"
    write_image(pub / "p1.png", smooth_image(rng, *SIZE))
    (pub / "p2.png").write_bytes(b"broken")
    out = tmp_path / "out"
    for _ in range(2):  # one process, two runs: a note would be said once, a problem each time
        assert _bench(da, db, out, "average", "--fused", f"PUB={pub}", "--overwrite") == 1
        err = capsys.readouterr().err
        assert "defusion: warning: p2: PUB: " in err and "defusion: warning: p3: no result of PUB" in err
        assert not any(line.startswith(("defusion: note: p2", "defusion: note: p3")) for line in err.splitlines())
