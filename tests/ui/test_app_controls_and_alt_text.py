"""The web UI audit's (a photographer's) findings: *Remove ghosts* kept on for a focus stack, the
detail gain not reset by the unique gain, images without alt text, and "zoom -0.0%"."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("streamlit")
from streamlit.testing.v1 import AppTest  # noqa: E402

from defusion.cli.main import main  # noqa: E402
from defusion.fusion.align import describe_alignment, signed_percent  # noqa: E402
from defusion.fusion.deghost import FOCUS_CHANGE_IS_MOTION  # noqa: E402
from defusion.io.images import write_image  # noqa: E402
from defusion.ui import APP_PATH  # noqa: E402
from defusion.ui.image_output import alt_text  # noqa: E402
from defusion.ui.option_advice import option_warnings  # noqa: E402
from defusion.ui.options import default_detail_gain  # noqa: E402
from tests.conftest import smooth_image  # noqa: E402

MEF, MFF = "Multi-exposure example (MEF)", "Multi-focus example (MFF)"


def _app() -> AppTest:
    return AppTest.from_file(str(APP_PATH), default_timeout=120)


def _alts(at: AppTest) -> list[str]:
    images = at.image if hasattr(AppTest, "image") else at.get("imgs")
    return [img.alt for element in images for img in element.proto.imgs]


def _clean(at: AppTest) -> None:
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]


# 1. Remove ghosts: each kind its own choice, and a warning on a focus stack.

def test_remove_ghosts_starts_off_for_a_focus_stack_and_the_brackets_choice_is_kept(ui_env):
    """It stayed ticked from the bracket's page, and blurred the focus stack (7.8% of pixels changed)."""
    at = _app().run()
    at.checkbox(key="deghost-mef").check().run()
    at.radio(key="source").set_value(MFF).run()
    _clean(at)
    assert at.checkbox(key="deghost-mff").value is False
    at.radio(key="source").set_value(MEF).run()
    assert at.checkbox(key="deghost-mef").value is True  # kept while off the page


def test_remove_ghosts_on_a_focus_stack_is_warned_of(ui_env):
    at = _app().run()
    at.radio(key="source").set_value(MFF).run()
    assert not any(FOCUS_CHANGE_IS_MOTION in w.value for w in at.warning)
    at.checkbox(key="deghost-mff").check().run()
    assert any(w.value == f"*Remove ghosts* {FOCUS_CHANGE_IS_MOTION}." for w in at.warning), \
        [w.value for w in at.warning]


@pytest.mark.parametrize("task, pixels, deghost, warned", [
    ("mff", "sources", True, True), ("mff", "network", True, True), (None, "sources", True, True),
    ("mff", "sources", False, False), ("mef", "network", True, False), (None, "network", True, False),
])
def test_option_warnings_name_deghost_on_a_focus_stack(task, pixels, deghost, warned):
    said = [w for w in option_warnings(task, pixels, "none", deghost) if FOCUS_CHANGE_IS_MOTION in w]
    assert len(said) == int(warned)


def _notes(capsys) -> list[str]:
    return [line for line in capsys.readouterr().err.splitlines() if line.startswith("defusion: note:")]


@pytest.mark.parametrize("task, noted", [("mff", True), ("mef", False)])
def test_cli_deghost_on_a_focus_stack_is_noted_in_the_ui_words(tmp_path, rng, tiny_weights, capsys, task, noted):
    a, b = (write_image(tmp_path / f"{n}.png", smooth_image(rng, 48, 64)) for n in ("near", "far"))
    assert main(["fuse", str(a), str(b), "-o", str(tmp_path / "f.png"), "--task", task, "--deghost",
                 "--weights", str(tiny_weights), "--no-progress"]) == 0
    line = f"defusion: note: --deghost {FOCUS_CHANGE_IS_MOTION}"
    assert (line in _notes(capsys)) is noted


# 2. The detail gain goes back to the one that goes with the unique gain.

def test_moving_the_unique_gain_resets_the_detail_gain(ui_env):
    at = _app().run()
    at.slider(key="detail-mef").set_value(3.0).run()
    at.slider(key="gain-mef").set_value(1.5).run()
    assert at.slider(key="detail-mef").value == default_detail_gain("mef", 1.5) == 2.0
    at.slider(key="gain-mef").set_value(1.0).run()
    _clean(at)
    assert at.slider(key="detail-mef").value == default_detail_gain("mef", 1.0) != 3.0


# 3. Alt text on every image.

def test_every_image_on_the_page_has_alt_text(ui_env):
    at = _app().run()
    _clean(at)
    alts = _alts(at)
    assert alts and all(alts), alts
    assert "fused image of mef_under.png and mef_over.png" in alts
    assert "source image A: mef_under.png" in alts


def test_alt_text_names_the_palette_and_the_sources():
    assert alt_text("fused image", ["vis.png", "ir.png"], "inferno") == \
        "fused image of vis.png and ir.png, inferno palette"
    assert alt_text("fused image", ["a.png"]) == "fused image of a.png"


# 4. No "-0.0%" zoom for a pure shift.

def test_a_pure_shifts_zoom_is_said_without_a_sign():
    shift = np.array([[1.0 - 1e-9, 0.0, 3.2], [0.0, 1.0 - 1e-9, 0.0]])
    said = describe_alignment(["a.png", "b.png"], (None, shift), 0, (40, 60), "affine")
    assert said.endswith("zoom 0.0%)") and "-0.0" not in said
    assert signed_percent(-0.0004) == "0.0%" and signed_percent(-0.0006) == "-0.1%"
