"""`defusion fuse --rig` on the security audit's rig files: one error line and exit status 2, at once. Before,
a matrix entry of 1e308 spun in OpenCV's warpPerspective (a `timeout 45` ignored for 10 minutes), and a size
of Infinity was an OverflowError traceback. Run in a process of its own, killed if it does not return."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from defusion.io.images import write_image
from tests.conftest import smooth_image

#: Seconds the refusal may take: the interpreter's start and defusion's imports, several times over
#: on a loaded machine; the spin it replaces never ended.
QUICK_S = 120

HUGE = ('{"format":"defusion-rig","version":1,"reference":{"size":[96,64]},'
        '"cameras":[{"size":[96,64],"matrix":[[1e308,0,0],[0,1e308,0],[0,0,1]]}]}')
INFINITE = ('{"format":"defusion-rig","version":1,"reference":{"size":[Infinity,64]},'
            '"cameras":[{"size":[96,64],"matrix":[[1,0,0],[0,1,0],[0,0,1]]}]}')


@pytest.mark.parametrize("text, said", [
    (HUGE, "camera 2: the matrix has an entry of 1e+308, over any rig's (at most 1e+12); calibrate again "
           "(defusion calibrate), with marks of the same scene points in each image"),
    (INFINITE, "an image size must be two whole numbers (W, H), got [inf, 64]"),
])
def test_an_implausible_rig_file_is_one_error_line_at_once(tmp_path, rng, tiny_weights, text, said):
    pair = [str(write_image(tmp_path / name, smooth_image(rng, 64, 96))) for name in ("a.png", "b.png")]
    rig = tmp_path / "badrig.json"
    rig.write_text(text, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "defusion", "fuse", *pair, "--rig", str(rig), "-o",
                           str(tmp_path / "o.png"), "--weights", str(tiny_weights), "--no-progress"],
                          capture_output=True, timeout=QUICK_S, env={**os.environ, "PYTHONIOENCODING": "utf-8"})
    err = done.stderr.decode("utf-8")
    assert done.returncode == 2, err
    assert err.splitlines() == [f"defusion: error: {rig}: {said}"]
    assert not (tmp_path / "o.png").exists()


def test_calibrate_writes_no_rig_the_bounds_refuse(tmp_path, capsys):
    """Marks spread over a 2000x1500 first image but within a pixel of each other in a 10x10 one fit a
    scale of 1/2000: calibrate wrote that rig (fit_matrix's own bound is a determinant of 1e-9), which every
    read would now refuse. It is one error line instead, exit status 2, and no rig file."""
    from defusion.cli.main import main

    first = write_image(tmp_path / "vis.png", np.zeros((1500, 2000), np.uint8))
    other = write_image(tmp_path / "ir.png", np.zeros((10, 10), np.uint8))
    ref = np.array([[10, 10], [1900, 20], [40, 1400], [1880, 1430], [950, 700], [300, 1100]], float)
    points = tmp_path / "ir.csv"
    points.write_text("".join(f"{x},{y},{5 + x / 2000},{5 + y / 2000}\n" for x, y in ref), encoding="utf-8")
    rig = tmp_path / "rig.json"
    assert main(["calibrate", str(first), str(other), "--points", str(points), "-o", str(rig)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith("defusion: error: camera 2: the matrix maps one pixel of the first "
                                               "camera to 0.0005 of this camera's"), err
    assert not rig.exists()
