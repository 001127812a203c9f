"""A web-UI user's audit: *Remove ghosts* on an infrared + visible pair, the fusion core's own lines,
the progress bar while the metrics are computed, the uploader's file types, and page text that
pointed a web user to the repository or the command line."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

pytest.importorskip("streamlit")
import streamlit  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402
from streamlit.testing.v1.element_tree import FileUploader  # noqa: E402

from defusion.fusion.color import PALETTE_OF_COLOUR  # noqa: E402
from defusion.fusion.deghost import CONTENT_NOT_SHARED  # noqa: E402
from defusion.fusion.stacking import flat_warning  # noqa: E402
from defusion.io.images import READ_SUFFIXES  # noqa: E402
from defusion.ui import APP_PATH  # noqa: E402
from defusion.ui.app import UPLOAD, UPLOAD_STACK  # noqa: E402
from defusion.ui.fusing import SCORING_TEXT, fuse_and_score, fuse_stack_and_score, passes_text  # noqa: E402
from defusion.ui.fusion_notes import PAGE_WORDS, fusion_lines  # noqa: E402
from defusion.ui.option_advice import option_warnings  # noqa: E402
from defusion.ui.uploads import UPLOAD_TYPES  # noqa: E402
from tests.conftest import smooth_image  # noqa: E402

needs_upload = pytest.mark.skipif(not hasattr(FileUploader, "upload"),
                                  reason="this Streamlit's AppTest cannot simulate uploads")
#: Text a web user cannot act on: the repository's files, the command line, the Python API.
NOT_FOR_A_WEB_USER = ("docs/", "defusion fuse", "defusion calibrate", "--stretch", "--compare", "--resize", "--rig",
                      "defusion.metrics", "defusion.fusion", "FixedStretch")


def _app() -> AppTest:
    return AppTest.from_file(str(APP_PATH), default_timeout=120)


def _png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


def _upload_pair(at: AppTest, a: np.ndarray, b: np.ndarray, names=("a.png", "b.png")) -> AppTest:
    at.radio(key="source").set_value(UPLOAD).run()
    at.file_uploader(key="upload_a").upload(names[0], _png(a), "image/png")
    at.file_uploader(key="upload_b").upload(names[1], _png(b), "image/png")
    return at.run()


# 1. Remove ghosts on an infrared + visible pair


def test_remove_ghosts_on_an_infrared_visible_pair_is_warned_about_as_align_is():
    warnings = option_warnings("ivf", "network", "none", deghost=True)
    assert len(warnings) == 1 and CONTENT_NOT_SHARED in warnings[0] and warnings[0].startswith("*Remove ghosts*")
    assert option_warnings("ivf", "network", "none") == []  # not ticked: nothing to say
    assert option_warnings("mef", "network", "none", deghost=True) == []  # what it is for
    assert option_warnings(None, "network", "none", deghost=True) == []  # as the align advice: the kind says ivf


def test_the_page_warns_when_remove_ghosts_is_ticked_for_infrared_visible(ui_env):
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    at.radio(key="kind").set_value("infrared + visible").run()
    assert not at.warning
    at.checkbox(key="deghost-ivf").check().run()
    assert [w.value for w in at.warning if CONTENT_NOT_SHARED in w.value] == \
        [f"*Remove ghosts* {CONTENT_NOT_SHARED}."]


# 2. What the fusion core says while fusing reaches the page, kept with the cached result


def test_core_lines_are_named_and_said_once_with_their_kind():
    said = ["warning: image 1: colour", "note: image 2 is unlike image 1", "warning: image 2 is flat"]
    page = ["ir.png is unlike vis.png", "aligned ir.png onto vis.png", "ir.png is flat"]
    warnings, notes = fusion_lines(said, ["vis.png", "ir.png"], page)
    assert warnings == ["vis.png: colour", "ir.png is flat"]  # the core's kind, not the page's note
    assert notes == ["ir.png is unlike vis.png", "aligned ir.png onto vis.png"]  # each once


def test_advice_for_a_python_caller_is_put_in_a_web_users_words():
    (python, page), = PAGE_WORDS.items()
    warnings, _ = fusion_lines([f"warning: image 2 is grey float data; {python}"], ["a.tif", "b.tif"])
    assert warnings == [f"b.tif is grey float data; {page}"]


@needs_upload
def test_a_colour_image_picked_as_the_palettes_infrared_image_is_warned_about_on_every_run(ui_env, rng):
    visible = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    at = _upload_pair(_app().run(), visible, visible.mean(axis=2).astype(np.uint8), ("vis.png", "ir.png"))
    at.selectbox(key="palette").set_value("inferno").run()
    at.radio(key="infrared").set_value("A").run()
    expected = [f"vis.png: {PALETTE_OF_COLOUR}"]
    assert [w.value for w in at.warning] == expected
    at.run()  # a re-run: the fusion comes from the cache, its lines with it
    assert not at.error and [w.value for w in at.warning] == expected


@needs_upload
def test_a_stacks_misfire_shot_is_one_warning_not_a_note_too(ui_env, rng):
    scene = smooth_image(rng, 48, 64)
    sharp, soft = scene, cv2.GaussianBlur(scene, (0, 0), 3)
    shots = {"f1.png": sharp, "f2.png": np.full_like(scene, 0), "f3.png": soft}  # f2: the lens cap on
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD_STACK).run()
    at.radio(key="kind").set_value("focus stack").run()
    uploader = at.file_uploader(key="upload_stack")
    for name, image in shots.items():
        uploader.upload(name, _png(image), "image/png")
    at.run()
    line = flat_warning(list(shots), [1])
    assert not at.error, [e.value for e in at.error]
    assert [w.value for w in at.warning] == [line]
    assert not [i.value for i in at.info if line in i.value]


# 3. The progress bar says the fused image is being scored


def _tiny_fuser(tiny_weights, **options):
    from defusion.fusion.fuser import FuseOptions, Fuser
    from defusion.model.weights import load_weights

    return Fuser(load_weights(tiny_weights), "cpu", options=FuseOptions(scale=1, **options))


@pytest.mark.parametrize("stack", [False, True])
def test_scoring_is_said_after_the_last_network_pass_and_before_the_metrics(tiny_weights, rng, monkeypatch, stack):
    import defusion.ui.fusing as fusing

    events: list[str] = []
    for name in ("score", "score_stack"):
        real = getattr(fusing, name)
        monkeypatch.setattr(fusing, name, lambda *a, _real=real: (events.append("score"), _real(*a))[1])
    images = [smooth_image(rng, 96, 128) for _ in range(3 if stack else 2)]
    fuser = _tiny_fuser(tiny_weights, tile=64, overlap=16)
    assert fusing.passes(fuser, images) > 2
    tile, scoring = (lambda: events.append("pass")), (lambda: events.append("scoring"))
    if stack:
        fuse_stack_and_score(fuser, images, tile, scoring)
    else:
        fuse_and_score(fuser, *images, tile, scoring)
    assert events == ["pass"] * fusing.passes(fuser, images) + ["scoring", "score"]


def test_the_progress_bar_says_scoring_once_the_passes_are_done(ui_env, monkeypatch):
    texts: list[str] = []

    class Bar:
        def progress(self, value: float, text: str) -> None:
            texts.append(text)

        def empty(self) -> None:
            texts.append("(emptied)")

    def progress(value: float, text: str | None = None) -> Bar:
        texts.append(text)
        return Bar()

    monkeypatch.setattr(streamlit, "progress", progress)
    at = _app().run()
    at.selectbox(key="tile").set_value(256).run()
    assert not at.exception and not at.error
    fusing = [text for text in texts if text and text.startswith("Fusing")]
    assert len(fusing) > 2 and fusing[-1] == passes_text(len(fusing) - 1, len(fusing) - 1)
    assert texts[-2:] == [SCORING_TEXT, "(emptied)"]


# 4. The uploader takes every format the command line reads


def test_the_uploaders_file_types_are_the_readers():
    assert UPLOAD_TYPES == [suffix[1:] for suffix in READ_SUFFIXES]
    assert {"jfif", "jpe", "gif", "dib", "ppm"} <= set(UPLOAD_TYPES)


def test_the_pair_uploader_offers_jfif(ui_env):
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    assert ".jfif" in list(at.file_uploader(key="upload_a").proto.type)


# 5. Page text says what it means to a web user, not where in the repository or on the command line


def _page_text(at: AppTest) -> str:
    kinds = ("caption", "markdown", "warning", "info", "radio", "selectbox", "checkbox", "slider", "file_uploader",
             "download_button", "subheader")
    return "\n".join(str(element.proto) for kind in kinds for element in at.get(kind))


@needs_upload
@pytest.mark.parametrize("source", ["example", UPLOAD, UPLOAD_STACK])
def test_page_text_points_no_web_user_to_the_repository_or_the_command_line(ui_env, rng, source):
    at = _app().run()
    if source == UPLOAD:
        visible = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
        at = _upload_pair(at, visible, visible.mean(axis=2).astype(np.uint8), ("vis.png", "ir.png"))
        at.radio(key="kind").set_value("infrared + visible").run()
        at.radio(key="pixels-ivf").set_value("sources").run()
    elif source == UPLOAD_STACK:
        at.radio(key="source").set_value(UPLOAD_STACK).run()
        uploader = at.file_uploader(key="upload_stack")
        for i in range(3):
            uploader.upload(f"f{i}.png", _png(smooth_image(rng, 30, 40)), "image/png")
        at.run()
    assert not at.error, [e.value for e in at.error]
    text = _page_text(at)
    assert "Metrics" in text  # the fusion is on the page, its captions too
    assert [said for said in NOT_FOR_A_WEB_USER if said in text] == []


@needs_upload
def test_an_aligned_upload_that_correlates_little_is_noted_once_from_the_fusion_core(ui_env):
    """The page made this note again from the result beside the core's own and kept one by string
    equality; now the core's line alone reaches the page."""
    from tests.fusion.test_align_correlation import _example

    under = (_example("mef_under") * 255).astype(np.uint8)
    other = np.ascontiguousarray((_example("mef_over") * 255).astype(np.uint8)[::-1, ::-1])  # another picture
    at = _app().run()
    at.selectbox(key="align").set_value("translation").run()
    at = _upload_pair(at, under, other, ("under.png", "other.png"))
    assert not at.error, [e.value for e in at.error]
    shown = [m.value for m in (*at.warning, *at.info) if "correlates little" in m.value]
    assert len(shown) == 1 and shown[0].startswith("other.png correlates little with under.png once registered")
