"""`defusion bench --resume` keeps the earlier run's --versus.

From an audit: run.json did not record --versus, so a resumed run that added a method wrote versus.md
and versus.png around the first method instead of the reference the user had picked.
"""

from __future__ import annotations

import json

from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image


def _bench(tmp_path, methods, *extra):
    return main(["bench", "--task", "mef", "--a", str(tmp_path / "a"), "--b", str(tmp_path / "b"),
                 "--out", str(tmp_path / "out"), "--methods", methods, "--metrics", "EN,SD", "--no-progress", *extra])


def test_a_resume_keeps_the_recorded_versus_and_says_when_another_is_given(tmp_path, rng, capsys):
    for stem in ("p1", "p2"):
        write_image(tmp_path / "a" / f"{stem}.png", smooth_image(rng, 32, 40))
        write_image(tmp_path / "b" / f"{stem}.png", smooth_image(rng, 32, 40))
    out = tmp_path / "out"
    assert _bench(tmp_path, "average,max", "--versus", "max") == 0
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["versus"] == "max"
    capsys.readouterr()
    assert _bench(tmp_path, "laplacian", "--resume") == 0  # a method added: the reference stays max
    versus = (out / "versus.md").read_text(encoding="utf-8")
    assert "max against each method" in versus and "| laplacian |" in versus and "| average |" in versus
    assert "max vs laplacian:" in capsys.readouterr().out
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["versus"] == "max"
    assert _bench(tmp_path, "average,dwt", "--resume", "--versus", "average") == 0
    err = capsys.readouterr().err
    assert (f"defusion: note: --versus average: the reference of versus.md and versus.png changed from max (the "
            f"earlier run's in {out}) to average") in err
    assert err.count("changed from") == 1
    assert "average against each method" in (out / "versus.md").read_text(encoding="utf-8")
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["versus"] == "average"
    assert _bench(tmp_path, "average", "--resume", "--versus", "average") == 0  # the same: nothing said
    assert "changed from" not in capsys.readouterr().err


def test_a_fresh_run_records_no_versus_where_none_is_given(tmp_path, rng):
    for stem in ("p1",):
        write_image(tmp_path / "a" / f"{stem}.png", smooth_image(rng, 32, 40))
        write_image(tmp_path / "b" / f"{stem}.png", smooth_image(rng, 32, 40))
    assert _bench(tmp_path, "average,max") == 0
    assert json.loads((tmp_path / "out" / "run.json").read_text(encoding="utf-8"))["versus"] is None
    assert "average against each method" in (tmp_path / "out" / "versus.md").read_text(encoding="utf-8")  # the default
