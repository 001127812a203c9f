"""The fusion's record in a fused image's EXIF (review of the provenance record): it pushed a camera's EXIF
that fitted a JPEG (65,406 bytes with a 65,300-byte MakerNote) over the 64 KB limit, so the MakerNote was
dropped with a note blaming "the sources' EXIF"; where the fit fell back to the essential tags the record
vanished unsaid; and a source's own UserComment was overwritten by it, silently."""

from __future__ import annotations

import io
import json

from PIL import Image

from defusion.io import notes
from defusion.io.metadata import (JPEG_EXIF_LIMIT, KEPT_COMMENT, RECORD_KEY, ImageMetadata, choose_metadata,
                                  embed_metadata)

MAKE, EXIF_IFD, MAKER_NOTE, USER_COMMENT, IMAGE_UNIQUE_ID = 271, 0x8769, 37500, 37510, 42016  # EXIF's tags
ASCII_CODE = b"ASCII\x00\x00\x00"
#: A record as `defusion fuse --task mef --unique-gain 1.7` writes it (170 bytes).
RECORD = json.dumps({"defusion": "0.1.0", "weights": "shipped", "sha256": "9b2f31a6f14d", "runtime": "onnxruntime",
                     "device": "cpu", "options": {"order": "exposure", "unique_gain": 1.7, "detail_gain": 1.5}},
                    separators=(",", ":"))


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, "JPEG")
    return buffer.getvalue()


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def _exif(details: dict[int, bytes]) -> bytes:
    """A camera's EXIF: its make, and ``details`` in the EXIF sub-directory."""
    exif = Image.Exif()
    exif[MAKE] = "Canon"
    exif.get_ifd(EXIF_IFD).update(details)
    return exif.tobytes()


def _camera_exif(room: int) -> bytes:
    """A camera's EXIF with a MakerNote sized so that the block is ``room`` bytes under the JPEG limit."""
    size = 65_000
    size += JPEG_EXIF_LIMIT - room - len(_exif({MAKER_NOTE: b"M" * size}))
    data = _exif({MAKER_NOTE: b"M" * size})
    assert len(data) == JPEG_EXIF_LIMIT - room
    return data


def _written(exif: bytes, record: str | None = RECORD, encoded: bytes | None = None, suffix: str = ".jpg"):
    """The fused JPEG (or ``suffix``'s) of a source with ``exif``, its EXIF's sub-directory, and the notes."""
    with notes.collecting() as said:
        metadata = choose_metadata([ImageMetadata(exif=exif)], colour=True, record=record)
        data = embed_metadata(encoded or _jpeg(), suffix, metadata)
    im = Image.open(io.BytesIO(data))
    return im, im.getexif().get_ifd(EXIF_IFD), said


def test_a_camera_s_exif_that_fits_keeps_its_maker_note_and_the_record_gives_way():
    exif = _camera_exif(room=127)  # fits alone (65,406 bytes); the record pushes it over
    im, details, said = _written(exif)
    assert details[MAKER_NOTE] == b"M" * len(details[MAKER_NOTE]) and len(details[MAKER_NOTE]) > 65_000
    assert USER_COMMENT not in details and im.getexif()[MAKE] == "Canon"
    assert len(said) == 1 and "record of what made the fused image does not fit" in said[0], said
    assert "the sources' EXIF is larger" not in said[0] and "Software only" in said[0]


def test_where_only_the_essential_tags_fit_the_record_stays_with_them():
    oversized = {IMAGE_UNIQUE_ID: b"x" * 70_000}  # no bulky tag, none essential: the essential ones are kept
    im, details, said = _written(_exif(oversized))
    assert IMAGE_UNIQUE_ID not in details and im.getexif()[MAKE] == "Canon"
    assert json.loads(details[USER_COMMENT].removeprefix(ASCII_CODE)) == json.loads(RECORD)
    assert len(said) == 1 and "record kept" in said[0], said


def test_a_source_s_own_comment_is_kept_and_said_a_blank_one_or_an_earlier_record_is_not():
    own = ASCII_CODE + b"our trip to the coast"
    im, details, said = _written(_exif({USER_COMMENT: own}))
    assert details[USER_COMMENT] == own
    assert said == [f"note: {KEPT_COMMENT}"]
    png, png_details, _ = _written(_exif({USER_COMMENT: own}), encoded=_png(), suffix=".png")
    assert png_details[USER_COMMENT] == own and json.loads(png.info[RECORD_KEY]) == json.loads(RECORD)
    earlier = ASCII_CODE + b'{"defusion":"0.0.9","options":{}}'  # a fused image fused again
    for comment in (b"\x00" * 8 + b" " * 32, earlier):  # a camera's blank comment
        _, details, said = _written(_exif({USER_COMMENT: comment}))
        assert details[USER_COMMENT] == ASCII_CODE + RECORD.encode() and said == []
