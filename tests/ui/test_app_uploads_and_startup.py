"""The web UI audit's (second round) findings 1-5, each driven as a user meets it: AppTest pages and
the `defusion ui` command line."""

from __future__ import annotations

import argparse
import io
import socket

import cv2
import numpy as np
import pytest

pytest.importorskip("streamlit")
from PIL import Image  # noqa: E402
from streamlit.testing.v1 import AppTest  # noqa: E402
from streamlit.testing.v1.element_tree import FileUploader  # noqa: E402

from defusion.cli import ui as ui_cli  # noqa: E402
from defusion.cli.errors import run_guarded  # noqa: E402
from defusion.ui import APP_PATH  # noqa: E402
from defusion.ui.app import FORMATS, UPLOAD, UPLOAD_STACK  # noqa: E402
from defusion.ui.errors import InputError  # noqa: E402
from defusion.ui.fusing import METRIC_NAMES, STACK_METRIC_NAMES, score, score_stack  # noqa: E402
from defusion.ui.fusion_notes import float_note, float_range  # noqa: E402
from defusion.ui.uploads import decode_stack  # noqa: E402
from tests.conftest import free_port

needs_upload = pytest.mark.skipif(not hasattr(FileUploader, "upload"),
                                  reason="this Streamlit's AppTest cannot simulate uploads")


def _app() -> AppTest:
    return AppTest.from_file(str(APP_PATH), default_timeout=120)


def _png(image: np.ndarray) -> bytes:
    return cv2.imencode(".png", image)[1].tobytes()


def _captions(at: AppTest) -> list[str]:
    images = at.image if hasattr(AppTest, "image") else at.get("imgs")
    return [img.caption for element in images for img in element.proto.imgs]


def _pair(at: AppTest, files: tuple[tuple[str, bytes], tuple[str, bytes]]) -> AppTest:
    at.radio(key="source").set_value(UPLOAD).run()
    for key, (name, data) in zip(("upload_a", "upload_b"), files):
        at.file_uploader(key=key).upload(name, data, "application/octet-stream")
    return at.run()


def _clean(at: AppTest) -> None:
    assert not at.exception and not at.error, [e.value for e in (*at.exception, *at.error)]


# 1. An image too small for every metric is fused, shown and offered; its metrics are n/a.

@needs_upload
def test_a_one_pixel_pair_is_fused_and_offered_with_its_metrics_na(ui_env):
    """It gave only "fused: image too small", though defusion fuse writes it (audit 2, finding 1)."""
    at = _pair(_app().run(), (("p_a.png", _png(np.zeros((1, 1), np.uint8))),
                              ("p_b.png", _png(np.full((1, 1), 255, np.uint8)))))
    _clean(at)
    assert "fused" in _captions(at)
    assert "Download the fused image (PNG)" in [b.proto.label for b in at.get("download_button")]
    table = at.table[0].value
    assert list(table.index) == list(METRIC_NAMES)
    assert set(table["value"]) == {"n/a (image too small)"}


def test_the_metrics_of_a_one_pixel_stack_are_nan_not_an_error():
    fused = np.zeros((1, 1, 3), np.float32)
    values = score_stack(fused, [fused, fused, fused])
    assert list(values) == list(STACK_METRIC_NAMES) and all(np.isnan(v) for v in values.values())
    two = np.zeros((2, 2), np.float32)  # the smallest the metrics take: scored
    assert np.isfinite(score(two, two, two)["EN"])


# 2. A float TIFF outside 0..1 (a radiometric frame in degrees C) is said to be stretched by its range.

def _float_tiff(values: np.ndarray) -> bytes:
    import tifffile

    buffer = io.BytesIO()
    tifffile.imwrite(buffer, values.astype(np.float32))
    return buffer.getvalue()


@needs_upload
def test_a_float_thermal_frame_in_degrees_is_said_to_be_stretched_by_its_range(ui_env, rng):
    """It was stretched silently, and the stretch box said nothing of it (audit 2, finding 2)."""
    visible = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    degrees = 20 + 25 * visible.mean(axis=2) / 255
    degrees[0, 0], degrees[0, 1] = 20.0, 45.0
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD).run()
    at.radio(key="kind").set_value("infrared + visible").run()
    at = _pair(at, (("vis.png", _png(visible)), ("ir_tempC.tif", _float_tiff(degrees))))
    _clean(at)
    said = "ir_tempC.tif holds float values 20 to 45 (not 0 to 1"
    assert [c.value for c in at.caption if said in c.value and "stretched from its minimum to its maximum" in c.value]
    assert "float" in at.checkbox(key="stretch").help  # the box says it does not apply to float frames
    stretched = at.table[0].value["value"].tolist()
    at.checkbox(key="stretch").uncheck().run()
    _clean(at)
    assert any(said in c.value for c in at.caption)  # reading stretched it, whatever the box says (as the CLI)
    assert at.table[0].value["value"].tolist() == stretched
    assert any("32-bit float TIFF" in c.value for c in at.caption)  # the upload caption names the format


def test_a_float_upload_within_0_to_1_or_of_integers_is_not_noted():
    assert float_note("a.tif", float_range(_float_tiff(np.full((4, 5), 0.5)))) is None
    assert float_range(_png(np.zeros((4, 5), np.uint16))) is None
    assert float_range(_float_tiff(np.array([[-5.0, 40.0]]))) == (-5.0, 40.0)


# 3. A portrait turned a quarter against a landscape: no advice to resize it; resizing one warns.

def _exif_rotated_jpeg(width: int, height: int, orientation: int = 6) -> bytes:
    """A JPEG stored ``width`` x ``height`` and tagged to be shown turned a quarter (read upright it is
    ``height`` x ``width``)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    pixels = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, "JPEG", exif=exif.tobytes())
    return buffer.getvalue()


@needs_upload
def test_an_exif_rotated_portrait_beside_a_landscape_is_told_turned_not_resized(ui_env, rng):
    """The error advised *Resize to the first image*, which then stretched the portrait into a landscape
    with only a blue note (audit 2, finding 3)."""
    landscape = _png(rng.integers(0, 256, (106, 160, 3), dtype=np.uint8))
    at = _pair(_app().run(), (("under.png", landscape), ("rot6.jpg", _exif_rotated_jpeg(160, 106))))
    assert not at.exception and len(at.error) == 1
    error = at.error[0].value
    assert "rot6.jpg is turned a quarter against under.png: read upright it is 106x160, under.png 160x106" in error
    assert "tick" not in error  # resizing is not what to do: it would stretch it
    at.checkbox(key="resize").check().run()
    _clean(at)
    warned = [w.value for w in at.warning if "changes rot6.jpg's aspect ratio (from 106x160 to 160x106" in w.value]
    assert warned and "turned a quarter against under.png" in warned[0]


@needs_upload
def test_resizing_that_keeps_the_aspect_ratio_is_not_warned_about(ui_env, rng):
    a = rng.integers(0, 256, (30, 40, 3), dtype=np.uint8)
    at = _pair(_app().run(), (("a.png", _png(a)), ("b.png", _png(cv2.resize(a, (20, 15))))))
    at.checkbox(key="resize").check().run()
    _clean(at)
    assert not [w for w in at.warning if "aspect ratio" in w.value]
    assert any("resized b.png 20x15 -> 40x30" in i.value for i in at.info)


def test_a_stack_with_one_shot_turned_names_it():
    grey = lambda h, w: _png(np.zeros((h, w), np.uint8))  # noqa: E731
    with pytest.raises(InputError, match=r"^c.png is turned a quarter against a.png, b.png: read upright it is "
                                              r"20x30, the others 30x20 \(WxH\)"):
        decode_stack([(grey(20, 30), "a.png"), (grey(20, 30), "b.png"), (grey(30, 20), "c.png")])
    with pytest.raises(InputError, match="the images differ in size"):  # not a quarter turn: as before
        decode_stack([(grey(20, 30), "a.png"), (grey(10, 15), "b.png")])


# 4. `defusion ui` on a port in use, or on a wildcard host.

def _parse(*argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    ui_cli.add_arguments(parser)
    return parser.parse_args([str(a) for a in argv])




class _FakePopen:
    started: list = []

    def __init__(self, cmd, env):
        _FakePopen.started.append(cmd)

    def wait(self, timeout=None):
        return 0


def test_a_port_in_use_is_refused_in_one_line_before_the_ui_is_announced(monkeypatch, capsys):
    """It said "web UI on http://..." then Streamlit's "Port N is not available", exit 1 (audit 2, finding 4)."""
    monkeypatch.setattr(ui_cli.subprocess, "Popen", _FakePopen)
    _FakePopen.started = []
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        status = run_guarded(lambda: ui_cli.run(_parse("--port", port)), ui_cli.EXPECTED_ERRORS)
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1, err
    assert err.startswith(f"defusion: error: cannot listen on 127.0.0.1:{port}: ") and "--port" in err
    assert "web UI on" not in err and not _FakePopen.started


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_wildcard_host_is_announced_at_a_url_a_browser_opens(host, monkeypatch, capsys):
    if host == "::" and not socket.has_ipv6:
        pytest.skip("no IPv6 here")
    monkeypatch.setattr(ui_cli.subprocess, "Popen", _FakePopen)
    port = free_port()
    try:
        assert ui_cli.run(_parse("--host", host, "--port", port)) == 0
    except ui_cli.UserError as exc:  # a machine without IPv6 sockets
        pytest.skip(str(exc))
    err = capsys.readouterr().err
    assert f"web UI on http://localhost:{port} (listening on all interfaces" in err
    assert "http://0.0.0.0" not in err and "http://[::]" not in err


def test_a_free_port_is_announced_as_before(monkeypatch, capsys):
    monkeypatch.setattr(ui_cli.subprocess, "Popen", _FakePopen)
    port = free_port()
    assert ui_cli.run(_parse("--port", port)) == 0
    assert f"defusion: web UI on http://127.0.0.1:{port}; Ctrl-C stops" in capsys.readouterr().err


# 5. Uploads of one file name are captioned as the notes tell them apart.

@needs_upload
def test_a_stacks_files_of_one_name_are_captioned_as_the_notes_tell_them_apart(ui_env, rng):
    """Both were captioned "IMG_0001.png" while the notes said "IMG_0001.png (2)" (audit 2, finding 5)."""
    at = _app().run()
    at.radio(key="source").set_value(UPLOAD_STACK).run()
    uploader = at.file_uploader(key="upload_stack")
    for _ in range(2):
        uploader.upload("IMG_0001.png", _png(rng.integers(0, 256, (30, 40), dtype=np.uint8)), "image/png")
    at.run()
    _clean(at)
    assert _captions(at)[:3] == ["1: IMG_0001.png (1)", "2: IMG_0001.png (2)", "fused"]
    at.radio(key="kind").set_value("infrared + visible").run()
    at.selectbox(key="palette").set_value("inferno").run()
    _clean(at)
    assert at.selectbox(key="infrared_stack").options == ["auto", "IMG_0001.png (1)", "IMG_0001.png (2)"]
    assert _captions(at)[:2] == ["1: IMG_0001.png (1)", "2: IMG_0001.png (2)"]


@needs_upload
def test_a_pairs_files_of_one_name_are_captioned_as_the_notes_tell_them_apart(ui_env, rng):
    at = _pair(_app().run(), (("image.jpg", _png(rng.integers(0, 256, (30, 40), dtype=np.uint8))),
                              ("image.jpg", _png(rng.integers(0, 256, (30, 40), dtype=np.uint8)))))
    _clean(at)
    assert _captions(at)[:2] == ["A: image.jpg (1)", "B: image.jpg (2)"]


def test_the_upload_caption_names_float_tiffs():
    assert "8 or 16 bit" in FORMATS and "float TIFF" in FORMATS
