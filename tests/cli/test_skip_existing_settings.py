"""A folder run's settings file (-o/.defusion-fuse.json) records the tiling, the runtime and defusion's build
too, and --skip-existing with others goes on with one warning line (other gains are still refused).

From an audit: the record ignored --tile, --runtime and the version, so a rerun with `--tile 136 --runtime
torch --skip-existing` was accepted unsaid and the folder mixed outputs (tiling changed the MEF example's
pixels by up to 24 grey levels, in 10.9% of its values).
"""

from __future__ import annotations

import json

import pytest

from defusion import __version__
from defusion.cli.build_info import code_fingerprint
from defusion.cli.fuse.fused_settings import SETTINGS_FILE
from defusion.fusion.runtime import onnxruntime_available
from tests.cli.conftest import infrared_visible_folders, one_error_line, run_fuse

#: A code fingerprint no build has: an earlier build's, faked in the record.
OTHER_CODE = "000000000000"
#: The record's key of the settings warned of (fused_settings.WARNED), as the file spells it.
WARNED = "warned"


@pytest.fixture
def folders(tmp_path, rng):
    da, db = infrared_visible_folders(tmp_path, rng)
    return ["--a", da, "--b", db]


def _record(out) -> dict:
    return json.loads((out / SETTINGS_FILE).read_text(encoding="utf-8"))


def _rewritten(out, change) -> None:
    """``out``'s record with ``change`` applied to each run's settings in it."""
    record = _record(out)
    for settings in [record["settings"], *(run for runs in record["runs"].values() for run in runs)]:
        change(settings)
    (out / SETTINGS_FILE).write_text(json.dumps(record), encoding="utf-8")


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("defusion: warning: ")]


def test_the_record_holds_the_tiling_runtime_and_build(tmp_path, folders, tiny_weights):
    out = tmp_path / "out"
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--runtime", "torch", "--tile", "136") == 0
    assert _record(out)["settings"][WARNED] == {"--tile": 136, "--overlap": 64, "--runtime": "torch",
                                                "defusion": __version__, "code": code_fingerprint()}
    assert run_fuse(*folders, "-o", out / "auto", "--weights", tiny_weights) == 0
    warned = _record(out / "auto")["settings"][WARNED]
    assert warned["--tile"] == "auto" and warned["--runtime"] == ("onnxruntime" if onnxruntime_available() else "torch")


def test_skip_existing_with_another_tile_goes_on_with_one_warning(tmp_path, folders, tiny_weights, fuse_calls,
                                                                  fresh_notes, capsys):
    out = tmp_path / "out"
    args = [*folders, "-o", out, "--weights", tiny_weights, "--runtime", "torch"]
    assert run_fuse(*args) == 0
    (out / "03.png").unlink()
    capsys.readouterr()
    assert run_fuse(*args, "--skip-existing") == 0  # the same settings: nothing said
    err = capsys.readouterr().err
    assert not _warnings(err) and "2 of 3 pairs already fused" in err
    assert run_fuse(*args, "--unique-gain", "3.0", "--tile", "136", "--skip-existing") == 2  # gains: refused still
    said = one_error_line(capsys)
    assert "(--unique-gain 1.25, now 3.0" in said and "--tile" not in said
    (out / "03.png").unlink()
    fuse_calls.clear()
    assert run_fuse(*args, "--tile", "136", "--skip-existing") == 0
    err = capsys.readouterr().err
    assert _warnings(err) == [
        f"defusion: warning: --skip-existing: the 2 pairs already in {out} were fused with another tiling, runtime "
        "or build (--tile auto, now 136), which may change the pixels a little (tiles meet elsewhere, runtimes round "
        "differently, a build's code may differ): kept; leave out --skip-existing to fuse every pair again with these"]
    assert len(fuse_calls) == 1 and "2 of 3 pairs already fused" in err


@pytest.mark.skipif(not onnxruntime_available(), reason="needs ONNX Runtime")
def test_skip_existing_with_another_runtime_goes_on_with_one_warning(tmp_path, folders, tiny_weights, fuse_calls,
                                                                     fresh_notes, capsys):
    out = tmp_path / "out"
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--runtime", "onnxruntime", "--device", "cpu") == 0
    capsys.readouterr()
    fuse_calls.clear()
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--runtime", "torch", "--tile", "136",
                    "--skip-existing") == 0
    (warned,) = _warnings(capsys.readouterr().err)
    assert "(--tile auto, now 136; --runtime onnxruntime, now torch)" in warned and not fuse_calls
    # auto is the runtime it stands for here: the same as naming it
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--device", "cpu", "--skip-existing") == 0
    assert not _warnings(capsys.readouterr().err)


def test_skip_existing_after_another_build_warns(tmp_path, folders, tiny_weights, fuse_calls, fresh_notes, capsys):
    out = tmp_path / "out"
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights) == 0
    _rewritten(out, lambda settings: settings[WARNED].update(code=OTHER_CODE))
    capsys.readouterr()
    fuse_calls.clear()
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--skip-existing") == 0
    (warned,) = _warnings(capsys.readouterr().err)
    assert (f"(defusion {__version__} (code {OTHER_CODE}), now defusion {__version__} (code {code_fingerprint()}))"
            in warned) and not fuse_calls


def test_an_older_record_without_them_still_works(tmp_path, folders, tiny_weights, fuse_calls, fresh_notes, capsys):
    """A record an earlier version wrote (no tiling, runtime or build): compared on what it holds, as before,
    its images said to be an earlier defusion's."""
    out = tmp_path / "out"
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "1") == 0
    _rewritten(out, lambda settings: settings.pop(WARNED))
    capsys.readouterr()
    fuse_calls.clear()
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "2", "--skip-existing") == 2
    assert "(--scale 1, now 2)" in one_error_line(capsys)  # refused on what it holds, the record as it was
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "1", "--tile", "136",
                    "--skip-existing") == 0
    (warned,) = _warnings(capsys.readouterr().err)
    assert f"(an earlier defusion (code unrecorded), now defusion {__version__} (code " in warned and not fuse_calls
    assert WARNED not in _record(out)["settings"]  # every image kept: still the earlier run's, as recorded


def test_a_rerun_that_keeps_images_of_another_tiling_and_fuses_one_keeps_both_runs(tmp_path, rng, tiny_weights,
                                                                                     fuse_calls, fresh_notes, capsys):
    """From a review: a --skip-existing rerun with another --tile that kept 3 pairs and fused a new one
    recorded its settings alone, so the next rerun said nothing of the 3 kept pairs' tiling, and one with
    their --tile warned of a tiling none of them had."""
    da, db = infrared_visible_folders(tmp_path, rng)
    out = tmp_path / "out"
    args = ["--a", da, "--b", db, "-o", out, "--weights", tiny_weights, "--runtime", "torch"]
    assert run_fuse(*args, "--tile", "136") == 0
    infrared_visible_folders(tmp_path, rng, stems=("04",))  # a new pair
    capsys.readouterr()
    fuse_calls.clear()
    assert run_fuse(*args, "--skip-existing") == 0
    (warned,) = _warnings(capsys.readouterr().err)
    assert "(--tile 136, now auto)" in warned and len(fuse_calls) == 1
    assert [run[WARNED]["--tile"] for run in _record(out)["runs"]["png"]] == [136, "auto"]
    assert run_fuse(*args, "--skip-existing") == 0  # the 3 kept pairs are still of --tile 136
    (warned,) = _warnings(capsys.readouterr().err)
    assert "the 4 pairs already in" in warned and "(--tile 136, now auto)" in warned
    assert run_fuse(*args, "--tile", "136", "--skip-existing") == 0  # the new pair is of --tile auto
    (warned,) = _warnings(capsys.readouterr().err)
    assert "(--tile auto, now 136)" in warned


def test_a_rerun_that_fuses_every_image_again_records_its_settings_alone(tmp_path, folders, tiny_weights, fresh_notes):
    out = tmp_path / "out"
    args = [*folders, "-o", out, "--weights", tiny_weights, "--runtime", "torch"]
    assert run_fuse(*args, "--tile", "136") == 0
    (out / "03.png").unlink()
    assert run_fuse(*args, "--skip-existing") == 0  # keeps 2 of --tile 136: both runs recorded
    assert len(_record(out)["runs"]["png"]) == 2
    assert run_fuse(*args) == 0  # every pair fused again: this run's alone
    assert [run[WARNED]["--tile"] for run in _record(out)["runs"]["png"]] == ["auto"]
