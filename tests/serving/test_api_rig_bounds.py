"""The API's ``rig`` field with the security audit's rig files: a 422 saying what is wrong, before the fusion.
Before, a matrix entry of 1e308 took the fusion slot for good (OpenCV's warpPerspective never returned),
and a size of Infinity was a 500."""

from __future__ import annotations

import numpy as np
import pytest

from defusion.serving.api import encode_png
from tests.conftest import smooth_image

HUGE = ('{"format":"defusion-rig","version":1,"reference":{"size":[96,64]},'
        '"cameras":[{"size":[96,64],"matrix":[[1e308,0,0],[0,1e308,0],[0,0,1]]}]}')
INFINITE = ('{"format":"defusion-rig","version":1,"reference":{"size":[Infinity,64]},'
            '"cameras":[{"size":[96,64],"matrix":[[1,0,0],[0,1,0],[0,0,1]]}]}')
PLAUSIBLE = HUGE.replace("1e308", "0.98")


@pytest.mark.parametrize("text, words", [
    (HUGE, ["field 'rig'", "camera 2", "entry of 1e+308", "calibrate again"]),
    (INFINITE, ["field 'rig'", "two whole numbers", "[inf, 64]"]),
])
def test_an_implausible_rig_is_a_422_and_the_server_fuses_on(client, text, words):
    rng = np.random.default_rng(0)
    sent = {name: (f"{name}.png", encode_png(smooth_image(rng, 64, 96)), "image/png") for name in ("a", "b")}
    refused = client.post("/v1/fuse", files=sent, data={"rig": text})
    assert refused.status_code == 422, (refused.status_code, refused.text)
    detail = refused.json()["detail"]
    assert "\n" not in detail and all(word in detail for word in words), detail
    fused = client.post("/v1/fuse", files=sent, data={"rig": PLAUSIBLE})  # the slot is free: the next one fuses
    assert fused.status_code == 200, fused.text
