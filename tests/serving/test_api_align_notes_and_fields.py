"""An ops audit: `?align=affine&deghost=true` answered no X-Defusion-Notes, where `defusion fuse` and the web UI
say what alignment and deghosting found; and alignment and rig refusals named "image 2", "image 1" where
every other refusal names the upload fields 'a' and 'b'."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from defusion.serving.responses import encode_png
from tests.conftest import smooth_image

H, W = 40, 48


def _sent(a: np.ndarray, b: np.ndarray) -> dict:
    return {"a": ("u.png", encode_png(a), "image/png"), "b": ("o.png", encode_png(b), "image/png")}


def _pair():
    rng = np.random.default_rng(0)
    a = smooth_image(rng, H, W)
    return a, np.roll(a, 2, axis=1)


def test_alignment_and_deghosting_say_what_they_found(client):
    r = client.post("/v1/fuse?align=translation&deghost=true", files=_sent(*_pair()))
    assert r.status_code == 200, r.text
    notes = r.headers["X-Defusion-Notes"].split(" | ")
    assert any(n.startswith("note: aligned o.png onto u.png: shift") for n in notes), notes
    assert any(n.startswith("note: deghost ") for n in notes), notes
    assert "aligned" not in client.post("/v1/fuse", files=_sent(*_pair())).headers.get("X-Defusion-Notes", "")


def test_the_zips_say_it_too(client):
    sent = _sent(*_pair())
    zipped = client.post("/v1/fuse?align=translation&components=true", files=sent)
    assert "aligned o.png onto u.png" in zipped.headers["X-Defusion-Notes"]
    with zipfile.ZipFile(io.BytesIO(zipped.content)) as z:
        assert "fused.png" in z.namelist()
    mapped = client.post("/v1/fuse?align=translation&pixels=sources&source_map=true", files=sent)
    assert mapped.status_code == 200 and "aligned o.png onto u.png" in mapped.headers["X-Defusion-Notes"]


def test_a_refused_alignment_names_the_fields(client):
    a, _ = _pair()
    r = client.post("/v1/fuse?align=affine", files=_sent(a, np.full_like(a, 128)))
    assert r.status_code == 422
    assert r.json()["detail"].startswith("cannot register field 'b' to field 'a' (affine)")
    assert "image 2" not in r.json()["detail"]


def test_a_rig_refusal_names_the_field(client):
    import json

    from defusion.fusion.rig import Rig, RigCamera

    centres = ((0.5, 0.0, -0.25), (0.0, 0.5, -0.25), (0.0, 0.0, 1.0))
    rig = Rig((W, H), (RigCamera((W // 2, H // 2), centres),), "similarity")
    a, b = _pair()
    r = client.post("/v1/fuse", files=_sent(a, b), data={"rig": json.dumps(rig.to_json())})
    assert r.status_code == 422
    assert r.json()["detail"].startswith(f"rig: field 'b' is {W}x{H}, but the rig was calibrated"), r.json()
