"""read_image on what users' files hold: turned TIFFs, alpha, 16 bits with alpha, 32-bit integers, frames."""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
import tifffile
from PIL import Image

from defusion.errors import DefusionWarning
from defusion.io import notes
from defusion.io.images import read_image
from defusion.io.probes import opens_as_image

#: How a camera stores an upright image under each EXIF orientation (the inverse of what the tag asks).
STORED = {
    2: lambda a: a[:, ::-1],
    3: lambda a: a[::-1, ::-1],
    4: lambda a: a[::-1],
    5: lambda a: a.swapaxes(0, 1),
    6: lambda a: np.rot90(a, 1),
    7: lambda a: np.rot90(a, 2).swapaxes(0, 1),
    8: lambda a: np.rot90(a, -1),
}
ORIENTATION_TAG = (274, "H", 1)


def _upright(rng, kind: str) -> np.ndarray:
    """A 20x30 image (not square, so a quarter turn shows) with no symmetry."""
    shape = (20, 30, 3) if kind.startswith("rgb") else (20, 30)
    top = 255 if kind.endswith("8") else 65535
    return (rng.random(shape) * top).astype(np.uint8 if top == 255 else np.uint16)


@pytest.mark.parametrize("orientation", range(2, 9))
@pytest.mark.parametrize("kind", ["grey8", "grey16", "rgb8", "rgb16"])
def test_turned_tiffs_are_read_upright(tmp_path, rng, orientation, kind):
    """Pillow decoded uncompressed grey TIFFs turned a quarter (orientation 5-8) as scrambled stripes."""
    upright = _upright(rng, kind)
    stored = np.ascontiguousarray(STORED[orientation](upright))
    for compression in (None, "zlib"):
        path = tmp_path / f"{kind}_{orientation}_{compression}.tif"
        tifffile.imwrite(path, stored, compression=compression, extratags=[(*ORIENTATION_TAG, orientation, True)])
        got = read_image(path)
        assert got.dtype == upright.dtype and np.array_equal(got, upright), compression


def test_turned_tiffs_tifffile_cannot_decode_are_read_by_pillow(tmp_path, rng):
    """LZW needs imagecodecs, which tifffile may lack: Pillow (libtiff) then reads it, upright."""
    upright = _upright(rng, "grey8")
    path = tmp_path / "lzw.tif"
    Image.fromarray(np.ascontiguousarray(STORED[6](upright))).save(path, compression="tiff_lzw", tiffinfo={274: 6})
    assert np.array_equal(read_image(path), upright)


@pytest.mark.parametrize("orientation", [1, 8])
def test_16bit_colour_stored_plane_by_plane_is_read(tmp_path, rng, orientation):
    """Pillow decoded it as scrambled 8-bit colour."""
    rgb = _upright(rng, "rgb16")
    stored = np.ascontiguousarray(STORED[orientation](rgb)) if orientation != 1 else rgb
    path = tmp_path / "planar.tif"
    tifffile.imwrite(path, np.moveaxis(stored, -1, 0), photometric="rgb", planarconfig="separate",
                     extratags=[(*ORIENTATION_TAG, orientation, True)])
    got = read_image(path)
    assert got.dtype == np.uint16 and np.array_equal(got, rgb)


def _alpha_message(path: Path) -> str:
    return f"{path} has transparent pixels (alpha); alpha is ignored: they fuse as their colour values"


def _warned(caught: list[warnings.WarningMessage]) -> str:
    """What a Python caller was warned of (DefusionWarnings: what the command says as ``defusion: warning:``
    lines), one a line."""
    return "".join(f"{w.message}\n" for w in caught if w.category is DefusionWarning)


def test_transparent_pixels_are_said_once_per_file(tmp_path):
    """Transparent regions (colour 0) fused as black with nothing said."""
    rgba = np.full((8, 10, 4), 200, np.uint8)
    rgba[:4, :, 3] = 0
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    Image.fromarray(rgba[..., [0, 3]]).save(tmp_path / "la.png")  # grey + alpha
    palette = Image.new("P", (10, 8), 1)
    palette.putpalette([0, 0, 0, 90, 120, 150] + [0] * 762)
    palette.paste(0, (0, 0, 10, 4))
    palette.save(tmp_path / "p.gif", transparency=0)
    Image.fromarray(np.full((8, 10, 4), 255, np.uint8)).save(tmp_path / "opaque.png")  # alpha, all of it opaque
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's own: once per calling line
        for name in ("rgba.png", "la.png", "p.gif", "rgba.png", "la.png", "p.gif", "opaque.png"):
            read_image(tmp_path / name)
    assert read_image(tmp_path / "la.png").shape == (8, 10)
    assert read_image(tmp_path / "p.gif")[6, 0].tolist() == [90, 120, 150]
    assert read_image(tmp_path / "opaque.png").shape == (8, 10, 3)
    err = _warned(caught)
    for name in ("rgba.png", "la.png", "p.gif"):
        assert err.count(_alpha_message(tmp_path / name)) == 1, name
    assert "opaque.png" not in err


def _png_grey_alpha_16(path: Path, grey: np.ndarray, alpha: np.ndarray) -> Path:
    """A 16-bit grey + alpha PNG (colour type 4), which neither Pillow nor OpenCV writes."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    height, width = grey.shape
    rows = np.dstack([grey, alpha]).astype(">u2").reshape(height, -1)
    raw = b"".join(b"\x00" + row.tobytes() for row in rows)
    header = struct.pack(">IIBBBBB", width, height, 16, 4, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
                     + chunk(b"IEND", b""))
    return path


def test_16bit_images_with_alpha_keep_16_bits_and_grey_stays_grey(tmp_path, rng, recwarn):
    """They were read as 8 bits, and 16-bit grey + alpha as 8-bit RGB."""
    rgb = (rng.random((9, 11, 3)) * 65535).astype(np.uint16)
    alpha = np.full((9, 11), 65535, np.uint16)
    alpha[0, 0] = 0
    cv2.imwrite(str(tmp_path / "rgba.png"), np.dstack([rgb[..., ::-1], alpha]))
    cv2.imwrite(str(tmp_path / "cv.tif"), np.dstack([rgb[..., ::-1], alpha]))  # its alpha not declared as such
    tifffile.imwrite(tmp_path / "rgba.tif", np.dstack([rgb, alpha]), photometric="rgb", extrasamples=["unassalpha"])
    for name in ("rgba.png", "cv.tif", "rgba.tif"):
        got = read_image(tmp_path / name)
        assert got.dtype == np.uint16 and np.array_equal(got, rgb), name
    grey = rgb[..., 0].copy()
    tifffile.imwrite(tmp_path / "la.tif", np.dstack([grey, alpha]), photometric="minisblack",
                     extrasamples=["unassalpha"])
    for path in (_png_grey_alpha_16(tmp_path / "la.png", grey, alpha), tmp_path / "la.tif"):
        got = read_image(path)
        assert got.dtype == np.uint16 and got.shape == grey.shape and np.array_equal(got, grey), path.name
    assert opens_as_image(tmp_path / "la.tif")  # Pillow cannot open it: a folder of shots keeps it all the same
    err = _warned(recwarn.list)
    for name in ("rgba.png", "cv.tif", "rgba.tif", "la.png", "la.tif"):
        assert _alpha_message(tmp_path / name) in err, name


def test_32bit_integer_images_are_8_or_16_bit_data_or_scaled_with_a_warning(tmp_path, recwarn):
    """Values over 65535 were clipped (nearly all white); 8-bit data in 32 bits was taken as 16-bit (black)."""
    ramp = np.arange(20 * 30, dtype=np.int64).reshape(20, 30)
    eight = (ramp * 255 // ramp.max()).astype(np.int32)
    sixteen = (ramp * 65535 // ramp.max()).astype(np.int32)
    wide = (ramp * 1_000_000).astype(np.int32)
    for name, values in (("eight.tif", eight), ("sixteen.tif", sixteen), ("wide.tif", wide)):
        tifffile.imwrite(tmp_path / name, values)
    got = read_image(tmp_path / "eight.tif")
    assert got.dtype == np.uint8 and np.array_equal(got, eight)
    got = read_image(tmp_path / "sixteen.tif")
    assert got.dtype == np.uint16 and np.array_equal(got, sixteen)
    got = read_image(tmp_path / "wide.tif")
    assert got.dtype == np.uint16 and got.max() == 65535 and got[0, 0] == 0
    assert np.abs(got.astype(float) - wide * (65535 / wide.max())).max() <= 0.5  # scaled by its maximum, not clipped
    tifffile.imwrite(tmp_path / "turned.tif", np.ascontiguousarray(STORED[6](wide)),
                     extratags=[(*ORIENTATION_TAG, 6, True)])
    assert np.array_equal(read_image(tmp_path / "turned.tif"), got)  # tifffile's path, same rule
    signed = (ramp - 300).astype(np.int32)  # negative values: stretched over its range
    tifffile.imwrite(tmp_path / "signed.tif", signed)
    got = read_image(tmp_path / "signed.tif")
    assert got.min() == 0 and got.max() == 65535 and got[10, 10] == round((signed[10, 10] + 300) * 65535 / 599)
    err = _warned(recwarn.list)
    assert f"{tmp_path / 'wide.tif'} holds integer values 0 to {wide.max()}" in err and "by its maximum" in err
    assert f"{tmp_path / 'signed.tif'} holds integer values -300 to 299" in err and "by its range" in err
    assert "eight.tif" not in err and "sixteen.tif" not in err


def test_only_the_first_frame_of_animations_and_multi_page_tiffs_is_read_and_said(tmp_path, recwarn):
    frames = [Image.fromarray(np.full((6, 8), value, np.uint8)) for value in (10, 120, 230)]
    for name in ("anim.gif", "anim.png", "pages.tif"):
        frames[0].save(tmp_path / name, save_all=True, append_images=frames[1:])
        assert read_image(tmp_path / name).max() == 10, name
    with tifffile.TiffWriter(tmp_path / "preview.tif") as tif:  # a page and its reduced-resolution preview
        tif.write(np.full((6, 8), 10, np.uint8))
        tif.write(np.full((3, 4), 10, np.uint8), subfiletype=1)
    read_image(tmp_path / "preview.tif")
    err = _warned(recwarn.list)
    assert f"{tmp_path / 'anim.gif'} holds 3 frames; only the first is read" in err
    assert f"{tmp_path / 'anim.png'} holds 3 frames" in err and f"{tmp_path / 'pages.tif'} holds 3 pages" in err
    assert "preview.tif" not in err


#: A 16x16 PNG whose EXIF block holds a string where Pillow expects a number (a user's upload that
#: made ImageOps.exif_transpose raise TypeError: a traceback in the CLI, a 500 in the server).
_BROKEN_EXIF_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAWGVYSWZNTQAqAAAACAADAT4AAgAAAARDYW0AARIAAwAAAAEABgAAh2kABAAAAAEA"
    "AAAyYAAAAAABkAPDAgAAABQVAABEAAAAADIwMjA6MDE6MDEgMDA6MDA6MDAA2dgD3QAAABlJREFUeJxjTDESYSAFMJGkelTDqIYhpQEAO8oAypEte/MA"
    "AAAASUVORK5CYII=")


def test_a_corrupt_exif_block_reads_the_pixels_and_keeps_no_metadata(tmp_path):
    import base64

    from defusion.io.images import read_image
    from defusion.io.metadata import ImageMetadata, read_metadata
    from defusion.io.shots import read_shot

    path = tmp_path / "broken-exif.png"
    path.write_bytes(base64.b64decode(_BROKEN_EXIF_PNG))
    image = read_image(path)
    assert image.shape[:2] == (16, 16)
    assert read_metadata(path) == ImageMetadata()
    shot = read_shot(path)
    assert shot.readable and shot.taken is None


def test_a_tiff_declaring_many_samples_per_pixel_is_refused_before_decoding(tmp_path):
    """A small compressed file could decode to gigabytes: 400 samples of each of a million pixels."""
    from defusion.io.errors import ImageReadError
    from defusion.io.images import read_image

    path = tmp_path / "samples.tif"
    tifffile.imwrite(path, np.zeros((40, 50, 12), np.uint8), photometric="rgb", extrasamples=["unspecified"] * 9,
                     compression="zlib")
    with pytest.raises(ImageReadError, match="12 samples per pixel"):
        read_image(path)


def test_the_pages_of_a_tiff_are_counted_only_so_far(tmp_path, monkeypatch):
    import defusion.io.frames as frames
    import defusion.io.images as images

    monkeypatch.setattr(frames, "_FRAMES_COUNTED", 3)
    path = tmp_path / "pages.tif"
    tifffile.imwrite(path, np.zeros((6, 4, 5), np.uint8))  # 6 pages
    with notes.collecting() as said:
        images.read_image(path)
    assert any("holds 3 or more pages" in line for line in said), said


@pytest.mark.parametrize("at", [0.3, 0.5, 0.7])
def test_a_png_whose_pixel_stream_is_corrupt_is_refused_not_read_as_black_rows(tmp_path, rng, at):
    """Pillow decodes a PNG's pixels while looking for EXIF after them; the error it raises there is
    not raised again on load, which returned the rows after the damage as zeros (an audit's 200 OK)."""
    path = tmp_path / "damaged.png"
    cv2.imwrite(str(path), (rng.random((120, 160, 3)) * 255).astype(np.uint8))
    data = bytearray(path.read_bytes())
    data[int(len(data) * at)] ^= 0x55
    path.write_bytes(bytes(data))
    from defusion.io.errors import ImageReadError
    with pytest.raises(ImageReadError, match="truncated or corrupt"):
        read_image(path)
