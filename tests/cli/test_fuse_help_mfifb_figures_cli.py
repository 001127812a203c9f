"""``defusion fuse --help``'s MFIFB figures under --pixels (fusion.choices' MFIFB_* constants) against the
table they come from, docs/benchmarks.md's "MFIFB, built-in results stored as the published ones":
the help said Qabf 0.780 against 0.684 long after that table (and README) said 0.718 against 0.639."""

from __future__ import annotations

import argparse
from pathlib import Path

from defusion.cli.fuse import add_arguments
from defusion.fusion.choices import MFIFB_QABF_NETWORK, MFIFB_QABF_SOURCES, MFIFB_SOURCES_SPEEDUP

BENCHMARKS = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
#: The heading the MFIFB table of the current scoring goes under.
MFIFB_HEADING = "### MFIFB"


def _mfifb_table() -> dict[str, dict[str, str]]:
    """docs/benchmarks.md's MFIFB table: each method's row as {column: cell}."""
    lines = BENCHMARKS.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(MFIFB_HEADING))
    header = next(i for i in range(start, len(lines)) if lines[i].startswith("| method |"))
    columns = [cell.strip() for cell in lines[header].strip("|").split("|")]
    rows = {}
    for line in lines[header + 2:]:
        if not line.startswith("|"):
            break
        cells = [cell.strip().strip("*") for cell in line.strip("|").split("|")]
        rows[cells[0]] = dict(zip(columns, cells))
    return rows


def _pixels_help() -> str:
    parser = argparse.ArgumentParser(prog="defusion fuse")
    add_arguments(parser)
    action = next(a for a in parser._actions if "--pixels" in a.option_strings)
    return action.help


def test_the_constants_are_the_mfifb_tables_figures():
    rows = _mfifb_table()
    sources, network = rows["defusion"], rows["defusion-network"]  # --task mff; --task mff --pixels network
    assert f"{float(sources['Qabf ↑']):.3f}" == f"{MFIFB_QABF_SOURCES:.3f}"
    assert f"{float(network['Qabf ↑']):.3f}" == f"{MFIFB_QABF_NETWORK:.3f}"
    assert round(float(network["s/pair"]) / float(sources["s/pair"])) == MFIFB_SOURCES_SPEEDUP


def test_the_help_says_the_tables_figures_not_the_stale_ones():
    said = _pixels_help()
    assert f"MFIFB Qabf {MFIFB_QABF_SOURCES:.3f} at --scale 1" in said
    assert f"against the reconstruction's {MFIFB_QABF_NETWORK:.3f} at --scale 2" in said
    assert f"about {MFIFB_SOURCES_SPEEDUP}x faster" in said
    assert "0.780" not in said and "0.684" not in said


def test_readme_says_the_same_pair():
    """README's MFIFB row gives the default's Qabf and the reconstruction's (`--pixels network`)."""
    readme = (BENCHMARKS.parents[1] / "README.md").read_text(encoding="utf-8")
    row = next(line for line in readme.splitlines() if line.startswith("| MFIFB"))
    assert f"Qabf {MFIFB_QABF_SOURCES:.3f}" in row and f"scores {MFIFB_QABF_NETWORK:.3f}" in row
