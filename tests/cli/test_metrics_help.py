"""``defusion metrics --help`` names the metrics defined for any number of sources as the one list
(``defusion.metrics.ANY_SOURCE_METRICS``) does, without importing the metrics to build the parser."""

from __future__ import annotations

import subprocess
import sys

import pytest

import defusion.metrics
from defusion.cli.main import main

#: Wide enough that argparse wraps no help line (it would split ``MEF-SSIM`` at its hyphen).
UNWRAPPED_COLUMNS = "1000"


def _sources_help(capsys, monkeypatch) -> str:
    """The help line of the sources, as ``defusion metrics --help`` prints it."""
    monkeypatch.setenv("COLUMNS", UNWRAPPED_COLUMNS)
    with pytest.raises(SystemExit) as exit_:
        main(["metrics", "--help"])
    assert exit_.value.code == 0
    return next(line for line in capsys.readouterr().out.splitlines() if "A B [C ...]  " in line)


def test_the_help_names_every_metric_defined_for_any_number_of_sources(capsys, monkeypatch):
    """The list is written out in the help (the parser imports no metric): it must stay the constant's."""
    names = ", ".join(defusion.metrics.ANY_SOURCE_METRICS)
    assert f"any number of sources ({names})" in _sources_help(capsys, monkeypatch), \
        "defusion metrics --help's list differs from ANY_SOURCE_METRICS: update cli/metrics.py"


def test_building_the_parser_imports_no_metric():
    """The list is read when the help is shown, not while every sub-command's parser is built
    (``defusion --help`` and usage errors stay fast)."""
    code = ("import sys; from defusion.cli.main import build_parser; build_parser(); "
            "assert 'defusion.metrics' not in sys.modules, 'defusion.metrics imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, encoding="utf-8")
    assert result.returncode == 0, result.stderr[-2000:]
