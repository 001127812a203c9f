"""The Streamlit app, run headless by streamlit.testing's AppTest (no browser)."""

from __future__ import annotations

import io
import re

import cv2
import numpy as np
import pytest

from defusion.fusion.fuser import FuseOptions

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402
from streamlit.testing.v1.element_tree import FileUploader  # noqa: E402

from defusion.ui import APP_PATH  # noqa: E402
from defusion.ui.app import SOURCES_TAKE_NO_PALETTE, UPLOAD, UPLOAD_STACK  # noqa: E402
from defusion.ui.examples import EXAMPLES  # noqa: E402
from defusion.ui.fusing import METRIC_NAMES, STACK_METRIC_NAMES  # noqa: E402

needs_upload = pytest.mark.skipif(not hasattr(FileUploader, "upload"),
                                  reason="this Streamlit's AppTest cannot simulate uploads")
MEF, MFF = list(EXAMPLES)


def _app() -> AppTest:
    return AppTest.from_file(str(APP_PATH), default_timeout=120)


def _png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


def _images(at: AppTest):
    """The st.image elements (typed as "image" in newer Streamlit, by proto field "imgs" in older)."""
    return at.image if hasattr(AppTest, "image") else at.get("imgs")


def _captions(at: AppTest) -> list[str]:
    return [img.caption for element in _images(at) for img in element.proto.imgs]


def _assert_fused_page(at: AppTest, maps: int = 0) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    # A, B, fused + common, unique A, unique B (+ the decision map with pixels from the sources)
    assert len(_images(at)) == 6 + maps
    captions = _captions(at)
    assert "fused" in captions and "common" in captions
    table = at.table[0].value
    assert list(table.index) == list(METRIC_NAMES)
    assert np.isfinite(table["value"].astype(float)).all()
    assert at.get("download_button")


def test_default_example_is_fused_with_components_and_metrics(ui_env):
    at = _app().run()
    assert at.radio(key="source").value == MEF
    _assert_fused_page(at)


def test_other_example_and_sidebar_options(ui_env):
    at = _app().run()
    at.radio(key="source").set_value(MFF).run()
    at.radio(key="color").set_value("ycbcr")
    at.selectbox(key="tile").set_value("off")
    mff = FuseOptions.for_task("mff")  # the fusion core's defaults for focus stacks
    assert at.radio(key="pixels-mff").value == mff.pixels == "sources"
    assert at.radio(key="scale-sources").value == mff.scale == 1
    assert at.slider(key="gain-mff").value == mff.unique_gain
    assert at.slider(key="detail-mff").value == mff.resolved_detail_gain
    at.slider(key="gain-mff").set_value(1.5).run()
    assert at.slider(key="detail-mff").value == 2.0  # a gain of one's own brings its own detail gain, 2g - 1
    at.slider(key="detail-mff").set_value(1.0)
    at.run()
    _assert_fused_page(at, maps=1)
    assert "A: mff_near.png" in _captions(at)


def test_align_option_defaults_to_none_and_registers_the_example(ui_env):
    at = _app().run()
    assert at.selectbox(key="align").value == "none"
    at.selectbox(key="align").set_value("affine").run()  # the example is registered: near-identity
    _assert_fused_page(at)


def test_pixels_default_to_the_network_and_to_the_sources_for_focus_stacks(ui_env):
    at = _app().run()
    assert at.radio(key="pixels-mef").value == "network" and at.radio(key="scale-network").value == 2
    at.radio(key="source").set_value(MFF).run()  # a focus pair: pixels from the sources, at scale 1
    assert at.radio(key="pixels-mff").value == "sources" and at.radio(key="scale-sources").value == 1
    _assert_fused_page(at, maps=1)
    assert "taken from A (white) or B (black)" in _captions(at)
    sources = at.table[0].value["value"].astype(float)
    at.radio(key="pixels-mff").set_value("network").run()
    assert at.radio(key="scale-network").value == 2  # the reconstruction at its own default scale
    _assert_fused_page(at)
    network = at.table[0].value["value"].astype(float)
    assert sources["SF"] > network["SF"]  # the multi-focus example: the in-focus pixels, sharper


def test_remove_ghosts_is_off_by_default_and_reaches_the_fusion(ui_env):
    at = _app().run()
    assert at.checkbox(key="deghost-mef").value is False
    plain = at.table[0].value["value"].astype(float)
    at.checkbox(key="deghost-mef").check().run()
    assert not at.exception and not at.error
    _assert_fused_page(at)
    assert at.table[0].value["value"].astype(float).shape == plain.shape


@needs_upload
def test_a_pair_that_cannot_be_aligned_is_a_clear_error(ui_env, rng):
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    at.selectbox(key="align").set_value("affine")
    at.file_uploader(key="upload_a").upload("a.png", _png(rng.integers(0, 256, (40, 52, 3), dtype=np.uint8)),
                                            "image/png")
    at.file_uploader(key="upload_b").upload("b.png", _png(np.full((40, 52), 128, np.uint8)), "image/png")
    at.run()
    assert not at.exception
    # the page calls the images A and B: the fusion core's "image 1", "image 2" are put so
    assert len(at.error) == 1 and "cannot register image B to image A (affine)" in at.error[0].value


def test_pixel_bound_is_a_clear_error(ui_env):
    ui_env.setenv("DEFUSION_MAX_PIXELS", "1000")
    at = _app().run()
    assert not at.exception
    assert len(at.error) == 1 and "over the limit" in at.error[0].value
    # as docs/ui.md shows it: exact counts from the header
    assert re.match(r"mef_under\.png: \d+x\d+ is [\d,]+ pixels, over the limit of 1,000 pixels", at.error[0].value)
    assert "defusion ui --max-pixels" in at.error[0].value and "(raise it with --max-pixels)" not in at.error[0].value
    assert not _images(at)


def test_bad_weights_is_a_clear_error(ui_env, tmp_path):
    ui_env.setenv("DEFUSION_WEIGHTS", str(tmp_path / "missing.safetensors"))
    at = _app().run()
    assert not at.exception
    assert "cannot load the model" in at.error[0].value and "not found" in at.error[0].value


def test_upload_mode_waits_for_both_images(ui_env):
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    assert not at.exception and not at.error and not _images(at)
    assert [u.label for u in at.get("file_uploader")] == ["Image A", "Image B", "Camera rig (optional)"]
    assert "Upload both" in at.info[0].value


def test_kind_of_images_sets_the_unique_gains_default(ui_env):
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    assert at.radio(key="kind").value == "general"
    assert at.slider(key="gain-None").value == 1.25
    at.radio(key="kind").set_value("infrared + visible").run()
    assert not at.exception
    assert at.slider(key="gain-ivf").value == 1.5  # FuseOptions.for_task("ivf")
    assert at.slider(key="detail-ivf").value == 2.0
    assert at.radio(key="pixels-ivf").value == "network"


def test_a_focus_stack_takes_its_pixels_from_the_sources_unless_told_otherwise(ui_env):
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD_STACK).run()
    assert at.radio(key="pixels-None").value == "network"
    at.radio(key="kind").set_value("focus stack").run()
    assert not at.exception and not at.warning
    assert at.radio(key="pixels-mff").value == "sources"  # FuseOptions.for_task("mff")
    assert at.radio(key="scale-sources").value == 1
    at.radio(key="pixels-mff").set_value("network").run()  # the paper's reconstruction, at scale 2
    assert at.radio(key="scale-network").value == 2
    at.radio(key="source").set_value(MEF).run()
    at.radio(key="source").set_value(UPLOAD_STACK).run()
    assert at.radio(key="kind").value == "focus stack" and at.radio(key="pixels-mff").value == "network"


@needs_upload
def test_uploaded_pair_is_fused(ui_env, rng):
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    a = rng.integers(0, 256, (40, 52, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (40, 52), dtype=np.uint8)
    at.file_uploader(key="upload_a").upload("vis.png", _png(a), "image/png")
    at.file_uploader(key="upload_b").upload("ir.png", _png(b), "image/png")
    at.run()
    _assert_fused_page(at)


@needs_upload
@pytest.mark.parametrize("case, expected", [
    ("garbage", "not an image"),
    ("sizes", "differ in size"),
])
def test_bad_uploads_are_clear_errors(ui_env, case, expected):
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    good = _png(np.zeros((30, 40), np.uint8))
    other = b"this is not an image" if case == "garbage" else _png(np.zeros((20, 24), np.uint8))
    at.file_uploader(key="upload_a").upload("a.png", good, "image/png")
    at.file_uploader(key="upload_b").upload("b.png", other, "image/png")
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and expected in at.error[0].value
    if case == "sizes":
        assert "a.png is 40x30" in at.error[0].value and "b.png is 24x20" in at.error[0].value
    assert not _images(at)


def test_stack_mode_waits_for_two_images(ui_env):
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD_STACK).run()
    assert not at.exception and not at.error and not _images(at)
    assert len(at.get("file_uploader")) == 1
    assert "two or more" in at.info[0].value


@needs_upload
def test_uploaded_bracket_is_shown_and_fused_brightest_first(ui_env, rng):
    """Whatever order the files are uploaded in, a bracket is shown (and fused) brightest first;
    the core's tests check that it also fuses the same in any order."""
    scene = rng.integers(0, 256, (36, 44, 3), dtype=np.uint8).astype(float)
    bracket = {f"ev{i}.png": _png(np.clip(scene * g, 0, 255).astype(np.uint8)) for i, g in enumerate((0.4, 1.0, 1.7))}
    for order in (["ev1.png", "ev2.png", "ev0.png"], ["ev0.png", "ev1.png", "ev2.png"]):
        at = _app().run()
        at.radio(key="source").set_value(UPLOAD_STACK).run()
        at.radio(key="kind").set_value("exposure bracket").run()
        uploader = at.file_uploader(key="upload_stack")
        for name in order:
            uploader.upload(name, bracket[name], "image/png")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        assert not at.error, [e.value for e in at.error]
        captions = _captions(at)
        assert captions == ["1: ev2.png", "2: ev1.png", "3: ev0.png", "fused"]  # brightest first
        assert list(at.table[0].value.index) == list(STACK_METRIC_NAMES)
        assert at.get("download_button")
    at.selectbox(key="align").set_value("translation").run()  # onto the best exposed, not the first file
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert _captions(at)[:3] == ["1: ev2.png, aligned onto ev1.png", "2: ev1.png", "3: ev0.png, aligned onto ev1.png"]


@needs_upload
def test_stack_with_pixels_from_the_sources_shows_its_source_map(ui_env, rng):
    scene = rng.integers(0, 256, (36, 48), dtype=np.uint8)
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD_STACK).run()
    at.radio(key="pixels-None").set_value("sources").run()
    uploader = at.file_uploader(key="upload_stack")
    for i in range(3):
        uploader.upload(f"shot{i}.png", _png(np.roll(scene, i, axis=1)), "image/png")
    at.run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert _captions(at)[-1] == "source of each pixel (1 black to 3 white)"
    assert len(at.get("download_button")) == 3  # the fused image, its compare sheet, the source map


@needs_upload
def test_uploaded_raw_thermal_frame_is_noted(ui_env, rng):
    visible = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    raw = (7000 + 8 * visible.mean(axis=2)).astype(np.uint16)
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    at.file_uploader(key="upload_a").upload("ir.png", _png(raw), "image/png")
    at.file_uploader(key="upload_b").upload("vis.png", _png(visible), "image/png")
    at.run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert any("ir.png holds 16-bit values" in c.value for c in at.caption)


@needs_upload
def test_stack_of_different_sizes_is_a_clear_error(ui_env):
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD_STACK).run()
    uploader = at.file_uploader(key="upload_stack")
    uploader.upload("a.png", _png(np.zeros((30, 40), np.uint8)), "image/png")
    uploader.upload("b.png", _png(np.zeros((20, 24), np.uint8)), "image/png")
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and "a.png is 40x30, b.png is 24x20" in at.error[0].value
    assert not _images(at)


@needs_upload
def test_a_camera_rig_upload_fuses_a_pair_of_different_sizes(ui_env, rng):
    import json

    from defusion.fusion.rig import Rig, RigCamera

    rig = Rig((52, 40), (RigCamera((26, 20), ((0.5, 0, -0.25), (0, 0.5, -0.25), (0, 0, 1))),), "similarity")
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    at.file_uploader(key="upload_a").upload("vis.png", _png(rng.integers(0, 256, (40, 52, 3), dtype=np.uint8)),
                                            "image/png")
    at.file_uploader(key="upload_b").upload("ir.png", _png(rng.integers(0, 256, (20, 26), dtype=np.uint8)),
                                            "image/png")
    at.run()
    assert len(at.error) == 1 and "differ in size" in at.error[0].value
    at.file_uploader(key="upload_rig").upload("rig.json", json.dumps(rig.to_json()).encode(), "application/json")
    at.run()
    _assert_fused_page(at)
    assert "B: ir.png, mapped onto A by the rig" in _captions(at)


@needs_upload
def test_thermal_palette_defaults_to_none_and_reaches_the_fusion(ui_env, rng):
    at = _app().run()
    assert not [s for s in at.selectbox if s.key == "palette"]  # an example has no infrared image: no palette
    visible = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    at = _upload_pair(at, visible, visible.mean(axis=2).astype(np.uint8), ("vis.png", "ir.png"))
    assert at.selectbox(key="palette").value == "none"
    assert not [r for r in at.radio if r.key == "infrared"]  # asked only with a palette
    at.selectbox(key="palette").set_value("inferno").run()
    _assert_fused_page(at)
    assert at.radio(key="infrared").value == "auto"
    at.radio(key="infrared").set_value("B").run()
    _assert_fused_page(at)


@needs_upload
def test_calibrate_a_rig_from_a_chessboard_and_download_its_rig_file(ui_env):
    from defusion.ui.app import CALIBRATE
    from tests.cli.test_calibrate_cli import _board_scene

    scene = _board_scene()
    camera = np.array([[0.55, -0.01, 5.0], [0.01, 0.55, -3.0], [0, 0, 1]])
    thermal = cv2.warpPerspective(255 - scene, camera, (300, 220), flags=cv2.INTER_AREA)
    at = _app().run()
    at.radio(key="source").set_value(CALIBRATE).run()
    assert "Upload an image from each camera" in at.info[0].value
    at.file_uploader(key="calib_a").upload("vis.png", _png(scene), "image/png")
    at.file_uploader(key="calib_b").upload("ir.png", _png(thermal), "image/png")
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert at.table[0].value.index.tolist() == [54]  # 9x6 corners
    assert any("span only" in w.value for w in at.warning)  # the board covers under half the view
    assert "check:" in _captions(at)[0] and at.get("download_button")
    at.text_input(key="calib_board").set_value("8x6").run()
    assert len(at.error) == 1 and "no 8x6 chessboard found in vis.png" in at.error[0].value
    at.text_input(key="calib_board").set_value("nine").run()
    assert len(at.error) == 1 and "COLSxROWS" in at.error[0].value
    at.radio(key="calib_method").set_value("a points file (CSV)").run()
    assert not at.error and at.info[0].value == "Upload the points file."  # the images are in


def _upload_pair(at: AppTest, a: np.ndarray, b: np.ndarray, names=("a.png", "b.png")) -> AppTest:
    at.radio(key="source").set_value(UPLOAD).run()
    at.file_uploader(key="upload_a").upload(names[0], _png(a), "image/png")
    at.file_uploader(key="upload_b").upload(names[1], _png(b), "image/png")
    return at.run()


def _metric(at: AppTest, name: str) -> float:
    return float(at.table[0].value.loc[name, "value"])


@needs_upload
def test_metrics_and_the_shown_b_are_the_aligned_sources(ui_env, lively_weights):
    """With alignment on, the metrics were scored against the unaligned B: alignment looked worse."""
    from tests.conftest import smooth_image

    ui_env.setenv("DEFUSION_WEIGHTS", str(lively_weights))  # outputs that follow the sources
    rng = np.random.default_rng(7)
    scene = smooth_image(rng, 80, 96, 1)
    a, b = scene[8:72, 8:88], scene[3:67, 15:95]  # B: the scene shifted by (7, -5) px
    at = _upload_pair(_app().run(), a, b)
    unaligned = _metric(at, "SSIM-mean")
    at.selectbox(key="align").set_value("translation").run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert _metric(at, "SSIM-mean") > unaligned + 0.05
    assert any(c and "as aligned onto A" in c for c in _captions(at))


def test_an_aligned_pair_is_captioned_onto_the_image_it_was_aligned_onto(ui_env):
    """The example's best-exposed image is A: B is aligned onto it."""
    at = _app().run()
    at.selectbox(key="align").set_value("translation").run()
    _assert_fused_page(at)
    assert _captions(at)[:2] == ["A: mef_under.png", "B: mef_over.png, as aligned onto A"]


@needs_upload
def test_an_exposure_pair_whose_best_exposed_image_is_b_is_aligned_onto_b_and_says_so(ui_env, rng):
    """A pair sorted by exposure is registered onto its best exposed image: the page said "B: ...,
    as aligned onto A" when A had been moved onto B."""
    scene = rng.integers(0, 256, (40, 52, 3), dtype=np.uint8)
    at = _upload_pair(_app().run(), (scene * 0.3).astype(np.uint8), scene, ("dark.png", "mid.png"))
    at.radio(key="kind").set_value("exposure bracket").run()
    at.selectbox(key="align").set_value("translation").run()
    _assert_fused_page(at)
    assert _captions(at)[:2] == ["A: dark.png, as aligned onto B", "B: mid.png"]


@needs_upload
def test_raw_thermal_frames_can_be_fused_unstretched(ui_env, rng):
    """Audit: the page had no --stretch none, so a raw frame could not be fused as its counts are."""
    visible = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    raw = (7000 + 4 * visible.mean(axis=2)).astype(np.uint16)
    at = _upload_pair(_app().run(), visible, raw, ("vis.png", "ir.png"))
    assert at.checkbox(key="stretch").value and any("ir.png holds 16-bit values" in c.value for c in at.caption)
    stretched = _metric(at, "SSIM-mean")
    at.checkbox(key="stretch").uncheck().run()
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert not any("ir.png holds 16-bit values" in c.value for c in at.caption)  # nothing was stretched
    assert _metric(at, "SSIM-mean") != stretched  # the fusion took the counts as they are


@needs_upload
def test_a_raw_thermal_frame_is_scored_as_shown_stretched(ui_env, rng):
    """The metrics once compared the fused image with the unstretched, nearly flat frame."""
    visible = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    infrared = visible.mean(axis=2).astype(np.uint8)
    raw = (7000 + 4 * infrared.astype(np.uint16))
    at = _upload_pair(_app().run(), visible, raw, ("vis.png", "ir.png"))
    full = _upload_pair(_app().run(), visible, infrared, ("vis.png", "ir8.png"))
    assert abs(_metric(at, "SSIM-mean") - _metric(full, "SSIM-mean")) < 0.05


@needs_upload
def test_a_palette_that_had_to_guess_the_infrared_image_says_so(ui_env, rng):
    grey_a, grey_b = (rng.integers(0, 256, (30, 40), dtype=np.uint8) for _ in range(2))
    at = _upload_pair(_app().run(), grey_a, grey_b, ("vis.png", "ir.png"))
    at.selectbox(key="palette").set_value("inferno").run()
    assert any("colours ir.png as the infrared image (all are grey" in i.value for i in at.info)
    at.radio(key="infrared").set_value("B").run()
    assert not any("as the infrared image" in i.value for i in at.info)


def test_options_the_kind_of_images_does_not_suit_are_warned_about(ui_env):
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    at.radio(key="kind").set_value("infrared + visible").run()
    assert not at.warning
    at.radio(key="pixels-ivf").set_value("sources").run()
    assert any("infrared + visible pair needs both mixed" in w.value for w in at.warning)
    at.radio(key="kind").set_value("focus stack").run()
    assert not at.warning


def test_each_component_can_be_downloaded(ui_env):
    at = _app().run()
    buttons = at.get("download_button")
    labels = [b.proto.label for b in buttons]
    assert {"Download common (PNG)", "Download unique to A (PNG)", "Download unique to B (PNG)"} <= set(labels)


def test_choices_survive_a_look_at_an_example(ui_env):
    """Switching Images to an example and back once reset the kind of images and the gains."""
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    at.radio(key="kind").set_value("infrared + visible").run()
    at.slider(key="gain-ivf").set_value(2.0).run()
    at.selectbox(key="palette").set_value("inferno").run()
    at.radio(key="source").set_value(MFF).run()
    # the example has no infrared image: the palette is not offered (the page once showed the fusion
    # core's error for it with the focus stack's pixels from the sources)
    _assert_fused_page(at, maps=1)
    assert not [s for s in at.selectbox if s.key == "palette"]
    at.radio(key="source").set_value(UPLOAD).run()
    assert at.radio(key="kind").value == "infrared + visible"
    assert not at.selectbox(key="palette").proto.disabled
    assert at.slider(key="gain-ivf").value == 2.0 and at.selectbox(key="palette").value == "inferno"
    at.radio(key="kind").set_value("focus stack").run()
    # pixels from the sources, which a palette cannot colour: it is off, and said to be, and kept
    assert at.selectbox(key="palette").proto.disabled and at.selectbox(key="palette").value == "inferno"
    assert any(c.value == SOURCES_TAKE_NO_PALETTE for c in at.sidebar.caption)


@needs_upload
def test_uploads_survive_a_look_at_an_example_until_removed(ui_env, rng):
    """Streamlit forgets an uploader's files when the page leaves it; the app keeps them."""
    a = rng.integers(0, 256, (40, 52, 3), dtype=np.uint8)
    b = rng.integers(0, 256, (40, 52), dtype=np.uint8)
    at = _upload_pair(_app().run(), a, b, names=("vis.png", "ir.png"))
    _assert_fused_page(at)
    at.radio(key="source").set_value(MFF).run()
    at.radio(key="source").set_value(UPLOAD).run()
    _assert_fused_page(at)
    assert at.file_uploader(key="upload_a").value is None  # Streamlit's widget is empty again ...
    assert any("Using vis.png, uploaded earlier" in c.value for c in at.caption)  # ... the page says what it uses
    assert _captions(at)[:2] == ["A: vis.png", "B: ir.png"]
    at.button(key="forget_upload_a").click().run()
    assert not at.exception and at.info[0].value == "Upload both images to fuse them."


@needs_upload
def test_a_kept_stack_is_fused_again_after_a_look_at_an_example(ui_env, rng):
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD_STACK).run()
    at = _upload_stack(at, _bracket(rng))
    assert not at.error and not at.exception
    at.radio(key="source").set_value(MEF).run()
    at.radio(key="source").set_value(UPLOAD_STACK).run()
    assert not at.error and not at.exception and not at.info
    assert any("Using ev0.png, ev1.png, ev2.png, uploaded earlier" in c.value for c in at.caption)


def _bracket(rng, names=("ev0.png", "ev1.png", "ev2.png"), gains=(0.4, 1.0, 1.7)) -> dict[str, bytes]:
    scene = rng.integers(0, 256, (36, 44, 3), dtype=np.uint8).astype(float)
    return {name: _png(np.clip(scene * g, 0, 255).astype(np.uint8)) for name, g in zip(names, gains)}


def _upload_stack(at: AppTest, files: dict[str, bytes]) -> AppTest:
    uploader = at.file_uploader(key="upload_stack")
    for name, data in files.items():
        uploader.upload(name, data, "image/png")
    return at.run()


@pytest.fixture
def saved_files(monkeypatch) -> dict[str, str | None]:
    """The file name each media file the page makes is saved under, by its id (AppTest's elements
    do not carry a download's file name)."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    names: dict[str, str | None] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        file_id = original(self, path_or_data, mimetype, kind, filename)
        names[file_id] = filename
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load_and_get_id)
    return names


def _download_names(at: AppTest, saved: dict[str, str | None]) -> dict[str, str | None]:
    """Download button label -> the file name it downloads as."""
    return {b.proto.label: saved[b.proto.url.rsplit("/", 1)[-1].split(".")[0]] for b in at.get("download_button")}


@needs_upload
def test_a_stacks_infrared_image_is_picked_by_its_file_name(ui_env, rng):
    """The selector once counted 1, 2, 3 in file-name order while the page numbered a bracket
    brightest first: "Infrared image 1" was not the image the page captioned 1."""
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD_STACK).run()
    at.radio(key="kind").set_value("exposure bracket").run()
    at.selectbox(key="palette").set_value("inferno").run()
    assert not [r for r in at.radio if r.key == "infrared"]  # A/B mean nothing for a stack
    assert not [s for s in at.selectbox if s.key == "infrared_stack"]  # no files, nothing to name yet
    _upload_stack(at, _bracket(rng))
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert _captions(at)[:3] == ["1: ev2.png", "2: ev1.png", "3: ev0.png"]  # brightest first
    assert at.selectbox(key="infrared_stack").options == ["auto", "ev0.png", "ev1.png", "ev2.png"]
    assert any("colours ev2.png as the infrared image (none is grey" in i.value for i in at.info)
    guessed = at.table[0].value["value"].tolist()
    at.selectbox(key="infrared_stack").set_value("ev2.png").run()  # the one the note named: the same fusion
    assert not any("as the infrared image" in i.value for i in at.info)
    assert at.table[0].value["value"].tolist() == guessed
    at.selectbox(key="infrared_stack").set_value("ev0.png").run()  # another image coloured
    assert not at.exception and not at.error
    assert at.table[0].value["value"].tolist() != guessed


@needs_upload
def test_a_stack_is_fused_and_shown_in_natural_file_name_order(ui_env, rng, saved_files):
    """f1, f10, f2 were once taken in string order; the CLI takes a folder's frames f1, f2, f10."""
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD_STACK).run()
    at.radio(key="kind").set_value("focus stack").run()
    _upload_stack(at, _bracket(rng, ("f10.png", "f1.png", "f2.png"), (1.0, 1.0, 1.0)))
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]
    assert _captions(at)[:4] == ["1: f1.png", "2: f2.png", "3: f10.png", "fused"]
    assert _download_names(at, saved_files)["Download the fused image (PNG)"] == "fused_f1_to_f10.png"


@needs_upload
def test_a_brackets_download_is_named_by_the_first_and_last_shown(ui_env, rng, saved_files):
    """It was named by file-name order (fused_ev0_to_ev2.png) while the page showed ev2 first."""
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD_STACK).run()
    at.radio(key="kind").set_value("exposure bracket").run()
    at.radio(key="pixels-mef").set_value("sources").run()
    _upload_stack(at, _bracket(rng))
    assert _captions(at)[:3] == ["1: ev2.png", "2: ev1.png", "3: ev0.png"]
    assert _download_names(at, saved_files) == {"Download the fused image (PNG)": "fused_ev2_to_ev0.png",
                                                "Download a compare sheet (JPEG)": "compare_ev2_to_ev0.jpg",
                                                "Download the source map (PNG)": "source_map_ev2_to_ev0.png"}


def test_a_pairs_compare_sheet_downloads_as_the_cli_draws_it(ui_env, monkeypatch):
    """The sources and the fused image side by side in one labelled JPEG, as `defusion fuse --compare`
    writes it: one picture to share a fusion."""
    from PIL import Image
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    from defusion.io.sheets import SHEET_GAP, SHEET_TILE_SIDE

    sheets: dict[str, bytes] = {}
    original = MemoryMediaFileStorage.load_and_get_id

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):
        if filename and filename.startswith("compare_"):
            sheets[filename] = path_or_data
        return original(self, path_or_data, mimetype, kind, filename)

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", load_and_get_id)
    at = _app().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Download a compare sheet (JPEG)" in [b.proto.label for b in at.get("download_button")]
    (name, data), = sheets.items()
    sheet = Image.open(io.BytesIO(data))
    assert name.endswith(".jpg") and sheet.format == "JPEG"
    assert sheet.width == 3 * SHEET_TILE_SIDE + 2 * SHEET_GAP  # two sources and the fused image in a row


@needs_upload
def test_what_reading_an_upload_has_to_say_is_shown_on_the_page_naming_it(ui_env, rng):
    """Ignored alpha and the like went to the server's stderr only (and once per process)."""
    rgba = np.dstack([rng.integers(0, 256, (30, 40, 3), dtype=np.uint8), np.full((30, 40), 255, np.uint8)])
    rgba[:6, :6, 3] = 0  # transparent pixels: their alpha is ignored
    at = _upload_pair(_app().run(), rgba, rng.integers(0, 256, (30, 40), dtype=np.uint8), ("logo.png", "ir.png"))
    _assert_fused_page(at)
    said = "logo.png has transparent pixels (alpha); alpha is ignored"
    assert [w.value for w in at.warning if said in w.value] and not [w for w in at.warning if "ir.png" in w.value]
    at.radio(key="color").set_value("rgb").run()  # every run of the page says it, not only the first decoding
    assert any(said in w.value for w in at.warning)


@needs_upload
def test_a_rig_that_does_not_fit_names_the_images_as_the_page_does(ui_env, rng):
    import json

    from defusion.fusion.rig import Rig, RigCamera

    rig = Rig((52, 40), (RigCamera((26, 20), ((0.5, 0, -0.25), (0, 0.5, -0.25), (0, 0, 1))),), "similarity")
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    at.file_uploader(key="upload_a").upload("ir.png", _png(rng.integers(0, 256, (20, 26), dtype=np.uint8)),
                                            "image/png")
    at.file_uploader(key="upload_b").upload("vis.png", _png(rng.integers(0, 256, (40, 52, 3), dtype=np.uint8)),
                                            "image/png")
    at.file_uploader(key="upload_rig").upload("rig.json", json.dumps(rig.to_json()).encode(), "application/json")
    at.run()
    assert not at.exception
    assert len(at.error) == 1 and at.error[0].value.startswith("camera rig: image A is 26x20, but the rig was")
    assert "image 1" not in at.error[0].value


def test_the_calibration_page_shows_no_fusion_options_and_keeps_them(ui_env):
    from defusion.ui.app import CALIBRATE

    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    at.radio(key="color").set_value("rgb")
    at.radio(key="scale-network").set_value(1)
    at.selectbox(key="palette").set_value("inferno").run()
    at.radio(key="source").set_value(CALIBRATE).run()
    assert not at.exception
    assert [r.key for r in at.sidebar.radio] == ["source"]
    assert not at.sidebar.selectbox and not at.sidebar.slider and not at.sidebar.checkbox
    at.radio(key="source").set_value(UPLOAD).run()
    assert at.radio(key="color").value == "rgb" and at.radio(key="scale-network").value == 1
    assert at.selectbox(key="palette").value == "inferno"


@needs_upload
def test_a_file_called_image_n_keeps_its_name_in_messages(ui_env):
    """Only the fusion core's "image N" is put as A or B: a decoder's message names the upload."""
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    at.file_uploader(key="upload_a").upload("image 1.png", _png(np.zeros((30, 40), np.uint8)), "image/png")
    at.file_uploader(key="upload_b").upload("image 2.png", b"this is not an image", "image/png")
    at.run()
    assert len(at.error) == 1 and at.error[0].value.startswith("image 2.png: not an image")


def _exif_jpeg(image: np.ndarray, exposure: tuple[int, int]) -> bytes:
    """A JPEG whose EXIF names one camera and an exposure time, as a camera writes a bracket's shots."""
    import io

    from PIL import Image
    from PIL.TiffImagePlugin import IFDRational

    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS R6"
    exif.get_ifd(0x8769)[0x829A] = IFDRational(*exposure)
    out = io.BytesIO()
    Image.fromarray(image).save(out, "JPEG", exif=exif)
    return out.getvalue()


def _upload_jpegs(at: AppTest, jpegs: tuple[bytes, bytes]) -> AppTest:
    at.radio(key="source").set_value(UPLOAD).run()
    at.file_uploader(key="upload_a").upload("IMG_1.jpg", jpegs[0], "image/jpeg")
    at.file_uploader(key="upload_b").upload("IMG_2.jpg", jpegs[1], "image/jpeg")
    return at.run()


@needs_upload
def test_an_exif_bracket_is_advised_its_kind_of_images_as_defusion_fuse_does(ui_env, rng):
    """The audit: a bracket fused as general images blew out its highlights and the page said
    nothing, while defusion fuse advised --task mef."""
    scene = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    at = _upload_jpegs(_app().run(), (_exif_jpeg(scene, (1, 250)), _exif_jpeg(scene, (1, 15))))
    _assert_fused_page(at)
    advice = 'shows an exposure bracket (exposure times or biases differ): choose "exposure bracket" under Kind'
    assert any(advice in i.value and "IMG_1.jpg, IMG_2.jpg" in i.value for i in at.info)
    at.radio(key="kind").set_value("focus stack").run()
    assert any('but the kind "focus stack" takes each pixel from one source' in w.value for w in at.warning)
    at.radio(key="kind").set_value("exposure bracket").run()
    assert not at.warning and not any("EXIF" in i.value for i in at.info)


@needs_upload
def test_one_exposure_of_one_camera_is_advised_the_focus_stacks_kind(ui_env, rng):
    scene = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    at = _upload_jpegs(_app().run(), (_exif_jpeg(scene, (1, 125)), _exif_jpeg(scene[::-1], (1, 125))))
    assert any('most likely a focus stack; choose "focus stack" under Kind of images' in i.value for i in at.info)


def test_what_alignment_and_deghosting_found_is_said_after_the_fusion(ui_env):
    """The audit: the page never said what Align images or Remove ghosts did; defusion fuse does."""
    at = _app().run()
    at.selectbox(key="align").set_value("translation").run()
    at.checkbox(key="deghost-mef").check().run()
    _assert_fused_page(at)
    said = [i.value for i in at.info]
    assert any(line.startswith("aligned mef_over.png onto mef_under.png: shift ") for line in said), said
    assert any(line.startswith("deghost ") for line in said), said


@needs_upload
def test_images_of_different_sizes_can_be_resized_to_the_first(ui_env, rng):
    """The audit: a size mismatch was a dead end; the error names the way out, which fuses them."""
    from defusion.ui.options import CALIBRATE_PAGE, RESIZE_CHOICE

    a = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    at = _upload_pair(_app().run(), a, cv2.resize(a, (20, 15)))
    assert len(at.error) == 1 and RESIZE_CHOICE in at.error[0].value and CALIBRATE_PAGE in at.error[0].value
    at.checkbox(key="resize").check().run()
    _assert_fused_page(at)
    assert any(f"{RESIZE_CHOICE}: resized b.png 20x15 -> 40x30" in i.value for i in at.info)


def test_the_inference_scales_are_offered_in_order_with_the_default_chosen(ui_env):
    at = _app().run()
    assert at.radio(key="scale-network").options == ["1", "2", "3"] and at.radio(key="scale-network").value == 2


def test_kept_choices_raise_no_streamlit_warning_of_a_default_and_a_session_value(ui_env, monkeypatch):
    """The audit: Streamlit logged a warning with a stack trace on the server's console, once per
    process, for the sliders given a default while their value was kept in the session."""
    from streamlit.elements.lib import policies

    said: list[str] = []
    monkeypatch.setattr(policies, "_shown_default_value_warning", False)
    monkeypatch.setattr(policies._LOGGER, "warning", lambda message, *args, **kwargs: said.append(message % args))
    at = _app().run()
    at.radio(key="source").set_value(MFF).run()
    at.slider(key="gain-mff").set_value(1.5).run()
    at.radio(key="source").set_value(MEF).run()
    at.radio(key="source").set_value(MFF).run()
    assert not at.exception and not [line for line in said if "default value" in line], said
