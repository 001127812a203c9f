"""Each writable format's longest side (defusion.io.formats.MAX_SIDES, one table): the encoders' own
limits, refused in one line before any encoder runs, and by the server before it fuses (a 4xx, never
the 500 an encoder's failure after the fusion gave)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient

from defusion.io.formats import MAX_SIDES, WRITABLE_SUFFIXES, suffixes_holding, too_large
from defusion.io.writing import ImageTooLargeError, encode_image, write_image
from defusion.serving.answer_format import check_answerable, check_sides, choose_answer_format, too_wide
from defusion.serving.api import Limits, create_app
from defusion.serving.errors import ApiError

#: The formats whose limit a test image reaches in memory (TIFF's and BMP's are 2**31 px and more).
REACHED = (".png", ".jpg", ".webp")
#: A 2,000,000 x 1 upload (the audit's): under the default pixel bound, over PNG's sides.
LONG = (1, 2_000_000)


def test_every_writable_suffix_has_a_limit():
    assert set(MAX_SIDES) == set(WRITABLE_SUFFIXES)


@pytest.mark.parametrize("suffix", REACHED)
def test_the_table_is_the_encoders_own_limit(suffix):
    """OpenCV encodes a side of the table's length and fails on one more pixel (libpng printing
    "Invalid IHDR data" for PNG): the table is measured, not guessed."""
    limit = MAX_SIDES[suffix]
    for shape in ((1, limit), (limit, 1)):
        assert cv2.imencode(suffix, np.zeros(shape, np.uint8))[0]
    for shape in ((1, limit + 1), (limit + 1, 1)):
        try:
            ok = cv2.imencode(suffix, np.zeros(shape, np.uint8))[0]
        except cv2.error:
            ok = False
        assert not ok


@pytest.mark.parametrize("suffix", REACHED)
def test_a_side_past_the_limit_is_one_line_naming_what_takes_it_before_the_encoder_runs(suffix, capfd, tmp_path):
    """The audit: a PNG wider than 1,000,000 px failed with libpng's "Invalid IHDR data" on stderr."""
    width = MAX_SIDES[suffix] + 1
    with pytest.raises(ImageTooLargeError) as caught:
        encode_image(np.zeros((1, width), np.uint8), suffix)
    message = str(caught.value)
    assert "\n" not in message and f"takes sides up to {MAX_SIDES[suffix]} px; this image is {width}x1" in message
    assert message.endswith(" or .bmp") and f"write {suffixes_holding(width, 1)[0]}" in message
    assert isinstance(caught.value, OSError)  # as an encoder's failure was (callers catch OSError)
    out = tmp_path / f"wide{suffix}"
    with pytest.raises(OSError, match=f"^{out}: {suffix[1:]} takes sides up to"):
        write_image(out, np.zeros((width, 1), np.uint8))
    assert not out.exists()
    assert "libpng" not in capfd.readouterr().err


def test_too_large_and_what_holds_it():
    assert too_large("png", 1_000_000, 1) is None
    assert too_large(".PNG", 1_000_001, 1) == "png takes sides up to 1000000 px; this image is 1000001x1"
    assert suffixes_holding(1_000_001, 1) == [".tif", ".bmp"]
    assert too_large(".gif", 10**9, 1) is None  # no writable suffix: writing refuses it by name


# -- the server -----------------------------------------------------------------------------------------
def test_an_answer_format_takes_pngs_limit_from_the_table():
    assert too_wide("png", LONG) == "png takes sides up to 1000000 px; this image is 2000000x1"
    with pytest.raises(ApiError) as caught:
        check_sides("png", LONG)
    assert caught.value.status == 422 and caught.value.detail.endswith(": format=tiff")


@pytest.mark.parametrize("accept", ["image/png", "image/png, image/webp;q=0.5", "image/avif", None])
def test_an_image_no_accepted_format_holds_is_answered_in_one_that_does_never_a_500(accept):
    """Accept naming only formats that cannot hold it: PNG was the fallback, and failed after the fusion."""
    answer, notes = choose_answer_format(np.zeros(LONG, np.uint8), None, accept)
    assert answer == "tiff" and notes == ["note: Accept chose png, but png takes sides up to 1000000 px; this "
                                          "image is 2000000x1: answered in tiff"]


def test_zips_of_pngs_past_pngs_sides_are_refused_before_the_model():
    check_answerable(LONG, None)
    check_answerable(LONG, "tiff")
    with pytest.raises(ApiError) as caught:
        check_answerable(LONG, None, zipped=True)
    assert caught.value.status == 422 and "the zips (components, source_map) hold PNGs" in caught.value.detail
    with pytest.raises(ApiError, match="png takes sides up to 1000000 px"):
        check_answerable(LONG, "png")


@pytest.fixture
def long_pair() -> dict:
    png = cv2.imencode(".tif", np.full(LONG, 128, np.uint8))[1].tobytes()  # OpenCV writes no PNG this wide
    return {"a": ("a.tif", png, "image/tiff"), "b": ("b.tif", png, "image/tiff")}


@pytest.mark.parametrize("query, said", [
    ("format=png", "png takes sides up to 1000000 px; this image is 2000000x1: format=tiff"),
    ("components=true", "the zips (components, source_map) hold PNGs"),  # a zip of PNGs
], ids=["format-png", "components-zip"])
def test_the_server_refuses_an_answer_png_cannot_hold_before_fusing(fuser, long_pair, monkeypatch, query, said):
    """The audit: a 2,000,000 x 1 pair passed --max-pixels, was fused, then answered a 500."""
    with TestClient(create_app(fuser, Limits())) as client:
        def no_model(*args, **kwargs):
            raise AssertionError("the model ran for a request refused by its sides")

        monkeypatch.setattr(client.app.state.runner, "run", no_model)
        r = client.post(f"/v1/fuse?{query}", files=long_pair)
    assert r.status_code == 422, r.text
    assert said in r.json()["detail"]
