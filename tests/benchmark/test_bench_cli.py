"""`defusion bench` end to end on generated pairs, with a published-results folder."""

from __future__ import annotations

import csv

import pytest

from defusion.benchmark.report import mean_ranks, summary_markdown
from defusion.benchmark.runner import Row, read_results_csv
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
    assert code == 1, captured.err  # PUB's p2 and p3 left out: exit status 1
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert set(rows[0]) == {"method", "image", "metric", "value"}
    scored = {(r["method"], r["image"], r["metric"]) for r in rows}
    assert ("defusion", "p3", "Qabf") in scored and ("average", "p2", "EN") in scored
    assert ("PUB", "p1", "SSIM") in scored and not any(m == "PUB" and i != "p1" for m, i, _ in scored)
    assert ("defusion", "p1", "seconds") in scored
    assert "p2: PUB" in captured.err and "p3: no result of PUB" in captured.err
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "| method | rank |" in summary and "**" in summary
    assert (out / "summary.png").stat().st_size > 1000
    assert sorted(p.name for p in (out / "grids").iterdir()) == ["p1.jpg", "p2.jpg", "p3.jpg"]
    assert "PUB: 1 of 3 pairs" in summary  # its mean is over fewer pairs: said under the table
    # which weights, in the title: with their folder (every training run's file has the same name)
    assert f"weights {tiny_weights.parent.name}/tiny.safetensors" in summary.splitlines()[0]
    assert r"\begin{tabular}{lrrrr}" in (out / "summary.tex").read_text(encoding="utf-8")  # method, rank, 3 metrics
    assert (out / "means.csv").read_text(encoding="utf-8").startswith("method,rank,images,EN,SSIM,Qabf,seconds")
    versus = (out / "versus.md").read_text(encoding="utf-8")
    assert "defusion against each method" in versus and "| average | 3 |" in versus and "| PUB | 1 |" in versus
    assert (out / "versus.png").stat().st_size > 1000
    assert "defusion vs average: better on" in captured.out


def test_versus_picks_the_reference_and_refuses_a_method_not_run(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng, ("p1", "p2"))
    out = tmp_path / "out"
    assert _bench(da, db, out, "average,max", None, "--versus", "max") == 0
    assert "max against each method" in (out / "versus.md").read_text(encoding="utf-8")
    assert "max vs average:" in capsys.readouterr().out
    assert _bench(da, db, out, "average,max", None, "--versus", "gff", "--overwrite") == 2
    assert "--versus gff: not among the methods of this run (average, max)" in capsys.readouterr().err


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
    with pytest.raises(SystemExit) as exit_:  # --limit -1 silently dropped the last pair
        main(["bench", "--task", "mef", "--a", str(tmp_path), "--b", str(tmp_path), "--out",
              str(tmp_path / "o"), "--limit", "-1"])
    assert exit_.value.code == 2 and "must be at least 1" in capsys.readouterr().err


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
        with open(out / "results.csv", newline="", encoding="utf-8") as f:
            values[runtime] = {(r["image"], r["metric"]): float(r["value"]) for r in csv.DictReader(f)
                               if r["metric"] != "seconds"}
    assert values["torch"].keys() == values["onnxruntime"].keys() and len(values["torch"]) == 4
    for key, value in values["torch"].items():
        assert abs(values["onnxruntime"][key] - value) <= 0.02 * abs(value) + 0.05


def _bench(da, db, out, methods, weights=None, *extra):
    args = ["bench", "--task", "mef", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", methods,
            "--metrics", "EN,SD", "--no-progress", *extra]
    return main(args + (["--weights", str(weights)] if weights else []))


def _read(out):
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        return {(r["method"], r["image"], r["metric"]): float(r["value"]) for r in csv.DictReader(f)}


def _write(out, values):
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as f:
        f.write("method,image,metric,value\n")
        f.writelines(f"{m},{i},{k},{v}\n" for (m, i, k), v in values.items())


def _pairs(tmp_path, rng, stems=("p1", "p2", "p3")):
    da, db = tmp_path / "a", tmp_path / "b"
    for stem in stems:
        write_image(da / f"{stem}.png", smooth_image(rng, 32, 40))
        write_image(db / f"{stem}.png", smooth_image(rng, 32, 40))
    return da, db


def test_resume_keeps_earlier_scores_and_computes_only_the_missing(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average,max") == 0
    full = _read(out)
    # as if killed before p3 was written, and with a marker showing whether p1 is recomputed
    interrupted = {k: v for k, v in full.items() if k[1] != "p3"}
    interrupted[("average", "p1", "EN")] = 123.0
    _write(out, interrupted)
    (out / "grids" / "p1.jpg").unlink()
    assert _bench(da, db, out, "average,max,dwt", None, "--resume") == 0
    resumed = _read(out)
    assert resumed[("average", "p1", "EN")] == 123.0  # kept, not recomputed
    assert (out / "grids" / "p1.jpg").exists()  # p1 lacked dwt: dwt run, its grid drawn again
    for stem in ("p1", "p2", "p3"):
        assert ("dwt", stem, "SD") in resumed and ("dwt", stem, "seconds") in resumed
    assert resumed[("max", "p3", "SD")] == full[("max", "p3", "SD")]
    assert "| dwt |" in (out / "summary.md").read_text(encoding="utf-8")


def test_resume_of_a_finished_run_computes_nothing(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng, ("p1", "p2"))
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0
    values = _read(out)
    values[("average", "p2", "SD")] = 77.0
    _write(out, values)
    for grid in (out / "grids").iterdir():
        grid.unlink()
    assert _bench(da, db, out, "average", None, "--resume") == 0
    assert _read(out)[("average", "p2", "SD")] == 77.0
    assert not list((out / "grids").iterdir())  # nothing was fused again
    title = f"MEF: {tmp_path.name} (A: a, B: b)"  # which folder was the first source: the order matters
    from defusion.cli.bench.run_file import made_with_line, recorded_run

    made_with = made_with_line(recorded_run(out))  # the build, weights and machine, the last line
    assert (out / "summary.md").read_text(encoding="utf-8") == summary_markdown(
        read_results_csv(out / "results.csv"), title, ("a", "b"), made_with=made_with)
    assert (out / "summary.md").read_text(encoding="utf-8").endswith(f"\n\n{made_with}\n")


def test_resume_recomputes_defusion_only_when_the_weights_changed(tmp_path, rng, tiny_weights,
                                                                   lively_weights, capsys):
    da, db = _pairs(tmp_path, rng, ("p1",))
    out = tmp_path / "out"
    assert _bench(da, db, out, "defusion,average", tiny_weights) == 0
    values = _read(out)
    values[("defusion", "p1", "EN")] = 99.0
    values[("average", "p1", "EN")] = 98.0
    _write(out, values)
    assert _bench(da, db, out, "defusion,average", tiny_weights, "--resume") == 0
    assert _read(out)[("defusion", "p1", "EN")] == 99.0  # same weights: kept
    capsys.readouterr()
    assert _bench(da, db, out, "defusion,average", lively_weights, "--resume") == 0
    assert "other (or unknown) weights" in capsys.readouterr().err
    after = _read(out)
    assert after[("defusion", "p1", "EN")] != 99.0 and after[("average", "p1", "EN")] == 98.0


def test_resume_from_a_file_that_is_not_results_is_one_line(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng, ("p1",))
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.csv").write_text("not,a\nresults,file\n", encoding="utf-8")
    assert _bench(da, db, out, "average", None, "--resume") == 2
    err = capsys.readouterr().err
    assert "cannot resume" in err and "Traceback" not in err


def test_resume_keeps_methods_this_run_does_not_request(tmp_path, rng):
    da, db = _pairs(tmp_path, rng, ("p1", "p2"))
    out = tmp_path / "out"
    assert _bench(da, db, out, "average,max") == 0
    values = _read(out)
    _write(out, {k: v for k, v in values.items() if k[1] != "p2" or k[0] == "max"})
    assert _bench(da, db, out, "average", None, "--resume") == 0
    after = _read(out)
    assert after.keys() == values.keys()  # average recomputed for p2; max's rows kept
    assert all(after[k] == v for k, v in values.items() if k[2] != "seconds")


def test_jobs_scores_like_one_process_in_the_same_order(tmp_path, rng, lively_weights, capsys, monkeypatch):
    """--jobs 2 evaluates pairs in worker processes: same rows, same problems, same grids."""
    from defusion.benchmark import runner

    pools = []
    in_workers = runner.evaluate_in_workers
    monkeypatch.setattr(runner, "evaluate_in_workers", lambda *a: pools.append(a[2]) or in_workers(*a))
    da, db = _pairs(tmp_path, rng, ("p1", "p2", "p3", "p4"))
    pub = tmp_path / "published"
    write_image(pub / "p2.png", smooth_image(rng, 32, 40))
    (pub / "p3.png").write_bytes(b"broken")
    (da / "p4.png").write_bytes(b"broken")  # an unreadable source: reported, pair left out
    runs = {}
    for jobs in ("1", "2"):
        out = tmp_path / f"jobs{jobs}"
        assert _bench(da, db, out, "defusion,average", lively_weights, "--fused", f"PUB={pub}", "--jobs", jobs) == 1
        err = capsys.readouterr().err
        with open(out / "results.csv", newline="", encoding="utf-8") as f:
            runs[jobs] = [(r["method"], r["image"], r["metric"], r["value"]) for r in csv.DictReader(f)
                          if r["metric"] != "seconds"]
        runs[jobs + "notes"] = sorted(line for line in err.splitlines() if line.startswith("defusion: warning:"))
        runs[jobs + "grids"] = sorted(p.name for p in (out / "grids").iterdir())
    assert pools == [2]  # --jobs 1 ran in this process, --jobs 2 in a pool of two
    assert runs["1"] == runs["2"] and len(runs["1"]) == 2 * 2 * 3 + 2  # 2 methods x 2 metrics x 3 pairs + PUB's p2
    assert runs["1notes"] == runs["2notes"] and any("p4" in n for n in runs["1notes"])
    assert runs["1grids"] == runs["2grids"] == ["p1.jpg", "p2.jpg", "p3.jpg"]


def test_defusion_rows_use_the_tasks_options(tiny_weights):
    from defusion.benchmark.runner import builtin_method, defusion_run_id

    def gains(name: str, task: str | None) -> tuple[float, float]:
        options = builtin_method(name, tiny_weights, "cpu", task=task).__self__.options
        return options.unique_gain, options.resolved_detail_gain

    assert {task: gains("defusion", task) for task in (None, "ivf", "mef")} == {
        None: (1.25, 1.5), "ivf": (1.5, 2.0), "mef": (1.0, 1.5)}
    assert gains("defusion-g1", "ivf") == gains("defusion-g1", "mff") == (1.0, 1.0)  # the paper's Pr
    assert gains("defusion-g1.25", "mef") == (1.25, 1.5)  # the general defaults, not the task's detail
    assert gains("defusion-g1-d1.75", "ivf") == (1.0, 1.75)
    # a resumed bench recomputes DeFusion's rows scored at other gains or from other pixels
    ids = {task: defusion_run_id(tiny_weights, task) for task in (None, "ivf", "mef", "mff")}
    assert len(set(ids.values())) == 4 and ids["mff"].endswith("-x1-g1-d1.5-sources")
    assert ids[None].endswith("-g1.25")  # ids of the general defaults unchanged by the detail gain


def test_focus_pairs_take_the_sources_and_defusion_network_the_reconstruction(tiny_weights):
    from defusion.benchmark.runner import builtin_method

    def options(name: str, task: str | None):
        return builtin_method(name, tiny_weights, "cpu", task=task).__self__.options

    mff, network = options("defusion", "mff"), options("defusion-network", "mff")
    assert (mff.pixels, mff.scale) == ("sources", 1) and options("defusion-sources", "mff") == mff
    assert (network.pixels, network.scale, network.unique_gain, network.resolved_detail_gain) == ("network", 2, 1.0, 1.5)
    assert options("defusion-network", "ivf") == options("defusion", "ivf")  # the other tasks' default already
    # the variants of the reconstruction stay the reconstruction for focus pairs
    assert (options("defusion-g1", "mff").pixels, options("defusion-x1", "mff").pixels) == ("network", "network")
    assert (options("defusion-sources-x2", "mff").pixels, options("defusion-sources-x2", "mff").scale) == ("sources", 2)


def test_defusion_paper_is_the_papers_inference_for_every_task(tiny_weights):
    from defusion.benchmark.runner import builtin_method

    for task in (None, "ivf", "mef", "mff"):
        o = builtin_method("defusion-paper", tiny_weights, "cpu", task=task).__self__.options
        assert (o.pixels, o.scale, o.unique_gain, o.resolved_detail_gain, o.color) == ("network", 1, 1.0, 1.0, "rgb"), task


def test_out_that_is_a_file_and_clashing_fused_names_are_one_line(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng, ("p1",))
    (tmp_path / "ofile").write_text("", encoding="utf-8")
    assert _bench(da, db, tmp_path / "ofile", "average") == 2
    assert "--out" in capsys.readouterr().err
    assert _bench(da, db, tmp_path / "o", "average", None, "--fused", f"x={da}", "--fused", f"x={db}") == 2
    assert "--fused x is given twice" in capsys.readouterr().err
    assert _bench(da, db, tmp_path / "o", "average", None, "--fused", f"average={da}") == 2
    assert "--fused average: the name of a built-in method" in capsys.readouterr().err


def test_a_fused_folder_named_unlike_the_pairs_is_one_line(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng, ("p1", "p2"))
    mine = tmp_path / "mine"
    write_image(mine / "p1_fused.png", smooth_image(rng, 32, 40))
    assert _bench(da, db, tmp_path / "o", "average", None, "--fused", f"mine={mine}") == 2
    err = capsys.readouterr().err
    assert "--fused mine: none of the 1 image files" in err and "expected e.g. p1.png" in err
    assert "found e.g. p1_fused.png" in err and "Traceback" not in err


def test_a_fresh_run_leaves_no_stale_outputs_and_notes_clashing_stems(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng, ("p1", "p2"))
    out = tmp_path / "out"
    assert _bench(da, db, out, "average,max") == 0
    assert (out / "versus.md").exists() and (out / "grids" / "p2.jpg").exists()
    (da / "p2.png").unlink()
    write_image(da / "p1.tif", smooth_image(rng, 32, 40))  # two files named p1
    assert _bench(da, db, out, "average", None, "--overwrite") == 0
    assert not (out / "versus.md").exists()  # one method: nothing to compare, and no old file left
    assert sorted(p.name for p in (out / "grids").iterdir()) == ["p1.jpg"]
    assert "p1: 2 files (p1.png, p1.tif)" in capsys.readouterr().err


def test_resume_rescores_changed_published_results_and_tables_cover_this_run(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    pub = tmp_path / "pub"
    for stem in ("p1", "p2", "p3"):
        write_image(pub / f"{stem}.png", smooth_image(rng, 32, 40))
    out = tmp_path / "out"
    assert _bench(da, db, out, "none", None, "--fused", f"pub={pub}") == 0
    before = _read(out)
    changed = smooth_image(rng, 32, 40)
    write_image(pub / "p2.png", changed)
    assert _bench(da, db, out, "none", None, "--fused", f"pub={pub}", "--resume") == 0
    assert "1 published result file(s) changed" in capsys.readouterr().err
    after = _read(out)
    from defusion.metrics import compute_metrics
    assert after[("pub", "p2", "SD")] == pytest.approx(compute_metrics(changed, changed, changed, ["SD"])["SD"], rel=1e-5)
    assert after[("pub", "p1", "SD")] == before[("pub", "p1", "SD")]
    # a resumed run over fewer pairs and metrics: its tables say so, results.csv keeps the rest
    args = ["bench", "--task", "mef", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", "none",
            "--fused", f"pub={pub}", "--metrics", "en", "--limit", "1", "--resume", "--no-progress"]
    assert main(args) == 0
    assert "left out of the tables" in capsys.readouterr().err
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "1 image pair;" in summary and "| EN ↑ |" in summary and "SD" not in summary
    assert ("pub", "p3", "SD") in _read(out)


def test_resume_drops_scores_of_published_files_that_are_gone_and_a_rerun_says_it_starts_afresh(tmp_path, rng,
                                                                                                 capsys):
    da, db = _pairs(tmp_path, rng, ("p1", "p2"))
    pub = tmp_path / "pub"
    for stem in ("p1", "p2"):
        write_image(pub / f"{stem}.png", smooth_image(rng, 32, 40))
    out = tmp_path / "out"
    assert _bench(da, db, out, "average", None, "--fused", f"pub={pub}") == 0
    (pub / "p2.png").unlink()
    capsys.readouterr()
    assert _bench(da, db, out, "average", None, "--fused", f"pub={pub}", "--resume") == 1  # pub's p2 left out
    assert "1 published result file(s) scored before are gone" in capsys.readouterr().err
    assert ("pub", "p2", "EN") not in _read(out) and ("pub", "p1", "EN") in _read(out)
    assert _bench(da, db, out, "average", None, "--overwrite") == 0
    assert "starting afresh" not in capsys.readouterr().err  # --overwrite said to replace them: no note


def test_the_quick_test_networks_weights_get_a_note_when_defusion_is_scored(tmp_path, rng, capsys):
    """Scores of the quick-test network (a `--model defusion-tiny` run) would mislead most in a table."""
    from defusion.model.registry import create_model
    from defusion.model.weights import save_weights

    da, db = _pairs(tmp_path, rng, ("p1",))
    quick = tmp_path / "runs" / "try" / "weights.safetensors"
    quick.parent.mkdir(parents=True)
    save_weights(create_model("defusion-tiny"), quick, metadata={"model": "defusion-tiny", "samples_seen": "40"})
    assert _bench(da, db, tmp_path / "o1", "defusion", quick) == 0
    assert "are the quick-test network's (defusion-tiny, 40 samples seen)" in capsys.readouterr().err
    assert _bench(da, db, tmp_path / "o2", "average", quick) == 0  # DeFusion not scored: nothing to say
    assert "quick-test" not in capsys.readouterr().err


def test_a_published_result_no_metric_takes_is_left_out_and_the_others_scored(tmp_path, rng, capsys):
    """A 1x1 --fused result (defusion fuse writes 1x1) stopped the whole run with one error line; now it
    is a problem line of its own and the other pairs are scored."""
    import numpy as np

    da, db = _pairs(tmp_path, rng)
    mine = tmp_path / "mine"
    for stem in ("p1", "p2", "p3"):
        write_image(mine / f"{stem}.png", smooth_image(rng, 32, 40))
    for folder, value in ((da, 90), (db, 160), (mine, 120)):
        write_image(folder / "p0.png", np.full((1, 1), value, np.uint8))
    out = tmp_path / "out"
    status = _bench(da, db, out, "none", None, "--fused", f"Mine={mine}")
    err = capsys.readouterr().err
    assert status == 0 and "Traceback" not in err, err  # the run goes on, the result said as left out
    assert {image for _, image, _ in _read(out)} == {"p1", "p2", "p3"}
    assert "p0: Mine: fused: image too small (1x1" in err
