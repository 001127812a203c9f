"""``defusion bench``'s comparison grids label the sources by their file names, as ``defusion fuse
--compare`` does, not "A" and "B"."""

from __future__ import annotations

from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image


def test_grids_label_the_sources_by_their_file_names(tmp_path, rng, monkeypatch):
    import defusion.benchmark.report as report

    da, db = tmp_path / "vi", tmp_path / "ir"
    write_image(da / "p1.png", smooth_image(rng, 32, 40))
    write_image(db / "p1.png", smooth_image(rng, 32, 40))
    drawn = []
    real = report.comparison_grid

    def recording(a, b, outputs, *args, **keywords):
        drawn.append(keywords.get("sources"))
        return real(a, b, outputs, *args, **keywords)

    monkeypatch.setattr(report, "comparison_grid", recording)
    out = tmp_path / "out"
    assert main(["bench", "--task", "mef", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", "average",
                 "--metrics", "EN", "--no-progress"]) == 0
    assert drawn == [("vi/p1.png", "ir/p1.png")]
    assert (out / "grids" / "p1.jpg").is_file()
