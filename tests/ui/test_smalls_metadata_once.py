"""The web UI reads each upload's metadata once per fusion, as ``defusion fuse`` reads its sources' once.

The page read an upload's ICC profile and EXIF twice: once to bring the uploads' colours into one profile
(:func:`~defusion.ui.uploads.matched_colours`), again for the fused image's download
(:func:`~defusion.ui.image_output.png_bytes`). Decoding now hands the metadata it read on with the pixels
(:class:`~defusion.ui.uploads.Decoded`), profiles as matched, and the download carries the same profile,
EXIF and record as when it read the files again."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from defusion.fusion.fuser import FuseOptions, Fuser
from defusion.fusion.provenance import MadeBy
from defusion.io import metadata
from defusion.io.notes import collecting
from defusion.model.weights import load_weights
from defusion.ui import uploads
from defusion.ui.image_output import png_bytes
from tests.io.test_icc_mixed_profiles import ADOBE, P3, bracket

H, W = 30, 40
MAKE = 0x010F


def _upload(pixels: np.ndarray, icc: bytes | None, make: str) -> bytes:
    """An uploaded PNG of ``pixels``, with the profile ``icc`` and an EXIF naming the camera ``make``."""
    exif = Image.Exif()
    exif[MAKE] = make
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG", exif=exif, **({"icc_profile": icc} if icc else {}))
    return buffer.getvalue()


@pytest.fixture(scope="module")
def fuser(tiny_weights):
    return Fuser(load_weights(tiny_weights), options=FuseOptions(scale=1))


def _said(png: bytes) -> tuple[bytes | None, str | None, str | None]:
    """The download's profile, EXIF camera make and defusion record."""
    with Image.open(io.BytesIO(png)) as im:
        return im.info.get("icc_profile"), im.getexif().get(MAKE), im.info.get(metadata.RECORD_KEY)


def test_a_pair_is_read_once_from_upload_to_download(fuser, tiny_weights, reads):
    under, over = bracket(H, W)
    files = [_upload(under, ADOBE, "Canon"), _upload(over, P3, "Nikon")]
    with collecting():  # B's conversion, said on the page
        decoded = uploads.decode_pair_with_metadata(files[0], "u.png", files[1], "o_p3.png")
    made_by = MadeBy.of(fuser, tiny_weights, "mef")
    download = png_bytes(fuser.fuse(*decoded.images), decoded.metadata, made_by=made_by)
    assert reads == files  # each upload once: its profile for the colours and its EXIF for the download
    assert _said(download)[:2] == (ADOBE, "Canon")  # the first colour upload's profile, which B was converted to
    assert _said(download)[2] is not None  # and what made it
    reads.clear()
    again = png_bytes(fuser.fuse(*decoded.images), files, decoded.images, made_by)  # the files read again
    assert download == again and len(reads) == 2


def test_a_stack_is_read_once_in_the_order_fused(fuser, reads):
    under, over = bracket(H, W)
    given = [(_upload(over, ADOBE, "Sony"), "f3.png"), (_upload(under, P3, "Canon"), "f1.png"),
             (_upload(under, P3, "Canon"), "f2.png")]
    with collecting():
        decoded = uploads.decode_stack_with_metadata(given)
    download = png_bytes(fuser.fuse(*decoded.images), decoded.metadata)
    in_order = [data for data, _ in sorted(given, key=lambda upload: upload[1])]
    assert reads == in_order
    assert [m.icc_profile for m in decoded.metadata] == [P3, P3, P3]  # f3 converted into f1's profile
    assert _said(download)[:2] == (P3, "Canon")


def test_decode_pair_and_stack_still_give_the_images_alone(reads):
    under, over = bracket(H, W)
    files = [_upload(under, None, "Canon"), _upload(over, None, "Canon")]
    a, b = uploads.decode_pair(files[0], "a.png", files[1], "b.png")
    np.testing.assert_array_equal(a, under)
    images = uploads.decode_stack([(files[0], "a.png"), (files[1], "b.png")])
    assert isinstance(images, list) and len(images) == 2
    np.testing.assert_array_equal(images[1], over)
