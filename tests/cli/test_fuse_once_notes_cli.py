"""A folder run (--a/--b, --stacks) says each note a pair would repeat once, for its first pair or group,
however many follow (cli/fuse/once.py): a line per pair would bury the progress bar."""

from __future__ import annotations

import numpy as np
import tifffile

from defusion.io.images import write_image
from tests.cli.conftest import run_fuse

PAIRS = 3


def _thermal_pairs(tmp_path, rng):
    """Visible 8-bit RGB and infrared float frames in degrees, of another size."""
    vis, ir = tmp_path / "vis", tmp_path / "ir"
    ir.mkdir()
    for i in range(PAIRS):
        write_image(vis / f"p{i}.png", rng.integers(0, 256, (40, 56, 3), dtype=np.uint8))
        tifffile.imwrite(ir / f"p{i}.tif", (20 + rng.random((30, 42)) * 25).astype(np.float32))
    return vis, ir


def _said(capsys, *parts: str) -> list[int]:
    err = capsys.readouterr().err
    return [err.count(part) for part in parts]


def test_a_thermal_folder_given_infrared_first_is_noted_once(tmp_path, rng, tiny_weights, capsys, fresh_notes):
    vis, ir = _thermal_pairs(tmp_path, rng)
    assert run_fuse("--a", ir, "--b", vis, "-o", tmp_path / "out", "--task", "ivf", "--resize",
                    "--weights", tiny_weights) == 0
    floats, order, resize = _said(capsys, "holds float values", "visible first is the convention", "--resize resized")
    assert (floats, order, resize) == (1, 1, 1)


def test_raw_frames_left_unstretched_into_an_8_bit_format_are_noted_once(tmp_path, rng, tiny_weights, capsys,
                                                                         fresh_notes):
    cards = tmp_path / "card"
    for group in range(PAIRS):
        write_image(cards / f"g{group}a.png", rng.integers(0, 65536, (32, 32), dtype=np.uint16))
        write_image(cards / f"g{group}b.png", (2000 + rng.integers(0, 300, (32, 32))).astype(np.uint16))
    assert run_fuse("--stacks", cards, "--group", "2", "-o", tmp_path / "out", "--stretch", "none",
                    "--format", "jpg", "--weights", tiny_weights) == 0
    assert _said(capsys, "reads nearly flat unstretched", "holds 8 bits") == [1, 1]
