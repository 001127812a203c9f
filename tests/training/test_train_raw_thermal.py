"""Raw 16-bit thermal frames in a training folder are stretched as ``defusion fuse`` reads them."""

from __future__ import annotations

import numpy as np
from PIL import Image

from defusion.data.dataset import NaturalImages
from defusion.fusion.stretch import measure_stretch, stretch_sources

#: A thermal camera's counts: a narrow band of the 16-bit range (docs/features.md, "Raw thermal frames").
LOW, HIGH = 7000, 8500


def _thermal(height: int = 48, width: int = 64) -> np.ndarray:
    y, x = np.mgrid[0:height, 0:width]
    return (LOW + (HIGH - LOW) * (x / (width - 1)) * (y / (height - 1))).astype(np.uint16)


def test_a_raw_thermal_frame_trains_stretched_as_fusion_reads_it(tmp_path, capsys):
    frame = _thermal()
    Image.fromarray(frame).save(tmp_path / "ir.png")
    ds = NaturalImages(tmp_path, crop=32, crop_scale=(1.0, 1.0))
    crop, valid = ds[0]
    assert valid
    assert float(crop.max() - crop.min()) > 0.8  # unstretched: 1500 / 65535, about 0.02
    fixed = measure_stretch([frame])
    low, high = fixed.mapping(0)
    stretched, _ = stretch_sources([frame], [frame / 65535.0], fixed)  # fusion's mapping of the whole frame
    assert float(crop.min()) >= 0.0 and abs(float(crop.max()) - float(stretched[0].max())) < 0.05
    assert (round(low * 65535), round(high * 65535)) == (7001, 8453)
    err = capsys.readouterr().err
    assert err.count("defusion: note:") == 1 and "ir.png holds 16-bit values 7001-8453" in err
    assert "as defusion fuse reads it" in err


def test_the_stretch_is_said_once_and_display_images_are_untouched(tmp_path, capsys):
    for i in range(3):
        Image.fromarray(_thermal() + 100 * i).save(tmp_path / f"ir{i}.png")
    Image.fromarray(np.full((48, 64), 40, np.uint8)).save(tmp_path / "vis.png")
    ds = NaturalImages(tmp_path, crop=32)
    spans = [float(ds[i][0].max() - ds[i][0].min()) for i in range(4)]
    assert all(span > 0.3 for span in spans[:3]) and spans[3] == 0.0  # each by its own range; 8-bit as it is
    assert abs(float(ds[3][0].max()) - 40 / 255) < 1e-6
    assert capsys.readouterr().err.count("stretched to the full range") == 1
