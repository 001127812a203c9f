"""The answer's image format: ``?format=`` and ``?quality=``, the Accept header, the 16-bit note, the
zips (PNG), the OpenAPI document and /v1/info; encoded as ``defusion fuse`` writes a file."""

from __future__ import annotations

import io
import zipfile
from typing import get_args

import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image, ImageCms

from defusion.io.formats import DEFAULT_JPEG_QUALITY, MAX_SIDES
from defusion.io.jpeg import jpeg_quality
from defusion.io.metadata import ImageMetadata, read_metadata
from defusion.io.writing import write_image
from defusion.serving.answer_format import (FORMATS, AnswerFormat, acceptable, check_sides, choose_answer_format,
                                            encode_answer, negotiated)
from defusion.serving.errors import ApiError
from defusion.serving.api import NOTES_HEADER, Limits, create_app, encode_png
from defusion.serving.decode import decode_image
from tests.conftest import smooth_image

H, W = 40, 48
#: The longest sides WebP and JPEG encode (libwebp's WEBP_MAX_DIMENSION, libjpeg's JPEG_MAX_DIMENSION).
WEBP_MAX_SIDE, JPEG_MAX_SIDE = MAX_SIDES[".webp"], MAX_SIDES[".jpg"]
#: A strip wider than WebP encodes (the review's repro): few pixels, fused quickly.
WIDE = (16, WEBP_MAX_SIDE + 17)
#: Browsers' Accept headers: Chrome's for an image, Chrome's for a page (a form's POST), Firefox's, Safari's,
#: an older Chrome's image Accept.
CHROME_IMAGE = "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8"
CHROME_PAGE = ("text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,image/apng,*/*;q=0.8,"
               "application/signed-exchange;v=b3;q=0.7")
FIREFOX_IMAGE = "image/avif,image/webp,image/png,image/svg+xml,image/*;q=0.8,*/*;q=0.5"
SAFARI_IMAGE = ("image/webp,image/avif,image/jxl,image/heic,image/heic-sequence,video/*;q=0.8,image/png,"
                "image/svg+xml,image/*;q=0.8,*/*;q=0.5")
OLD_CHROME_IMAGE = "image/avif,image/webp,image/apng,*/*;q=0.8"
MAKE = 0x010F
#: Each format's first bytes.
SIGNATURES = {"png": b"\x89PNG", "jpeg": b"\xff\xd8\xff", "webp": b"RIFF", "tiff": (b"II*\x00", b"MM\x00*")}


@pytest.fixture(scope="module")
def client(fuser):
    with TestClient(create_app(fuser, Limits())) as c:
        yield c


@pytest.fixture(scope="module")
def pair() -> dict:
    rng = np.random.default_rng(3)
    a, b = smooth_image(rng, H, W), smooth_image(rng, H, W)
    return {"a": ("a.png", encode_png(a), "image/png"), "b": ("b.png", encode_png(b), "image/png")}


@pytest.fixture(scope="module")
def pair16() -> dict:
    rng = np.random.default_rng(4)
    a, b = (smooth_image(rng, H, W, channels=1).astype(np.uint16) * 257 for _ in range(2))
    return {"a": ("a.png", encode_png(a), "image/png"), "b": ("b.png", encode_png(b), "image/png")}


@pytest.fixture(scope="module")
def wide_pair() -> dict:
    rng = np.random.default_rng(6)
    a, b = smooth_image(rng, *WIDE), smooth_image(rng, *WIDE)
    return {"a": ("a.png", encode_png(a), "image/png"), "b": ("b.png", encode_png(b), "image/png")}


@pytest.fixture(scope="module")
def fused_png(client, pair) -> np.ndarray:
    r = client.post("/v1/fuse", files=pair)
    assert r.status_code == 200, r.text
    return decode_image(r.content, "fused.png")


def _error(r, status: int, *words: str) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    detail = r.json()["detail"]
    assert isinstance(detail, str) and "\n" not in detail
    for word in words:
        assert word in detail, detail
    return detail


def _starts_as(content: bytes, name: str) -> bool:
    return content.startswith(SIGNATURES[name])


# -- ?format= and ?quality= ----------------------------------------------------------------------------
@pytest.mark.parametrize("name, media_type, filename", [("png", "image/png", "fused.png"),
                                                        ("jpeg", "image/jpeg", "fused.jpg"),
                                                        ("webp", "image/webp", "fused.webp"),
                                                        ("tiff", "image/tiff", "fused.tif")])
def test_format_sets_the_answers_type_content_type_and_file_name(client, pair, fused_png, name, media_type, filename):
    r = client.post(f"/v1/fuse?format={name}", files=pair)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == media_type and _starts_as(r.content, name)
    assert r.headers["content-disposition"] == f'inline; filename="{filename}"'
    assert "Accept" in r.headers["vary"]  # a cache keeps answers to different Accept headers apart
    out = decode_image(r.content, filename)
    assert out.shape == fused_png.shape and out.dtype == np.uint8
    if name == "jpeg":
        assert np.abs(out.astype(int) - fused_png).mean() < 3  # lossy, close
    else:
        np.testing.assert_array_equal(out, fused_png)  # PNG, TIFF and WebP (lossless) keep every pixel


def test_jpeg_is_written_at_the_clis_default_quality_unless_quality_says_otherwise(client, pair, tmp_path):
    default = client.post("/v1/fuse?format=jpeg", files=pair)
    low = client.post("/v1/fuse?format=jpeg&quality=40", files=pair)
    assert jpeg_quality(io.BytesIO(default.content))[0] == DEFAULT_JPEG_QUALITY
    assert jpeg_quality(io.BytesIO(low.content))[0] == 40 and len(low.content) < len(default.content)
    assert NOTES_HEADER not in default.headers and NOTES_HEADER not in low.headers


def _metadata() -> ImageMetadata:
    """An sRGB profile and a camera's EXIF, as a source photo brings them."""
    exif = Image.Exif()
    exif[MAKE] = "Canon"
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    return ImageMetadata(icc_profile=icc, exif=b"Exif\x00\x00" + exif.tobytes())


@pytest.mark.parametrize("name", ["png", "jpeg", "webp", "tiff"])
@pytest.mark.parametrize("bits", [8, 16])
@pytest.mark.parametrize("with_metadata", [False, True])
def test_an_answer_is_byte_for_byte_what_defusion_fuse_writes(tmp_path, name, bits, with_metadata):
    """One encoder for the API and the CLI: write_image's (JPEG at the quality, 4:4:4; WebP lossy at the
    quality; 8 bits for JPEG and WebP), the metadata included."""
    image = smooth_image(np.random.default_rng(5), H, W)
    image = image.astype(np.uint16) * 257 if bits == 16 else image
    metadata = _metadata() if with_metadata else None
    written = write_image(tmp_path / f"x{FORMATS[name].suffix}", image, quality=92, metadata=metadata)
    answer = encode_answer(image, name, 92, metadata)
    assert answer == written.read_bytes()
    if with_metadata:
        assert read_metadata(answer).icc_profile == metadata.icc_profile


@pytest.mark.parametrize("query, words", [("format=jpg", ["format", "'png', 'jpeg', 'webp' or 'tiff'"]),
                                          ("format=gif", ["format"]),
                                          ("quality=0", ["quality", "greater than or equal to 1"]),
                                          ("quality=101", ["quality", "less than or equal to 100"]),
                                          ("format=jpeg&quality=high", ["quality", "integer"]),
                                          ("format=jpeg&format=png", ["'format' sent 2 times"])])
def test_bad_format_or_quality_is_a_422_of_one_line(client, pair, query, words):
    _error(client.post(f"/v1/fuse?{query}", files=pair), 422, *words)


def test_quality_for_a_lossless_format_is_noted_not_refused(client, pair):
    r = client.post("/v1/fuse?format=tiff&quality=80", files=pair)
    assert r.status_code == 200 and r.headers["content-type"] == "image/tiff"
    assert "quality sets a JPEG or WebP answer's quality; this tiff answer is lossless" in r.headers[NOTES_HEADER]
    r = client.post("/v1/fuse?quality=80", files=pair)  # no format: PNG
    assert "this png answer is lossless" in r.headers[NOTES_HEADER]


def test_webp_is_lossless_without_quality_and_lossy_at_the_quality_given(client, pair, fused_png):
    """Photographers share WebP: ?quality= makes it lossy (smaller), with no note; without it, lossless."""
    lossless = client.post("/v1/fuse?format=webp", files=pair)
    lossy = client.post("/v1/fuse?format=webp&quality=60", files=pair)
    assert lossy.status_code == 200 and lossy.headers["content-type"] == "image/webp"
    assert NOTES_HEADER not in lossy.headers and NOTES_HEADER not in lossless.headers
    assert b"VP8L" in lossless.content and b"VP8 " not in lossless.content  # in VP8X with the fusion's EXIF record
    assert b"VP8 " in lossy.content and b"VP8L" not in lossy.content
    out = decode_image(lossy.content, "fused.webp")
    assert len(lossy.content) < len(lossless.content) and not np.array_equal(out, fused_png)
    assert np.abs(out.astype(int) - fused_png).mean() < 8  # lossy, close


# -- 16-bit results ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, bits", [("png", 16), ("tiff", 16), ("jpeg", 8), ("webp", 8)])
def test_a_16_bit_result_keeps_16_bits_in_png_and_tiff_and_is_reduced_with_a_note_in_jpeg_and_webp(
        client, pair16, name, bits):
    r = client.post(f"/v1/fuse?format={name}", files=pair16)
    assert r.status_code == 200, r.text
    out = decode_image(r.content, f"fused{FORMATS[name].suffix}")
    assert out.dtype == (np.uint16 if bits == 16 else np.uint8)
    notes = r.headers.get(NOTES_HEADER, "")
    if bits == 16:
        assert "8 bits" not in notes
    else:
        assert (f"warning: {name} holds 8 bits; the 16-bit result was reduced (format=png or format=tiff keeps 16 "
                "bits)") in notes


def test_a_16_bit_tiff_answer_holds_the_png_answers_pixels(client, pair16):
    png = decode_image(client.post("/v1/fuse", files=pair16).content, "fused.png")
    tiff = decode_image(client.post("/v1/fuse?format=tiff", files=pair16).content, "fused.tif")
    np.testing.assert_array_equal(tiff, png)


# -- Accept -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("accept, expected", [("image/jpeg", "jpeg"), ("image/webp", "webp"), ("image/tiff", "tiff"),
                                              ("image/png", "png"), ("*/*", "png"), ("image/*", "png"),
                                              ("image/avif", "png"),  # only what we cannot give: PNG, not a 406
                                              ("application/json", "png"),
                                              (OLD_CHROME_IMAGE, "png"),  # a browser's: not WebP
                                              ("image/jpeg;q=0.5, image/tiff;q=0.9", "tiff"),
                                              ("image/jpeg;q=0, */*", "png"),  # q=0: not acceptable
                                              ("image/jpeg;q=oops, image/webp", "webp"),  # a malformed q: left out
                                              ("IMAGE/JPEG", "jpeg")])
def test_accept_chooses_the_format_where_format_is_not_given(client, pair, accept, expected):
    r = client.post("/v1/fuse", files=pair, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == FORMATS[expected].media_type and _starts_as(r.content, expected)


@pytest.mark.parametrize("accept", [CHROME_IMAGE, CHROME_PAGE, FIREFOX_IMAGE, SAFARI_IMAGE, OLD_CHROME_IMAGE])
def test_a_browsers_accept_gets_png_not_webp(accept):
    """A browser names image/webp among many: the slow, 8-bit lossless WebP is not its answer."""
    assert negotiated(None, accept) == "png"


@pytest.mark.parametrize("accept, expected", [("image/webp", "webp"),
                                              ("image/webp, */*;q=0.8", "webp"),  # webp the top choice
                                              ("image/webp, image/png;q=0.5", "webp"),
                                              ("image/avif, image/webp", "webp"),  # the only one of ours accepted
                                              ("image/avif, image/jpeg;q=0.5, image/tiff;q=0.9", "jpeg"),
                                              ("image/webp, image/png", "png"),  # equal q: our order
                                              ("image/webp, image/*", "png"),  # a wildcard at the same q
                                              ("text/html, image/webp;q=0.9, */*;q=0.8", "png")])
def test_accept_gives_the_format_the_header_puts_first_and_png_on_ties(accept, expected):
    assert negotiated(None, accept) == expected


@pytest.mark.parametrize("accept, expected", [("image/png;q=0, image/*", "jpeg"), ("image/*, image/png;q=0", "jpeg"),
                                              ("*/*, image/png;q=0, image/jpeg;q=0", "webp"),
                                              ("image/png;q=0, image/jpeg;q=0, image/webp;q=0, */*", "tiff"),
                                              ("image/*;q=0, */*", "png"),  # every one of ours refused: PNG
                                              ("image/png;q=0", "png")])
def test_a_wildcard_gives_the_first_of_ours_not_refused_and_png_when_all_are(client, pair, accept, expected):
    r = client.post("/v1/fuse", files=pair, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == FORMATS[expected].media_type and _starts_as(r.content, expected)


def test_acceptable_takes_each_format_by_its_most_specific_entry():
    assert acceptable("image/*;q=0.5, image/tiff;q=0") == ["png", "jpeg", "webp"]
    assert acceptable("*/*, image/*;q=0, image/jpeg") == ["jpeg"]
    assert acceptable("image/avif") == [] and acceptable("") == list(FORMATS)


# -- what a format cannot hold: wide images, 16 bits ----------------------------------------------------
def test_an_asked_format_too_narrow_for_the_image_is_a_422_of_one_line_before_the_model(client, wide_pair,
                                                                                        monkeypatch):
    def no_model(*args, **kwargs):
        raise AssertionError("the model ran for a request refused by its sides")

    monkeypatch.setattr(client.app.state.runner, "run", no_model)
    detail = _error(client.post("/v1/fuse?format=webp", files=wide_pair), 422)
    assert detail == f"webp takes sides up to {WEBP_MAX_SIDE} px; this image is {WIDE[1]}x{WIDE[0]}: format=png or tiff"


@pytest.mark.parametrize("accept", ["image/webp", CHROME_IMAGE])
def test_a_wide_image_for_an_accept_that_chose_webp_is_png_with_a_note_never_a_500(client, wide_pair, accept):
    r = client.post("/v1/fuse", files=wide_pair, headers={"Accept": accept})
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png" and decode_image(r.content, "fused.png").shape[:2] == WIDE
    if accept == "image/webp":
        assert (f"note: Accept chose webp, but webp takes sides up to {WEBP_MAX_SIDE} px; this image is "
                f"{WIDE[1]}x{WIDE[0]}: answered in png") in r.headers[NOTES_HEADER]


@pytest.mark.parametrize("name, limit", [("webp", WEBP_MAX_SIDE), ("jpeg", JPEG_MAX_SIDE)])
def test_each_lossy_or_8_bit_format_takes_sides_up_to_its_encoders_limit(name, limit, tmp_path):
    """The limits are the encoders' own: one more pixel fails to encode (a 500 before the check)."""
    for shape in ((2, limit), (limit, 2)):
        check_sides(name, shape)
        encode_answer(np.zeros(shape, np.uint8), name)
    with pytest.raises(ApiError, match=f"{name} takes sides up to {limit} px"):
        check_sides(name, (2, limit + 1))
    with pytest.raises(OSError):
        encode_answer(np.zeros((2, limit + 1), np.uint8), name)
    answer, notes = choose_answer_format(np.zeros((limit + 1, 2), np.uint8), None, f"image/{name}, image/tiff;q=0.5")
    assert answer == "tiff" and notes == [f"note: Accept chose {name}, but {name} takes sides up to {limit} px; this "
                                          f"image is 2x{limit + 1}: answered in tiff"]


@pytest.mark.parametrize("accept, expected", [("image/jpeg", "png"), ("image/webp", "png"),
                                              ("image/jpeg, image/tiff;q=0.5", "tiff")])
def test_a_16_bit_result_keeps_16_bits_where_accept_chose_an_8_bit_format(client, pair16, accept, expected):
    r = client.post("/v1/fuse", files=pair16, headers={"Accept": accept})
    assert r.status_code == 200 and r.headers["content-type"] == FORMATS[expected].media_type, r.text
    assert decode_image(r.content, f"fused{FORMATS[expected].suffix}").dtype == np.uint16
    chosen = accept.split(",")[0].split("/")[1]
    assert (f"note: Accept chose {chosen}, but {chosen} holds 8 bits and this result has 16: answered in "
            f"{expected}") in r.headers[NOTES_HEADER]
    assert "reduced" not in r.headers[NOTES_HEADER]


def test_the_formats_are_the_format_parameters_values_in_order():
    """Checked here, not by an assert in the module (which python -O skips)."""
    assert tuple(FORMATS) == get_args(AnswerFormat)


def test_the_format_parameter_wins_over_accept(client, pair):
    r = client.post("/v1/fuse?format=png", files=pair, headers={"Accept": "image/jpeg"})
    assert r.headers["content-type"] == "image/png" and _starts_as(r.content, "png")
    assert negotiated("tiff", "image/webp") == "tiff" and negotiated(None, None) == "png"


# -- the zips ---------------------------------------------------------------------------------------------
def test_the_zips_stay_png_whatever_accept_says(client, pair):
    for query in ("components=true", "pixels=sources&source_map=true"):
        r = client.post(f"/v1/fuse?{query}", files=pair, headers={"Accept": "image/jpeg"})
        assert r.status_code == 200 and r.headers["content-type"] == "application/zip", r.text
        with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
            for member in zf.namelist():
                assert member.endswith(".png") and zf.read(member).startswith(SIGNATURES["png"])


def test_a_zip_with_another_format_is_a_422_and_with_png_an_answer(client, pair):
    _error(client.post("/v1/fuse?components=true&format=jpeg", files=pair), 422, "format=jpeg",
           "components=true answers a zip of PNGs")
    _error(client.post("/v1/fuse?pixels=sources&source_map=true&format=webp", files=pair), 422,
           "source_map=true answers a zip of PNGs")
    r = client.post("/v1/fuse?components=true&format=png&quality=50", files=pair)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    assert "this zip of PNGs is lossless" in r.headers[NOTES_HEADER]


# -- OpenAPI and /v1/info ---------------------------------------------------------------------------------
def test_openapi_gives_the_formats_the_quality_range_and_the_answers_media_types(fuser):
    post = create_app(fuser, Limits()).openapi()["paths"]["/v1/fuse"]["post"]
    parameters = {p["name"]: p for p in post["parameters"]}
    fmt = next(s for s in parameters["format"]["schema"]["anyOf"] if s.get("type") == "string")
    assert fmt["enum"] == ["png", "jpeg", "webp", "tiff"]
    schema = parameters["quality"]["schema"]
    quality = next(s for s in schema["anyOf"] if s.get("type") == "integer")
    assert (quality["type"], quality["minimum"], quality["maximum"]) == ("integer", 1, 100)
    # no default in the schema: a client that sends the schema's defaults (Swagger UI's "Try it out")
    # would turn a WebP answer lossy; without quality each format takes its own (JPEG 95, WebP lossless)
    assert "default" not in schema or schema["default"] is None
    assert "WebP is lossless without it and lossy at it" in parameters["quality"]["description"]
    content = post["responses"]["200"]["content"]
    assert {"image/png", "image/jpeg", "image/webp", "image/tiff", "application/zip"} == set(content)


def test_info_lists_the_formats(client):
    formats = client.get("/v1/info").json()["formats"]
    assert list(formats) == ["png", "jpeg", "webp", "tiff"]  # the first is the default
    assert formats["jpeg"] == {"media_type": "image/jpeg", "bits": 8, "lossy": True, "quality": DEFAULT_JPEG_QUALITY,
                               "takes_quality": True}
    assert formats["tiff"]["bits"] == formats["png"]["bits"] == 16 and formats["webp"]["lossy"] is False
    # WebP: lossless by default (no quality), lossy at a quality given; PNG and TIFF take none
    assert formats["webp"]["quality"] is None and formats["webp"]["takes_quality"] is True
    assert [name for name, spec in formats.items() if spec["takes_quality"]] == ["jpeg", "webp"]


def test_every_answer_is_encoded_in_memory_never_through_a_file(client, pair, monkeypatch):
    """One encoder with the CLI (io.writing.encode_image) and no temporary file: a full disk cannot stop
    an answer."""
    def no_files(*args, **kwargs):
        raise AssertionError("an answer went through a file")

    monkeypatch.setattr("defusion.io.writing.write_bytes_atomically", no_files)
    monkeypatch.setattr("tempfile.TemporaryDirectory", no_files)
    for name in FORMATS:
        assert client.post(f"/v1/fuse?format={name}", files=pair).status_code == 200, name


def test_pillow_reads_every_answer_format(client, pair):
    for name in FORMATS:
        r = client.post(f"/v1/fuse?format={name}", files=pair)
        with Image.open(io.BytesIO(r.content)) as im:
            assert im.size == (W, H)
