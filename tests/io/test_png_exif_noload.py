"""defusion.io.metadata reads a PNG's EXIF without decoding its pixels.

Pillow's ``PngImageFile.getexif()`` decodes the whole image where the chunks before the pixels hold no
eXIf chunk, to reach those after them (0.3 s for 12 MP, twice per source in ``defusion fuse``).
:func:`read_metadata` passes over the pixel chunks by their headers instead, and must give exactly what
Pillow's decoding read gives (:func:`_read_by_decoding`): the same profile and EXIF bytes.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageCms, PngImagePlugin

from defusion.io import metadata
from defusion.io.formats import open_image
from defusion.io.metadata import ImageMetadata, read_metadata
from tests.conftest import REPO

MAKE, ORIENTATION, EXIF_IFD, EXPOSURE = 0x010F, 0x0112, 0x8769, 0x829A
#: The PNGs the repository holds (the shipped examples, the docs' figures): with no eXIf chunk before
#: their pixels, each was decoded whole to look for one after them.
REPO_PNGS = sorted([*(REPO / "src" / "defusion" / "examples").glob("*.png"), *(REPO / "docs" / "images").glob("*.png")])


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """(type, whole chunk) of each chunk of ``png``."""
    found, at = [], 8
    while at + 8 <= len(png):
        (length,) = struct.unpack(">I", png[at:at + 4])
        found.append((png[at + 4:at + 8], png[at:at + 12 + length]))
        at += 12 + length
    return found


def _placed(png: bytes, before: tuple[bytes, ...] = (), after: tuple[bytes, ...] = ()) -> bytes:
    """``png`` with the chunks ``before`` its pixel chunks (IDAT) and ``after`` them (before IEND)."""
    out, seen = [png[:8]], False
    for kind, chunk in _chunks(png):
        if kind == b"IDAT" and not seen:
            out += before
            seen = True
        if kind == b"IEND":
            out += after
        out.append(chunk)
    return b"".join(out)


def _png(pixels: np.ndarray | None = None) -> bytes:
    """A PNG as Pillow writes it (pixel chunks of up to 64 KB)."""
    if pixels is None:
        pixels = (np.random.default_rng(0).random((60, 80, 3)) * 255).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


def _libpng_png() -> bytes:
    """A PNG as libpng writes it (OpenCV, most cameras' and editors' exports): pixel chunks of 8 KB."""
    import cv2

    ok, encoded = cv2.imencode(".png", (np.random.default_rng(2).random((300, 400, 3)) * 255).astype(np.uint8))
    assert ok
    return encoded.tobytes()


def _exif_body(make: str = "Canon") -> bytes:
    """TIFF bytes of an eXIf chunk: a camera, a quarter turn and an exposure."""
    exif = Image.Exif()
    exif[MAKE], exif[ORIENTATION] = make, 6
    exif.get_ifd(EXIF_IFD)[EXPOSURE] = 0.01
    return exif.tobytes().removeprefix(b"Exif\x00\x00")


#: An sRGB profile (made once: its header holds the time it was made).
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _cases() -> dict[str, bytes]:
    """PNGs with their EXIF and profile where cameras, editors and ImageMagick put them."""
    plain, exif, other = _png(), _chunk(b"eXIf", _exif_body()), _chunk(b"eXIf", _exif_body("Nikon"))
    iccp = _chunk(b"iCCP", b"sRGB\x00\x00" + zlib.compress(SRGB))
    body = b"Exif\x00\x00" + _exif_body()
    raw_profile = f"\nexif\n{len(body):8d}\n{body.hex()}\n".encode()  # as ImageMagick writes it
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description tiff:Orientation="8"/></x:xmpmeta>'
    frames = [Image.fromarray(np.full((20, 30, 3), shade, np.uint8)) for shade in (40, 200)]
    apng = io.BytesIO()
    frames[0].save(apng, "PNG", save_all=True, append_images=frames[1:])
    return {
        "none": plain,
        "exif before the pixels": _placed(plain, before=(exif,)),
        "exif after the pixels": _placed(plain, after=(exif,)),
        "exif before and after": _placed(plain, before=(exif,), after=(other,)),
        "two after, the last read": _placed(plain, after=(exif, other)),
        "iCCP alone": _placed(plain, before=(iccp,)),
        "iCCP, exif after": _placed(plain, before=(iccp,), after=(exif,)),
        "iCCP after the pixels, not read": _placed(plain, after=(iccp,)),
        "ImageMagick's raw profile after": _placed(plain, after=(
            _chunk(b"zTXt", b"Raw profile type exif\x00\x00" + zlib.compress(raw_profile)),)),
        "XMP orientation after": _placed(plain, after=(
            _chunk(b"iTXt", b"XML:com.adobe.xmp\x00\x00\x00\x00\x00" + xmp),)),
        "private chunk, then exif": _placed(plain, after=(_chunk(b"prVt", b"data"), exif)),
        "empty pixel chunk, then exif": _placed(plain, after=(_chunk(b"IDAT", b""), exif)),
        "unreadable exif after": _placed(plain, after=(_chunk(b"eXIf", b"MM\x00*\x00\x00\x00\x08\xff\xff"),)),
        "garbage after the pixels": _placed(plain, after=(b"\x00\x00\x00\x04!!!!abcd\x00\x00\x00\x00", exif)),
        "no IEND": _placed(plain, after=(exif,))[:-12],
        "many small pixel chunks (libpng's)": _placed(_libpng_png(), after=(exif,)),
        "16-bit grey": _placed(_png((np.random.default_rng(1).random((30, 20)) * 65535).astype(np.uint16)),
                               after=(exif,)),
        "animated, exif after the last frame": _placed(apng.getvalue(), after=(exif,)),
    }


CASES = _cases()


def _read_by_decoding(source: Path | bytes) -> ImageMetadata:
    """A PNG's metadata as :func:`read_metadata` read it before: by Pillow's own ``getexif()``, which
    decodes the pixels where the chunks before them hold no eXIf."""
    try:
        with open_image(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
            icc = im.info.get("icc_profile") or None
            return ImageMetadata(icc, metadata._upright_bytes(im.getexif()))
    except Exception:  # noqa: BLE001 - unreadable: no metadata, as read_metadata gives
        return ImageMetadata()


@pytest.fixture
def decodes(monkeypatch) -> list[str]:
    """Each time Pillow starts decoding a PNG's pixels (its load() prepares the decoder)."""
    started = []
    real = PngImagePlugin.PngImageFile.load_prepare

    def spy(self: PngImagePlugin.PngImageFile) -> None:
        started.append("decode")
        real(self)

    monkeypatch.setattr(PngImagePlugin.PngImageFile, "load_prepare", spy)
    return started


@pytest.mark.parametrize("name", list(CASES))
def test_a_pngs_exif_and_profile_are_read_as_decoding_reads_them_without_decoding(name, tmp_path, decodes):
    data = CASES[name]
    path = tmp_path / "source.png"
    path.write_bytes(data)
    expected = _read_by_decoding(path)
    decodes.clear()
    assert read_metadata(path) == expected
    assert read_metadata(data) == expected  # an upload's bytes alike
    assert decodes == []


def test_the_cases_hold_what_they_say():
    """The exif placed after the pixels is found; the profile after them is not (it comes too late for
    Pillow's header, which is what the pixels are read with)."""
    after = read_metadata(CASES["iCCP, exif after"])
    tags = Image.Exif()
    tags.load(after.exif)
    assert after.icc_profile == SRGB and tags[MAKE] == "Canon" and tags[ORIENTATION] == 1
    tags.load(read_metadata(CASES["two after, the last read"]).exif)
    assert tags[MAKE] == "Nikon"
    assert read_metadata(CASES["iCCP after the pixels, not read"]) == ImageMetadata()
    assert read_metadata(CASES["animated, exif after the last frame"]) == ImageMetadata()  # as Pillow: frame 1 only
    tags.load(read_metadata(CASES["ImageMagick's raw profile after"]).exif)
    assert tags[MAKE] == "Canon"


def _cuts(data: bytes) -> list[int]:
    """Where to cut ``data`` (a PNG with iCCP, its pixels, then eXIf): in the header, inside the pixel
    data, every byte around the end of the pixels (the zlib stream's checksum, the chunk's CRC), inside
    the eXIf chunk."""
    pixels_end = data.index(b"eXIf") - 4
    return sorted({10, 30, data.index(b"IDAT") + 20, *range(pixels_end - 16, pixels_end + 12), len(data) - 30,
                   len(data) - 13, len(data) - 1})


def _pixels_end(data: bytes) -> int:
    """Where the data of ``data``'s one pixel chunk ends."""
    at = data.index(b"IDAT")
    return at + 4 + struct.unpack(">I", data[at - 4:at])[0]


@pytest.mark.parametrize("cut", _cuts(CASES["iCCP, exif after"]))
def test_a_truncated_png_gives_what_decoding_gave(cut, decodes):
    """Cut inside its pixels, Pillow's decoder decides (it decodes, as before: the result is the same);
    cut after them, nothing is decoded."""
    whole = CASES["iCCP, exif after"]
    data = whole[:cut]
    expected = _read_by_decoding(data)
    decodes.clear()
    assert read_metadata(data) == expected
    if cut >= _pixels_end(whole):
        assert decodes == []


@pytest.mark.parametrize("path", REPO_PNGS, ids=[path.name for path in REPO_PNGS])
def test_the_repositorys_pngs_are_read_as_before_without_decoding(path, decodes):
    expected = _read_by_decoding(path)
    decodes.clear()
    assert read_metadata(path) == expected
    assert decodes == []


def test_a_png_that_will_not_decode_gives_the_metadata_its_chunks_hold(tmp_path):
    """The one difference from decoding: a pixel stream that does not decode (a whole file, garbled
    inside) no longer costs the metadata; reading its pixels says what is wrong (read_image refuses it
    first in every front end)."""
    from defusion.io.errors import ImageReadError
    from defusion.io.images import read_image

    garbled = []
    for kind, chunk in _chunks(CASES["iCCP, exif after"]):
        if kind == b"IDAT":
            data = bytearray(chunk[8:-4])
            data[len(data) // 2:len(data) // 2 + 8] = b"\xff" * 8
            chunk = _chunk(b"IDAT", bytes(data))
        garbled.append(chunk)
    path = tmp_path / "garbled.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"".join(garbled))
    with pytest.raises(ImageReadError, match="garbled.png: cannot decode"):
        read_image(path)
    assert read_metadata(path) == read_metadata(CASES["iCCP, exif after"])
