"""The registries and the pages that list them stay in step: every metric has a row in
docs/metrics.md's table (in ``METRICS`` order, with its direction) and is named in the README;
every baseline is in docs/benchmarks_header.md's baselines list and in each of the README's; every
registered model is in the README's list of them.

Reads the registries, never a copied list of names, so that adding a metric, a baseline or a model
fails here (and only here) until the pages say it. A failure names what is missing from which file.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from defusion.baselines import BASELINES
from defusion.metrics import METRICS
from defusion.model.registry import list_models

REPO = Path(__file__).resolve().parents[1]
METRICS_DOC = REPO / "docs" / "metrics.md"
BENCH_HEADER = REPO / "docs" / "benchmarks_header.md"
BENCH_PAGE = REPO / "docs" / "benchmarks.md"  # generated from BENCH_HEADER (scripts/benchmarks_doc.py)
README = REPO / "README.md"

#: The header row of docs/metrics.md's table of every metric.
METRIC_TABLE_HEADER = "| name | better |"
#: The README paragraph that names every metric starts so.
README_METRICS_START = "`defusion metrics` and `defusion bench` use one metric implementation"
#: Where the README lists baselines: the text in parentheses after each of these.
README_BASELINE_LISTS = ("the classical baselines (", "classical methods for comparison (")
#: The docs/benchmarks_header.md bullet that lists the baselines starts so.
BENCH_BASELINES_START = "- Classical baselines:"
#: The README comment that lists the registered models, in quotes, starts so.
README_MODELS_START = "timm-style registry:"
#: A metric's name in running text: letters, digits and hyphens (MS-MEF-SSIM, MI-bits).
NAME_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*")


def rel(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def metric_table(path: Path = METRICS_DOC) -> dict[str, str]:
    """``{name: better}`` of the metric table's rows, in their order ("higher" or "lower")."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(METRIC_TABLE_HEADER)), None)
    assert start is not None, f"{rel(path)}: no metric table (a line starting {METRIC_TABLE_HEADER!r})"
    rows: dict[str, str] = {}
    for line in lines[start + 2:]:  # past the header and its |---| line
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        rows[cells[0].strip("`")] = cells[1]
    return rows


def paragraph(path: Path, start: str) -> str:
    """The text from the line containing ``start`` to the next blank line (a Markdown paragraph or
    a bullet with its continuation lines)."""
    text = path.read_text(encoding="utf-8")
    at = text.find(start)
    assert at >= 0, f"{rel(path)}: no line containing {start!r} (the list this test reads)"
    end = text.find("\n\n", at)
    return text[at:end if end >= 0 else len(text)]


def bullet(path: Path, start: str) -> str:
    """A Markdown bullet starting ``start`` with its continuation lines (up to the next bullet)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith(start)), None)
    assert first is not None, f"{rel(path)}: no bullet starting {start!r} (the list this test reads)"
    taken = [lines[first]]
    for line in lines[first + 1:]:
        if not line.startswith("  ") or line.lstrip().startswith("- "):
            break
        taken.append(line)
    return "\n".join(taken)


def in_parentheses(text: str, opening: str) -> list[str]:
    """The text inside the parentheses opened by each ``opening`` (which ends with ``(``)."""
    found = []
    for match in re.finditer(re.escape(opening), text):
        depth, at = 1, match.end()
        for at in range(match.end(), len(text)):
            depth += {"(": 1, ")": -1}.get(text[at], 0)
            if depth == 0:
                break
        found.append(text[match.end():at])
    return found


def missing(names, text: str) -> list[str]:
    """Those of ``names`` that ``text`` does not name as a whole word (``MI`` is not in ``MI-bits``)."""
    words = set(NAME_TOKEN.findall(text))
    return [name for name in names if name not in words]


# ------------------------------------------------------------------------------------ metrics


def test_every_metric_has_a_row_in_the_metrics_doc_table():
    rows = metric_table()
    lacking = [name for name in METRICS if name not in rows]
    assert not lacking, f"{rel(METRICS_DOC)}: no row in the metric table for {', '.join(lacking)}"


def test_the_metrics_doc_table_lists_no_other_metric_and_follows_the_registry_order():
    rows = metric_table()
    stale = [name for name in rows if name not in METRICS]
    assert not stale, f"{rel(METRICS_DOC)}: the metric table has rows for {', '.join(stale)}, not in METRICS"
    documented = [name for name in METRICS if name in rows]
    assert list(rows) == documented, (f"{rel(METRICS_DOC)}: the metric table's rows are not in METRICS order "
                                      f"({', '.join(documented)})")


def test_the_metrics_doc_table_gives_each_metric_its_registered_direction():
    rows = metric_table()
    wrong = [f"{name} ({rows[name]})" for name, spec in METRICS.items()
             if name in rows and rows[name] != ("higher" if spec.higher_is_better else "lower")]
    assert not wrong, f"{rel(METRICS_DOC)}: the 'better' column contradicts METRICS for {', '.join(wrong)}"


def test_the_readme_names_every_metric():
    lacking = missing(METRICS, paragraph(README, README_METRICS_START))
    assert not lacking, (f"{rel(README)}: the paragraph starting {README_METRICS_START!r} does not name "
                         f"{', '.join(lacking)}")


# ---------------------------------------------------------------------------------- baselines


def test_the_benchmarks_header_lists_every_baseline_and_no_other():
    listed = re.findall(r"`([^`]+)`", bullet(BENCH_HEADER, BENCH_BASELINES_START))
    lacking = [name for name in BASELINES if name not in listed]
    assert not lacking, f"{rel(BENCH_HEADER)}: the baselines list does not name {', '.join(lacking)}"
    stale = [name for name in listed if name not in BASELINES]
    assert not stale, f"{rel(BENCH_HEADER)}: the baselines list names {', '.join(stale)}, not in BASELINES"
    assert list(dict.fromkeys(listed)) == list(BASELINES), (f"{rel(BENCH_HEADER)}: the baselines list is not in "
                                                           f"BASELINES order ({', '.join(BASELINES)})")


def test_the_generated_benchmarks_page_has_the_headers_baselines_list():
    """docs/benchmarks.md is regenerated from the header only at a benchmark run: splice by hand."""
    header = bullet(BENCH_HEADER, BENCH_BASELINES_START)
    assert header in BENCH_PAGE.read_text(encoding="utf-8"), (f"{rel(BENCH_PAGE)}: its baselines list differs from "
                                              f"{rel(BENCH_HEADER)}'s; copy it over")


@pytest.mark.parametrize("opening", README_BASELINE_LISTS)
def test_each_readme_baselines_list_names_every_baseline(opening):
    lists = in_parentheses(README.read_text(encoding="utf-8"), opening)
    assert lists, f"{rel(README)}: no baselines list opening {opening!r}"
    for listed in lists:
        lacking = missing(BASELINES, listed)
        assert not lacking, f"{rel(README)}: the baselines list {opening}...) does not name {', '.join(lacking)}"


# ------------------------------------------------------------------------------------- models


def test_the_readme_names_every_registered_model():
    text = README.read_text(encoding="utf-8")
    at = text.find(README_MODELS_START)
    assert at >= 0, f"{rel(README)}: no models list (a line containing {README_MODELS_START!r})"
    listed = re.findall(r'"([^"]+)"', text[at:text.find("\n", at)])
    lacking = [name for name in list_models() if name not in listed]
    assert not lacking, f"{rel(README)}: the models list ({README_MODELS_START} ...) does not name {', '.join(lacking)}"
    stale = [name for name in listed if name not in list_models()]
    assert not stale, f"{rel(README)}: the models list names {', '.join(stale)}, not registered"


# ------------------------------------------------------------------------- the readers themselves


def test_missing_reads_whole_names_only():
    assert missing(["MI", "MI-bits", "SSIM"], "plus `MI-bits`, MEF-SSIM and SSIM-mean") == ["MI", "SSIM"]


def test_in_parentheses_takes_nested_parentheses():
    assert in_parentheses("baselines (`a`, `b` (when installed)) and (c)", "baselines (") == [
        "`a`, `b` (when installed)"]
