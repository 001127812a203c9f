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
    (tmp_path / "notes.txt").write_text("not an image", encoding="utf-8")
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


def test_grey_prob_makes_that_share_of_crops_grey_luma_and_leaves_colour_crops_unchanged(tmp_path):
    import pytest

    rgb = (np.random.default_rng(0).random((48, 64, 3)) * 255).astype(np.uint8)
    Image.fromarray(rgb).save(tmp_path / "a.png")
    colour = NaturalImages(tmp_path, crop=16, length=200)
    greyish = NaturalImages(tmp_path, crop=16, length=200, grey_prob=0.5)
    grey = [i for i in range(200) if bool((greyish[i][0] == greyish[i][0][:1]).all())]
    assert 60 < len(grey) < 140  # about half
    kept = next(i for i in range(200) if i not in grey)
    assert np.array_equal(greyish[kept][0].numpy(), colour[kept][0].numpy())  # same crop, same colours
    # a grey crop is the BT.601 luma of the colour crop (the plane the fusion core feeds the network)
    y = (colour[grey[0]][0].numpy() * np.array([0.299, 0.587, 0.114])[:, None, None]).sum(0)
    assert np.abs(greyish[grey[0]][0].numpy()[0] - y).max() <= 1 / 255 + 1e-6
    assert not any(bool((colour[i][0] == colour[i][0][:1]).all()) for i in range(20))
    with pytest.raises(ValueError, match="grey_prob"):
        NaturalImages(tmp_path, grey_prob=1.5)


def test_crop_scale_bounds_the_crop_area_and_reaches_the_crops(tmp_path):
    rng = random.Random(0)
    for _ in range(50):
        l, t, r, b = random_resized_crop_box(500, 375, rng, scale=(0.02, 0.05))
        assert 0.02 * 0.9 <= (r - l) * (b - t) / (500 * 375) <= 0.05 * 1.1
    # a horizontal ramp: a zoomed-in crop spans a narrower band of grey levels
    ramp = np.tile(np.linspace(0, 255, 400, dtype=np.float32), (300, 1)).astype(np.uint8)
    Image.fromarray(ramp).save(tmp_path / "ramp.png")
    def spans(**kw):
        ds = NaturalImages(tmp_path, crop=32, length=40, **kw)
        return np.mean([float(ds[i][0].max() - ds[i][0].min()) for i in range(40)])
    assert spans(crop_scale=(0.01, 0.02)) < 0.5 * spans()


def test_find_images_reads_every_format_fuse_reads_and_leaves_hidden_files_out(tmp_path):
    from defusion.data.dataset import find_images

    for name in ("a.png", "b.gif", "c.heic", "d.dng", "._a.png", ".cache/e.png", "sub/f.jpg", "notes.txt"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    assert [p.relative_to(tmp_path).as_posix() for p in find_images(tmp_path)] == [
        "a.png", "b.gif", "c.heic", "d.dng", "sub/f.jpg"]


def test_find_images_follows_symlinked_folders_once_and_never_loops(tmp_path):
    elsewhere = tmp_path / "elsewhere"  # a data set kept outside the training folder
    for name in ("a.png", "deep/b.jpg", ".c.png", "notes.txt"):
        (elsewhere / name).parent.mkdir(parents=True, exist_ok=True)
        (elsewhere / name).write_bytes(b"")
    root = tmp_path / "data"
    (root / "real").mkdir(parents=True)
    (root / "real" / "d.png").write_bytes(b"")
    (root / "e.png").write_bytes(b"")
    (root / "linked").symlink_to(elsewhere, target_is_directory=True)
    (root / "linked_again").symlink_to(elsewhere, target_is_directory=True)  # the same folder: read once
    (root / "alias").symlink_to(root / "real", target_is_directory=True)  # beside it: the folder is read
    (root / ".hidden").symlink_to(elsewhere, target_is_directory=True)  # hidden: left out
    (elsewhere / "up").symlink_to(root, target_is_directory=True)  # back up the tree: no loop
    (root / "broken").symlink_to(tmp_path / "missing", target_is_directory=True)
    (root / "f.png").symlink_to(elsewhere / "a.png")  # a linked file counts, as before
    found = [p.relative_to(root).as_posix() for p in find_images(root)]
    assert found == ["e.png", "f.png", "linked/a.png", "linked/deep/b.jpg", "real/d.png"]
    assert find_images(root) == find_images(root)  # the same order every time
