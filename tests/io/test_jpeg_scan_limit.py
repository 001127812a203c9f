"""A JPEG of more scans than any encoder writes is refused before anything decodes it. Before, a
progressive JPEG with its last scan repeated thousands of times (2000x2000, 100 KB: far under the upload
and pixel bounds) took 41 s of CPU to decode, as every scan costs a pass over the whole image."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFile

from defusion.errors import DefusionWarning
from defusion.fusion.errors import FusionInputError
from defusion.fusion.inputs import checked_images
from defusion.io.errors import ImageReadError
from defusion.io.images import read_image
from defusion.io.jpeg import MAX_JPEG_SCANS, MAX_WALKED_SEGMENTS, corrupt_jpeg_data, jpeg_scans
from defusion.io.pillow_decoding import from_pillow_or_opencv
from defusion.serving.decode import decode_image
from tests.conftest import smooth_image

#: Start of Scan and End of Image markers (ITU T.81, Table B.1); a comment segment's marker.
SOS, EOI, COM = b"\xff\xda", b"\xff\xd9", b"\xff\xfe"
#: Scans Pillow's (libjpeg's) progressive script writes for a colour image.
COLOUR_SCANS = 10
#: Sides of the test images: small, each scan decodes in no time.
SIDE = 64
#: The message's words, past the file's name.
REFUSED = f"a JPEG of more than {MAX_JPEG_SCANS} scans"


def _progressive(rng: np.random.Generator, **save: object) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(smooth_image(rng, SIDE, SIDE)).save(buffer, "JPEG", progressive=True, **save)
    return buffer.getvalue()


def _bomb(data: bytes, scans: int) -> bytes:
    """``data`` (one progressive JPEG) with its last scan, header and data, repeated to ``scans`` in all,
    before its End of Image: what the audit's 100 KB file was."""
    last, end = data.rindex(SOS), data.rindex(EOI)
    extra = scans - data.count(SOS)
    return data[:end] + data[last:end] * extra + data[end:]


def _comment(body: bytes) -> bytes:
    """A COM segment holding ``body``."""
    return COM + (len(body) + 2).to_bytes(2, "big") + body


@pytest.fixture
def bomb(tmp_path, rng) -> Path:
    path = tmp_path / "bomb.jpg"
    path.write_bytes(_bomb(_progressive(rng), MAX_JPEG_SCANS + 1))
    return path


@pytest.fixture
def no_decoding(monkeypatch) -> list[str]:
    """What decoded a JPEG: Pillow's loading, libjpeg-turbo's (simplejpeg) for the check of its data."""
    import simplejpeg

    decoded: list[str] = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda im: decoded.append("pillow"))
    monkeypatch.setattr(simplejpeg, "decode_jpeg", lambda *a, **k: decoded.append("simplejpeg"))
    return decoded


def test_read_image_refuses_a_scan_bomb_naming_it_before_decoding(bomb, no_decoding):
    with pytest.raises(ImageReadError) as refused:
        read_image(bomb)
    message = str(refused.value)
    assert message.startswith(f"{bomb}: {REFUSED}") and "\n" not in message
    assert "re-save it" in message
    assert no_decoding == []


def test_the_bound_is_on_scans_past_it(tmp_path, rng):
    data = _progressive(rng)
    at_bound = tmp_path / "many.jpg"
    at_bound.write_bytes(_bomb(data, MAX_JPEG_SCANS))
    assert jpeg_scans(at_bound.read_bytes()) == MAX_JPEG_SCANS
    with pytest.warns(DefusionWarning, match="Inconsistent progression sequence"):  # a scan repeated: read, said
        assert read_image(at_bound).shape == (SIDE, SIDE, 3)
    assert jpeg_scans(_bomb(data, 10 * MAX_JPEG_SCANS)) == MAX_JPEG_SCANS + 1  # counted no further


def test_the_check_of_corrupt_data_refuses_it_undecoded(bomb, no_decoding):
    with pytest.raises(ImageReadError, match=f"^{bomb}: {REFUSED}"):
        corrupt_jpeg_data(bomb)
    with pytest.raises(ImageReadError, match=f"^JPEG data: {REFUSED}"):
        corrupt_jpeg_data(bomb.read_bytes())
    assert no_decoding == []


def test_an_upload_is_refused_naming_it(bomb):
    with pytest.raises(ImageReadError, match=f"^bomb.jpg: {REFUSED}"):
        decode_image(bomb.read_bytes(), "bomb.jpg")


def test_pillow_images_are_refused_before_loading(bomb, no_decoding):
    with Image.open(bomb) as opened, pytest.raises(FusionInputError, match=REFUSED):
        checked_images([opened, opened])
    with Image.open(io.BytesIO(bomb.read_bytes())) as opened:  # a file object: read through it
        with pytest.raises(ImageReadError, match=f"^upload.jpg: {REFUSED}"):
            from_pillow_or_opencv(Path("upload.jpg"), opened, None, 1)
    assert no_decoding == []


def test_a_file_object_still_decodes_once_checked(rng):
    data = _progressive(rng)
    with Image.open(io.BytesIO(data)) as opened:
        array, transparent = from_pillow_or_opencv(Path("photo.jpg"), opened, None, 1)
    with Image.open(io.BytesIO(data)) as plain:
        np.testing.assert_array_equal(array, np.asarray(plain.convert("RGB")))
    assert not transparent


@pytest.mark.parametrize("mode", ["L", "RGB", "CMYK"])
def test_what_encoders_write_is_read(tmp_path, rng, mode):
    path = tmp_path / f"{mode}.jpg"
    Image.fromarray(smooth_image(rng, SIDE, SIDE)).convert(mode).save(path, progressive=True, optimize=True)
    assert 1 < jpeg_scans(path.read_bytes()) <= MAX_JPEG_SCANS
    assert read_image(path).shape[:2] == (SIDE, SIDE)


def test_only_the_first_image_of_an_mpo_counts(tmp_path, rng):
    frames = MAX_JPEG_SCANS // COLOUR_SCANS + 2  # all together, more SOS markers than the bound
    shots = [Image.fromarray(smooth_image(rng, SIDE, SIDE)) for _ in range(frames)]
    mpo = tmp_path / "phone.mpo"
    shots[0].save(mpo, "MPO", save_all=True, append_images=shots[1:], progressive=True)
    data = mpo.read_bytes()
    assert data.count(SOS) > MAX_JPEG_SCANS and jpeg_scans(data) == COLOUR_SCANS
    assert read_image(mpo).shape == (SIDE, SIDE, 3)


def test_sos_bytes_inside_segments_are_no_scans(tmp_path, rng):
    path = tmp_path / "commented.jpg"
    Image.fromarray(smooth_image(rng, SIDE, SIDE)).save(path, comment=SOS * (2 * MAX_JPEG_SCANS))
    assert jpeg_scans(path.read_bytes()) == 1
    assert read_image(path).shape == (SIDE, SIDE, 3)


def test_an_mpo_whose_first_image_is_a_bomb_is_refused(tmp_path, rng):
    shots = [Image.fromarray(smooth_image(rng, SIDE, SIDE)) for _ in range(2)]
    buffer = io.BytesIO()
    shots[0].save(buffer, "MPO", save_all=True, append_images=shots[1:], progressive=True)
    data = buffer.getvalue()
    first_end = data.index(EOI + b"\xff\xd8", data.index(SOS)) + len(EOI)  # the second image follows
    bombed = _bomb(data[:first_end], MAX_JPEG_SCANS + 1) + data[first_end:]
    assert jpeg_scans(bombed) == MAX_JPEG_SCANS + 1
    mpo = tmp_path / "phone.mpo"
    mpo.write_bytes(bombed)
    with pytest.raises(ImageReadError, match=f"^{mpo}: {REFUSED}"):
        read_image(mpo)


def test_a_file_of_more_segments_than_walked_counts_every_sos_marker(rng):
    head, body = (lambda d: (d[:2], d[2:]))(_progressive(rng))
    tiny = _comment(b"") * MAX_WALKED_SEGMENTS  # libjpeg skips them in no time; a Python loop would not
    assert jpeg_scans(head + tiny + body) == COLOUR_SCANS
    assert jpeg_scans(head + tiny + _comment(SOS * MAX_JPEG_SCANS) + body) == MAX_JPEG_SCANS + 1


def test_truncated_and_odd_data_never_raise(rng):
    data = _bomb(_progressive(rng), 2 * MAX_JPEG_SCANS)
    for end in range(0, len(data), 7):
        assert 0 <= jpeg_scans(data[:end]) <= MAX_JPEG_SCANS + 1
    odd = [b"", b"\xff", b"\xff\xd8", b"\xff\xd8\xff", b"\xff\xd8\xff\xda", b"\xff\xd8\xff\xda\x00",
           b"\xff\xd8\xff\xe0\x00\x00\xff\xda\x00\x02", b"\xff\xd8" + bytes(100), b"\xff\xd8" + b"\xff" * 100,
           b"\xff\xd8\xff\x01\xff\xd0\xff\xda\xff\xff", bytearray(b"\xff\xd8\xff\xda\x00\x02\xff\xd9")]
    assert [jpeg_scans(chunk) for chunk in odd] == [0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1]
    noise = np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes()
    assert jpeg_scans(b"\xff\xd8" + noise) >= 0
