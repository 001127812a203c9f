"""run.json's "method_builds" names the builds of the rows results.csv holds, not of the rows the run set out
to compute: a method whose every pair then failed to be scored is not said to be this build's. And means.csv
and stds.csv name, in a last column, the build that made each method's rows."""

from __future__ import annotations

import csv
import json

from defusion import __version__
from defusion.cli.build_info import code_fingerprint
from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image

#: A code fingerprint no build has: an earlier build's, faked in run.json.
OTHER_CODE = "000000000000"


def _folders(tmp_path, rng):
    da, db, pub = tmp_path / "a", tmp_path / "b", tmp_path / "published"
    for stem in ("p1", "p2"):
        write_image(da / f"{stem}.png", smooth_image(rng, 40, 48, 1))
        write_image(db / f"{stem}.png", smooth_image(rng, 40, 48, 1))
    return da, db, pub


def _bench(da, db, pub, out, *extra) -> int:
    return main(["bench", "--task", "mef", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", "average",
                 "--fused", f"PUB={pub}", "--metrics", "EN,SD", "--no-progress", *extra])


def _record(out) -> dict:
    return json.loads((out / "run.json").read_text(encoding="utf-8"))


def _this() -> dict:
    return {"defusion": __version__, "code": code_fingerprint()}


def test_a_published_result_failing_on_every_pair_is_not_said_to_be_this_builds(tmp_path, rng):
    da, db, pub = _folders(tmp_path, rng)
    pub.mkdir()
    (pub / "p1.png").write_bytes(b"broken")  # fingerprinted, so counted as to compute; unreadable when scored
    out = tmp_path / "out"
    assert _bench(da, db, pub, out) == 1  # PUB left out
    assert _record(out)["method_builds"] == {"average": [_this()]}


def test_a_resume_failing_to_rescore_keeps_only_the_earlier_build_of_a_method(tmp_path, rng, fresh_notes):
    da, db, pub = _folders(tmp_path, rng)
    write_image(pub / "p1.png", smooth_image(rng, 40, 48, 1))  # p2's result missing
    out = tmp_path / "out"
    assert _bench(da, db, pub, out) == 1
    record = _record(out)
    for builds in record["method_builds"].values():  # as an earlier build of the code left it
        for build in builds:
            build["code"] = OTHER_CODE
    record["build"]["code"] = OTHER_CODE
    (out / "run.json").write_text(json.dumps(record), encoding="utf-8")
    write_image(pub / "p2.png", smooth_image(rng, 30, 30, 1))  # p2's result now there, but of another size
    assert _bench(da, db, pub, out, "--resume") == 1
    earlier = {"defusion": __version__, "code": OTHER_CODE}
    assert _record(out)["method_builds"] == {"average": [earlier], "PUB": [earlier]}  # nothing rescored


def test_means_and_stds_csv_name_the_build_of_each_methods_rows(tmp_path, rng):
    da, db, pub = _folders(tmp_path, rng)
    for stem in ("p1", "p2"):
        write_image(pub / f"{stem}.png", smooth_image(rng, 40, 48, 1))
    out = tmp_path / "out"
    assert _bench(da, db, pub, out) == 0
    name = f"defusion {__version__} (code {code_fingerprint()})"
    for table in ("means.csv", "stds.csv"):
        with open(out / table, newline="", encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        assert list(rows[0]) == ["method", "rank", "images", "EN", "SD", "seconds", "build"]  # the build last
        assert {r["method"]: r["build"] for r in rows} == {"average": name, "PUB": name}
