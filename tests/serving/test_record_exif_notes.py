"""What writing the record into an answer's EXIF had to say reaches the client (review of the provenance record):
a camera's MakerNote was dropped to make room for the record with a note blaming "the sources' EXIF", and an
upload's own UserComment was overwritten; neither was said in X-Defusion-Notes (at most in the server's log)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from defusion.io.metadata import JPEG_EXIF_LIMIT, KEPT_COMMENT
from defusion.serving.api import NOTES_HEADER, encode_png
from tests.conftest import smooth_image

MAKE, EXIF_IFD, MAKER_NOTE, USER_COMMENT = 271, 0x8769, 37500, 37510  # EXIF's tags
#: Bytes a camera's EXIF leaves under the JPEG limit: less than the record takes.
ROOM = 127


def _exif(details: dict[int, bytes]) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = "Canon"
    exif.get_ifd(EXIF_IFD).update(details)
    return exif


def _camera_jpeg(image: np.ndarray) -> bytes:
    """A camera's JPEG whose EXIF (a MakerNote) fills a JPEG's EXIF segment but for :data:`ROOM` bytes."""
    size = 65_000
    size += JPEG_EXIF_LIMIT - ROOM - len(_exif({MAKER_NOTE: b"M" * size}).tobytes())
    out = io.BytesIO()
    Image.fromarray(image).save(out, "JPEG", exif=_exif({MAKER_NOTE: b"M" * size}), quality=95)
    return out.getvalue()


def test_a_camera_s_maker_note_stays_and_the_record_giving_way_is_said(client):
    rng = np.random.default_rng(8)
    a, b = smooth_image(rng, 40, 48), smooth_image(rng, 40, 48)
    sent = {"a": ("a.jpg", _camera_jpeg(a), "image/jpeg"), "b": ("b.png", encode_png(b), "image/png")}
    r = client.post("/v1/fuse?format=jpeg", files=sent)
    assert r.status_code == 200, r.text
    with Image.open(io.BytesIO(r.content)) as im:
        details = im.getexif().get_ifd(EXIF_IFD)
    assert len(details[MAKER_NOTE]) > 65_000 and USER_COMMENT not in details
    assert "the record of what made the fused image does not fit in a JPEG's EXIF" in r.headers[NOTES_HEADER]


def test_an_upload_s_own_comment_is_kept_and_said(client):
    rng = np.random.default_rng(9)
    own = b"ASCII\x00\x00\x00our trip to the coast"
    out = io.BytesIO()
    Image.fromarray(smooth_image(rng, 40, 48)).save(out, "PNG", exif=_exif({USER_COMMENT: own}))
    sent = {"a": ("a.png", out.getvalue(), "image/png"), "b": ("b.png", encode_png(smooth_image(rng, 40, 48)),
                                                                "image/png")}
    r = client.post("/v1/fuse?format=jpeg", files=sent)
    with Image.open(io.BytesIO(r.content)) as im:
        assert im.getexif().get_ifd(EXIF_IFD)[USER_COMMENT] == own
    assert KEPT_COMMENT in r.headers[NOTES_HEADER]
