"""`defusion fuse --align` refusing a motion no handheld shot has, as it refuses an image it cannot register: a
user's audit fused a bracket with another scene's photo and was told only that the corners moved 146.3 px
(rotation up to 13.8 degrees), exit status 0."""

from __future__ import annotations

import cv2
import pytest

from defusion.cli.main import main
from defusion.io.images import read_image, write_image
from tests.conftest import REPO

EXAMPLES = REPO / "src" / "defusion" / "examples"
#: The shots' size: the examples resized, for speed.
SIZE = (180, 120)


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    """One intra-op thread: the machine's few cores are shared (see tests/conftest.py)."""


def _fuse(*args) -> int:
    return main(["fuse", *map(str, args), "--no-progress", "--scale", "1"])


def _shot(name: str, angle: float = 0.0, shift=(0.0, 0.0)):
    """A shipped example at SIZE, turned ``angle`` degrees about its centre and shifted."""
    image = cv2.resize(read_image(EXAMPLES / f"{name}.png"), SIZE, interpolation=cv2.INTER_AREA)
    matrix = cv2.getRotationMatrix2D((SIZE[0] / 2, SIZE[1] / 2), angle, 1.0)
    matrix[:, 2] += shift
    return cv2.warpAffine(image, matrix, SIZE, borderMode=cv2.BORDER_REPLICATE)


def test_a_single_fusion_refuses_a_turn_no_handheld_shot_has_in_one_line(tmp_path, tiny_weights, capsys):
    under = write_image(tmp_path / "b5_0.png", _shot("mef_under"))
    turned = write_image(tmp_path / "other.png", _shot("mef_over", angle=14.0))
    out = tmp_path / "out.png"
    assert _fuse(under, turned, "--task", "mef", "--align", "affine", "-o", out, "--weights", tiny_weights) == 2
    err = capsys.readouterr().err.strip()
    errors = [line for line in err.splitlines() if line.startswith("defusion: error: ")]
    assert len(errors) == 1 and err.endswith(errors[0]) and "Traceback" not in err, err  # one line, the last
    assert "(or skew) of 14." in err and "do not seem to show one scene" in err and "without alignment" in err, err
    assert "note: aligned" not in err and not out.exists()


def test_a_folder_run_skips_and_names_the_group_it_refuses_and_fuses_the_rest(tmp_path, tiny_weights, capsys):
    card = tmp_path / "card"
    write_image(card / "IMG_a_0.png", _shot("mef_under"))
    write_image(card / "IMG_a_1.png", _shot("mef_over", angle=1.0, shift=(3, -2)))  # a handheld shot
    write_image(card / "IMG_b_0.png", _shot("mef_under"))
    write_image(card / "IMG_b_1.png", _shot("mef_over", angle=14.0))
    out = tmp_path / "out"
    assert _fuse("--stacks", card, "--group", "2", "--task", "mef", "--align", "affine", "-o", out,
                 "--weights", tiny_weights) == 1
    err = capsys.readouterr().err
    assert (out / "IMG_a_0-IMG_a_1.png").exists() and not (out / "IMG_b_0-IMG_b_1.png").exists(), err
    skipped = [line for line in err.splitlines() if line.startswith("defusion: skipped IMG_b_0-IMG_b_1: ")]
    assert len(skipped) == 1 and "(or skew) of 14." in skipped[0], err
    assert "failed: IMG_b_0-IMG_b_1" in err, err
