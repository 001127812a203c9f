"""NaturalImages reads every kind of image the package reads, at one scale, and names the ones it skips."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from defusion.data.dataset import NaturalImages
from tests.conftest import smooth_image

#: Pillow resamples 8-bit crops in two passes, each rounded to 1/255; 16-bit ones stay floats.
ROUNDING = 1.5 / 255


def _write(path, pixels: np.ndarray, mode: str | None = None) -> None:
    if path.suffix == ".tif" and pixels.ndim == 3:  # Pillow cannot write 16-bit colour
        import tifffile

        tifffile.imwrite(path, pixels, photometric="rgb")
    elif pixels.dtype == np.uint16 and pixels.ndim == 3:
        import cv2

        cv2.imwrite(str(path), np.ascontiguousarray(pixels[..., ::-1]))
    else:
        im = Image.fromarray(pixels)
        im.convert(mode).save(path) if mode else im.save(path)


def _crops(folder, **options) -> list[torch.Tensor]:
    ds = NaturalImages(folder, crop=32, length=12, **options)
    samples = [ds[i] for i in range(len(ds))]
    assert all(ok for _, ok in samples)
    return [x for x, _ in samples]


@pytest.mark.parametrize("kind", ["grey16.png", "grey16.tif", "rgb16.png", "rgb16.tif", "grey8.png", "palette.png",
                                  "rgba.png", "grey-alpha.png", "cmyk.jpg"])
def test_every_image_kind_trains_at_the_8_bit_scale(tmp_path, kind):
    """A 16-bit image of the same picture gives the 8-bit image's crops (not white ones), and
    grey, palette, alpha and CMYK images the crops of their RGB rendering."""
    rng = np.random.default_rng(0)
    colour = smooth_image(rng, 48, 64)
    grey = smooth_image(rng, 48, 64, channels=1)
    name, suffix = kind.split(".")
    pixels = grey if name.startswith("grey") else colour
    if name.endswith("16"):
        pixels = pixels.astype(np.uint16) * 257  # the same values at 16 bits
    mode = {"palette": "P", "rgba": "RGBA", "grey-alpha": "LA", "cmyk": "CMYK"}.get(name)
    (tmp_path / "kind").mkdir()
    _write(tmp_path / "kind" / kind, pixels, mode)
    # the reference: the picture as 8-bit RGB, as Pillow renders the mode
    reference = Image.fromarray(grey if name.startswith("grey") else colour)
    if mode:
        reference = Image.open(tmp_path / "kind" / kind).convert("RGB")
    (tmp_path / "ref").mkdir()
    reference.convert("RGB").save(tmp_path / "ref" / "ref.png")
    for got, want in zip(_crops(tmp_path / "kind"), _crops(tmp_path / "ref")):
        assert got.dtype == torch.float32 and got.shape == (3, 32, 32)
        assert 0 <= got.min() and got.max() <= 1
        assert float((got - want).abs().max()) <= ROUNDING
    assert float(got.std()) > 0.02  # a picture, not a flat white crop


def test_16_bit_grey_prob_crops_are_luma_like_8_bit_ones(tmp_path):
    colour = smooth_image(np.random.default_rng(1), 48, 64)
    for folder, pixels in (("8", colour), ("16", colour.astype(np.uint16) * 257)):
        (tmp_path / folder).mkdir()
        _write(tmp_path / folder / "a.png", pixels)
    for got, want in zip(_crops(tmp_path / "16", grey_prob=0.5), _crops(tmp_path / "8", grey_prob=0.5)):
        assert float((got - want).abs().max()) <= 2 * ROUNDING  # Pillow's integer luma against the float one
        assert bool((got == got[:1]).all()) == bool((want == want[:1]).all())


def test_exif_orientation_is_applied(tmp_path):
    stored = np.zeros((64, 64, 3), dtype=np.uint8)
    stored[:, 32:] = 255  # left black, right white; orientation 6 shows it turned a quarter clockwise
    exif = Image.Exif()
    exif[0x0112] = 6
    Image.fromarray(stored).save(tmp_path / "turned.jpg", exif=exif, quality=95)
    for x in _crops(tmp_path, crop_scale=(1.0, 1.0)):  # upright: top black, bottom white, whatever the flip
        assert float(x[:, :12].mean()) < 0.1 and float(x[:, -12:].mean()) > 0.9


def _bad_folder(root):
    root.mkdir()
    Image.fromarray(smooth_image(np.random.default_rng(2), 40, 40)).save(root / "good.png")
    (root / "notes.jpg").write_text("not a picture", encoding="utf-8")
    good = (root / "good.png").read_bytes()
    Image.open(root / "good.png").save(root / "cut.jpg")
    (root / "cut.jpg").write_bytes((root / "cut.jpg").read_bytes()[:300])
    return root, good


def test_each_unreadable_file_is_named_once_with_its_reason(tmp_path, capsys):
    root, _ = _bad_folder(tmp_path / "bad")
    ds = NaturalImages(root, crop=16, length=12)  # each file read 4 times
    assert sum(not ds[i][1] for i in range(12)) == 8
    ds.set_epoch(1)
    assert sum(not ds[i][1] for i in range(12)) == 8
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 2, lines
    notes = next(line for line in lines if "notes.jpg" in line)
    cut = next(line for line in lines if "cut.jpg" in line)
    assert notes.startswith("defusion: warning: skipping ") and "not an image" in notes
    assert cut.startswith("defusion: warning: skipping ") and "truncated" in cut


def test_data_workers_name_a_bad_file_once_across_epochs(tmp_path, capfd):
    root, _ = _bad_folder(tmp_path / "bad")
    ds = NaturalImages(root, crop=16, length=12)
    for epoch in range(2):  # fresh worker processes each epoch, as in training
        ds.set_epoch(epoch)
        valid = torch.cat([ok for _, ok in DataLoader(ds, batch_size=3, num_workers=2)])
        assert int((~valid).sum()) == 8
    err = capfd.readouterr().err
    assert err.count("notes.jpg") == 1 and err.count("cut.jpg") == 1, err


def test_an_image_over_the_pixel_bound_is_skipped_and_named(tmp_path, capsys):
    Image.fromarray(smooth_image(np.random.default_rng(3), 40, 40)).save(tmp_path / "big.png")
    x, ok = NaturalImages(tmp_path, crop=16, max_pixels=1000)[0]
    assert not ok and float(x.abs().max()) == 0
    err = capsys.readouterr().err
    # one line, with how to raise the bound: train's --max-pixels (max_pixels in its config)
    assert err == (f"defusion: warning: skipping {tmp_path / 'big.png'}: 40x40 is 1,600 pixels, over the limit of "
                   "1,000 pixels (raise it with --max-pixels)\n")
    assert NaturalImages(tmp_path, crop=16)[0][1]
    assert NaturalImages(tmp_path, crop=16, max_pixels=1600)[0][1]  # at the bound: read


def test_a_data_worker_reads_under_the_datasets_pixel_bound(tmp_path, capfd):
    """A DataLoader worker gets the bound with its copy of the dataset, and says the hint as training does."""
    Image.fromarray(smooth_image(np.random.default_rng(5), 40, 40)).save(tmp_path / "big.png")
    Image.fromarray(smooth_image(np.random.default_rng(6), 20, 20)).save(tmp_path / "small.png")
    ds = NaturalImages(tmp_path, crop=16, max_pixels=1000)
    valid = torch.cat([ok for _, ok in DataLoader(ds, batch_size=2, num_workers=1)])
    assert valid.tolist() == [False, True]  # big.png skipped, small.png (400 pixels) read
    err = capfd.readouterr().err
    assert err.count("big.png") == 1 and "over the limit of 1,000 pixels (raise it with --max-pixels)" in err


def test_what_reading_says_is_said_once_across_epochs_and_worded_for_training(tmp_path, capfd):
    """Each epoch's fresh workers said a file's read warning again, and worded for fusion."""
    pixels = np.dstack([smooth_image(np.random.default_rng(4), 40, 40), np.full((40, 40), 128, np.uint8)])
    Image.fromarray(pixels, "RGBA").save(tmp_path / "seethrough.png")
    ds = NaturalImages(tmp_path, crop=16, length=6)
    for epoch in range(3):
        ds.set_epoch(epoch)
        assert all(bool(ok.all()) for _, ok in DataLoader(ds, batch_size=3, num_workers=2))
    err = capfd.readouterr().err
    assert err.count("seethrough.png has transparent pixels") == 1, err
    assert "training sees their colour values" in err and "fuse" not in err


def test_images_smaller_than_the_crop_are_up_sampled_with_a_warning_and_tiny_ones_skipped(tmp_path, capsys):
    Image.fromarray(smooth_image(np.random.default_rng(5), 20, 24)).save(tmp_path / "small.png")
    Image.fromarray(smooth_image(np.random.default_rng(6), 6, 40)).save(tmp_path / "sliver.png")
    ds = NaturalImages(tmp_path, crop=32, length=8)
    files = [path.name for path in ds.files]
    samples = [ds[i] for i in range(len(ds))]
    assert all(bool(ok) == (files[i % 2] == "small.png") for i, (_, ok) in enumerate(samples))
    assert ds.upsampled(files.index("small.png")) and not ds.upsampled(files.index("sliver.png"))
    err = capsys.readouterr().err
    assert err.count("small.png is 24x20, smaller than the 32x32 crop: its crops are up-sampled") == 1, err
    assert err.count("skipping") == 1
    assert "sliver.png: 40x6 is too small to train on: its shorter side is under 8 pixels, 0.25 of the 32-pixel crop" \
        in err


def test_a_quiet_dataset_says_nothing_and_another_names_what_it_found_once(tmp_path, capsys):
    """Under DDP only rank 0 speaks: it names what the other ranks found (:meth:`NaturalImages.name`)."""
    root, _ = _bad_folder(tmp_path / "bad")
    Image.fromarray(smooth_image(np.random.default_rng(7), 10, 10)).save(root / "small.png")
    other_rank = NaturalImages(root, crop=16, length=8)
    other_rank.quiet = True
    assert sum(not ok for _, ok in (other_rank[i] for i in range(8))) == 4
    assert capsys.readouterr().err == ""
    rank0 = NaturalImages(root, crop=16, length=8)
    for index in range(len(rank0.files)):
        rank0.name(index)
        rank0.name(index)
    err = capsys.readouterr().err
    assert err.count("skipping") == 2 and err.count("notes.jpg") == 1 and err.count("cut.jpg") == 1
    assert err.count("small.png is 10x10, smaller than the 16x16 crop") == 1 and "good.png" not in err
