"""A reviewer's `defusion bench` cases: how an interrupted --overwrite run goes on, a --fused result named
as a built-in method not run, and results that are (nearly) one value said once per method and counted."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from defusion.baselines import BASELINES
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image

SIZE = (32, 40)  # height, width of the generated sources


def _pairs(tmp_path: Path, rng, stems=("p1", "p2", "p3")) -> tuple[Path, Path]:
    da, db = tmp_path / "a", tmp_path / "b"
    for stem in stems:
        write_image(da / f"{stem}.png", smooth_image(rng, *SIZE))
        write_image(db / f"{stem}.png", smooth_image(rng, *SIZE, 1))
    return da, db


def _bench(da: Path, db: Path, out: Path, methods: str, *extra: str) -> int:
    return main(["bench", "--task", "ivf", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", methods,
                 "--metrics", "EN", "--no-progress", *extra])


def _interrupt_at_the_second_pair(monkeypatch) -> None:
    """Make the average baseline raise KeyboardInterrupt at its second pair."""
    real, calls = BASELINES["average"], []

    def interrupted(a, b):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(a, b)

    monkeypatch.setitem(BASELINES, "average", interrupted)


def test_an_interrupted_overwrite_run_says_to_resume_in_place_of_overwrite(tmp_path, rng, monkeypatch, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0
    capsys.readouterr()
    _interrupt_at_the_second_pair(monkeypatch)
    assert _bench(da, db, out, "average", "--overwrite") == 130
    err = capsys.readouterr().err
    assert err.endswith(f"defusion: interrupted; 1 pair scored and saved in {out / 'results.csv'}: run the same "
                        "command with --resume in place of --overwrite to go on\n")
    assert "starting afresh" not in err and "--resume keeps them" not in err  # --overwrite was asked for
    monkeypatch.undo()
    assert _bench(da, db, out, "average", "--resume") == 0  # as advised: goes on


def test_an_interrupted_overwrite_run_into_a_new_out_says_so_too(tmp_path, rng, monkeypatch, capsys):
    da, db = _pairs(tmp_path, rng)
    _interrupt_at_the_second_pair(monkeypatch)
    assert _bench(da, db, tmp_path / "new", "average", "--overwrite") == 130
    assert "with --resume in place of --overwrite to go on" in capsys.readouterr().err


def test_a_fused_result_named_as_a_builtin_method_not_run_is_refused(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    mine = tmp_path / "mine"
    for stem in ("p1", "p2", "p3"):
        write_image(mine / f"{stem}.png", smooth_image(rng, *SIZE))
    out = tmp_path / "out"
    assert _bench(da, db, out, "none", "--fused", f"defusion={mine}") == 2
    assert capsys.readouterr().err == ("defusion: error: --fused defusion: the name of a built-in method; give the "
                                       "folder another name\n")
    assert not (out / "results.csv").exists()  # refused before any work
    # a published folder differing from a baseline in case alone stays allowed (VIFB's GFF beside gff)
    assert _bench(da, db, out, "none", "--fused", f"GFF={mine}") == 0
    assert _bench(da, db, out, "average", "--jpeg-quality", "75", "--resume") == 0  # GFF no built-in's: not refused


def _flat_run(tmp_path: Path, rng, monkeypatch, *extra: str) -> tuple[int, Path, Path]:
    """Four pairs; the max baseline gives an all-black result of every one; "Half" (published) of two."""
    stems = ("p1", "p2", "p3", "p4")
    da, db = _pairs(tmp_path, rng, stems)
    half = tmp_path / "half"
    for stem in stems:
        image = smooth_image(rng, *SIZE)
        write_image(half / f"{stem}.png", np.zeros_like(image) if stem in ("p2", "p4") else image)
    monkeypatch.setitem(BASELINES, "max", lambda a, b: np.zeros_like(a))
    out = tmp_path / "out"
    return _bench(da, db, out, "average,max", "--fused", f"Half={half}", *extra), out, half


def test_flat_results_are_one_warning_per_method_and_counted_in_the_last_line(tmp_path, rng, monkeypatch,
                                                                             capsys):
    import defusion.benchmark.findings as findings
    import defusion.benchmark.runner as runner

    real, calls = findings.failed_fusions, []

    def counted(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(findings, "failed_fusions", counted)
    monkeypatch.setattr(runner, "failed_fusions", counted, raising=False)
    code, out, half = _flat_run(tmp_path, rng, monkeypatch)
    assert code == 0  # flat results are scored: nothing left out
    assert len(calls) == 4  # once per pair, not twice
    err = capsys.readouterr().err
    warnings = [line for line in err.splitlines() if "(nearly) one value" in line and "warning: " in line]
    assert warnings == [
        "defusion: warning: max's results for 4 pairs are (nearly) one value (e.g. p1, about 0 of 255): failed "
        "fusions? They are scored as they are, so some of its means may be over fewer pairs; look at its output "
        "(--save-fused keeps it)",
        "defusion: warning: Half's results for 2 pairs are (nearly) one value (e.g. p2, about 0 of 255): failed "
        f"fusions? They are scored as they are, so some of its means may be over fewer pairs; look at {half / 'p2.png'}",
    ]
    assert err.splitlines()[-1] == ("defusion: scored 6 results that are (nearly) one value (e.g. max's for p1): "
                                    "see the lines above; exit status 0")


def test_a_flat_result_kept_by_save_fused_is_named_by_its_file(tmp_path, rng, monkeypatch, capsys):
    code, out, _ = _flat_run(tmp_path, rng, monkeypatch, "--save-fused")
    assert code == 0
    err = capsys.readouterr().err
    assert f"look at {out / 'fused' / 'max' / 'p1.png'}" in err and "--save-fused keeps it" not in err
    assert (out / "fused" / "max" / "p1.png").is_file()
