"""What the fusion itself says (an aligned upload that may show another scene, a misfire shot left
out of a focus stack) comes back in X-Defusion-Notes naming the uploads, as ``defusion fuse`` says it
on stderr; before, it reached only the server's log."""

from __future__ import annotations

import numpy as np

from defusion.serving.responses import encode_png
from tests.conftest import smooth_image
from tests.fusion.test_align_correlation import _example


def _png(image: np.ndarray) -> bytes:
    return encode_png(np.clip(image * 255 + 0.5, 0, 255).astype(np.uint8) if image.dtype.kind == "f" else image)


def _notes(response) -> list[str]:
    assert response.status_code == 200, response.text
    return response.headers.get("X-Defusion-Notes", "").split(" | ")


def test_an_aligned_upload_of_maybe_another_scene_is_noted_by_its_name(client, fresh_notes):
    other = np.ascontiguousarray(_example("mef_over")[::-1, ::-1])
    sent = {"a": ("ev-2.png", _png(_example("mef_under")), "image/png"), "b": ("other.png", _png(other), "image/png")}
    notes = _notes(client.post("/v1/fuse?align=translation", files=sent))
    assert any(n.startswith("note: other.png correlates little with ev-2.png once registered") for n in notes), notes
    zipped = _notes(client.post("/v1/fuse?align=translation&components=true", files=sent))
    assert any("other.png correlates little" in n for n in zipped), zipped


def test_a_misfire_shot_left_out_of_a_focus_stack_is_a_warning_naming_it(client, fresh_notes):
    shot = smooth_image(np.random.default_rng(0), 40, 48)
    sent = {"a": ("IMG_1.png", encode_png(shot), "image/png"),
            "b": ("black.png", encode_png(np.zeros_like(shot)), "image/png"),
            "c": ("IMG_3.png", encode_png(shot[:, ::-1].copy()), "image/png")}
    notes = _notes(client.post("/v1/fuse?pixels=sources", files=sent))
    assert "warning: black.png is (nearly) one value, a misfire?: left out of the focus choice" in notes, notes


def test_a_palette_over_a_colour_upload_is_warned_once(client, fresh_notes):
    rng = np.random.default_rng(1)
    colour = (rng.random((40, 48, 3)) * 255).astype(np.uint8)
    sent = {"a": ("vis.png", encode_png(colour), "image/png"), "b": ("ir.png", encode_png(colour), "image/png")}
    notes = _notes(client.post("/v1/fuse?palette=inferno&infrared=2", files=sent))
    said = [n for n in notes if n.startswith("warning: ir.png:")]
    assert len(said) == 1, notes
