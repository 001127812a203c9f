"""A folder run records what its images were fused with (-o/.defusion-fuse.json), and --skip-existing
refuses to go on with other settings: an audit found `--scale 1`, then `--scale 2 --task mef
--skip-existing` said "all 40 pairs already fused; nothing to do", a folder of mixed settings unsaid."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timedelta

import pytest

from defusion.cli.fuse.fused_settings import MEMORY_FIELDS, SETTINGS_FILE, SETTINGS_VERSION, SHIPPED, fused_settings
from defusion.model.weights import weights_digest
from tests.cli.conftest import infrared_visible_folders, one_error_line, run_fuse
from tests.cli.test_video_interrupt_cli import _interrupt_at  # KeyboardInterrupt at Fuser.fuse's call-th call


@pytest.fixture
def folders(tmp_path, rng):
    da, db = infrared_visible_folders(tmp_path, rng)
    return ["--a", da, "--b", db]


def _recorded(out) -> dict:
    record = json.loads((out / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert record["version"] == SETTINGS_VERSION
    return record["settings"]


def test_a_folder_run_records_the_settings_its_fuser_fused_with(tmp_path, folders, tiny_weights, monkeypatch):
    from defusion.fusion.fuser import Fuser

    made, real = [], Fuser.from_pretrained.__func__
    monkeypatch.setattr(Fuser, "from_pretrained", classmethod(lambda cls, *a, **k: made.append(real(cls, *a, **k))
                                                             or made[-1]))
    out = tmp_path / "out"
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "1", "--infrared", "2",
                    "--palette", "inferno") == 0
    settings = _recorded(out)
    options = {f"--{name.replace('_', '-')}": value for name, value in asdict(made[0].options).items()
               if name not in MEMORY_FIELDS}
    assert {key: settings[key] for key in options} == {**options, "--infrared": 2,  # as --infrared counts
                                                       "--detail-gain": made[0].options.resolved_detail_gain}
    assert settings["--scale"] == 1 and settings["--palette"] == "inferno" and "--tile" not in settings
    assert settings["--weights"] == {"name": "tiny.safetensors", "digest": weights_digest(tiny_weights)}
    assert settings["precision"] == "fp32" and settings["--resize"] is False and "--quality" not in settings


def test_skip_existing_with_other_settings_is_refused_in_one_line(tmp_path, folders, tiny_weights, fuse_calls,
                                                                  capsys):
    out = tmp_path / "out"
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "1") == 0
    capsys.readouterr()
    fuse_calls.clear()
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "2", "--task", "mef",
                    "--skip-existing") == 2
    assert one_error_line(capsys) == (
        f"defusion: error: --skip-existing: the 3 pairs already in {out} were fused with other settings (--order "
        "given, now exposure; --scale 1, now 2; --unique-gain 1.25, now 1.0): give another -o, or leave out "
        "--skip-existing to fuse every pair again with these")
    assert not fuse_calls and _recorded(out)["--scale"] == 1  # nothing fused, the record as it was


def test_skip_existing_with_the_same_settings_still_skips(tmp_path, folders, tiny_weights, fuse_calls, capsys):
    out = tmp_path / "out"
    args = [*folders, "-o", out, "--weights", tiny_weights, "--scale", "1"]
    assert run_fuse(*args) == 0
    (out / "02.png").unlink()
    fuse_calls.clear()
    assert run_fuse(*args, "--tile", "0", "--skip-existing") == 0  # tiling is how it fits in memory, not a setting
    assert len(fuse_calls) == 1 and "2 of 3 pairs already fused" in capsys.readouterr().err
    assert run_fuse(*args, "--skip-existing") == 0
    assert "all 3 pairs already fused" in capsys.readouterr().err and len(fuse_calls) == 1
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "2") == 0  # all fused again: recorded
    assert _recorded(out)["--scale"] == 2
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "2", "--skip-existing") == 0


def test_other_weights_of_the_same_name_are_other_settings(tmp_path, folders, tiny_weights, capsys):
    import torch

    from defusion.model.registry import create_model
    from defusion.model.weights import save_weights

    torch.manual_seed(7)
    other = tmp_path / "other" / "tiny.safetensors"
    other.parent.mkdir()
    save_weights(create_model("defusion-tiny"), other)
    out = tmp_path / "out"
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights) == 0
    capsys.readouterr()
    assert run_fuse(*folders, "-o", out, "--weights", other, "--skip-existing") == 2
    assert (f"(--weights tiny.safetensors ({weights_digest(tiny_weights)}), now tiny.safetensors "
            f"({weights_digest(other)}))") in one_error_line(capsys)


def test_a_folder_without_a_record_goes_on_with_a_note(tmp_path, folders, tiny_weights, capsys):
    """A folder an older defusion fused: its images are kept, and the note says nothing vouches for them."""
    out = tmp_path / "out"
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights) == 0
    (out / SETTINGS_FILE).unlink()
    (out / "03.png").unlink()
    capsys.readouterr()
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "1", "--skip-existing") == 0
    err = capsys.readouterr().err
    assert (f"defusion: note: {out} holds no record of the settings its 2 pairs were fused with ({SETTINGS_FILE}, "
            "which folder runs write from this version on): --skip-existing keeps them as they are") in err
    assert "2 of 3 pairs already fused" in err and _recorded(out)["--scale"] == 1


def test_stacks_are_held_to_the_same_record(tmp_path, tiny_weights, capsys):
    from tests.io.test_shots import write_shot

    card, out = tmp_path / "card", tmp_path / "out"
    for i, seconds in enumerate([0, 0.3, 0.6, 20, 20.4, 20.8], start=1):
        write_shot(card / f"IMG_{i:04d}.jpg", datetime(2026, 12, 5, 9) + timedelta(seconds=seconds), (1, 100),
                   value=40 * (i % 3 + 1))
    options = ["--stacks", card, "-o", out, "--weights", tiny_weights, "--task", "mef"]
    assert run_fuse(*options) == 0
    capsys.readouterr()
    assert run_fuse(*options, "--deghost", "--skip-existing") == 2
    said = capsys.readouterr().err.splitlines()[-1]  # after the grouping's line
    assert said.startswith("defusion: error: --skip-existing: the 2 groups already in ") and said.endswith(
        "(--deghost off, now on): give another -o, or leave out --skip-existing to fuse every group again with these")
    assert run_fuse(*options, "--skip-existing") == 0
    assert "all 2 groups already fused" in capsys.readouterr().err


def test_the_shipped_weights_are_recorded_by_name_and_digest(tmp_path, folders):
    """No --weights: the shipped ones, whose digest changes when a release's weights do."""
    from defusion.cli.main import build_parser

    args = build_parser().parse_args(["fuse", *map(str, folders), "-o", str(tmp_path / "out"), "--format", "jpg",
                                      "--quality", "80"])
    settings = fused_settings(args, {})
    assert settings["--weights"] == {"name": SHIPPED, "digest": weights_digest()} and settings["--quality"] == 80


@pytest.mark.parametrize("first, again", [
    (["--task", "mef"], ["--order", "exposure", "--unique-gain", "1.0", "--detail-gain", "1.5", "--scale", "2"]),
    ([], ["--detail-gain", "1.5"]),  # the general default's detail gain (2 x 1.25 - 1), spelled out
    (["--format", "jpg"], ["--format", "jpg", "--quality", "95"]),  # the JPEG quality written by default
], ids=["task-spelled-out", "default-detail-gain", "default-quality"])
def test_defaults_spelled_out_are_the_same_settings(tmp_path, folders, tiny_weights, fuse_calls, capsys, first, again):
    """A review found these refused: the record held the options as typed, not as they run."""
    out = tmp_path / "out"
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, *first) == 0
    fuse_calls.clear()
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, *again, "--skip-existing") == 0
    assert not fuse_calls and "already fused" in capsys.readouterr().err


def test_an_interrupted_run_leaves_the_settings_of_the_run_before_recorded(tmp_path, folders, tiny_weights,
                                                                          monkeypatch, fuse_calls, capsys):
    """The audit's case: a finished run, then one with other settings stopped after its first image; going on
    with --skip-existing kept the earlier run's images, as the record held the latest run's settings alone."""
    out = tmp_path / "out"
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "1") == 0
    with monkeypatch.context() as patched:
        _interrupt_at(patched, 2)
        assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "2") == 130
    capsys.readouterr()
    fuse_calls.clear()
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "2", "--skip-existing") == 2
    assert one_error_line(capsys) == (
        f"defusion: error: --skip-existing: the 3 pairs already in {out} were fused with other settings (--scale 1, "
        "now 2): give another -o, or leave out --skip-existing to fuse every pair again with these")
    assert not fuse_calls
    # the whole run again settles it: these settings alone, and --skip-existing goes on from them
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "2") == 0
    record = json.loads((out / SETTINGS_FILE).read_text(encoding="utf-8"))
    assert [run["--scale"] for run in record["runs"]["png"]] == [2]
    (out / "03.png").unlink()
    fuse_calls.clear()
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "2", "--skip-existing") == 0
    assert len(fuse_calls) == 1


def test_an_interrupted_run_resumed_with_its_own_settings_is_refused_too(tmp_path, folders, tiny_weights,
                                                                        monkeypatch, capsys):
    """Going on with the interrupted run's settings would keep the unfused rest of the run before it."""
    out = tmp_path / "out"
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--task", "mef") == 0
    with monkeypatch.context() as patched:
        _interrupt_at(patched, 2)
        assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--task", "mef", "--scale", "1") == 130
    capsys.readouterr()
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--task", "mef", "--scale", "1",
                    "--skip-existing") == 2
    assert "(--scale 2, now 1)" in one_error_line(capsys)


def test_each_output_format_has_its_own_record(tmp_path, folders, tiny_weights, fuse_calls, capsys):
    """PNGs of one run, JPEGs of another: going on with the PNGs compares them with their own run."""
    out = tmp_path / "out"
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "1") == 0
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "2", "--format", "jpg") == 0
    capsys.readouterr()
    fuse_calls.clear()
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "2", "--skip-existing") == 2
    assert "(--scale 1, now 2)" in one_error_line(capsys) and not fuse_calls
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "1", "--skip-existing") == 0
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "2", "--format", "jpg",
                    "--skip-existing") == 0
    assert not fuse_calls


def test_a_run_with_a_failed_pair_keeps_the_earlier_runs_settings_recorded(tmp_path, rng, tiny_weights, capsys):
    """A pair that fails leaves the earlier run's image of it in -o: that run's settings stay recorded."""
    out = tmp_path / "out"
    da, db = infrared_visible_folders(tmp_path, rng)
    args = ["--a", da, "--b", db, "-o", out, "--weights", tiny_weights]
    assert run_fuse(*args, "--scale", "1") == 0
    good = (da / "02.png").read_bytes()
    (da / "02.png").write_bytes(b"not an image")
    assert run_fuse(*args, "--scale", "2") == 1  # 02 failed: its image is still the first run's
    (da / "02.png").write_bytes(good)
    capsys.readouterr()
    assert run_fuse(*args, "--scale", "2", "--skip-existing") == 2
    assert "(--scale 1, now 2)" in one_error_line(capsys)


def test_a_version_1_record_still_holds_for_the_images_there(tmp_path, folders, tiny_weights, capsys):
    """A folder an earlier version recorded (its latest run's settings alone) is compared with them, and the
    next run records its own beside them."""
    out = tmp_path / "out"
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "1") == 0
    record = json.loads((out / SETTINGS_FILE).read_text(encoding="utf-8"))
    (out / SETTINGS_FILE).write_text(json.dumps({"version": 1, "settings": record["settings"]}), encoding="utf-8")
    (out / "03.png").unlink()
    capsys.readouterr()
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "2", "--skip-existing") == 2
    assert "(--scale 1, now 2)" in one_error_line(capsys)
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--scale", "1", "--skip-existing") == 0
    assert _recorded(out)["--scale"] == 1


def test_components_written_beside_the_images_do_not_keep_an_earlier_run_recorded(tmp_path, folders, tiny_weights,
                                                                                 capsys):
    """A review: with --components into -o itself (or any other PNG there), a whole run never settled the
    record, and --skip-existing stayed refused however often the folder was fused again."""
    out = tmp_path / "out"
    for scale in ("1", "2"):
        assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--components", out, "--scale", scale) == 0
    (out / "notes.png").write_bytes((out / "01.png").read_bytes())  # a file of the user's
    (out / "03.png").unlink()
    capsys.readouterr()
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--components", out, "--scale", "2",
                    "--skip-existing") == 0
    assert "2 of 3 pairs already fused" in capsys.readouterr().err and (out / "03.png").is_file()


def test_a_record_of_a_later_layout_is_left_alone_and_skip_existing_refused(tmp_path, folders, tiny_weights, capsys):
    out = tmp_path / "out"
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights) == 0
    later = json.dumps({"version": SETTINGS_VERSION + 1, "settings": {}, "runs": {"png": {"new": "layout"}}})
    (out / SETTINGS_FILE).write_text(later, encoding="utf-8")
    capsys.readouterr()
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights, "--skip-existing") == 2
    assert "was written by a later defusion" in one_error_line(capsys)
    assert run_fuse(*folders, "-o", out, "--weights", tiny_weights) == 0  # fused again whole, the record kept
    assert (out / SETTINGS_FILE).read_text(encoding="utf-8") == later
