"""scripts/benchmarks_doc.py: docs/benchmarks.md assembled from its sources, marked as generated."""

from __future__ import annotations

import importlib.util

import numpy as np
from PIL import Image

from tests.conftest import REPO

SCRIPT = REPO / "scripts" / "benchmarks_doc.py"


def _script():
    spec = importlib.util.spec_from_file_location("benchmarks_doc", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_page_says_it_is_generated_and_its_sources_lines_stay_out(tmp_path, monkeypatch, capsys):
    doc = _script()
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "benchmarks_header.md").write_text(f"{doc.SOURCE}\n# Benchmarks\n\nintro\n", encoding="utf-8")
    (docs / "benchmarks_footer.md").write_text(f"{doc.SOURCE}\n## Later\n", encoding="utf-8")
    run = tmp_path / "run" / "tno"
    run.mkdir(parents=True)
    (run / "summary.md").write_text("| method |\n", encoding="utf-8")
    chart = np.zeros((40, 60, 3), np.uint8)
    chart[:, 30:] = (255, 200, 0)
    Image.fromarray(chart).save(run / "summary.png")
    monkeypatch.setattr(doc, "DOCS", docs)
    doc.main(str(tmp_path / "run"))
    page = capsys.readouterr().out
    assert page.splitlines()[0] == doc.GENERATED and page.splitlines()[1] == "# Benchmarks"
    assert doc.SOURCE not in page and "| method |" in page and "## Later" in page
    with Image.open(docs / "images" / "bench_tno.png") as copied:  # the chart, in 256 colours at most
        assert copied.mode == "P" and (np.asarray(copied.convert("RGB")) == chart).all()


def test_the_committed_page_and_its_sources_carry_the_marks():
    doc = _script()
    assert (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8").splitlines()[0] == doc.GENERATED
    for name in ("benchmarks_header.md", "benchmarks_footer.md"):
        assert (REPO / "docs" / name).read_text(encoding="utf-8").splitlines()[0] == doc.SOURCE
    page = (REPO / "docs" / "benchmarks.md").read_text(encoding="utf-8")
    for name in ("benchmarks_header.md", "benchmarks_footer.md"):  # an edit to a source reached the page too
        assert doc.source_text(REPO / "docs" / name) in page, f"docs/{name} changed: regenerate docs/benchmarks.md"
