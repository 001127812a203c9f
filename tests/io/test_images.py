import pickle
import warnings

import numpy as np
import pytest
from PIL import Image

from defusion.io.errors import ImageReadError
from defusion.io.images import read_image, write_image
from defusion.io.pairs import match_pairs
from defusion.io.pixel_bound import ImageTooLargeError
from defusion.io.resize import resize_to


@pytest.mark.parametrize("suffix", [".png", ".tif", ".bmp"])
def test_lossless_roundtrip_8bit(tmp_path, rng, suffix):
    rgb = (rng.random((17, 23, 3)) * 255).astype(np.uint8)
    grey = rgb[..., 0].copy()
    assert np.array_equal(read_image(write_image(tmp_path / f"c{suffix}", rgb)), rgb)
    assert np.array_equal(read_image(write_image(tmp_path / f"g{suffix}", grey)), grey)


@pytest.mark.parametrize("suffix", [".png", ".tif"])
def test_16bit_is_kept(tmp_path, rng, suffix):
    rgb = (rng.random((9, 11, 3)) * 65535).astype(np.uint16)
    out = read_image(write_image(tmp_path / f"c{suffix}", rgb))
    assert out.dtype == np.uint16 and np.array_equal(out, rgb)
    grey = rgb[..., 1].copy()
    out = read_image(write_image(tmp_path / f"g{suffix}", grey))
    assert out.dtype == np.uint16 and np.array_equal(out, grey)


def test_webp_is_written_lossless(tmp_path, rng):
    rgb = (rng.random((17, 23, 3)) * 255).astype(np.uint8)
    assert np.array_equal(read_image(write_image(tmp_path / "c.webp", rgb)), rgb)
    grey = rgb[..., 0].copy()  # WebP has no grey mode: read back as three equal channels
    assert np.array_equal(read_image(write_image(tmp_path / "g.webp", grey))[..., 1], grey)
    out = read_image(write_image(tmp_path / "deep.webp", rgb.astype(np.uint16) * 257))
    assert out.dtype == np.uint8 and np.array_equal(out, rgb)


#: The least PSNR (dB) a lossy WebP of quality 50 keeps of a smooth test image (31 measured).
LOSSY_WEBP_PSNR = 28


def _psnr(out: np.ndarray, ref: np.ndarray) -> float:
    return float(10 * np.log10(255 ** 2 / np.mean((out.astype(float) - ref) ** 2)))


def test_webp_with_a_quality_is_lossy_and_smaller_without_one_lossless(tmp_path, rng):
    """Photographers share WebP: a quality given makes it lossy (small); none keeps it lossless."""
    from tests.conftest import smooth_image

    rgb = smooth_image(rng, 64, 96)
    lossless, lossy = write_image(tmp_path / "l.webp", rgb), write_image(tmp_path / "q.webp", rgb, quality=50)
    assert lossless.read_bytes()[12:16] == b"VP8L" and lossy.read_bytes()[12:16] == b"VP8 "  # WebP's chunks
    np.testing.assert_array_equal(read_image(lossless), rgb)  # the default: every pixel kept
    out = read_image(lossy)
    assert lossy.stat().st_size < lossless.stat().st_size
    assert not np.array_equal(out, rgb) and _psnr(out, rgb) > LOSSY_WEBP_PSNR  # close, not equal
    assert write_image(tmp_path / "n.webp", rgb, quality=None).read_bytes() == lossless.read_bytes()


def test_no_quality_is_jpegs_default(tmp_path, rng):
    """quality=None (none given) writes the JPEG byte for byte as DEFAULT_JPEG_QUALITY did."""
    from defusion.io.formats import DEFAULT_JPEG_QUALITY

    rgb = (rng.random((17, 23, 3)) * 255).astype(np.uint8)
    default = write_image(tmp_path / "d.jpg", rgb, quality=None).read_bytes()
    assert default == write_image(tmp_path / "q.jpg", rgb, quality=DEFAULT_JPEG_QUALITY).read_bytes()


def test_jpeg_and_16bit_to_jpeg(tmp_path, rng):
    rgb = np.full((16, 16, 3), 200, np.uint16) * 257
    out = read_image(write_image(tmp_path / "x.jpg", rgb))
    assert out.dtype == np.uint8 and abs(int(out.mean()) - 200) <= 2


@pytest.mark.parametrize("orientation", [2, 3, 4, 5, 6, 7, 8])
def test_exif_orientation_is_honoured_like_pillow(tmp_path, rng, orientation):
    from PIL import ImageOps
    array = (rng.random((6, 10, 3)) * 255).astype(np.uint8)
    for suffix in (".jpg", ".png", ".tif"):
        im = Image.fromarray(array)
        exif = im.getexif()
        exif[0x0112] = orientation
        path = tmp_path / f"o{orientation}{suffix}"
        im.save(path, exif=exif, **({"quality": 100} if suffix == ".jpg" else {}))
        expected = np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB"))
        got = read_image(path)
        assert got.shape == expected.shape, suffix
        assert np.abs(got.astype(int) - expected).max() <= (0 if suffix != ".jpg" else 1), suffix


def test_palette_and_alpha_become_rgb(tmp_path):
    Image.new("P", (5, 4), 3).save(tmp_path / "p.png")
    Image.new("RGBA", (5, 4), (10, 20, 30, 40)).save(tmp_path / "a.png")
    assert read_image(tmp_path / "p.png").shape == (4, 5, 3)
    assert read_image(tmp_path / "a.png")[0, 0].tolist() == [10, 20, 30]


def test_bad_inputs_have_clear_messages(tmp_path, rng):
    with pytest.raises(ImageReadError, match="no such file"):
        read_image(tmp_path / "missing.png")
    (tmp_path / "text.png").write_text("hello", encoding="utf-8")
    with pytest.raises(ImageReadError, match="not an image"):
        read_image(tmp_path / "text.png")
    Image.fromarray((rng.random((64, 64, 3)) * 255).astype(np.uint8)).save(tmp_path / "full.jpg")
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageReadError, match="truncated"):
        read_image(tmp_path / "cut.jpg")
    with pytest.raises(ImageTooLargeError, match="64x64 .* over the limit"):
        read_image(tmp_path / "full.jpg", max_pixels=1000)
    with pytest.raises(ValueError, match="cannot write"):
        write_image(tmp_path / "x.gif", np.zeros((2, 2), np.uint8))


def test_match_pairs_by_stem(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    for name in ("01.png", "02.jpg", "only_a.png"):
        (tmp_path / "a" / name).write_bytes(b"")
    for name in ("01.jpg", "02.jpg", "only_b.bmp", "readme.txt"):
        (tmp_path / "b" / name).write_bytes(b"")
    pairs, unmatched = match_pairs(tmp_path / "a", tmp_path / "b")
    assert [p[0] for p in pairs] == ["01", "02"] and unmatched == ["only_a", "only_b"]


def test_resize_keeps_dtype_and_channels():
    assert resize_to(np.zeros((10, 10, 3), np.uint16), 20, 30).dtype == np.uint16
    assert resize_to(np.zeros((10, 10, 3), np.uint8), 5, 6).shape == (5, 6, 3)


def test_pixel_limits_read_in_pixels_when_small_and_pillows_guard_names_the_size(tmp_path, rng, monkeypatch):
    write_image(tmp_path / "a.png", (rng.random((30, 40)) * 255).astype(np.uint8))
    with pytest.raises(ImageTooLargeError, match=r"40x30 is 1,200 pixels, over the limit of 1,000 pixels"):
        read_image(tmp_path / "a.png", max_pixels=1000)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)  # Pillow warns over this, refuses over twice this
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # its warning once leaked into the CLI's output
        assert read_image(tmp_path / "a.png", max_pixels=2000).shape == (30, 40)  # a bound above Pillow's holds
    assert Image.MAX_IMAGE_PIXELS == 2000
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ImageTooLargeError, match=r"1,200 pixels, over the limit of 500 pixels \(raise it with"):
        read_image(tmp_path / "a.png", max_pixels=500)  # over twice the bound: Pillow refuses first



def test_pixel_bound_error_is_retold_whole_and_survives_pickling(tmp_path, rng):
    write_image(tmp_path / "a.png", (rng.random((30, 40)) * 255).astype(np.uint8))
    with pytest.raises(ImageTooLargeError) as caught:
        read_image(tmp_path / "a.png", max_pixels=1000)
    err = caught.value
    assert (err.source, err.hint) == (str(tmp_path / "a.png"), "raise it with max_pixels=")  # read in Python
    assert str(err.told(source="upload.png", hint="the server's --max-pixels")) == (
        "upload.png: 40x30 is 1,200 pixels, over the limit of 1,000 pixels (the server's --max-pixels)")
    again = pickle.loads(pickle.dumps(err))  # a benchmark worker's error reaches the parent whole
    assert type(again) is ImageTooLargeError and str(again) == str(err) and again.detail == err.detail
    guard = ImageTooLargeError("a.png", "too many pixels for Pillow", hint=None)  # no flag raises Pillow's guard
    assert str(guard.told(hint="the server's --max-pixels")) == "a.png: too many pixels for Pillow"


def test_jpeg_quality_and_full_resolution_colour_from_90(tmp_path, rng):
    """Photographers' JPEGs keep full-resolution colour; 4:2:0 was once the only choice."""
    from PIL import JpegImagePlugin

    rgb = (rng.random((32, 48, 3)) * 255).astype(np.uint8)
    sizes = {}
    for q in (60, 95):
        write_image(tmp_path / f"q{q}.jpg", rgb, quality=q)
        sizes[q] = (tmp_path / f"q{q}.jpg").stat().st_size
        with Image.open(tmp_path / f"q{q}.jpg") as im:
            sampling = JpegImagePlugin.get_sampling(im)
        assert sampling == (0 if q >= 90 else 2), q  # 0: 4:4:4, 2: 4:2:0
    assert sizes[60] < sizes[95]
    with pytest.raises(ValueError, match="from 1 to 100"):
        write_image(tmp_path / "bad.jpg", rgb, quality=0)


def test_a_write_that_fails_names_the_file_asked_for(tmp_path):
    (tmp_path / "file").write_text("", encoding="utf-8")
    with pytest.raises(OSError, match=r"file/out.png: cannot write") as err:
        write_image(tmp_path / "file" / "out.png", np.zeros((4, 4), np.uint8))  # a file where a folder must be
    assert ".tmp" not in str(err.value)


def test_float_tiffs_are_read_in_0_1_or_stretched(tmp_path):
    """A float TIFF in [0, 1] once read as all zeros (clipped to integers)."""
    import tifffile

    ramp = np.linspace(0, 1, 30 * 40, dtype=np.float32).reshape(30, 40)
    tifffile.imwrite(tmp_path / "unit.tif", ramp)
    tifffile.imwrite(tmp_path / "celsius.tif", 20 + 15 * ramp)  # a radiometric frame in degrees
    for name in ("unit.tif", "celsius.tif"):
        image = read_image(tmp_path / name)
        assert image.dtype == np.uint16 and image.min() == 0 and image.max() == 65535, name
        assert abs(float(image[15, 20]) / 65535 - float(ramp[15, 20])) < 1e-3
