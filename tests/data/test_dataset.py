import random

import numpy as np
from PIL import Image

from defusion.data.dataset import NaturalImages, find_images, random_resized_crop_box


def test_crop_boxes_stay_inside_the_image():
    rng = random.Random(0)
    for w, h in [(500, 375), (68, 56), (2400, 100), (10, 1000)]:
        for _ in range(50):
            l, t, r, b = random_resized_crop_box(w, h, rng)
            assert 0 <= l < r <= w and 0 <= t < b <= h


def test_dataset_is_recursive_deterministic_and_skips_unreadable(tmp_path):
    (tmp_path / "sub").mkdir()
    Image.fromarray((np.random.rand(50, 70, 3) * 255).astype(np.uint8)).save(tmp_path / "sub" / "a.jpg")
    Image.fromarray((np.random.rand(40, 40) * 255).astype(np.uint8)).save(tmp_path / "b.png")
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff garbage")
    (tmp_path / "notes.txt").write_text("not an image")
    assert len(find_images(tmp_path)) == 3
    ds = NaturalImages(tmp_path, crop=32)
    results = {p.name: ds[i] for i, p in enumerate(ds.files)}
    assert results["broken.jpg"][1] is False
    x, ok = results["b.png"]
    assert ok and x.shape == (3, 32, 32) and 0 <= x.min() and x.max() <= 1
    assert np.array_equal(ds[0][0].numpy(), ds[0][0].numpy())
    ds.set_epoch(1)
    assert not np.array_equal(ds[0][0].numpy(), NaturalImages(tmp_path, crop=32)[0][0].numpy())


def test_epoch_length_cycles_the_images_with_fresh_crops(tmp_path):
    for i in range(3):
        Image.fromarray((np.random.rand(60, 80, 3) * 255).astype(np.uint8)).save(tmp_path / f"{i}.png")
    ds = NaturalImages(tmp_path, crop=16, length=10)
    assert len(ds) == 10 and len(ds.files) == 3
    x9, ok = ds[9]  # image 9 % 3 == 0, a different crop than index 0
    assert ok and x9.shape == (3, 16, 16)
    assert not np.array_equal(x9.numpy(), ds[0][0].numpy())
    assert len(NaturalImages(tmp_path, crop=16)) == 3  # default: one pass over the folder
    import pytest
    with pytest.raises(ValueError, match="positive"):
        NaturalImages(tmp_path, length=0)
