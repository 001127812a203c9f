"""`defusion calibrate`'s argument checks (``_checked_arguments``), on parsed arguments alone: no image read."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from defusion.cli import calibrate as calibrate_cli
from defusion.cli.errors import UserError


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    calibrate_cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_cameras_and_the_check_picture_beside_the_rig_file(tmp_path):
    rig = str(tmp_path / "rig.json")
    assert calibrate_cli._checked_arguments(_args("a.png", "b.png", "--points", "b.csv", "-o", rig)) == (
        2, tmp_path / "rig_check.png")
    assert calibrate_cli._checked_arguments(
        _args("a1.png", "b1.png", "a2.png", "b2.png", "--board", "9x6", "--cameras", "2", "-o", rig,
              "--check", str(tmp_path / "c.jpg"))) == (2, tmp_path / "c.jpg")


@pytest.mark.parametrize(("argv", "message"), [
    (("a.png", "--points", "b.csv"), "at least two"),
    (("a.png", "b.png", "c.png", "--board", "9x6", "--cameras", "2"), "K images per shot"),
    (("a.png", "b.png"), "give either --points"),
    (("a.png", "b.png", "--points", "b.csv", "c.csv"), "one --points file per camera"),
    (("a.png", "b.png", "--points", "b.csv", "--check", "c.txt"), "cannot write --check c.txt"),
    (("a.png", "b.png", "--points", "b.csv", "--check", "a.png"), "a.png is one of the inputs"),
])
def test_inconsistent_arguments_are_one_usage_line(tmp_path, monkeypatch, argv, message):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match=message):
        calibrate_cli._checked_arguments(_args(*argv, "-o", "rig.json"))


def test_a_rig_file_is_json():
    with pytest.raises(UserError, match=r"-o rig.yaml: a rig file is JSON; name it e.g. rig.json"):
        calibrate_cli._checked_arguments(_args("a.png", "b.png", "--points", "b.csv", "-o", str(Path("rig.yaml"))))
