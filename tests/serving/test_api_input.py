"""The REST API's answers to awkward input: sizes refused from the headers, truncated multipart
bodies, repeated query parameters, exact pixel counts, decoders that fail oddly, the JSON 500,
the OpenAPI document, the fused PNG's headers."""

from __future__ import annotations

import base64
import io
import json

import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

import defusion.serving.api as api
import defusion.serving.upload_images as upload_images
from defusion.fusion.fuser import Fuser
from defusion.serving.api import FIELDS, QUERY_HELP, Limits, create_app, encode_png
from tests.conftest import smooth_image
from tests.serving.test_api import H, W, _assert_error, as_image, files

#: A 16x16 PNG whose EXIF Pillow trips over (a TypeError in ImageOps.exif_transpose), from a user's report.
CORRUPT_EXIF_PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAWGVYSWZNTQAqAAAACAADAT4AAgAAAARDYW0AARIAAwAAAAEABgAAh2kABAAA"
    "AAEAAAAyYAAAAAABkAPDAgAAABQVAABEAAAAADIwMjA6MDE6MDEgMDA6MDA6MDAA2dgD3QAAABlJREFUeJxjTDESYSAFMJGkelTDqIYhpQEA"
    "O8oAypEte/MAAAAASUVORK5CYII=")
#: EXIF orientation 6: stored on its side, shown a quarter turn clockwise (width and height swap).
ROTATED = 6


@pytest.fixture(scope="module")
def pair():
    rng = np.random.default_rng(5)
    return smooth_image(rng, H, W), smooth_image(rng, H, W, channels=1)


def _jpeg(image: np.ndarray, orientation: int | None = None) -> bytes:
    exif = Image.Exif()
    if orientation is not None:
        exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=95, exif=exif.tobytes())
    return buffer.getvalue()


# -- sizes from the headers --------------------------------------------------------------
@pytest.fixture
def decoded(monkeypatch) -> list:
    """The uploads the server decodes, by file name."""
    names = []
    real = upload_images.decode_image  # what the server's _decode calls

    def counting(data, name, max_pixels, **kwargs):
        names.append(name)
        return real(data, name, max_pixels, **kwargs)

    monkeypatch.setattr(upload_images, "decode_image", counting)
    return names


def test_images_of_different_sizes_are_refused_before_any_is_decoded(client, pair, decoded):
    big = encode_png(np.zeros((400, 600), np.uint8))  # a few hundred bytes, 240,000 pixels to decode
    small = encode_png(pair[0])
    _assert_error(client.post("/v1/fuse", files=files(big, small)), 422,
                  f"images differ in size: a is 600x400 and b is {W}x{H} (WxH)", "rig")
    sent = {"a": ("a.png", small, "image/png"), "b": ("b.png", small, "image/png"), "c": ("c.png", big, "image/png")}
    _assert_error(client.post("/v1/fuse", files=sent), 422, "c is 600x400")
    assert decoded == []


def test_an_exif_rotated_image_is_compared_upright(client, pair, decoded):
    """A JPEG stored W x H with orientation 6 is H x W as read: it fuses with an H x W image and
    is refused (by its upright size) beside a W x H one."""
    a = pair[0]
    stored_on_its_side = np.ascontiguousarray(np.rot90(a, 1))  # H wide, W high
    sideways = _jpeg(stored_on_its_side, ROTATED)
    r = client.post("/v1/fuse", files=files(encode_png(a), sideways, ("a.png", "b.jpg")))
    assert r.status_code == 200, r.text
    assert as_image(r.content).shape == a.shape
    flat = _jpeg(np.ascontiguousarray(np.rot90(a, 1)))  # no orientation: really H wide, W high
    _assert_error(client.post("/v1/fuse", files=files(encode_png(a), flat, ("a.png", "b.jpg"))), 422,
                  f"a is {W}x{H} and b is {H}x{W}")


def _exif_after_the_pixels(png: bytes) -> bytes:
    """The PNG with its eXIf chunk moved after the image data (allowed, and Pillow reads it there)."""
    chunks, at = [], 8
    while at < len(png):
        length = int.from_bytes(png[at:at + 4], "big")
        chunks.append(png[at:at + 12 + length])  # length, type, data, CRC
        at += 12 + length
    exif = [c for c in chunks if c[4:8] == b"eXIf"]
    rest = [c for c in chunks if c[4:8] != b"eXIf"]
    return png[:8] + b"".join(rest[:-1] + exif + rest[-1:])  # before IEND


def test_a_png_whose_exif_follows_its_pixels_is_not_refused_by_its_stored_size(client, pair):
    """Where the header cannot tell the orientation, sizes that a rotation makes equal are left to
    the decoded images to judge."""
    a = pair[0]
    exif = Image.Exif()
    exif[0x0112] = ROTATED
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(np.rot90(a, 1))).save(buffer, "PNG", exif=exif.tobytes())
    data = _exif_after_the_pixels(buffer.getvalue())
    assert data.index(b"eXIf") > data.index(b"IDAT")
    with Image.open(io.BytesIO(data)) as im:
        assert "exif" not in im.info  # the header alone does not give it
    r = client.post("/v1/fuse", files=files(encode_png(a), data))
    assert r.status_code == 200, r.text
    assert as_image(r.content).shape == a.shape


def test_the_pixel_limit_message_gives_exact_counts(fuser):
    over = encode_png(np.zeros((300, 400), np.uint8))  # 120,000 pixels, rounded "0.1 MP" like the limit
    with TestClient(create_app(fuser, Limits(max_pixels=100_000))) as c:
        _assert_error(c.post("/v1/fuse", files=files(over, over)), 413,
                      "400x300 is 120,000 pixels, over the limit of 100,000 pixels", "--max-pixels")


# -- malformed bodies and parameters ---------------------------------------------------------
def _body(a: bytes, b: bytes) -> tuple[bytes, str, bytes]:
    """A multipart body of a and b, its Content-Type and its closing boundary."""
    request = httpx.Request("POST", "http://test/v1/fuse", files=files(a, b))
    content_type = request.headers["content-type"]
    return request.read(), content_type, b"--" + content_type.split("boundary=")[1].encode() + b"--"


def test_a_truncated_multipart_body_is_400_not_a_missing_field(client, pair):
    a, b = encode_png(pair[0]), encode_png(pair[1])
    body, content_type, closing = _body(a, b)
    headers = {"content-type": content_type}
    cut_in_b = body[: body.index(b) + len(b) // 2]
    _assert_error(client.post("/v1/fuse", content=cut_in_b, headers=headers), 400,
                  "malformed multipart body", "inside field 'b'", "closing boundary")
    no_closing = body[: body.rindex(closing)]
    _assert_error(client.post("/v1/fuse", content=no_closing, headers=headers), 400,
                  "malformed multipart body", "closing boundary")
    _assert_error(client.post("/v1/fuse", content=body, headers={"content-type": "multipart/form-data"}), 400,
                  "malformed multipart body", "boundary")
    epilogue = body + b"\r\nsome epilogue, which RFC 2046 allows\r\n"
    assert client.post("/v1/fuse", content=epilogue, headers=headers).status_code == 200


def test_a_query_parameter_sent_twice_is_refused(client, pair):
    sent = files(encode_png(pair[0]), encode_png(pair[1]))
    _assert_error(client.post("/v1/fuse?task=ivf&task=mef", files=sent), 422,
                  "query parameter 'task' sent 2 times; send each once")
    _assert_error(client.post("/v1/fuse?metadata=false&pixels=sources&metadata=false", files=sent), 422,
                  "'metadata' sent 2 times")


# -- decoders that fail oddly, and the server's own failures ----------------------------------------
def test_an_upload_with_corrupt_exif_is_never_a_500(client, pair):
    r = client.post("/v1/fuse", files=files(CORRUPT_EXIF_PNG, CORRUPT_EXIF_PNG, ("bad.png", "bad.png")))
    # decodes once read_image tolerates the EXIF (the profile and EXIF are then left out); a 400 until then
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        _assert_error(r, 400, "field 'a'", "bad.png", "cannot read image")
    else:
        assert as_image(r.content).shape[:2] == (16, 16)


def test_any_failure_of_a_decoder_is_a_json_400(client, pair, monkeypatch):
    def broken(path, max_pixels, **kwargs):
        raise TypeError("bad operand type for abs(): 'str'")  # as PIL.ImageOps.exif_transpose raised

    monkeypatch.setattr("defusion.serving.decode.read_image", broken)
    detail = _assert_error(client.post("/v1/fuse", files=files(encode_png(pair[0]), encode_png(pair[1]))), 400,
                           "field 'a'", "a.png", "cannot read image", "TypeError: bad operand type")
    assert "defusion-upload" not in detail  # the server's temporary file is not named


def test_an_unexpected_server_failure_is_a_json_500(fuser, pair):
    class Failing(Fuser):
        def fuse(self, *images, **kwargs):
            raise RuntimeError("out of something")

    app = create_app(Failing(fuser.model, fuser.device, options=fuser.options), Limits())
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.post("/v1/fuse", files=files(encode_png(pair[0]), encode_png(pair[1])))
    detail = _assert_error(r, 500, "internal server error")
    assert "out of something" not in detail  # the log has the details, the client a plain line


# -- what is answered --------------------------------------------------------------------------
def test_the_fused_png_is_inline_with_a_file_name(client, pair):
    r = client.post("/v1/fuse", files=files(encode_png(pair[0]), encode_png(pair[1])))
    assert r.status_code == 200 and r.headers["content-disposition"] == 'inline; filename="fused.png"'


def test_the_palette_colours_the_last_of_two_grey_uploads(client, fuser, pair):
    """docs/serving.md: without infrared=N the infrared image is the one raw thermal frame, else the
    only grey upload, else the last."""
    from dataclasses import replace

    grey_a, grey_b = pair[1], np.ascontiguousarray(pair[1][::-1])
    r = client.post("/v1/fuse?palette=hot", files=files(encode_png(grey_a), encode_png(grey_b)))
    assert r.status_code == 200, r.text
    last = Fuser(fuser.model, options=replace(fuser.options, palette="hot", infrared=1)).fuse(grey_a, grey_b)
    np.testing.assert_array_equal(as_image(r.content), last)


# -- the OpenAPI document ----------------------------------------------------------------------
def test_openapi_describes_the_multipart_body_the_errors_and_every_query_parameter(fuser):
    spec = create_app(fuser, Limits()).openapi()
    post = spec["paths"]["/v1/fuse"]["post"]
    body = post["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert body["required"] is True and schema["required"] == ["a", "b"]
    assert list(schema["properties"]) == ["a", "b", "c", "d", "rig"]  # the default max_images, 4
    for field in "abcd":
        assert schema["properties"][field]["type"] == "string"
        assert schema["properties"][field]["format"] == "binary"
    assert {"type": "string"} in schema["properties"]["rig"]["anyOf"]  # a text value, or a file
    assert set(post["responses"]) == {"200", "400", "408", "413", "415", "422", "500", "503"}
    for status in ("400", "408", "413", "415", "422", "500"):
        response = post["responses"][status]
        assert response["description"]
        assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorDetail"}
    error = spec["components"]["schemas"]["ErrorDetail"]
    assert error["properties"] == {"detail": {"type": "string", "title": "Detail"}} and error["required"] == ["detail"]
    assert "HTTPValidationError" not in json.dumps(spec)  # FastAPI's detail-as-array, which this server never sends
    parameters = {p["name"]: p for p in post["parameters"]}
    assert set(parameters) == set(QUERY_HELP)
    for name, parameter in parameters.items():
        assert parameter["in"] == "query" and parameter["description"] == QUERY_HELP[name]
    assert "else the last" in parameters["infrared"]["description"]
    assert "best-exposed" in parameters["align"]["description"]  # a bracket sorted by exposure: not onto a
    assert "scale follows" in parameters["pixels"]["description"]  # the rule of FuseOptions.with_task


def test_openapi_lists_the_image_fields_this_server_takes(fuser):
    schema = create_app(fuser, Limits(max_images=6)).openapi()["paths"]["/v1/fuse"]["post"]["requestBody"]
    fields = list(schema["content"]["multipart/form-data"]["schema"]["properties"])
    assert fields == [*FIELDS[:6], "rig"]


def test_openapi_is_served(client):
    r = client.get("/openapi.json")
    assert r.status_code == 200 and "requestBody" in r.json()["paths"]["/v1/fuse"]["post"]


def test_what_reading_an_upload_had_to_say_comes_back_in_a_header_naming_the_upload(client, pair):
    """A user of the API never sees the server's stderr: alpha ignored is said in the response."""
    visible, infrared = pair
    rgba = np.dstack([visible, np.full(visible.shape[:2], 255, np.uint8)])
    rgba[:4, :4, 3] = 0  # some transparent pixels
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    r = client.post("/v1/fuse", files=files(buffer.getvalue(), encode_png(infrared), names=("holes.png", "ir.png")))
    assert r.status_code == 200, r.text
    notes = r.headers[api.NOTES_HEADER]
    assert notes.startswith("warning: ") and "holes.png has transparent pixels" in notes
    assert "defusion-upload-" not in notes  # the upload's name, not the server's temporary file
    plain = client.post("/v1/fuse", files=files(encode_png(visible), encode_png(infrared)))
    assert api.NOTES_HEADER not in plain.headers
