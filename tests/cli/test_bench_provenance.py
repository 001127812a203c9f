"""`defusion bench` records the build and machine its scores were made with, and a resume warns when it keeps
another build's.

From an audit: run.json held the weights and task and nothing of the software or machine; summary.md
carried no version; and after an upgrade that changed the `laplacian`/`dwt` baselines and DeFusion's
colour path, `--resume` silently kept the old rows ("resuming: kept the earlier run's 324 rows (3 pairs)"),
mixing two builds in one table.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from defusion import __version__
from defusion.benchmark.report import summary_markdown
from defusion.benchmark.runner import Row, read_results_csv, write_results_csv
from defusion.cli.build_info import code_fingerprint
from defusion.cli.main import main
from tests.benchmark.test_bench_cli import _pairs as bench_pairs

#: A code fingerprint no build has: an earlier build's, faked in run.json.
OTHER_CODE = "000000000000"


def _pairs(tmp_path, rng, stems=("p1", "p2")):
    return bench_pairs(tmp_path, rng, stems)


def _bench(da, db, out, methods, *extra):
    return main(["bench", "--task", "mef", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", methods,
                 "--metrics", "EN,SD", "--no-progress", *extra])


def _record(out) -> dict:
    return json.loads((out / "run.json").read_text(encoding="utf-8"))


def _fake_earlier_build(out, code=OTHER_CODE) -> None:
    """run.json as an earlier build of the code (or, ``code`` None, an older version, recording none) left it."""
    record = _record(out)
    if code is None:
        del record["build"], record["builds_kept"], record["method_builds"]
    else:
        record["build"]["code"] = code
        for builds in record["method_builds"].values():
            for build in builds:
                build["code"] = code
    (out / "run.json").write_text(json.dumps(record), encoding="utf-8")


def _said_again() -> None:
    """Lines said as if none had been yet (each is said once per process): a second run's in one test."""
    from defusion.io import notes

    notes._said.clear()


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("defusion: warning: ")]


def test_run_json_records_the_build_software_and_machine(tmp_path, rng):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0
    record = _record(out)
    build = record["build"]
    assert build["defusion"] == __version__ and build["code"] == code_fingerprint()
    assert len(build["code"]) == 12 and int(build["code"], 16) >= 0
    assert {"Python", "torch", "onnxruntime", "numpy"} <= build["software"].keys()
    assert build["software"]["numpy"] == __import__("numpy").__version__
    assert build["machine"].keys() == {"platform", "cpu", "cores", "gpu"} and build["machine"]["cores"] >= 1
    assert datetime.fromisoformat(build["time"]).tzinfo is not None  # local time, with its offset
    assert record["builds_kept"] == []


def test_the_code_fingerprint_is_computed_once_per_process():
    code_fingerprint()
    assert code_fingerprint.cache_info().currsize == 1
    hits = code_fingerprint.cache_info().hits
    code_fingerprint()
    assert code_fingerprint.cache_info().hits == hits + 1


def test_the_gpu_is_named_where_torch_is_loaded_and_sees_one(monkeypatch):
    from types import SimpleNamespace

    from defusion.cli.build_info import gpu_name, this_build

    def broken(index):
        raise RuntimeError("CUDA driver initialization failed")

    cuda = SimpleNamespace(is_available=lambda: True, get_device_name=lambda index: "NVIDIA H200")
    monkeypatch.setitem(__import__("sys").modules, "torch", SimpleNamespace(cuda=cuda))
    assert gpu_name() == "NVIDIA H200" and this_build()["machine"]["gpu"] == "NVIDIA H200"
    monkeypatch.setattr(cuda, "get_device_name", broken)
    assert gpu_name() is None  # a broken driver: no GPU named, and no record fails
    monkeypatch.setattr(cuda, "is_available", lambda: False)
    assert gpu_name() is None


def test_a_resume_keeping_another_builds_rows_warns_once_and_records_them(tmp_path, rng, fresh_notes, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0
    _fake_earlier_build(out)
    marked = [Row(r.method, r.image, r.metric, 77.0 if r.metric == "EN" else r.value)
              for r in read_results_csv(out / "results.csv")]  # shows whether average's rows are kept
    write_results_csv(marked, out / "results.csv")
    capsys.readouterr()
    assert _bench(da, db, out, "average,max", "--resume") == 0
    warned = _warnings(capsys.readouterr().err)
    assert warned == [
        f"defusion: warning: --resume: the 6 rows of results.csv kept in {out} (average) were made by defusion "
        f"{__version__} (code {OTHER_CODE}), not by this defusion {__version__} (code {code_fingerprint()}): a change "
        "in between may have changed them; run with --overwrite to score everything afresh with this build "
        "(--resume keeps them)"]
    assert {r.value for r in read_results_csv(out / "results.csv") if (r.method, r.metric) == ("average", "EN")} == {77}
    record = _record(out)
    assert record["build"]["code"] == code_fingerprint()
    assert [(b["defusion"], b["code"]) for b in record["builds_kept"]] == [(__version__, OTHER_CODE)]  # still there
    capsys.readouterr()
    _said_again()
    assert _bench(da, db, out, "average,max", "--resume") == 0  # this build's run.json, the earlier rows still there
    assert f"(code {OTHER_CODE}), not by this" in "".join(_warnings(capsys.readouterr().err))


def test_a_resume_of_this_builds_rows_says_nothing_of_builds(tmp_path, rng, fresh_notes, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0
    capsys.readouterr()
    assert _bench(da, db, out, "average,max", "--resume") == 0
    assert not _warnings(capsys.readouterr().err) and _record(out)["builds_kept"] == []


def test_a_resume_of_a_run_json_without_a_build_warns_of_an_earlier_defusion(tmp_path, rng, fresh_notes, capsys):
    """The audit's case: run.json of a version that recorded no build, resumed after the upgrade."""
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0
    _fake_earlier_build(out, code=None)
    capsys.readouterr()
    assert _bench(da, db, out, "average", "--resume") == 0
    warned = _warnings(capsys.readouterr().err)
    assert len(warned) == 1 and "were made by an earlier defusion (code unrecorded), not by this defusion" in warned[0]
    assert _record(out)["builds_kept"] == [None]


def test_the_made_with_line_ends_summary_md(tmp_path, rng, tiny_weights):
    from defusion.cli.bench.run_file import made_with_line

    da, db = _pairs(tmp_path, rng, ("p1",))
    out = tmp_path / "out"
    assert _bench(da, db, out, "defusion,average", "--weights", str(tiny_weights)) == 0
    record = _record(out)
    line = made_with_line(record)
    assert line.startswith(f"Made with defusion {__version__} (code {code_fingerprint()}), weights tiny.safetensors "
                           f"({record['defusion_run']}), Python ")
    assert f"{record['build']['machine']['cores']} cores" in line and record["build"]["time"][:10] in line
    assert "\n" not in line and "Also scores kept" not in line
    text = summary_markdown(read_results_csv(out / "results.csv"), "t", made_with=line)
    assert text.endswith(f"\n\n{line}\n") and text.startswith(summary_markdown(read_results_csv(out / "results.csv"),
                                                                               "t"))


@pytest.mark.parametrize("kept, said", [
    ([{"defusion": "0.1.0", "code": OTHER_CODE}], f"Also scores kept from defusion 0.1.0 (code {OTHER_CODE})"),
    ([None], "Also scores kept from an earlier defusion (code unrecorded)"),
])
def test_the_made_with_line_names_the_builds_whose_rows_were_kept(kept, said):
    from defusion.cli.bench.run_file import made_with_line

    line = made_with_line({"defusion_run": None, "weights": "shipped", "builds_kept": kept,
                           "build": {"defusion": "0.1.0", "code": "e7460ec37b45", "machine": {"cores": 2}}})
    assert line == f"Made with defusion 0.1.0 (code e7460ec37b45); s/pair timed on 2 cores. {said} (run with " \
                   "--overwrite to score them afresh)."


def _fake_other_machine(out) -> None:
    """run.json as a run on another machine, at another date, left it."""
    record = _record(out)
    record["build"]["machine"] = {"platform": "Linux-5.4-x86_64", "cpu": "Intel Xeon Gold 6230", "cores": 40,
                                  "gpu": None}
    record["build"]["time"] = "2026-01-02T03:04:05+00:00"
    (out / "run.json").write_text(json.dumps(record), encoding="utf-8")


def _scored_on_another_machine(tmp_path, rng):
    """Pair folders, and a run scoring ``average`` on them recorded as made on another machine: the
    folders, the run's folder and its recorded build."""
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0
    _fake_other_machine(out)
    return da, db, out, _record(out)["build"]


def test_a_resume_computing_nothing_keeps_the_earlier_build_machine_and_date(tmp_path, rng, fresh_notes):
    """From a review: such a resume rewrote them to its own, and summary.md named the wrong machine."""
    from defusion.cli.bench.run_file import made_with_line

    da, db, out, earlier = _scored_on_another_machine(tmp_path, rng)
    assert _bench(da, db, out, "average", "--resume") == 0
    record = _record(out)
    assert record["build"] == earlier and record["builds_kept"] == []
    assert "s/pair timed on Intel Xeon Gold 6230, 40 cores, Linux-5.4-x86_64; 2026-01-02." in made_with_line(record)


def test_a_resume_computing_on_another_machine_names_both_machines(tmp_path, rng, fresh_notes):
    from defusion.cli.bench.run_file import made_with_line

    da, db, out, earlier = _scored_on_another_machine(tmp_path, rng)
    assert _bench(da, db, out, "average,max", "--resume") == 0
    record = _record(out)
    assert record["build"]["machine"] != earlier["machine"] and record["builds_kept"] == [earlier]  # whole
    line = made_with_line(record)
    assert "; earlier rows on Intel Xeon Gold 6230, 40 cores, Linux-5.4-x86_64; " in line
    assert "Also scores kept" not in line  # the same code: no other build's scores


def test_a_second_resume_by_the_new_build_warns_only_of_the_old_builds_methods(tmp_path, rng, fresh_notes, capsys):
    """From a review: it blamed max's rows, made by this build, on the old one too."""
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0
    _fake_earlier_build(out)
    assert _bench(da, db, out, "average,max", "--resume") == 0
    assert _record(out)["method_builds"] == {"average": [{"defusion": __version__, "code": OTHER_CODE}],
                                             "max": [{"defusion": __version__, "code": code_fingerprint()}]}
    capsys.readouterr()
    _said_again()
    assert _bench(da, db, out, "average,max", "--resume") == 0
    assert _warnings(capsys.readouterr().err) == [
        f"defusion: warning: --resume: the 6 rows of results.csv kept in {out} (average) were made by defusion "
        f"{__version__} (code {OTHER_CODE}), not by this defusion {__version__} (code {code_fingerprint()}): a change "
        "in between may have changed them; run with --overwrite to score everything afresh with this build "
        "(--resume keeps them)"]


def test_a_method_partly_rescored_by_this_build_is_said_in_part(tmp_path, rng, fresh_notes, capsys):
    """A new metric for average: its rows are then both builds'; a later resume says "some of" them."""
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0
    _fake_earlier_build(out)
    assert main(["bench", "--task", "mef", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", "average",
                 "--metrics", "EN,SD,SF", "--no-progress", "--resume"]) == 0
    capsys.readouterr()
    assert _bench(da, db, out, "average", "--resume") == 0
    warned = _warnings(capsys.readouterr().err)
    assert len(warned) == 1 and "--resume: some of the 8 rows of results.csv kept in" in warned[0]
    assert f"(average) may have been made by defusion {__version__} (code {OTHER_CODE}), not by this" in warned[0]


def test_the_made_with_line_names_the_machines_of_kept_rows():
    from defusion.cli.bench.run_file import made_with_line

    then = {"defusion": "0.1.0", "code": OTHER_CODE, "machine": {"cpu": "Intel Xeon", "cores": 40}}
    line = made_with_line({"defusion_run": None, "weights": "shipped", "builds_kept": [then],
                           "build": {"defusion": "0.1.0", "code": "e7460ec37b45", "machine": {"cores": 2}}})
    assert line == f"Made with defusion 0.1.0 (code e7460ec37b45); s/pair timed on 2 cores; earlier rows on Intel " \
                   f"Xeon, 40 cores. Also scores kept from defusion 0.1.0 (code {OTHER_CODE}) (run with --overwrite " \
                   "to score them afresh)."
