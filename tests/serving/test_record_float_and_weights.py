"""The record an answer's image carries makes that image again (review of the provenance record): a float
upload's record said `"stretch":"none"` and left out the span the server mapped it by (its X-Defusion-Stretch),
so the options alone fused it otherwise; and a server made as `create_app(fuser)`, without `weights=`, said
every image was made by the shipped weights, whatever the fuser held."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import tifffile
from PIL import Image

from defusion.fusion.fuser import Fuser
from defusion.fusion.options import FuseOptions
from defusion.fusion.provenance import DIGEST_CHARS, RECORD_KEY, SHIPPED
from defusion.io.float_pixels import float_to_uint16
from defusion.serving.api import MODEL_HEADER, create_app, encode_png
from defusion.serving.decode import decode_image
from defusion.serving.stream import STRETCH_HEADER, read_stretch
from tests.conftest import smooth_image

H, W = 40, 48
#: A float infrared frame in a narrow band of [0, 1] (raw counts over 65535): its count stretch is folded
#: into its span (fold_float_stretch), which the options alone do not hold.
BAND = (0.30, 0.31)


def _record(r) -> dict:
    with Image.open(io.BytesIO(r.content)) as im:
        return json.loads(im.info[RECORD_KEY])


def _tiff(values: np.ndarray) -> bytes:
    out = io.BytesIO()
    tifffile.imwrite(out, values)
    return out.getvalue()


@pytest.fixture(scope="module")
def float_pair():
    rng = np.random.default_rng(4)
    visible = smooth_image(rng, H, W)
    infrared = (BAND[0] + (BAND[1] - BAND[0]) * smooth_image(rng, H, W, 1) / 255.0).astype(np.float32)
    return visible, infrared


def test_a_float_upload_s_record_holds_the_span_that_makes_the_image_again(client, fuser, float_pair):
    visible, infrared = float_pair
    sent = {"a": ("vis.png", encode_png(visible), "image/png"), "b": ("ir.tif", _tiff(infrared), "image/tiff")}
    r = client.post("/v1/fuse?task=ivf", files=sent)
    assert r.status_code == 200, r.text
    record = _record(r)
    assert record["stretch"] == r.headers[STRETCH_HEADER]  # as stretch= takes it back
    fused = decode_image(r.content, "fused.png")
    span = read_stretch(record["stretch"], ("a", "b"))[1][1]
    again = Fuser(fuser.model, options=FuseOptions.from_record(record["options"]))
    assert np.array_equal(again.fuse(visible, float_to_uint16(infrared, span)), fused)  # the record alone
    sent_back = client.post("/v1/fuse", params={"task": "ivf", "stretch": record["stretch"]}, files=sent)
    assert np.array_equal(decode_image(sent_back.content, "fused.png"), fused)
    assert "stretch" not in _record(client.post("/v1/fuse", files=_grey_pair()))  # integers: the options say it


def _grey_pair() -> dict:
    rng = np.random.default_rng(7)
    return {f: (f"{f}.png", encode_png(smooth_image(rng, H, W, 1)), "image/png") for f in ("a", "b")}


def test_a_server_given_a_fuser_alone_does_not_claim_the_shipped_weights(lively_weights):
    from fastapi.testclient import TestClient

    torch_fuser = Fuser.from_pretrained(lively_weights, device="cpu", runtime="torch")  # a DeNet: no digest
    with TestClient(create_app(torch_fuser)) as c:
        r = c.post("/v1/fuse", files=_grey_pair())
    record = _record(r)
    assert record["weights"] is None and record["sha256"] is None, record
    assert r.headers[MODEL_HEADER].startswith("defusion/") and "sha256" not in r.headers[MODEL_HEADER]


def test_an_export_handed_over_alone_is_named_by_its_digest(client, fuser, lively_weights):
    exported = fuser.model.metadata["weights_sha256_16"]  # the lively weights' export (runtime auto on a CPU)
    record = _record(client.post("/v1/fuse", files=_grey_pair()))
    assert record["weights"] is None and record["sha256"] == exported[:DIGEST_CHARS] != SHIPPED
    with_file = create_app(fuser, weights=lively_weights)  # told: named by the file, as before
    from fastapi.testclient import TestClient

    with TestClient(with_file) as c:
        assert _record(c.post("/v1/fuse", files=_grey_pair()))["weights"] == lively_weights.name
