"""`defusion bench --fused NAME=PATTERN`: published results named otherwise than `<pair>.<ext>`.

From an audit: --fused took only folders of files named exactly as the pairs, while researchers' results
are often `{stem}_mine.png`, and VIFB's own are `<image>_<method>.jpg`, every method in one folder.
"""

from __future__ import annotations

import json

from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image


def _pairs(tmp_path, rng, stems=("p1", "p2")):
    da, db = tmp_path / "a", tmp_path / "b"
    for stem in stems:
        write_image(da / f"{stem}.png", smooth_image(rng, 32, 40))
        write_image(db / f"{stem}.png", smooth_image(rng, 32, 40))
    return da, db


def _bench(da, db, out, *extra):
    return main(["bench", "--task", "ivf", "--a", str(da), "--b", str(db), "--out", str(out), "--methods", "average",
                 "--metrics", "EN,SD", "--no-progress", *extra])


def _scored(out):
    return {tuple(line.split(",")[:2]) for line in (out / "results.csv").read_text(encoding="utf-8").splitlines()[1:]}


def test_a_pattern_reads_results_named_after_the_pairs_among_other_methods(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    fused = tmp_path / "output" / "fused_images"  # VIFB's layout: every method's results in one folder
    for stem in ("p1", "p2"):
        for method in ("CBF", "GFF"):
            write_image(fused / f"{stem}_{method}.jpg", smooth_image(rng, 32, 40))
    write_image(fused / "p9_CBF.jpg", smooth_image(rng, 32, 40))  # named after no pair: said
    out = tmp_path / "out"
    code = _bench(da, db, out, "--fused", f"CBF={fused}/{{stem}}_CBF.jpg", "--fused", f"GFF={fused}/{{stem}}_GFF.jpg")
    err = capsys.readouterr().err
    assert code == 0, err
    assert {("CBF", "p1"), ("CBF", "p2"), ("GFF", "p1"), ("GFF", "p2")} <= _scored(out)
    assert "--fused CBF: 1 file matching {stem}_CBF.jpg named after no pair, left out: p9_CBF.jpg" in err
    assert "p1_GFF.jpg" not in err  # another method's results in the folder: not strays of CBF
    recorded = json.loads((out / "run.json").read_text(encoding="utf-8"))["fused_dirs"]
    assert recorded == {"CBF": str(fused.resolve() / "{stem}_CBF.jpg"), "GFF": str(fused.resolve() / "{stem}_GFF.jpg")}
    # a resume reads the recorded pattern: unchanged results are kept, not rescored
    assert _bench(da, db, out, "--resume", "--fused", f"CBF={fused}/{{stem}}_CBF.jpg") == 0
    assert {("GFF", "p1"), ("CBF", "p2")} <= _scored(out)


def test_a_pattern_that_matches_no_pair_says_what_it_expected_and_found(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng)
    mine = tmp_path / "mine"
    write_image(mine / "p1_mine.png", smooth_image(rng, 32, 40))
    assert _bench(da, db, tmp_path / "o", "--fused", f"mine={mine}/{{stem}}-mine.png") == 2
    err = capsys.readouterr().err
    assert (f"--fused mine: no file in {mine} matches {{stem}}-mine.png (expected e.g. p1-mine.png for the pair p1; "
            f"found e.g. p1_mine.png); for names like p1_mine.png give a pattern: "
            f"--fused 'mine={mine}/{{stem}}_mine.png'") in err
    assert "Traceback" not in err
    assert _bench(da, db, tmp_path / "o", "--fused", f"mine={mine}") == 2  # the folder form: the same hint
    err = capsys.readouterr().err
    assert "expected e.g. p1.png for the pair p1; found e.g. p1_mine.png" in err
    assert f"give a pattern: --fused 'mine={mine}/{{stem}}_mine.png'" in err


def test_a_pattern_that_can_name_no_image_is_one_line(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng, ("p1",))
    (tmp_path / "mine").mkdir()
    for spec, message in ((f"m={tmp_path}/mine/{{stem}}", "end it with an image file's extension"),
                          (f"m={tmp_path}/mine/{{stem}}_{{stem}}.png", "put {stem} once, in the file's name"),
                          (f"m={tmp_path}/{{stem}}/mine.png", "put {stem} once, in the file's name"),
                          (f"m={tmp_path}/none/{{stem}}.png", f"--fused m: folder not found: {tmp_path}/none")):
        assert _bench(da, db, tmp_path / "o", "--fused", spec) == 2, spec
        err = capsys.readouterr().err
        assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_the_help_gives_the_naming_rule_and_the_pattern(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "NAME=DIR|NAME=PATTERN" in text and "DIR/<pair>.<any image extension>" in text
    assert "'Mine=results/{stem}_mine.png'" in text


def test_an_ext_pattern_reads_mfifb_s_results_of_mixed_extensions(tmp_path, rng, capsys):
    """From an audit: MFIFB's fused_images/<scene>_<METHOD>.<ext> are .jpg, .png or .bmp by scene; a
    pattern with one extension found only some, and the same NAME twice was refused."""
    da, db = _pairs(tmp_path, rng, ("p1", "p2", "p3"))
    fused = tmp_path / "fused_images"
    for stem, ext in (("p1", "jpg"), ("p2", "png"), ("p3", "bmp")):
        write_image(fused / f"{stem}_CNN.{ext}", smooth_image(rng, 32, 40))
        write_image(fused / f"{stem}_DPRL.png", smooth_image(rng, 32, 40))
    out = tmp_path / "out"
    code = _bench(da, db, out, "--fused", f"CNN={fused}/{{stem}}_CNN.{{ext}}")
    err = capsys.readouterr().err
    assert code == 0, err
    assert {("CNN", stem) for stem in ("p1", "p2", "p3")} <= _scored(out) and "DPRL" not in err
    fused_dirs = json.loads((out / "run.json").read_text(encoding="utf-8"))["fused_dirs"]
    assert fused_dirs["CNN"] == str(fused.resolve() / "{stem}_CNN.{ext}")
    assert _bench(da, db, out, "--fused", f"CNN={fused}/{{stem}}_CNN.jpg", "--overwrite") == 1  # one extension
    capsys.readouterr()
    write_image(fused / "p2_CNN.jpg", smooth_image(rng, 32, 40))  # two results of p2: which one is not said
    assert _bench(da, db, tmp_path / "o", "--fused", f"CNN={fused}/{{stem}}_CNN.{{ext}}") == 2
    err = capsys.readouterr().err
    assert ("--fused CNN: " in err and "2 files match for the pair p2: p2_CNN.jpg and p2_CNN.png" in err
            and len(err.strip().splitlines()) == 1 and "Traceback" not in err), err


def test_the_same_name_twice_points_to_ext(tmp_path, rng, capsys):
    da, db = _pairs(tmp_path, rng, ("p1",))
    (tmp_path / "r").mkdir()
    assert _bench(da, db, tmp_path / "o", "--fused", f"CNN={tmp_path}/r/{{stem}}_CNN.jpg",
                  "--fused", f"CNN={tmp_path}/r/{{stem}}_CNN.png") == 2
    assert "name each folder once (a pattern ending in .{ext} takes any extension)" in capsys.readouterr().err


def test_the_help_says_the_pattern_holds_the_extension_or_ext(capsys):
    import pytest

    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "the pattern includes the extension, or {ext} for any" in text and "extension included" not in text
    assert "'CNN=results/{stem}_CNN.{ext}'" in text
