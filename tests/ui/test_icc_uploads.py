"""The web UI on uploads of different ICC profiles: decoded as ``defusion fuse`` reads such files, the
colour uploads converted to the first colour upload's profile (said once, where the page shows what
decoding said), and the downloaded PNG tagged with the profile the fused pixels are in. Fused as raw
numbers, a Display P3 upload beside an sRGB one came out in wrong colours under the one profile the
download carried (Display P3 for an untagged first upload)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from defusion.fusion.fuser import Fuser
from defusion.io.icc import convert_colours
from defusion.io.images import read_image
from defusion.io.notes import collecting
from defusion.ui.image_output import png_bytes
from defusion.ui.uploads import decode_pair, decode_stack
from tests.cli.conftest import run_fuse
from tests.io.test_icc_mixed_profiles import ADOBE, P3, bracket, tagged_png

H, W = 30, 40


_png = tagged_png


def _bracket() -> tuple[np.ndarray, np.ndarray]:
    return bracket(H, W)


def _read(data: bytes) -> tuple[np.ndarray, bytes | None]:
    with Image.open(io.BytesIO(data)) as im:
        return np.array(im), im.info.get("icc_profile")


@pytest.fixture(scope="module")
def fuser(lively_weights):
    return Fuser.from_pretrained(lively_weights, device="cpu")


def test_a_pair_is_fused_and_downloaded_as_defusion_fuse_writes_it(tmp_path, fuser, lively_weights, fresh_notes):
    under, over = _bracket()
    files = [_png(under, ADOBE), _png(over, P3)]
    with collecting() as said:
        a, b = decode_pair(files[0], "u.png", files[1], "o_p3.png")
    assert said == ["note: o_p3.png (Display P3) converted to Adobe RGB (1998), the profile of u.png (the first "
                    "colour image), which the fused image carries"]
    np.testing.assert_array_equal(a, under)
    np.testing.assert_array_equal(b, convert_colours(over, P3, ADOBE))
    fused, profile = _read(png_bytes(fuser.fuse(a, b), files, [a, b]))
    assert profile == ADOBE
    for data, name in zip(files, ("u.png", "o_p3.png")):
        (tmp_path / name).write_bytes(data)
    assert run_fuse(tmp_path / "u.png", tmp_path / "o_p3.png", "-o", tmp_path / "f.png", "--weights",
                    lively_weights) == 0
    np.testing.assert_array_equal(fused, read_image(tmp_path / "f.png"))  # the CLI's pixels
    assert _read((tmp_path / "f.png").read_bytes())[1] == ADOBE


def test_an_untagged_first_upload_leaves_the_download_untagged(fuser):
    under, over = _bracket()
    files = [_png(under), _png(over, P3)]
    with collecting() as said:
        a, b = decode_pair(files[0], "u.png", files[1], "o_p3.png")
    assert said == ["note: o_p3.png (Display P3) converted to sRGB, the colour space of u.png (the first colour "
                    "image, untagged), which the fused image takes"]
    fused = fuser.fuse(a, b)
    assert _read(png_bytes(fused, files, [a, b]))[1] is None  # not Display P3: the fused colours are sRGB's
    np.testing.assert_array_equal(fused, fuser.fuse(under, convert_colours(over, P3, None)))


def test_a_stack_is_brought_into_its_first_colour_uploads_profile(fuser):
    under, over = _bracket()
    grey = np.repeat(under[..., :1], 3, axis=2)  # a grey shot stored as RGB: no colour source, left alone
    uploads = [(_png(over, ADOBE), "f3.png"), (_png(grey, P3), "f1.png"), (_png(under, P3), "f2.png")]
    with collecting() as said:
        images = decode_stack(uploads)  # in file-name order: f1 (grey), f2 (Display P3), f3 (Adobe RGB)
    assert len(said) == 1 and said[0].startswith("note: f3.png (Adobe RGB (1998)) converted to Display P3")
    np.testing.assert_array_equal(images[0], grey)
    np.testing.assert_array_equal(images[2], convert_colours(over, ADOBE, P3))
    files = [data for data, _ in sorted(uploads, key=lambda upload: upload[1])]
    assert _read(png_bytes(fuser.fuse(*images), files, images))[1] == P3


def test_the_page_shows_the_line_with_what_decoding_said(ui_env):
    streamlit = pytest.importorskip("streamlit.testing.v1")
    from defusion.ui import APP_PATH
    from defusion.ui.app import UPLOAD

    under, over = _bracket()
    at = streamlit.AppTest.from_file(str(APP_PATH), default_timeout=120).run()
    at.radio(key="source").set_value(UPLOAD).run()
    uploader = at.file_uploader(key="upload_a")
    if not hasattr(uploader, "upload"):
        pytest.skip("this Streamlit's AppTest cannot simulate uploads")
    uploader.upload("u.png", _png(under), "image/png")
    at.file_uploader(key="upload_b").upload("o_p3.png", _png(over, P3), "image/png")
    at.run()
    assert not at.exception and not at.error
    assert [i.value for i in at.info if "converted" in i.value] == [
        "o_p3.png (Display P3) converted to sRGB, the colour space of u.png (the first colour image, untagged), "
        "which the fused image takes"]
