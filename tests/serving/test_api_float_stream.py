"""A camera streaming float frames (radiometric TIFFs in degrees) through ``POST /v1/fuse`` keeps one
mapping, as a raw 16-bit stream does: the response's ``X-Defusion-Stretch`` gives the float range the
frame was mapped by, in degrees, and sent back as ``stretch=`` maps the next frames by it (before, each
float upload was stretched by its own minimum to maximum and the header pinned nothing: a hot object
entering the view dimmed the background). And a server started with ``--task ivf`` says, as
``?task=ivf`` does, that a pair came infrared first."""

from __future__ import annotations

import io

import numpy as np
import pytest
import tifffile

from defusion.fusion.fuser import Fuser
from defusion.io.float_pixels import float_to_uint16
from defusion.serving.api import NOTES_HEADER, create_app, encode_png
from defusion.serving.decode import decode_image
from defusion.fusion.options import FuseOptions
from defusion.fusion.stretch import FixedStretch
from defusion.serving import decode
from defusion.serving.stream import STRETCH_HEADER, fold_float_stretch, read_stretch, stretch_value
from tests.conftest import smooth_image
from tests.serving.test_api import _assert_error

H, W = 48, 64
#: The scene's temperatures (degrees), and the hot object's, far over them, in a corner.
COOL, WARM, HOT = 18.0, 42.0, 120.0
PATCH = 16
BACKGROUND = (slice(PATCH + 2, None), slice(PATCH + 2, None))
#: How far the background's mean may move (a share of the full scale) with one mapping (the network
#: sees the hot patch: about 0.001 here), and how far it moves without one (about 0.14: the hot object
#: stretches the range 4-fold).
STEADY = 0.005
DRIFT = 0.05


@pytest.fixture(scope="module")
def frames() -> dict[str, np.ndarray]:
    """A colour visible frame, a float infrared frame in degrees and the same with a hot patch."""
    rng = np.random.default_rng(11)
    scene = (COOL + (WARM - COOL) * smooth_image(rng, H, W, 1) / 255.0).astype(np.float32)
    hot = scene.copy()
    hot[:PATCH, :PATCH] = HOT
    return {"visible": smooth_image(rng, H, W), "ir": scene, "hot": hot}


def tiff(values: np.ndarray) -> bytes:
    out = io.BytesIO()
    tifffile.imwrite(out, values)
    return out.getvalue()


def post(client, visible: np.ndarray, infrared: np.ndarray, status: int = 200, **query: str):
    sent = {"a": ("vis.png", encode_png(visible), "image/png"), "b": ("ir.tif", tiff(infrared), "image/tiff")}
    r = client.post("/v1/fuse", params=query, files=sent)
    assert r.status_code == status, r.text
    return r


def background(r) -> float:
    fused = decode_image(r.content, "fused.png")
    return float(fused[BACKGROUND].mean()) / np.iinfo(fused.dtype).max


def test_a_float_stream_that_sends_the_first_header_back_keeps_the_backgrounds_level(client, fuser, frames):
    first = post(client, frames["visible"], frames["ir"])
    assert first.headers[STRETCH_HEADER] == stretch_value(None, {1: (float(frames["ir"].min()),
                                                                     float(frames["ir"].max()))})
    steady = post(client, frames["visible"], frames["hot"], stretch=first.headers[STRETCH_HEADER])
    drifting = post(client, frames["visible"], frames["hot"])
    assert abs(background(steady) - background(first)) < STEADY
    assert abs(background(first) - background(drifting)) > DRIFT
    assert steady.headers[STRETCH_HEADER] == first.headers[STRETCH_HEADER]  # what it used, said back
    assert NOTES_HEADER not in steady.headers  # nothing measured: nothing said
    span = read_stretch(first.headers[STRETCH_HEADER], ("a", "b"))[1][1]
    assert span == (float(frames["ir"].min()), float(frames["ir"].max()))  # exactly the frame's values
    expected = Fuser(fuser.model, options=fuser.options).fuse(frames["visible"], float_to_uint16(frames["hot"], span))
    assert np.abs(decode_image(steady.content, "fused.png").astype(int) - expected.astype(int)).max() <= 2


def test_an_unpinned_float_upload_fuses_as_before_and_says_how_it_was_read(client, fuser, frames):
    r = post(client, frames["visible"], frames["hot"])
    expected = Fuser(fuser.model, options=fuser.options).fuse(frames["visible"], float_to_uint16(frames["hot"]))
    assert np.abs(decode_image(r.content, "fused.png").astype(int) - expected.astype(int)).max() <= 2
    assert r.headers[NOTES_HEADER].startswith(f"note: ir.tif holds float values {COOL:.4g}")
    assert f"{STRETCH_HEADER} sent back as stretch= maps the next frames" in r.headers[NOTES_HEADER]
    as_is = post(client, frames["visible"], frames["hot"], stretch="none")
    assert STRETCH_HEADER not in as_is.headers  # none leaves float reading alone: the same pixels (the record differs)
    assert np.array_equal(decode_image(as_is.content, "fused.png"), decode_image(r.content, "fused.png"))


def test_floats_in_a_narrow_band_of_0_to_1_keep_one_span_too(client, fuser, frames):
    """Floats in [0, 1] are read as they are, and a narrow band of them (raw counts over 65535) is then
    stretched as raw counts: the response gives both steps as one span of the frame's values, and
    that span sent back fuses the frame alike (a count mapping of a float upload would be a 422)."""
    unit = (frames["ir"] - COOL) / (HOT - COOL)  # 0 to 0.24
    first = post(client, frames["visible"], unit)
    low, high = read_stretch(first.headers[STRETCH_HEADER], ("a", "b"))[1][1]
    assert 0 < low < high < (WARM - COOL) / (HOT - COOL) + 1e-6
    again = post(client, frames["visible"], unit, stretch=first.headers[STRETCH_HEADER])
    assert again.headers[STRETCH_HEADER] == first.headers[STRETCH_HEADER] and again.content == first.content
    before = Fuser(fuser.model, options=fuser.options).fuse(frames["visible"], float_to_uint16(unit))  # as read
    assert np.abs(decode_image(first.content, "fused.png").astype(int) - before.astype(int)).max() <= 2  # 16-bit


@pytest.mark.parametrize("stretch, words", [
    ("b:40..20", ("stretch=", "b's float low must be under its high")),
    ("b:1e39..2e39", ("finite 32-bit",)),
    ("b:x..y", ("is no mapping", "FIELD:LOW..HIGH")),
    ("b:20..40,b:20..40", ("mapped twice",)),
    ("c:20..40", ("field 'c'", "2 images were given")),
    ("b:7000-8000", ("stretch maps b by 16-bit counts", "b holds float values", "b:LOW..HIGH")),
    ("a:0..1", ("stretch maps a by float values", "a holds 8-bit integers", "a:LOW-HIGH")),
])
def test_a_bad_float_span_is_a_422_saying_what_is_wrong(client, frames, stretch, words):
    _assert_error(post(client, frames["visible"], frames["ir"], 422, stretch=stretch), 422, *words)


def test_a_server_started_for_ivf_says_a_pair_came_infrared_first(fuser, frames):
    from fastapi.testclient import TestClient

    grey = smooth_image(np.random.default_rng(5), H, W, 1)
    sent = {"a": ("ir8.png", encode_png(grey), "image/png"), "b": ("vis.png", encode_png(frames["visible"]),
                                                                     "image/png")}
    with TestClient(create_app(fuser, task="ivf")) as ivf, TestClient(create_app(fuser)) as plain:
        said = ivf.post("/v1/fuse", files=sent).headers.get(NOTES_HEADER, "")
        assert "visible first is the convention" in said and "send the visible image as a" in said
        assert "visible first" not in ivf.post("/v1/fuse", params={"task": "mef"}, files=sent).headers.get(
            NOTES_HEADER, "")  # the request's own task
        assert "visible first" not in plain.post("/v1/fuse", files=sent).headers.get(NOTES_HEADER, "")


def test_defusion_serve_and_its_environment_pass_the_task_on(tiny_weights, served_settings):
    from defusion.serving.api import settings_from_env

    assert served_settings("--weights", tiny_weights, "--task", "ivf")["task"] == "ivf"
    assert settings_from_env({"DEFUSION_TASK": "ivf"})["task"] == "ivf"
    assert settings_from_env({})["task"] is None


def test_a_narrow_band_of_0_to_1_is_described_in_its_float_values_with_the_hint(client, frames):
    narrow = (0.30 + 0.05 * (frames["ir"] - COOL) / (WARM - COOL)).astype(np.float32)
    r = post(client, frames["visible"], narrow)
    low, high = read_stretch(r.headers[STRETCH_HEADER], ("a", "b"))[1][1]
    said = r.headers[NOTES_HEADER]
    assert f"ir.tif holds float values {low:.4g} to {high:.4g}" in said and "16-bit" not in said
    assert f"{STRETCH_HEADER} sent back as stretch= maps the next frames" in said


def test_a_float_only_stretch_never_tells_to_drop_a_stretch_none_not_sent(client, frames):
    raw = (7000 + 2000 * (frames["ir"] - COOL) / (WARM - COOL)).astype(np.uint16)
    sent = {"a": ("raw.png", encode_png(raw), "image/png"), "b": ("ir.tif", tiff(frames["ir"]), "image/tiff")}
    r = client.post("/v1/fuse", params={"stretch": "b:20..40"}, files=sent)
    said = r.headers[NOTES_HEADER]
    assert "stretch=none" not in said and "raw.png spans only" in said and "add a:LOW-HIGH" in said
    counts = client.post("/v1/fuse", params={"stretch": "a:7000-9000"}, files=sent)  # the counts' rule: b left out
    assert "stretch=b:LOW..HIGH" in counts.headers[NOTES_HEADER]


@pytest.mark.parametrize("query", [{"stretch": "none"}, {}])
def test_float_notes_are_said_whatever_stretch_says(client, frames, query):
    r = post(client, frames["visible"], frames["ir"], stretch="none")
    assert r.headers[NOTES_HEADER].startswith(f"note: ir.tif holds float values {COOL:.4g}")
    flat = post(client, frames["visible"], np.full((H, W), 30.0, np.float32), **query)
    assert "ir.tif holds one float value, 30, everywhere" in flat.headers[NOTES_HEADER]


def test_a_float_upload_is_pinned_by_its_span_even_under_one_32_bit_step():
    frame = np.full((1, 4), 1000.0, np.float32)
    frame[0, 1:] = np.nextafter(np.float32(1000.0), np.float32(np.inf))
    options = FuseOptions(stretch=FixedStretch((1,), 0.5, 0.5000001))
    images, folded, spans = fold_float_stretch([frame, frame], [frame, frame], options, {1: (999.0, 1001.0)})
    assert folded.stretch == "none" and spans[1][0] < spans[1][1] and images[1].dtype == np.uint16
    header = stretch_value(FixedStretch((1,), 0.5, 0.6), {1: (20.0, 40.0)})  # never counts for a float upload
    assert header == "b:20.0..40.0" and read_stretch(header, ("a", "b"))[1] == {1: (20.0, 40.0)}


def test_uploads_are_decoded_once_with_floats_passed_through(client, frames, monkeypatch):
    seen = []
    real = decode.read_image

    def reading(path, max_pixels, **kwargs):
        seen.append(kwargs)
        return real(path, max_pixels, **kwargs)

    monkeypatch.setattr(decode, "read_image", reading)
    post(client, frames["visible"], frames["ir"])
    assert seen == [{"floats": "values"}] * 2
    assert not hasattr(decode, "holds_floats")
