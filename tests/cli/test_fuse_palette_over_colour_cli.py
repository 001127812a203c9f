"""``defusion fuse --palette jet --infrared 2`` over a PET in jet colours: said as a warning line."""

from __future__ import annotations

import numpy as np

from defusion.cli.main import main
from defusion.io.images import write_image
from tests.conftest import smooth_image


def test_fuse_warns_where_the_palettes_image_is_in_colour(tmp_path, rng, tiny_weights, capsys, fresh_notes):
    import cv2

    mri = write_image(tmp_path / "mri.png", smooth_image(rng, 30, 40, 1))
    jet = cv2.applyColorMap(smooth_image(rng, 30, 40, 1), cv2.COLORMAP_JET)[..., ::-1]
    pet = write_image(tmp_path / "pet.png", np.ascontiguousarray(jet))
    args = [str(mri), str(pet), "-o", str(tmp_path / "f.png"), "--weights", str(tiny_weights), "--no-progress",
            "--palette", "jet", "--infrared", "2"]
    assert main(["fuse", *args]) == 0
    err = capsys.readouterr().err
    assert err.count("defusion: warning: pet.png: the image the palette colours is in colour, not grey") == 1, err
