"""`defusion bench` fixes from a second audit: a resume notices changed sources, refuses another task
and computes new metrics, keeping every earlier score; a method with results missing is unranked (a
value not defined on a pair is not missing); rounding is a tie; left-out work is exit status 1;
method names in any case."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from defusion.benchmark.runner import Row
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.benchmark.test_bench_resume_pairs_and_report import SIZE, _pairs
from tests.conftest import smooth_image


def _bench(da: Path, db: Path, out: Path, methods: str, *extra: str, task: str = "mef", metrics: str = "EN,SD") -> int:
    return main(["bench", "--task", task, "--a", str(da), "--b", str(db), "--out", str(out), "--methods", methods,
                 "--metrics", metrics, "--no-progress", *extra])


def _read(out: Path) -> dict[tuple[str, str, str], float]:
    with open(out / "results.csv", newline="", encoding="utf-8") as f:
        return {(r["method"], r["image"], r["metric"]): float(r["value"]) for r in csv.DictReader(f)}


def _write(out: Path, values: dict[tuple[str, str, str], float]) -> None:
    with open(out / "results.csv", "w", newline="", encoding="utf-8") as f:
        f.write("method,image,metric,value\n")
        f.writelines(f"{m},{i},{k},{v}\n" for (m, i, k), v in values.items())


def _mark(out: Path, *keys: tuple[str, str, str]) -> None:
    """Set the scores ``keys`` to 123 in results.csv: a kept score stays 123, a rescored one does not."""
    values = _read(out)
    for key in keys:
        values[key] = 123.0
    _write(out, values)


# 1. a resume rescores every method on a pair whose sources changed


def test_a_resume_rescores_every_method_on_a_pair_whose_sources_changed(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average,max") == 0
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert set(record["source_files"]) == {"p1", "p2"} and len(record["source_files"]["p1"]) == 2
    _mark(out, ("average", "p1", "EN"), ("average", "p2", "EN"), ("max", "p1", "EN"))
    write_image(db / "p1.png", smooth_image(rng, *SIZE))  # same stem, other content
    capsys.readouterr()
    assert _bench(da, db, out, "average", "--resume") == 0
    err = capsys.readouterr().err
    assert err.count("changed since") == 1
    assert f"the sources of 1 pair changed since it was scored in {out} (e.g. p1)" in err and "(average, max)" in err
    after = _read(out)
    assert after[("average", "p2", "EN")] == 123.0  # unchanged pair: kept
    assert after[("average", "p1", "EN")] != 123.0  # rescored against the new sources
    assert not any(m == "max" and i == "p1" for m, i, _ in after)  # not requested: dropped, not kept stale
    assert ("max", "p2", "EN") in after
    fresh = tmp_path / "fresh"
    assert _bench(da, db, fresh, "average") == 0
    assert after[("average", "p1", "SD")] == _read(fresh)[("average", "p1", "SD")]


def test_swapping_the_sources_on_a_resume_rescores_every_pair(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0
    _mark(out, ("average", "p1", "EN"))
    capsys.readouterr()
    assert _bench(db, da, out, "average", "--resume") == 0
    assert "the sources of 2 pairs changed since they were scored" in capsys.readouterr().err
    assert _read(out)[("average", "p1", "EN")] != 123.0


def test_an_older_run_file_without_source_fingerprints_keeps_the_rows_and_says_so(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 0
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    for key in ("source_files", "task", "metrics"):  # as an older version wrote it
        del record[key]
    (out / "run.json").write_text(json.dumps(record), encoding="utf-8")
    _mark(out, ("average", "p1", "EN"))
    write_image(da / "p1.png", smooth_image(rng, *SIZE))
    capsys.readouterr()
    assert _bench(da, db, out, "average", "--resume") == 0
    err = capsys.readouterr().err
    assert err.count("records no fingerprints of the sources") == 1 and "kept as if the sources were unchanged" in err
    assert _read(out)[("average", "p1", "EN")] == 123.0
    assert "p1" in json.loads((out / "run.json").read_text(encoding="utf-8"))["source_files"]  # known from now on


# 2. a method with a mean over fewer pairs gets no rank and comes last


def _rows_with_a_short_method() -> list[Row]:
    rows = [Row("full", f"p{i}", k, v) for i in range(4) for k, v in (("Qabf", 0.5), ("EN", 6.0))]
    rows += [Row("other", f"p{i}", k, v) for i in range(4) for k, v in (("Qabf", 0.4), ("EN", 7.0))]
    rows += [Row("short", f"p{i}", k, v) for i in range(2) for k, v in (("Qabf", 0.9), ("EN", 9.0))]
    return rows


def test_a_method_with_means_over_fewer_pairs_gets_no_rank_and_is_listed_last(tmp_path, monkeypatch):
    import matplotlib.axes

    from defusion.benchmark.report import (means_csv, summary_chart, summary_latex, summary_markdown, table_ranks,
                                           unranked)
    from defusion.benchmark.report import mean_table

    rows = _rows_with_a_short_method()
    assert unranked(rows) == {"short"}
    methods, metrics, means = mean_table(rows)
    assert table_ranks(rows, methods, metrics, means) == {"full": 1.5, "other": 1.5}  # short would be 1st
    md = summary_markdown(rows).splitlines()
    table = [line for line in md if line.startswith("| ") and not line.startswith("| method")]
    assert [line.split(" | ")[0] for line in table] == ["| full", "| other", "| short"]
    assert table[-1].startswith("| short | — | 0.9† | 9†")
    assert "A method with results missing on some pairs gets no rank (—) and is listed after the ranked ones" \
        in "\n".join(md)
    tex = summary_latex(rows)
    assert tex.index("\nshort &") > tex.index("\nother &") and "gets no rank (---)" in tex
    assert "\nshort & --- & " in tex  # summary.md's rank, its mark as LaTeX writes an em dash
    means_csv(rows, tmp_path / "means.csv")
    with open(tmp_path / "means.csv", newline="", encoding="utf-8") as f:
        table_csv = list(csv.DictReader(f))
    assert [(r["method"], r["rank"]) for r in table_csv] == [("full", "1.500"), ("other", "1.500"), ("short", "")]
    labels: list[list[str]] = []
    real = matplotlib.axes.Axes.set_yticks
    monkeypatch.setattr(matplotlib.axes.Axes, "set_yticks",
                        lambda ax, ticks, names=None, **kw: labels.append(list(names or [])) or real(ax, ticks, names,
                                                                                                     **kw))
    summary_chart(rows, tmp_path / "chart.png")
    assert labels[0] == ["full (1.50)", "other (1.50)", "short (—)"]


def test_a_value_not_defined_on_a_pair_does_not_unrank_its_method(tmp_path):
    """The reviewer's case: A's CC and B's SD are NaN on one pair (a flat image), C is worst on every
    metric. Unranking A and B for that ranked C first; every method has every pair, so all are ranked."""
    from defusion.benchmark.report import mean_table, means_csv, summary_markdown, table_ranks, unranked

    values = {"A": 3.0, "B": 2.0, "C": 1.0}  # higher is better on both metrics: C worst
    rows = [Row(m, f"p{i}", k, v + i) for m, v in values.items() for i in range(3) for k in ("CC", "SD")]
    rows = [Row(r.method, r.image, r.metric, float("nan"))
            if (r.method, r.image, r.metric) in {("A", "p0", "CC"), ("B", "p1", "SD")} else r for r in rows]
    assert unranked(rows) == set()
    methods, metrics, means = mean_table(rows)
    ranks = table_ranks(rows, methods, metrics, means)
    # each NaN's mean (over fewer pairs) ranks after the full means of its metric: no method gains from its
    # NaN, ranking no better than with its value on that pair (A 1st, B 2nd, C 3rd)
    full = [Row(m, f"p{i}", k, v + i) for m, v in values.items() for i in range(3) for k in ("CC", "SD")]
    assert all(ranks[m] >= table_ranks(full, *mean_table(full))[m] for m in ("A", "B"))
    assert ranks["C"] == max(ranks.values())
    md = summary_markdown(rows)
    table = [line for line in md.splitlines() if line.startswith("| ") and not line.startswith("| method")]
    assert table[-1].startswith("| C | 2.00 |") and "—" not in md and "listed after" not in md
    assert "† mean over fewer pairs" in md  # the NaN's mean is still marked
    means_csv(rows, tmp_path / "means.csv")
    with open(tmp_path / "means.csv", newline="", encoding="utf-8") as f:
        assert [r["method"] for r in csv.DictReader(f)][-1] == "C"


def test_ranks_are_unchanged_where_every_method_has_every_pair():
    from defusion.benchmark.report import summary_markdown

    rows = [r for r in _rows_with_a_short_method() if r.method != "short"]
    text = summary_markdown(rows)
    assert "| full | 1.50 |" in text and "—" not in text and "listed after" not in text


def test_a_published_method_with_results_missing_is_not_ranked_first(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng, ("p1", "p2", "p3"))
    pub = tmp_path / "pub"
    write_image(pub / "p1.png", np.clip(smooth_image(rng, *SIZE).astype(int) * 3 - 200, 0, 255).astype(np.uint8))
    assert _bench(da, db, tmp_path / "out", "average,max", "--fused", f"pub={pub}") == 1  # 2 results missing
    lines = (tmp_path / "out" / "summary.md").read_text(encoding="utf-8").splitlines()
    assert lines[-5].startswith("| pub | — |")  # last row, before the coverage note and the build's line


# 3. versus.md: values a rounding apart tie and leave the signed-rank test


def test_versus_counts_rounding_differences_as_ties_and_leaves_them_out_of_the_test():
    from scipy.stats import wilcoxon

    from defusion.benchmark.compare import paired_comparisons

    base = np.linspace(0.3, 0.6, 8)
    rows = [Row("ours", f"p{i}", "Qabf", float(v)) for i, v in enumerate(base)]
    rows += [Row("same", f"p{i}", "Qabf", float(v) * (1 + 1e-15)) for i, v in enumerate(base)]
    (c,) = paired_comparisons(rows, "ours")
    assert (c.wins, c.ties, c.losses) == (0, 8, 0)
    assert math.isnan(c.p_value) and not c.better and not c.worse
    # six real wins, two rounding differences: those are ties and do not enter the test
    ours = np.array([0.1 + 0.2, 0.7, 0.5, 0.6, 0.8, 0.9, 0.55, 0.65])
    theirs = np.array([0.3, 0.7 * (1 - 1e-14), 0.4, 0.45, 0.5, 0.6, 0.3, 0.2])
    rows = [Row("ours", f"p{i}", "Qabf", float(v)) for i, v in enumerate(ours)]
    rows += [Row("base", f"p{i}", "Qabf", float(v)) for i, v in enumerate(theirs)]
    (c,) = paired_comparisons(rows, "ours")
    assert (c.wins, c.ties, c.losses) == (6, 2, 0)
    assert c.p_value == pytest.approx(wilcoxon((ours - theirs)[2:]).pvalue)
    assert c.better


def test_the_same_result_scored_in_two_runs_ties_in_versus(tmp_path, rng, capsys):
    """An earlier run's scores come back from results.csv (six digits): the tables are made from the
    stored values, so the same result scored now is level with them, not a rounding apart."""
    da, db = _pairs(tmp_path, rng)
    pub = tmp_path / "pub"
    for stem in ("p1", "p2"):
        write_image(pub / f"{stem}.png", smooth_image(rng, *SIZE))
    out = tmp_path / "out"
    assert _bench(da, db, out, "none", "--fused", f"first={pub}") == 0
    assert _bench(da, db, out, "none", "--fused", f"again={pub}", "--resume", "--versus", "again") == 0
    assert "| first | 2 | 0 (0) / 0 (0) of 2 | 0/2/0 | 0/2/0 |" in (out / "versus.md").read_text(encoding="utf-8")


# 4. what was asked for and left out: exit status 1, with a last line


def test_pairs_and_results_left_out_make_exit_status_1_with_a_last_line(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng, ("p1", "p2", "p3"))
    (db / "p3.png").write_bytes(b"broken")  # a pair that cannot be read
    write_image(da / "extra.png", smooth_image(rng, *SIZE))  # a stem without partner: noted, not counted
    out = tmp_path / "out"
    assert _bench(da, db, out, "average") == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == "defusion: left out 1 of 3 pairs (e.g. p3): see the lines above; exit status 1"
    (db / "p3.png").unlink()
    assert _bench(da, db, out, "average", "--overwrite") == 0  # only the unmatched stems left: a warning, status 0
    assert "extra: no partner in the other folder" in capsys.readouterr().err


def test_a_method_failing_or_a_result_of_another_size_is_exit_status_1(tmp_path, rng, monkeypatch, capsys):
    from defusion import baselines

    da, db = _pairs(tmp_path, rng, ("p1", "p2", "p3"))
    real = baselines.BASELINES["max"]
    calls: list[int] = []
    monkeypatch.setitem(baselines.BASELINES, "max",
                        lambda a, b: (calls.append(1), real(a, b) if len(calls) != 2 else 1 / 0)[1])
    sized = tmp_path / "sized"
    write_image(sized / "p1.png", smooth_image(rng, *SIZE))
    for stem in ("p2", "p3"):
        write_image(sized / f"{stem}.png", smooth_image(rng, 16, 20))
    assert _bench(da, db, tmp_path / "out", "average,max", "--fused", f"sized={sized}") == 1
    err = capsys.readouterr().err
    assert "p2: max failed" in err and "sized result is 20x16" in err
    assert err.strip().splitlines()[-1] == ("defusion: left out 3 method results on the pairs scored (e.g. max on "
                                            "p2): see the lines above; exit status 1")


def test_the_help_says_what_the_exit_status_means(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    assert "exit status: 0 when every pair and result was scored; 1 when" in " ".join(capsys.readouterr().out.split())


# 5. a resume refuses another task and computes new metrics, deleting nothing; notes name methods


def test_a_resume_with_another_task_is_refused_and_deletes_nothing(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average,max") == 0
    before = {path.relative_to(out): path.read_bytes() for path in out.rglob("*") if path.is_file()}
    capsys.readouterr()
    assert _bench(da, db, out, "average", "--resume", task="ivf") == 2
    captured = capsys.readouterr()
    assert captured.err == (f"defusion: error: --resume: {out} holds a --task mef run, not --task ivf; give another "
                            "--out, or --task mef to resume it\n")
    assert {path.relative_to(out): path.read_bytes() for path in out.rglob("*") if path.is_file()} == before


def test_a_resume_asking_for_new_metrics_computes_them_and_keeps_every_earlier_score(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average,max") == 0
    _mark(out, ("average", "p1", "EN"), ("max", "p2", "SD"))
    capsys.readouterr()
    assert _bench(da, db, out, "average,max", "--resume", metrics="EN") == 0  # fewer: resumed
    err = capsys.readouterr().err
    assert "starting afresh" not in err and _read(out)[("average", "p1", "EN")] == 123.0
    assert "left out of the tables: other metrics (SD)" in err
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert record["metrics"] == ["EN", "SD"]  # results.csv still has SD
    assert _bench(da, db, out, "average", "--resume", metrics="EN,SD,SF") == 0  # SF: new
    err = capsys.readouterr().err
    assert f"defusion: note: SF: not scored by the earlier run in {out}; computed now for average" in err
    assert "the tables also show max, scored by an earlier run" in err and "without SF" in err
    after = _read(out)
    assert after[("average", "p1", "EN")] == 123.0 and after[("max", "p2", "SD")] == 123.0  # none redone or lost
    assert {(m, i) for m, i, k in after if k == "SF"} == {("average", "p1"), ("average", "p2")}  # the methods named
    fresh = tmp_path / "fresh"
    assert _bench(da, db, fresh, "average", metrics="SF") == 0
    assert after[("average", "p1", "SF")] == _read(fresh)[("average", "p1", "SF")]
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["metrics"] == ["EN", "SD", "SF"]
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "| average |" in summary and "| max |" in summary
    assert _bench(da, db, out, "max", "--resume", metrics="EN,SD,SF") == 0  # named now: its SF computed
    assert {(m, i) for m, i, k in _read(out) if k == "SF"} == {(m, i) for m in ("average", "max") for i in ("p1", "p2")}
    assert _read(out)[("max", "p2", "SD")] == 123.0


def test_a_limited_run_fingerprints_only_the_pairs_it_evaluates(tmp_path, rng, monkeypatch):
    from defusion.cli.bench import fingerprints

    da, db = _pairs(tmp_path, rng, ("p1", "p2", "p3"))
    digested: list[Path] = []
    real = fingerprints.digest
    monkeypatch.setattr(fingerprints, "digest", lambda path: digested.append(path) or real(path))
    out = tmp_path / "out"
    assert _bench(da, db, out, "average", "--limit", "1") == 0
    assert set(digested) == {da / "p1.png", db / "p1.png"}
    assert list(json.loads((out / "run.json").read_text(encoding="utf-8"))["source_files"]) == ["p1"]
    assert _bench(da, db, out, "average", "--resume") == 0  # the others, fingerprinted now, p1's kept
    assert list(json.loads((out / "run.json").read_text(encoding="utf-8"))["source_files"]) == ["p1", "p2", "p3"]



def test_a_limited_run_fingerprints_only_the_published_results_of_its_pairs(tmp_path, rng, monkeypatch, capsys):
    """From an audit: with --limit 3, run.json listed digests of every published result (420 files)."""
    from defusion.cli.bench import fingerprints
    from tests.benchmark.test_bench_resume_pairs_and_report import _published

    stems = ("p1", "p2", "p3")
    da, db = _pairs(tmp_path, rng, stems)
    pub = _published(tmp_path / "pub", rng, stems)
    digested: list[Path] = []
    real = fingerprints.digest
    monkeypatch.setattr(fingerprints, "digest", lambda path: digested.append(path) or real(path))
    out = tmp_path / "out"
    assert _bench(da, db, out, "none", "--fused", f"pub={pub}", "--limit", "1") == 0
    assert set(digested) == {da / "p1.png", db / "p1.png", pub / "p1.png"}  # read and hashed: p1's only
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["fused_files"].keys() == {"pub"}
    assert list(json.loads((out / "run.json").read_text(encoding="utf-8"))["fused_files"]["pub"]) == ["p1"]
    assert _bench(da, db, out, "none", "--fused", f"pub={pub}", "--resume") == 0  # the others: scored, recorded
    assert list(json.loads((out / "run.json").read_text(encoding="utf-8"))["fused_files"]["pub"]) == ["p1", "p2", "p3"]
    _mark(out, ("pub", "p3", "EN"))
    digested.clear()
    assert _bench(da, db, out, "none", "--fused", f"pub={pub}", "--resume", "--limit", "1") == 0
    assert pub / "p3.png" in digested and pub / "p2.png" in digested  # scored before: still checked
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))["fused_files"]["pub"]
    assert list(record) == ["p1", "p2", "p3"] and _read(out)[("pub", "p3", "EN")] == 123.0  # none dropped
    # a result outside the limit that changed is still found, by the pair's kept fingerprint
    write_image(pub / "p3.png", np.full(SIZE + (3,), 200, np.uint8))
    capsys.readouterr()
    assert _bench(da, db, out, "none", "--fused", f"pub={pub}", "--resume", "--limit", "1") == 0
    assert "1 published result file(s) changed" in capsys.readouterr().err
    assert ("pub", "p3", "EN") not in _read(out)  # dropped, and left to a run that scores p3
    assert _bench(da, db, out, "none", "--fused", f"pub={pub}", "--resume") == 0
    assert _read(out)[("pub", "p3", "SD")] == 0.0  # rescored: the flat image's SD


def test_notes_name_the_earlier_methods_kept_and_those_left_out_of_the_tables(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    out = tmp_path / "out"
    assert _bench(da, db, out, "average,max,dwt") == 0
    values = {k: v for k, v in _read(out).items() if not (k[0] == "dwt" and k[2] == "EN")}  # dwt: SD only
    _write(out, values)
    capsys.readouterr()
    assert _bench(da, db, out, "average", "--resume", metrics="EN") == 0
    err = capsys.readouterr().err
    assert "left out of the tables: every score of dwt; other metrics (SD)" in err
    assert "the tables also show max, scored by an earlier run" in err
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert "| max |" in summary and "dwt" not in summary


# 6. method names in any case


def test_built_in_method_names_and_versus_match_in_any_case(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    pub = tmp_path / "pub"
    for stem in ("p1", "p2"):
        write_image(pub / f"{stem}.png", smooth_image(rng, *SIZE))
    out = tmp_path / "out"
    assert _bench(da, db, out, "Average,MAX,average", "--versus", "AVERAGE") == 0
    assert {m for m, _, _ in _read(out)} == {"average", "max"}
    assert "average against each method" in (out / "versus.md").read_text(encoding="utf-8")
    assert _bench(da, db, out, "average", "--fused", f"ADF={pub}", "--versus", "adf", "--overwrite") == 0
    assert "ADF against each method" in (out / "versus.md").read_text(encoding="utf-8")  # the name as the user wrote it
    capsys.readouterr()
    assert _bench(da, db, out, "none", "--fused", f"Foo={pub}", "--fused", f"FOO={pub}", "--versus", "foo",
                  "--overwrite") == 2
    assert "--versus foo: Foo, FOO differ only in case" in capsys.readouterr().err
    # a published method named like a baseline but for case is another method (VIFB ships GFF; gff is ours)
    assert _bench(da, db, out, "average", "--fused", f"Average={pub}", "--versus", "average", "--overwrite") == 0
    assert {m for m, _, _ in _read(out)} == {"average", "Average"}
    assert "average against each method" in (out / "versus.md").read_text(encoding="utf-8")  # the exact name first
    assert _bench(da, db, out, "Average", "--versus", "gff", "--overwrite") == 2
    assert "--versus gff: not among the methods of this run (average)" in capsys.readouterr().err
