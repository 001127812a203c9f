"""``POST /v1/fuse`` on uploads of different ICC profiles: fused as ``defusion fuse`` fuses such files, the
colour uploads converted to the first colour upload's profile first (the profile the answer carries),
said once among the notes; with ``metadata=false`` every colour upload made sRGB (the answer has no
profile, and is read as sRGB). Fused as raw numbers, a Display P3 upload beside an sRGB one came out
in wrong colours under the one profile the answer carried."""

from __future__ import annotations

import io
import zipfile

import numpy as np
import pytest
from PIL import Image

from defusion.io.icc import convert_colours
from tests.io.test_icc_mixed_profiles import ADOBE, P3, bracket, tagged_png

H, W = 30, 40
#: The note saying o_p3.png was converted into u.png's space (its first colour upload, untagged).
TO_SRGB = ("note: o_p3.png (Display P3) converted to sRGB, the colour space of u.png (the first colour image, "
           "untagged), which the fused image takes")


_png = tagged_png


def _bracket() -> tuple[np.ndarray, np.ndarray]:
    return bracket(H, W)


def _sent(under: np.ndarray, under_icc: bytes | None, over: np.ndarray, over_icc: bytes | None,
          over_name: str = "o_p3.png") -> dict:
    return {"a": ("u.png", _png(under, under_icc), "image/png"), "b": (over_name, _png(over, over_icc), "image/png")}


def _notes(r) -> list[str]:
    return r.headers.get("X-Defusion-Notes", "").split(" | ")


def _read(data: bytes) -> tuple[np.ndarray, bytes | None]:
    with Image.open(io.BytesIO(data)) as im:
        return np.array(im), im.info.get("icc_profile")


def test_an_untagged_and_a_p3_upload_fuse_in_srgb_said_once_and_untagged(client, fuser):
    under, over = _bracket()
    r = client.post("/v1/fuse", files=_sent(under, None, over, P3))
    assert r.status_code == 200, r.text
    assert _notes(r).count(TO_SRGB) == 1 and sum("converted" in n for n in _notes(r)) == 1
    fused, profile = _read(r.content)
    assert profile is None  # not tagged Display P3: its colours are sRGB's
    in_srgb = convert_colours(over, P3, None)
    one_space = client.post("/v1/fuse", files=_sent(under, None, in_srgb, None, "o_srgb.png"))
    assert "converted" not in one_space.headers.get("X-Defusion-Notes", "")
    np.testing.assert_array_equal(fused, _read(one_space.content)[0])
    np.testing.assert_array_equal(fused, fuser.fuse(under, in_srgb))  # converted, then fused


@pytest.mark.parametrize("query, zip_name", [("components=true", "fused.png"),
                                             ("pixels=sources&source_map=true", "fused.png"), ("", None)])
def test_an_adobe_and_a_p3_upload_fuse_in_adobe_rgb_and_carry_it_in_every_answer(client, query, zip_name):
    under, over = _bracket()
    r = client.post(f"/v1/fuse?task=mef&{query}", files=_sent(under, ADOBE, over, P3))
    assert r.status_code == 200, r.text
    assert sum("o_p3.png (Display P3) converted to Adobe RGB (1998), the profile of u.png" in n
               for n in _notes(r)) == 1
    one_space = client.post(f"/v1/fuse?task=mef&{query}",
                            files=_sent(under, ADOBE, convert_colours(over, P3, ADOBE), ADOBE, "o_adobe.png"))
    answers = [r.content, one_space.content]
    if zip_name:
        answers = [zipfile.ZipFile(io.BytesIO(data)).read(zip_name) for data in answers]
    (fused, profile), (expected, _) = map(_read, answers)
    assert profile == ADOBE
    np.testing.assert_array_equal(fused, expected)


def test_metadata_false_makes_every_colour_upload_srgb_and_says_so(client):
    under, over = _bracket()
    r = client.post("/v1/fuse?task=mef&metadata=false", files=_sent(under, ADOBE, over, P3))
    assert r.status_code == 200, r.text
    said = [n for n in _notes(r) if "converted" in n]
    assert len(said) == 1 and said[0].startswith("note: u.png (Adobe RGB (1998)), o_p3.png (Display P3) converted "
                                                 "to sRGB, as the fused image is written without a profile "
                                                 "(metadata=false), which is read as sRGB"), said
    fused, profile = _read(r.content)
    assert profile is None
    one_space = client.post("/v1/fuse?task=mef&metadata=false",
                            files=_sent(convert_colours(under, ADOBE, None), None, convert_colours(over, P3, None),
                                        None, "o_srgb.png"))
    np.testing.assert_array_equal(fused, _read(one_space.content)[0])
