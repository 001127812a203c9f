"""A camera streaming raw thermal frames through ``POST /v1/fuse``: each response says the stretch
and palette range it used, a request sends them back to keep them, and the notes ``defusion fuse``
prints come back in ``X-Defusion-Notes``."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from scipy.ndimage import gaussian_filter

from defusion.fusion.fuser import Fuser
from defusion.fusion.stretch import FixedStretch, describe_stretch, measure_stretch
from defusion.serving.api import NOTES_HEADER, create_app, encode_png
from defusion.serving.decode import decode_image
from defusion.serving.stream import PALETTE_RANGE_HEADER, STRETCH_HEADER, read_stretch, stretch_value
from tests.conftest import smooth_image
from tests.serving.test_api import _assert_error

H, W = 48, 64
#: The raw thermal frames: 14-bit counts over this band; a hot object enters at HOT counts.
COLD, WARM, HOT = 7000, 8152, 12000
PATCH = 30
#: The background the hot object leaves unchanged.
BACKGROUND = (slice(PATCH + 2, None), slice(PATCH + 2, None))
#: How far the background's mean may move between frames that keep one mapping (a share of the
#: full scale: the headers' rounding moves a pixel by a level or so), and how far it moves without one.
STEADY = 0.005
DRIFT = 0.02


@pytest.fixture(scope="module")
def client(fuser):
    from fastapi.testclient import TestClient

    with TestClient(create_app(fuser)) as c:
        yield c


@pytest.fixture(scope="module")
def frames() -> dict[str, np.ndarray]:
    """A 16-bit grey infrared frame of counts COLD-WARM, the same with a hot patch, and a visible frame."""
    rng = np.random.default_rng(3)
    ramp = gaussian_filter(rng.random((H, W)), 4)
    ramp = (ramp - ramp.min()) / (ramp.max() - ramp.min())
    ir = (COLD + (WARM - COLD) * ramp).astype(np.uint16)
    hot = ir.copy()
    hot[:PATCH, :PATCH] = HOT
    return {"ir": ir, "hot": hot, "visible": smooth_image(rng, H, W)}


def post(client, infrared: np.ndarray, visible: np.ndarray, **query: str):
    sent = {"a": ("ir16.png", encode_png(infrared), "image/png"), "b": ("vis.png", encode_png(visible), "image/png")}
    r = client.post("/v1/fuse", params=query, files=sent)
    assert r.status_code == 200, r.text
    return r


def background(r) -> float:
    """The mean of the fused image's background, a share of its full scale (16-bit: raw in, raw out)."""
    fused = decode_image(r.content, "fused.png")
    return float(fused[BACKGROUND].mean()) / np.iinfo(fused.dtype).max


def kept(r) -> dict[str, str]:
    """The query that keeps what response ``r`` used: its headers sent back."""
    pins = {"stretch": r.headers[STRETCH_HEADER]}
    if PALETTE_RANGE_HEADER in r.headers:
        pins["palette_range"] = r.headers[PALETTE_RANGE_HEADER]
    return pins


@pytest.mark.parametrize("query", [{}, {"palette": "inferno"}], ids=["grey", "inferno"])
def test_a_stream_that_sends_the_first_responses_headers_back_stays_steady(client, fuser, frames, query):
    """A hot object entering the view: measured per request it darkens the unchanged background; with
    the first frame's stretch and palette range sent back it does not, as a Python loop that keeps
    measure_stretch and measure_palette fuses it."""
    first = post(client, frames["ir"], frames["visible"], **query)
    assert (PALETTE_RANGE_HEADER in first.headers) == bool(query)
    steady = post(client, frames["hot"], frames["visible"], **query, **kept(first))
    drifting = post(client, frames["hot"], frames["visible"], **query)
    assert abs(background(steady) - background(first)) < STEADY
    assert abs(background(first) - background(drifting)) > DRIFT
    loop = Fuser(fuser.model, options=replace(fuser.options, **query))
    pair = [frames["ir"], frames["visible"]]
    loop = Fuser(fuser.model, options=replace(loop.options, stretch=measure_stretch(pair, loop.options.stretch_shared)))
    if query:
        loop = Fuser(fuser.model, options=replace(loop.options, palette_range=loop.measure_palette(*pair)))
    expected = loop.fuse(frames["hot"], frames["visible"]).astype(int)
    assert np.abs(decode_image(steady.content, "fused.png").astype(int) - expected).max() <= 2


def test_the_headers_round_trip_and_say_what_a_pinned_request_used(client, frames):
    first = post(client, frames["ir"], frames["visible"], palette="hot")
    again = post(client, frames["ir"], frames["visible"], palette="hot", **kept(first))
    assert again.headers[STRETCH_HEADER] == first.headers[STRETCH_HEADER]
    assert again.headers[PALETTE_RANGE_HEADER] == first.headers[PALETTE_RANGE_HEADER]
    low, high = (float(v) for v in first.headers[STRETCH_HEADER].removeprefix("a:").split("-"))
    assert COLD <= low < high <= WARM  # 16-bit counts, a's own band
    pinned = post(client, frames["hot"], frames["visible"], stretch="a:7000-8200.5", palette="hot",
                  palette_range="0.1,0.9")
    assert pinned.headers[STRETCH_HEADER] == "a:7000-8200.5" and pinned.headers[PALETTE_RANGE_HEADER] == "0.1,0.9"
    parts = post(client, frames["ir"], frames["visible"], components="true", stretch=first.headers[STRETCH_HEADER])
    assert parts.headers[STRETCH_HEADER] == first.headers[STRETCH_HEADER]


def test_nothing_stretched_and_no_palette_send_no_mapping_headers(client, frames):
    plain = post(client, frames["visible"], frames["visible"])
    as_is = post(client, frames["ir"], frames["visible"], stretch="none")
    for r in (plain, as_is):
        assert STRETCH_HEADER not in r.headers and PALETTE_RANGE_HEADER not in r.headers


def test_a_stretch_of_two_cameras_round_trips_each_its_own():
    fixed = FixedStretch((0, 1), (13 / 65535, 7002 / 65535), (3997 / 65535, 8997.5 / 65535))
    assert stretch_value(fixed) == "a:13-3997,b:7002-8997.5"
    read, spans = read_stretch(stretch_value(fixed), ("a", "b"))
    assert stretch_value(read) == stretch_value(fixed) and spans == {}
    assert read.mapping(1) == (7002 / 65535, 8997.5 / 65535) and read_stretch("none", ("a", "b")) == ("none", {})


@pytest.mark.parametrize("query, words", [
    ("stretch=a:9000-8000", ("stretch=", "low must be under its high")),
    ("stretch=a:1-70000", ("at most 65535",)),
    ("stretch=z:1-2", ("no field 'z'", "a, b, c, d")),
    ("stretch=a:1-2,a:3-4", ("mapped twice",)),
    ("stretch=a:x-y", ("is no mapping", "X-Defusion-Stretch")),
    ("stretch=always", ("stretch=", "auto, none")),
    ("stretch=c:1-2", ("field 'c'", "2 images were given")),
    ("palette=inferno&palette_range=0.5", ("palette_range=", "LOW,HIGH")),
    ("palette=inferno&palette_range=0.6,0.2", ("LOW < HIGH",)),
    ("palette=inferno&palette_range=0,2", ("<= 1",)),
    ("palette=inferno&palette_range=nan,1", ("LOW,HIGH",)),
    ("palette_range=0.1,0.9", ("add palette=",)),
])
def test_a_bad_stretch_or_palette_range_is_a_422_saying_what_is_wrong(client, frames, query, words):
    sent = {"a": ("ir16.png", encode_png(frames["ir"]), "image/png"),
            "b": ("vis.png", encode_png(frames["visible"]), "image/png")}
    _assert_error(client.post(f"/v1/fuse?{query}", files=sent), 422, *words)


def test_the_notes_defusion_fuse_prints_come_back_in_the_notes_header(client, frames):
    said = describe_stretch(["ir16.png", "vis.png"], [frames["ir"], frames["visible"]])
    r = post(client, frames["ir"], frames["visible"])
    assert r.headers[NOTES_HEADER] == f"note: {said[0]} (stretch=none keeps the values as they are)"
    pinned = post(client, frames["ir"], frames["visible"], stretch=r.headers[STRETCH_HEADER])
    assert NOTES_HEADER not in pinned.headers  # nothing measured: nothing said
    unstretched = post(client, frames["ir"], frames["visible"], stretch="none").headers[NOTES_HEADER]
    assert unstretched.startswith("note: ir16.png spans only ") and "reads nearly flat unstretched" in unstretched
    assert len(unstretched.splitlines()) == 1
    grey = frames["visible"].mean(axis=2).astype(np.uint8)
    guessed = post(client, grey, grey[::-1].copy(), palette="inferno")
    assert "note: palette colours vis.png as the infrared image (all are grey); infrared=N" in \
        guessed.headers[NOTES_HEADER]


def test_openapi_describes_the_mapping_headers_and_parameters(client):
    post_ = client.get("/openapi.json").json()["paths"]["/v1/fuse"]["post"]
    assert {STRETCH_HEADER, PALETTE_RANGE_HEADER, NOTES_HEADER} <= set(post_["responses"]["200"]["headers"])
    described = {p["name"]: p["description"] for p in post_["parameters"]}
    assert STRETCH_HEADER in described["stretch"] and PALETTE_RANGE_HEADER in described["palette_range"]
