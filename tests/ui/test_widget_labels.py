"""No two controls on a page of the web UI share a label: a screen reader announces a control by its
label, and the stack page's uploader and the sidebar's choice of images were both "Images"."""

from __future__ import annotations

from collections import Counter

import cv2
import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402
from streamlit.testing.v1.element_tree import FileUploader  # noqa: E402

from defusion.ui import APP_PATH  # noqa: E402
from defusion.ui.app import CALIBRATE, UPLOAD, UPLOAD_STACK  # noqa: E402
from defusion.ui.examples import EXAMPLES  # noqa: E402

needs_upload = pytest.mark.skipif(not hasattr(FileUploader, "upload"),
                                  reason="this Streamlit's AppTest cannot simulate uploads")
#: Every page the sidebar's choice of images leads to.
PAGES = (*EXAMPLES, UPLOAD, UPLOAD_STACK, CALIBRATE)
#: A palette, so that the palette's own controls (the infrared image's) are drawn too.
PALETTE = "inferno"


def _app() -> AppTest:
    return AppTest.from_file(str(APP_PATH), default_timeout=120)


def _png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


def _labels(at: AppTest) -> list[str]:
    """The label of every control on the page, the sidebar's with the main area's."""
    labels = []
    for node in at._tree:
        proto = getattr(node, "proto", None)
        label = getattr(node, "label", None)
        if label is None and proto is not None and hasattr(proto, "label") and hasattr(proto, "id"):
            label = proto.label  # a control AppTest has no class for
        if label:
            labels.append(label)
    return labels


def _shared(at: AppTest) -> dict[str, int]:
    return {label: count for label, count in Counter(_labels(at)).items() if count > 1}


def _palette_on(at: AppTest) -> None:
    """The palette chosen where the page draws it (not the examples', nor the calibration page's)."""
    palettes = [box for box in at.selectbox if box.key == "palette"]
    if palettes:
        palettes[0].set_value(PALETTE).run()


def _walk_pages(at: AppTest) -> dict[str, dict[str, int]]:
    """Every page the sidebar leads to, drawn bare and with a palette: the labels each shares, by page."""
    shared = {}
    for page in PAGES:
        at.radio(key="source").set_value(page).run()
        assert not at.exception, [e.value for e in at.exception]
        assert "Images" in _labels(at)  # the sidebar's choice of images: on every page
        shared[page] = _shared(at)
        _palette_on(at)
        shared[f"{page}, with a palette"] = _shared(at)
    return shared


def _fused_stack(at: AppTest, rng: np.random.Generator) -> dict[str, int]:
    """The stack's page once fused: its uploader, downloads and the infrared image's choice among them."""
    at.radio(key="source").set_value(UPLOAD_STACK).run()
    at.radio(key="kind").set_value("infrared + visible").run()
    _palette_on(at)
    uploader = at.file_uploader(key="upload_stack")
    uploader.upload("vis.png", _png(rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)), "image/png")
    for name in ("ir.png", "ir2.png"):
        uploader.upload(name, _png(rng.integers(0, 256, (32, 40), dtype=np.uint8)), "image/png")
    at.run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    labels = _labels(at)
    assert "Infrared image" in labels and any(label.startswith("Download") for label in labels), labels
    return _shared(at)


def _fused_pair(at: AppTest, rng: np.random.Generator) -> dict[str, int]:
    """The pair's page once fused, with its palette's choice of infrared image and its downloads."""
    at.radio(key="source").set_value(UPLOAD).run()
    _palette_on(at)
    at.file_uploader(key="upload_a").upload("vis.png", _png(rng.integers(0, 256, (32, 40, 3), dtype=np.uint8)),
                                             "image/png")
    at.file_uploader(key="upload_b").upload("ir.png", _png(rng.integers(0, 256, (32, 40), dtype=np.uint8)),
                                             "image/png")
    at.run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    labels = _labels(at)
    assert "Infrared image" in labels and any(label.startswith("Download") for label in labels), labels
    return _shared(at)


@needs_upload
def test_no_two_controls_of_any_page_share_a_label(ui_env, rng):
    """Every page mode: each choice of images, bare and with a palette, and a fused stack's and pair's page."""
    at = _app().run()
    shared = _walk_pages(at)
    shared["a fused stack"] = _fused_stack(at, rng)
    shared["a fused pair"] = _fused_pair(at, rng)
    assert not any(shared.values()), {page: labels for page, labels in shared.items() if labels}
