"""The REST API: fused PNGs, the components zip, every error status, health/info, concurrency, uvicorn."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading
import time
import zipfile

import cv2
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from defusion.fusion.color import to_uint8
from defusion.fusion.fuser import Fuser
from defusion.fusion.selection import source_map
from defusion.serving.api import (COMPONENT_FILES, SOURCE_MAP_FILE, WEIGHT_FILE, Limits, app_from_env, create_app,
                                  encode_png)
from defusion.serving.decode import decode_image
from tests.conftest import free_port, smooth_image

H, W = 40, 48


@pytest.fixture(scope="module")
def client(fuser, lively_weights):
    with TestClient(create_app(fuser, Limits(), weights=lively_weights)) as c:
        yield c


@pytest.fixture(scope="module")
def small_client(fuser):
    """Tight limits: 2000 bytes per file, 1000 pixels."""
    with TestClient(create_app(fuser, Limits(max_upload_bytes=2000, max_pixels=1000))) as c:
        yield c


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(0)
    return {
        "rgb_a": smooth_image(rng, H, W), "rgb_b": smooth_image(rng, H, W),
        "grey_a": smooth_image(rng, H, W, channels=1), "grey_b": smooth_image(rng, H, W, channels=1),
    }


def jpeg(image: np.ndarray) -> bytes:
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    return cv2.imencode(".jpg", bgr)[1].tobytes()


def files(a: bytes, b: bytes, names=("a.png", "b.png")) -> dict:
    return {"a": (names[0], a, "image/png"), "b": (names[1], b, "image/png")}


def as_image(content: bytes) -> np.ndarray:
    return decode_image(content, "response.png")


# -- success ---------------------------------------------------------------------------
def test_fuse_returns_png_of_input_size_and_matches_fuser(client, fuser, images):
    a, b = images["rgb_a"], images["rgb_b"]
    r = client.post("/v1/fuse", files=files(encode_png(a), encode_png(b)))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "image/png"
    out = as_image(r.content)
    assert out.shape == (H, W, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, fuser.fuse(a, b))  # the same fusion core, PNG is lossless
    assert 10 < out.mean() < 245  # not a black/white image: the test model's outputs are lively


def test_a_requests_task_fuses_it_at_that_tasks_defaults_and_no_other(client, fuser, images, lively_weights):
    a, b = images["rgb_a"], images["rgb_b"]
    server_options = fuser.options
    r = client.post("/v1/fuse?task=ivf", files=files(encode_png(a), encode_png(b)))
    assert r.status_code == 200, r.text
    ivf = Fuser.from_pretrained(lively_weights, device="cpu", task="ivf")
    np.testing.assert_array_equal(as_image(r.content), ivf.fuse(a, b))
    assert not np.array_equal(as_image(r.content), fuser.fuse(a, b))
    assert fuser.options == server_options  # the next request fuses at the server's options again
    r = client.post("/v1/fuse?task=mff", files=files(encode_png(a), encode_png(b)))  # from the sources, at scale 1
    mff = Fuser.from_pretrained(lively_weights, device="cpu", task="mff")
    assert (mff.options.pixels, mff.options.scale) == ("sources", 1)
    np.testing.assert_array_equal(as_image(r.content), mff.fuse(a, b))
    lo, hi = np.minimum(a, b).astype(int), np.maximum(a, b).astype(int)
    assert ((lo - 1 <= as_image(r.content)) & (as_image(r.content) <= hi + 1)).all()  # the sources' own pixels
    r = client.post("/v1/fuse?task=mff&pixels=network", files=files(encode_png(a), encode_png(b)))
    network = Fuser.from_pretrained(lively_weights, device="cpu", task="mff", pixels="network")  # at scale 2
    np.testing.assert_array_equal(as_image(r.content), network.fuse(a, b))
    r = client.post("/v1/fuse?task=mff&components=true", files=files(encode_png(a), encode_png(b)))
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    r = client.post("/v1/fuse?task=sar", files=files(encode_png(a), encode_png(b)))
    assert r.status_code == 422 and "task" in r.json()["detail"]


def test_grey_and_colour_follow_the_fuser_colour_rules(client, fuser, images):
    grey, colour = images["grey_a"], images["rgb_b"]
    r = client.post("/v1/fuse", files=files(encode_png(grey), jpeg(colour), ("ir.png", "vis.jpg")))
    assert r.status_code == 200, r.text
    out = as_image(r.content)
    assert out.shape == (H, W, 3)
    expected = fuser.fuse(grey, decode_image(jpeg(colour), "vis.jpg"))
    np.testing.assert_array_equal(out, expected)
    r = client.post("/v1/fuse", files=files(encode_png(grey), encode_png(images["grey_b"])))
    assert r.status_code == 200 and as_image(r.content).shape == (H, W)


def test_16_bit_in_gives_16_bit_out(client, images):
    a16, b16 = (images[k].astype(np.uint16) * 257 for k in ("grey_a", "grey_b"))
    r = client.post("/v1/fuse", files=files(encode_png(a16), encode_png(b16)))
    assert r.status_code == 200, r.text
    out = as_image(r.content)
    assert out.dtype == np.uint16 and out.shape == (H, W)


def test_components_zip(client, fuser, images):
    a, b = images["rgb_a"], images["rgb_b"]
    r = client.post("/v1/fuse?components=true", files=files(encode_png(a), encode_png(b)))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert zf.namelist() == list(COMPONENT_FILES)
        parts = {name: decode_image(zf.read(name), name) for name in zf.namelist()}
    expected = fuser.decompose(a, b)
    for name, ref in zip(COMPONENT_FILES, (expected.fused, expected.common, expected.unique_a, expected.unique_b)):
        assert parts[name].shape == ref.shape == ((H, W, 3) if name == COMPONENT_FILES[0] else (H, W))
        np.testing.assert_array_equal(parts[name], ref)


def test_more_than_two_images_fuse_like_the_fuser(client, fuser, images):
    stack = [images["rgb_a"], images["grey_a"], images["rgb_b"]]
    sent = {field: (f"{field}.png", encode_png(im), "image/png") for field, im in zip("abc", stack)}
    r = client.post("/v1/fuse", files=sent)
    assert r.status_code == 200, r.text
    np.testing.assert_array_equal(as_image(r.content), fuser.fuse(*stack))


def test_a_focus_stack_request_to_a_thermal_server_is_fused_from_the_sources(fuser, images):
    """A server started with a palette: task=mff drops it (a focus stack has no infrared image)."""
    from dataclasses import replace

    from defusion.fusion.fuser import FuseOptions

    thermal = Fuser(fuser.model, options=replace(fuser.options, palette="inferno"))
    a, b = images["rgb_a"], images["rgb_b"]
    with TestClient(create_app(thermal)) as c:
        assert c.get("/v1/info").json()["tasks"]["mff"]["pixels"] == "sources"
        r = c.post("/v1/fuse?task=mff", files=files(encode_png(a), encode_png(b)))
        assert r.status_code == 200, r.text
        expected = Fuser(fuser.model, options=FuseOptions.for_task("mff")).fuse(a, b)
        np.testing.assert_array_equal(as_image(r.content), expected)
        _assert_error(c.post("/v1/fuse?task=mff&palette=hot", files=files(encode_png(a), encode_png(b))), 422,
                      "palette")


def test_a_bracket_with_task_mef_fuses_the_same_in_any_field_order(client, images, lively_weights):
    scene = images["rgb_a"].astype(float)
    bracket = [np.clip(scene * g, 0, 255).astype(np.uint8) for g in (0.4, 1.0, 1.8)]  # dark to bright
    results = []
    for order in ((0, 1, 2), (2, 0, 1)):
        sent = {field: (f"{field}.png", encode_png(bracket[i]), "image/png") for field, i in zip("abc", order)}
        r = client.post("/v1/fuse?task=mef", files=sent)
        assert r.status_code == 200, r.text
        results.append(as_image(r.content))
    mef = Fuser.from_pretrained(lively_weights, device="cpu", task="mef", order="given")
    np.testing.assert_array_equal(results[0], mef.fuse(*bracket[::-1]))  # sorted brightest first
    np.testing.assert_array_equal(results[0], results[1])


def test_align_registers_a_request_onto_a_and_leaves_the_server_unaligned(client, fuser, images, lively_weights):
    a = images["rgb_a"]
    shifted = np.ascontiguousarray(np.roll(a, (2, -3), axis=(0, 1)))  # the same scene, moved
    sent = {"a": ("a.png", encode_png(a), "image/png"), "b": ("b.png", encode_png(shifted), "image/png")}
    r = client.post("/v1/fuse?align=translation", files=sent)
    assert r.status_code == 200, r.text
    aligned = Fuser.from_pretrained(lively_weights, device="cpu", align="translation")
    np.testing.assert_array_equal(as_image(r.content), aligned.fuse(a, shifted))
    assert fuser.options.align == "none"
    r = client.post("/v1/fuse", files=sent)
    np.testing.assert_array_equal(as_image(r.content), fuser.fuse(a, shifted))
    flat = {**sent, "b": ("b.png", encode_png(np.full_like(a, 128)), "image/png")}
    _assert_error(client.post("/v1/fuse?align=affine", files=flat), 422, "cannot register field 'b' to field 'a'")
    _assert_error(client.post("/v1/fuse?align=rigid", files=sent), 422, "align")


def test_pixels_from_the_sources_per_request_and_the_server_keeps_its_own(client, fuser, images):
    from dataclasses import replace

    a, b = images["rgb_a"], images["rgb_b"]
    sent = {"a": ("a.png", encode_png(a), "image/png"), "b": ("b.png", encode_png(b), "image/png")}
    r = client.post("/v1/fuse?pixels=sources", files=sent)
    assert r.status_code == 200, r.text
    picked = Fuser(fuser.model, options=replace(fuser.options, pixels="sources", scale=1)).fuse(a, b)  # as task=mff
    np.testing.assert_array_equal(as_image(r.content), picked)
    assert fuser.options.pixels == "network"
    out, lo, hi = as_image(r.content).astype(int), np.minimum(a, b).astype(int), np.maximum(a, b).astype(int)
    assert ((lo - 1 <= out) & (out <= hi + 1)).all()  # a weighed choice of the sources' own pixels
    r = client.post("/v1/fuse?pixels=sources&components=true", files=sent)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert zf.namelist() == [*COMPONENT_FILES, WEIGHT_FILE]
        weight = decode_image(zf.read(WEIGHT_FILE), WEIGHT_FILE)
        np.testing.assert_array_equal(decode_image(zf.read("fused.png"), "fused.png"), picked)
    assert weight.shape == (H, W) and weight.dtype == np.uint8
    _assert_error(client.post("/v1/fuse?pixels=best", files=sent), 422, "pixels")


@pytest.mark.parametrize(("server", "pixels", "scale"), [
    ({}, "sources", 1),  # a server at the defaults: from the sources at scale 1, as task=mff
    ({"task": "mff"}, "network", 2),  # a server for focus stacks (scale 1): the reconstruction at 2
    ({"task": "mff", "scale": 3}, "network", 3),  # a scale of the server's own choosing stays
    ({"scale": 3}, "sources", 3),
])
def test_the_scale_follows_the_pixels_with_or_without_a_task(fuser, server, pixels, scale):
    """pixels=sources on a default server ran at 2 and task=ivf&pixels=sources at 1; pixels=network on
    a server started with --task mff at 1 and task=mff&pixels=network at 2: one rule, with or without."""
    from defusion.fusion.fuser import FuseOptions

    runner = create_app(Fuser(fuser.model, fuser.device, options=FuseOptions.for_task(**server)), Limits()).state.runner
    task = server.get("task", "ivf")
    assert runner.options_for(pixels=pixels).scale == runner.options_for(task, pixels=pixels).scale == scale
    assert runner.options_for(pixels=pixels).pixels == pixels
    assert runner.options_for().scale == runner.options.scale  # no pixels asked: the server's scale


def test_source_map_of_a_stack_and_of_a_pair(client, fuser, images):
    from dataclasses import replace

    a, b = images["rgb_a"], images["rgb_b"]
    stack = [a, b, a[::-1].copy()]
    sent = {f: (f"{f}.png", encode_png(im), "image/png") for f, im in zip("abc", stack)}
    r = client.post("/v1/fuse?pixels=sources&source_map=true", files=sent)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip", r.text
    expected = Fuser(fuser.model, options=replace(fuser.options, pixels="sources", scale=1)).fuse_with_weights(*stack)
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert zf.namelist() == ["fused.png", SOURCE_MAP_FILE]
        np.testing.assert_array_equal(decode_image(zf.read("fused.png"), "fused.png"), expected.fused)
        depth = decode_image(zf.read(SOURCE_MAP_FILE), SOURCE_MAP_FILE)
    np.testing.assert_array_equal(depth, to_uint8(source_map(expected.weights)))
    pair = {f: sent[f] for f in "ab"}
    r = client.post("/v1/fuse?pixels=sources&source_map=true&components=true", files=pair)
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf:
        assert zf.namelist() == [*COMPONENT_FILES, WEIGHT_FILE, SOURCE_MAP_FILE]
    _assert_error(client.post("/v1/fuse?source_map=true", files=pair), 422, "needs pixels=sources")


def test_fused_png_keeps_the_sources_colour_profile_and_exif(client, images):
    from PIL import Image, ImageCms

    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    sent = {}
    for field in ("a", "b"):
        buffer = io.BytesIO()
        Image.fromarray(images[f"rgb_{field}"]).save(buffer, "JPEG", icc_profile=profile, exif=exif.tobytes())
        sent[field] = (f"{field}.jpg", buffer.getvalue(), "image/jpeg")
    r = client.post("/v1/fuse", files=sent)
    assert r.status_code == 200, r.text
    with Image.open(io.BytesIO(r.content)) as im:
        assert im.info["icc_profile"] == profile and im.getexif()[0x010F] == "Canon"
    r = client.post("/v1/fuse?metadata=false", files=sent)
    with Image.open(io.BytesIO(r.content)) as im:
        assert "icc_profile" not in im.info and not im.getexif()
    r = client.post("/v1/fuse?components=true", files=sent)
    with zipfile.ZipFile(io.BytesIO(r.content)) as zf, Image.open(io.BytesIO(zf.read("fused.png"))) as im:
        assert im.info["icc_profile"] == profile


def test_raw_thermal_frames_are_stretched_unless_a_request_says_none(client, fuser, images):
    from dataclasses import replace

    visible = images["rgb_a"]
    raw = (7000 + 8 * visible.mean(axis=2)).astype(np.uint16)  # a 16-bit grey frame in a narrow band
    sent = {"a": ("ir.png", encode_png(raw), "image/png"), "b": ("vis.png", encode_png(visible), "image/png")}
    stretched = as_image(client.post("/v1/fuse", files=sent).content)
    np.testing.assert_array_equal(stretched, fuser.fuse(raw, visible))
    r = client.post("/v1/fuse?stretch=none", files=sent)
    assert r.status_code == 200, r.text
    as_is = Fuser(fuser.model, options=replace(fuser.options, stretch="none")).fuse(raw, visible)
    np.testing.assert_array_equal(as_image(r.content), as_is)
    assert not np.array_equal(stretched, as_is) and fuser.options.stretch == "auto"
    _assert_error(client.post("/v1/fuse?stretch=always", files=sent), 422, "stretch")


def test_deghost_per_request(client, fuser, images):
    from dataclasses import replace

    a = images["rgb_a"]
    moved = a.copy()
    moved[4:16, 20:32] = moved[4:16, 4:16]  # something moved in the second image
    sent = {"a": ("a.png", encode_png(a), "image/png"), "b": ("b.png", encode_png(moved), "image/png")}
    r = client.post("/v1/fuse?deghost=true", files=sent)
    assert r.status_code == 200, r.text
    expected = Fuser(fuser.model, options=replace(fuser.options, deghost=True)).fuse(a, moved)
    np.testing.assert_array_equal(as_image(r.content), expected)
    assert fuser.options.deghost is False
    _assert_error(client.post("/v1/fuse?deghost=maybe", files=sent), 422, "deghost")


def test_image_count_errors(client, images):
    png = encode_png(images["rgb_a"])
    upload = lambda *fields: {f: (f"{f}.png", png, "image/png") for f in fields}  # noqa: E731
    _assert_error(client.post("/v1/fuse", files=upload("a", "b", "d")), 422, "missing field 'c'")
    _assert_error(client.post("/v1/fuse?components=true", files=upload("a", "b", "c")), 422, "pair", "3 images")
    # over the default max_images of 4: a 422 like the other field-layout errors (docs/serving.md), however many
    _assert_error(client.post("/v1/fuse", files=upload("a", "b", "c", "d", "e")), 422, "5 images", "at most 4",
                  "'d'")
    _assert_error(client.post("/v1/fuse", files=upload(*"abcdefgh")), 422, "at most 4 images", "'rig'")
    many = [("a", ("a.png", png, "image/png"))] * 9  # past starlette's own bound on the parts
    _assert_error(client.post("/v1/fuse", files=many), 422, "too many", "at most 4 images")
    with pytest.raises(ValueError, match="max_images"):
        Limits(max_images=9)


def test_unknown_query_parameters_and_form_fields_are_refused_not_ignored(client, images):
    png = encode_png(images["rgb_a"])
    sent = files(png, png)
    detail = _assert_error(client.post("/v1/fuse?sclae=1", files=sent), 422, "unknown query parameter 'sclae'",
                           "task", "pixels", "components")
    assert "request" not in detail  # the handler's own argument is not a query parameter
    _assert_error(client.post("/v1/fuse?task=ivf&x=1&y=2", files=sent), 422, "parameters 'x', 'y'")
    _assert_error(client.post("/v1/fuse", files={**sent, "x": ("x.png", png, "image/png")}), 422,
                  "unknown field 'x'", "'a', 'b', 'c', 'd'", "'rig'")
    _assert_error(client.post("/v1/fuse", files=sent, data={"components": "true"}), 422, "unknown field 'components'")
    _assert_error(client.post("/v1/fuse", files=[("a", ("a.png", png, "image/png"))] * 2
                              + [("b", ("b.png", png, "image/png"))]), 422, "field 'a' sent 2 times")
    # what the API does take still works: extra images in c, d, and a rig field
    assert client.post("/v1/fuse?task=mef&metadata=false", files={**sent, "c": ("c.png", png, "image/png")}
                       ).status_code == 200


# -- errors: JSON {"detail": str}, the right status, never 500 ----------------------------
def _assert_error(r: httpx.Response, status: int, *words: str) -> str:
    assert r.status_code == status, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/json")
    detail = r.json()["detail"]
    assert isinstance(detail, str)
    for word in words:
        assert word in detail, detail
    return detail


def test_truncated_and_empty_images_are_400(client, images):
    png = encode_png(images["rgb_a"])
    good = encode_png(images["rgb_b"])
    _assert_error(client.post("/v1/fuse", files=files(png[: len(png) // 2], good)), 400, "field 'a'", "a.png")
    _assert_error(client.post("/v1/fuse", files=files(good, png[:20])), 400, "field 'b'")
    _assert_error(client.post("/v1/fuse", files=files(b"", good)), 400, "empty")


def test_not_an_image_is_415(client, images):
    good = encode_png(images["rgb_a"])
    text = {"a": ("notes.txt", b"hello, this is text\n" * 20, "text/plain"), "b": ("b.png", good, "image/png")}
    _assert_error(client.post("/v1/fuse", files=text), 415, "notes.txt", "not an image")
    noise = np.random.default_rng(1).integers(0, 256, 500, dtype=np.uint8).tobytes()
    _assert_error(client.post("/v1/fuse", files=files(good, b"\x00\x01" + noise)), 415, "field 'b'")
    _assert_error(client.post("/v1/fuse", json={"a": "x", "b": "y"}), 415, "multipart/form-data")


def test_missing_field_and_size_mismatch_are_422(client, images):
    good = encode_png(images["rgb_a"])
    _assert_error(client.post("/v1/fuse", files={"a": ("a.png", good, "image/png")}), 422, "'b'")
    _assert_error(client.post("/v1/fuse", files={"b": ("b.png", good, "image/png")}, data={"a": "text"}), 422, "'a'")
    other = encode_png(smooth_image(np.random.default_rng(2), W, H))  # 40 wide, 48 high
    _assert_error(client.post("/v1/fuse", files=files(good, other)), 422, f"{W}x{H}", f"{H}x{W}")
    _assert_error(client.post("/v1/fuse?components=maybe", files=files(good, good)), 422, "components")


def test_too_many_pixels_is_413(small_client, images):
    png = encode_png(images["grey_a"][:30, :40])  # 1200 px > 1000, and under 2000 bytes
    assert len(png) < 2000
    r = small_client.post("/v1/fuse", files=files(png, png))
    _assert_error(r, 413, "over the limit", "--max-pixels")
    # the upload named as sent and the bound as the server's, not a temporary file and a CLI flag
    assert r.json()["detail"] == ("field 'a': a.png: 40x30 is 1,200 pixels, over the limit of 1,000 pixels "
                                  "(the server's --max-pixels or DEFUSION_MAX_PIXELS)")


def test_too_many_bytes_is_413(small_client):
    big = bytes(3000)  # over 2000 bytes per file; the request itself is under the request bound
    _assert_error(small_client.post("/v1/fuse", files=files(big, b"x")), 413, "2000")
    huge = bytes(100_000)  # Content-Length over 2 x 2000 + 64 KiB: refused before reading
    _assert_error(small_client.post("/v1/fuse", files=files(huge, b"x")), 413, "request body of")


def test_chunked_body_over_the_bound_is_413(small_client):
    """Without a Content-Length the bytes actually received are counted."""
    boundary = "xyzzy"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"a\"; filename=\"a.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode()

    def body():
        yield head
        for _ in range(20):
            yield bytes(8192)
        yield f"\r\n--{boundary}--\r\n".encode()

    r = small_client.post("/v1/fuse", content=body(),
                          headers={"content-type": f"multipart/form-data; boundary={boundary}"})
    _assert_error(r, 413, "over the limit")


# -- health and info -------------------------------------------------------------------
def test_healthz_and_info(client, lively_weights):
    assert client.get("/healthz").json() == {"status": "ok"}
    info = client.get("/v1/info").json()
    assert info["model"]["name"] == "defusion-tiny"
    assert info["model"]["parameters"] > 0 and info["model"]["config"]["stem_channels"] == 8
    assert info["weights"]["file"] == lively_weights.name and "path" not in info["weights"]
    assert info["weights"]["metadata"]["steps"] == "0"
    assert info["device"] == "cpu"
    assert info["limits"]["max_upload_bytes"] == 50 * 1024 * 1024
    assert info["tasks"] == {
        "ivf": {"unique_gain": 1.5, "detail_gain": 2.0, "order": "given", "pixels": "network", "scale": 2},
        "mef": {"unique_gain": 1.0, "detail_gain": 1.5, "order": "exposure", "pixels": "network", "scale": 2},
        "mff": {"unique_gain": 1.0, "detail_gain": 1.5, "order": "given", "pixels": "sources", "scale": 1}}
    assert info["options"]["unique_gain"] == 1.25 and info["options"]["detail_gain"] == 1.5  # as run


def test_app_from_env(monkeypatch, lively_weights):
    monkeypatch.setenv("DEFUSION_WEIGHTS", str(lively_weights))
    monkeypatch.setenv("DEFUSION_DEVICE", "cpu")
    monkeypatch.setenv("DEFUSION_MAX_PIXELS", "1234")
    monkeypatch.setenv("DEFUSION_MAX_IMAGES", "6")
    app = app_from_env()
    assert app.state.limits.max_pixels == 1234 and str(app.state.fuser.device) == "cpu"
    assert app.state.limits.fields == ("a", "b", "c", "d", "e", "f")


def test_app_from_env_takes_the_fusion_settings_of_defusion_serve(monkeypatch, served_settings, lively_weights,
                                                                  tmp_path):
    """DEFUSION_TASK, _SCALE, _RIG, ... give a uvicorn worker what `defusion serve --task ...` gives."""
    import json

    rig = tmp_path / "rig.json"
    rig.write_text(json.dumps(_half_size_rig().to_json()), encoding="utf-8")
    argv = ["--weights", str(lively_weights), "--device", "cpu", "--task", "ivf", "--scale", "1", "--rig", str(rig),
            "--tile", "256", "--detail-gain", "1.75", "--palette", "hot", "--infrared", "2", "--max-images", "3"]
    environ = {"DEFUSION_WEIGHTS": str(lively_weights), "DEFUSION_DEVICE": "cpu", "DEFUSION_TASK": "ivf",
               "DEFUSION_SCALE": "1", "DEFUSION_RIG": str(rig), "DEFUSION_TILE": "256", "DEFUSION_DETAIL_GAIN": "1.75",
               "DEFUSION_PALETTE": "hot", "DEFUSION_INFRARED": "2", "DEFUSION_MAX_IMAGES": "3",
               "DEFUSION_THREADS": ""}  # empty: unset
    served = served_settings(*argv)  # on a free 127.0.0.1 port: it binds before loading
    monkeypatch.undo()
    from defusion.serving.api import settings_from_env

    settings = settings_from_env(environ)
    assert served.pop("allowed_hosts") == ()  # bound to 127.0.0.1: loopback Host names only
    assert settings.pop("allowed_hosts", None) is None  # under uvicorn the address is not known: no check unless named
    assert settings == served  # the same settings, parsed by the same rules
    assert settings["scale"] == 1 and settings["unique_gain"] == 1.5 and settings["rig"].size == (W, H)
    app = app_from_env(environ)
    options = app.state.fuser.options
    assert (options.scale, options.tile, options.unique_gain, options.detail_gain) == (1, 256, 1.5, 1.75)
    assert (options.palette, options.infrared, options.rig.size) == ("hot", 1, (W, H))
    assert app.state.limits.max_images == 3


@pytest.mark.parametrize("environ, words", [
    ({"DEFUSION_MAX_IMAGES": "abc"}, ["DEFUSION_MAX_IMAGES='abc'", "from 2 to 8"]),
    ({"DEFUSION_MAX_IMAGES": "9"}, ["DEFUSION_MAX_IMAGES must be from 2 to 8"]),
    ({"DEFUSION_MAX_PIXELS": "0"}, ["DEFUSION_MAX_PIXELS='0'", "1 or more"]),
    ({"DEFUSION_MAX_UPLOAD_BYTES": "1e6"}, ["DEFUSION_MAX_UPLOAD_BYTES='1e6'", "whole number"]),
    ({"DEFUSION_THREADS": "two"}, ["DEFUSION_THREADS='two'", "1 or more"]),
    ({"DEFUSION_SCALE": "-1"}, ["DEFUSION_SCALE='-1'", "1 or more"]),
    ({"DEFUSION_TASK": "sar"}, ["DEFUSION_TASK='sar'", "'ivf', 'mef', 'mff'"]),
    ({"DEFUSION_RUNTIME": "tf"}, ["DEFUSION_RUNTIME='tf'", "'onnxruntime'"]),
    ({"DEFUSION_DEVICE": "gpu"}, ["DEFUSION_DEVICE='gpu'", "'cuda'"]),
    ({"DEFUSION_UNIQUE_GAIN": "9"}, ["DEFUSION_UNIQUE_GAIN='9'", "from 0 to 4"]),
    ({"DEFUSION_TILE": "32"}, ["DEFUSION_TILE must be 0 (off) or at least"]),
    ({"DEFUSION_PALETTE": "rainbow"}, ["DEFUSION_PALETTE='rainbow'", "'inferno'"]),
    ({"DEFUSION_INFRARED": "2"}, ["DEFUSION_INFRARED says", "DEFUSION_PALETTE"]),
    ({"DEFUSION_RIG": "/no/such/rig.json"}, ["DEFUSION_RIG='/no/such/rig.json'", "cannot read rig file"]),
    ({"DEFUSION_ONNX": "m.onnx", "DEFUSION_RUNTIME": "compile"}, ["DEFUSION_ONNX", "DEFUSION_RUNTIME do not apply"]),
])
def test_a_bad_env_value_is_one_line_naming_the_variable(environ, words):
    from defusion.serving.api import EnvSettingError, settings_from_env

    with pytest.raises(EnvSettingError) as error:  # before any model is loaded
        settings_from_env(environ)
    message = str(error.value)
    assert isinstance(error.value, ValueError) and "\n" not in message and "--" not in message.split("(as")[0]
    for word in words:
        assert word in message, message


def test_a_weights_file_that_will_not_load_names_its_variable(tmp_path):
    from defusion.serving.api import EnvSettingError

    with pytest.raises(EnvSettingError, match="DEFUSION_WEIGHTS: weights file not found"):
        app_from_env({"DEFUSION_WEIGHTS": str(tmp_path / "none.safetensors"), "DEFUSION_DEVICE": "cpu"})
    with pytest.raises(EnvSettingError, match="DEFUSION_ONNX: ONNX model not found"):
        app_from_env({"DEFUSION_ONNX": str(tmp_path / "none.onnx"), "DEFUSION_DEVICE": "cpu"})


def test_uvicorn_shows_the_bad_variable_as_its_last_line():
    env = {**os.environ, "DEFUSION_MAX_IMAGES": "abc", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "uvicorn", "--factory", "defusion.serving.api:app_from_env"],
                          env=env, capture_output=True, text=True, timeout=120, encoding="utf-8")
    assert proc.returncode != 0
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("defusion.serving.env_settings.EnvSettingError: DEFUSION_MAX_IMAGES='abc'"), proc.stderr


#: The options of ``defusion serve`` that go to uvicorn itself, not to the app (uvicorn's own under
#: ``uvicorn --factory``, but ``header_timeout``: defusion's protocol, which uvicorn alone lacks).
UVICORN_OPTIONS = ("host", "port", "log_level", "timeout_keep_alive", "timeout_graceful_shutdown", "root_path",
                   "forwarded_allow_ips", "header_timeout")


def test_every_server_wide_option_of_defusion_serve_has_a_variable():
    import argparse

    from defusion.cli import serve as serve_cli
    from defusion.serving.api import ENV_VARIABLES

    parser = argparse.ArgumentParser()
    serve_cli.add_arguments(parser)
    given = set(vars(parser.parse_args([])))
    assert set(UVICORN_OPTIONS) < given  # each still an option of the command
    options = given - set(UVICORN_OPTIONS)  # uvicorn's own
    assert options == {option[2:].replace("-", "_") for option, _ in ENV_VARIABLES.values()}


def test_docs_list_every_env_variable_in_one_table():
    from defusion.serving.api import ENV_VARIABLES
    from tests.conftest import REPO

    rows = [line for line in (REPO / "docs" / "serving.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("| `DEFUSION_")]
    assert [row.split("`")[1] for row in rows] == list(ENV_VARIABLES)
    for row, (option, _) in zip(rows, ENV_VARIABLES.values()):
        assert f"`{option}`" in row


# -- concurrency -----------------------------------------------------------------------
def test_concurrent_requests_share_one_model_safely(fuser, images):
    a, b = images["rgb_a"], images["rgb_b"]
    expected = fuser.fuse(a, b)
    active, peak, lock = 0, 0, threading.Lock()
    inner = Fuser.fuse

    class Watched(Fuser):
        def fuse(self, *args, **kwargs):
            nonlocal active, peak
            with lock:
                active += 1
                peak = max(peak, active)
            time.sleep(0.02)
            try:
                return inner(self, *args, **kwargs)
            finally:
                with lock:
                    active -= 1

    watched = Watched(fuser.model, fuser.device, options=fuser.options)
    app = create_app(watched, Limits())

    async def many():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
            return await asyncio.gather(*(c.post("/v1/fuse", files=files(encode_png(a), encode_png(b)))
                                          for _ in range(4)))

    responses = asyncio.run(many())
    assert [r.status_code for r in responses] == [200] * 4
    for r in responses:
        np.testing.assert_array_equal(as_image(r.content), expected)
    assert peak == 1  # the model lock serialised the calls


# -- a real server ---------------------------------------------------------------------


def test_real_uvicorn_server(lively_weights, images):
    port = free_port()
    code = ("import argparse, sys; from defusion.cli import serve; p = argparse.ArgumentParser(); "
            "serve.add_arguments(p); sys.exit(serve.run(p.parse_args(sys.argv[1:])))")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-c", code, "--weights", str(lively_weights), "--device", "cpu",
                             "--port", str(port), "--threads", "1", "--log-level", "warning"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stdout.read().decode()
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "server did not come up in 60 s"
            time.sleep(0.3)
        a, b = images["rgb_a"], images["grey_b"]
        r = httpx.post(f"{base}/v1/fuse", files=files(encode_png(a), encode_png(b)), timeout=30)
        assert r.status_code == 200, r.text
        assert as_image(r.content).shape == (H, W, 3)
        bad = httpx.post(f"{base}/v1/fuse", files=files(b"not an image", encode_png(b)), timeout=30)
        assert bad.status_code == 415 and "detail" in bad.json()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _half_size_rig():
    from defusion.fusion.rig import Rig, RigCamera

    centres = ((0.5, 0.0, -0.25), (0.0, 0.5, -0.25), (0.0, 0.0, 1.0))  # a camera of half the resolution
    return Rig((W, H), (RigCamera((W // 2, H // 2), centres),), "similarity")


def test_a_rig_field_fuses_a_camera_rigs_images_of_different_sizes(client, fuser, images):
    from dataclasses import replace

    import json

    rig = _half_size_rig()
    visible, thermal = images["rgb_a"], images["grey_b"][::2, ::2].copy()
    sent = files(encode_png(visible), encode_png(thermal))
    _assert_error(client.post("/v1/fuse", files=sent), 422, "differ in size", "rig")
    text = json.dumps(rig.to_json())
    r = client.post("/v1/fuse", files=sent, data={"rig": text})
    assert r.status_code == 200, r.text
    expected = Fuser(fuser.model, options=replace(fuser.options, rig=rig)).fuse(visible, thermal)
    np.testing.assert_array_equal(as_image(r.content), expected)
    assert fuser.options.rig is None
    as_file = {**sent, "rig": ("rig.json", text.encode(), "application/json")}
    assert client.post("/v1/fuse", files=as_file).status_code == 200
    _assert_error(client.post("/v1/fuse", files=files(encode_png(visible), encode_png(visible)), data={"rig": text}),
                  422, "rig", "calibrated")
    _assert_error(client.post("/v1/fuse", files=sent, data={"rig": "{not json"}), 422, "rig")
    _assert_error(client.post("/v1/fuse", files=sent, data={"rig": '{"format": "other"}'}), 422, "not a defusion rig")
    _assert_error(client.post("/v1/fuse", files=sent, data={"rig": "x" * 70000}), 413, "rig")


def test_a_server_started_with_a_rig_applies_it_to_every_request(fuser, images):
    from dataclasses import replace

    rig = _half_size_rig()
    rigged = Fuser(fuser.model, options=replace(fuser.options, rig=rig))
    visible, thermal = images["rgb_a"], images["grey_b"][::2, ::2].copy()
    with TestClient(create_app(rigged, Limits())) as c:
        r = c.post("/v1/fuse", files=files(encode_png(visible), encode_png(thermal)))
        assert r.status_code == 200, r.text
        assert as_image(r.content).shape == visible.shape
        assert c.get("/v1/info").json()["options"]["rig"]["size"] == [W, H]


def test_a_thermal_palette_per_request(client, fuser, images):
    from dataclasses import replace

    sent = files(encode_png(images["grey_a"]), encode_png(images["rgb_b"]))
    r = client.post("/v1/fuse?palette=inferno", files=sent)
    assert r.status_code == 200, r.text
    expected = Fuser(fuser.model, options=replace(fuser.options, palette="inferno")).fuse(images["grey_a"],
                                                                                           images["rgb_b"])
    np.testing.assert_array_equal(as_image(r.content), expected)
    assert fuser.options.palette == "none"
    r = client.post("/v1/fuse?palette=hot&infrared=2", files=sent)
    assert r.status_code == 200, r.text
    expected = Fuser(fuser.model, options=replace(fuser.options, palette="hot", infrared=1)).fuse(images["grey_a"],
                                                                                                images["rgb_b"])
    np.testing.assert_array_equal(as_image(r.content), expected)
    _assert_error(client.post("/v1/fuse?palette=hot&infrared=0", files=sent), 422, "infrared")
    _assert_error(client.post("/v1/fuse?palette=hot&infrared=3", files=sent), 422, "infrared image 3")
    _assert_error(client.post("/v1/fuse?palette=rainbow", files=sent), 422, "palette")
    _assert_error(client.post("/v1/fuse?infrared=2", files=sent), 422, "add palette=")
    _assert_error(client.post("/v1/fuse?palette=hot&pixels=sources", files=sent), 422, "pixels")


def test_env_settings_say_what_a_bad_number_is_and_warn_about_a_misspelt_variable(caplog):
    from defusion.serving.api import EnvSettingError, settings_from_env

    with pytest.raises(EnvSettingError, match="DEFUSION_SCALE='abc': must be a whole number, got 'abc'"):
        settings_from_env({"DEFUSION_SCALE": "abc"})
    with caplog.at_level("WARNING", logger="defusion.serving"):
        settings_from_env({"DEFUSION_SACLE": "1"})
    assert "DEFUSION_SACLE is not a setting of the server and is ignored; did you mean DEFUSION_SCALE?" in caplog.text
