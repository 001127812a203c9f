"""`defusion calibrate` across systems: output in cp1252 (Windows, redirected) that cannot crash it,
the rig saved before anything is said, its hint a command line that runs (paths with spaces quoted),
and a points file with Excel's byte-order mark read."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys

import numpy as np

from defusion.cli.main import main
from defusion.fusion.rig import Rig
from defusion.io.images import write_image
from tests.conftest import smooth_image

#: As on Windows with the output redirected to a file or a pipe: the locale's code page, strict.
WINDOWS_REDIRECTED = {"PYTHONIOENCODING": "cp1252"}


def _marked_pair(folder, rng, name: str = "{}") -> tuple:
    """Two 80x60 views of one scene, the second shifted by (-2, -1), and 8 marks in both."""
    folder.mkdir(parents=True, exist_ok=True)
    scene = smooth_image(rng, 60, 80)
    visible = write_image(folder / f"{name.format('vis')}.png", scene)
    thermal = write_image(folder / f"{name.format('ir')}.png", scene[..., 0])
    marks = np.c_[rng.uniform(8, 72, 8), rng.uniform(8, 52, 8)]
    points = folder / "points.csv"
    points.write_text("".join(f"{x:.2f},{y:.2f},{x - 2:.2f},{y - 1:.2f}\n" for x, y in marks), encoding="utf-8")
    return visible, thermal, points


def test_calibrate_with_output_in_cp1252_says_what_it_cannot_encode_as_escapes(tmp_path, rng):
    """`defusion calibrate` of files named with ↑ once stopped with "'charmap' codec can't encode" before
    it saved the rig (exit status 2): now its names are said as \\u2191, through `python -m defusion`."""
    visible, thermal, points = _marked_pair(tmp_path, rng, "{}\u2191")
    rig = tmp_path / "rig.json"
    result = subprocess.run([sys.executable, "-m", "defusion", "calibrate", str(visible), str(thermal), "--points",
                             str(points), "-o", str(rig)], capture_output=True, timeout=120,
                            env={**os.environ, **WINDOWS_REDIRECTED})
    out, err = result.stdout.decode("cp1252"), result.stderr.decode("cp1252")
    assert result.returncode == 0, err
    assert "camera 2 (ir\\u2191.png, 80x60)" in out and "fuse with: defusion fuse" in out
    assert "Traceback" not in err and rig.is_file()


def _calibrate(visible, thermal, points, rig) -> int:
    return main(["calibrate", str(visible), str(thermal), "--points", str(points), "-o", str(rig)])


def test_the_rig_is_saved_before_output_that_cannot_be_written(tmp_path, rng, monkeypatch, capsys):
    """The fit's first line once came before rig.save: output that failed (a file name cp1252 lacks)
    lost the calibration. Now the rig and its check picture are written first."""
    class Unwritable:
        encoding = "cp1252"

        def write(self, text):
            raise UnicodeEncodeError("charmap", text, 0, 1, "character maps to <undefined>")

        def flush(self):
            pass

    visible, thermal, points = _marked_pair(tmp_path, rng)
    monkeypatch.setattr(sys, "stdout", Unwritable())
    assert _calibrate(visible, thermal, points, tmp_path / "rig.json") == 2
    assert Rig.load(tmp_path / "rig.json").size == (80, 60) and (tmp_path / "rig_check.png").is_file()


def test_the_hint_quotes_paths_with_spaces(tmp_path, rng, capsys):
    """`fuse with: defusion fuse my shots/vis.png ...` once split each path in two."""
    visible, thermal, points = _marked_pair(tmp_path / "my shots", rng)
    rig = tmp_path / "my rigs" / "rig.json"
    assert _calibrate(visible, thermal, points, rig) == 0
    hint = capsys.readouterr().out.rsplit("fuse with: ", 1)[1]
    assert shlex.split(hint) == ["defusion", "fuse", str(visible), str(thermal), "--rig", str(rig), "-o", "fused.png"]


def test_a_points_file_with_a_byte_order_mark_is_read(tmp_path, rng, capsys):
    """Excel's "CSV UTF-8" starts with a byte-order mark, once read as part of the first number:
    'line 1: expected four numbers'."""
    visible, thermal, points = _marked_pair(tmp_path, rng)
    points.write_bytes(b"\xef\xbb\xbf" + points.read_bytes())
    assert _calibrate(visible, thermal, points, tmp_path / "rig.json") == 0, capsys.readouterr().err
