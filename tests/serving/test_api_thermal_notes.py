"""``POST /v1/fuse`` telling a thermal user what ``defusion fuse`` tells them, in ``X-Defusion-Notes``
(one rule: defusion.fusion.thermal_notes): a raw frame sent with ``stretch=none`` reads nearly flat,
and a pair sent infrared first goes against the convention; and docs/serving.md's streaming loop run
against the app (it kept nothing of an 8-bit thermal stream, and sent the infrared image as ``a``)."""

from __future__ import annotations

import contextlib
import re
from pathlib import Path

import httpx
import numpy as np
import pytest

from defusion.serving.api import NOTES_HEADER, encode_png
from defusion.serving.stream import PALETTE_RANGE_HEADER, STRETCH_HEADER
from tests.conftest import smooth_image

H, W = 48, 64
#: The raw thermal frame's counts, as the audit's 160x120 frame spanned them.
COLD, WARM = 7188, 8358
SERVING_MD = Path(__file__).resolve().parents[2] / "docs" / "serving.md"


@pytest.fixture(scope="module")
def frames() -> dict[str, np.ndarray]:
    """A colour visible frame, an 8-bit grey thermal frame and a raw 16-bit one (counts COLD..WARM)."""
    rng = np.random.default_rng(7)
    grey = smooth_image(rng, H, W, channels=1)
    raw = np.rint(COLD + (WARM - COLD) * grey.astype(np.float64) / 255.0).astype(np.uint16)
    return {"visible": smooth_image(rng, H, W), "ir8": smooth_image(rng, H, W, channels=1), "ir16": raw}


def _post(client, a: tuple[str, np.ndarray], b: tuple[str, np.ndarray], **query: str):
    files = {field: (name, encode_png(image), "image/png") for field, (name, image) in (("a", a), ("b", b))}
    r = client.post("/v1/fuse", params=query, files=files)
    assert r.status_code == 200, r.text
    return r


def _notes(r) -> list[str]:
    return r.headers.get(NOTES_HEADER, "").split(" | ") if NOTES_HEADER in r.headers else []


def test_stretch_none_on_a_raw_frame_says_it_reads_nearly_flat(client, frames):
    r = _post(client, ("vis.png", frames["visible"]), ("ir16.png", frames["ir16"]), stretch="none")
    flat = [line for line in _notes(r) if "nearly flat" in line]
    assert len(flat) == 1, _notes(r)
    found = re.fullmatch(r"note: ir16\.png spans only (\d+)\.\.(\d+) of 0\.\.65535 \([\d.]+% of the range\) and reads "
                         r"nearly flat unstretched; drop stretch=none \(or use stretch=auto\) to see its content", flat[0])
    assert found, flat
    assert COLD <= int(found[1]) < int(found[2]) <= WARM


def test_auto_or_an_8_bit_frame_says_nothing_of_flatness(client, frames):
    for b, query in ((("ir16.png", frames["ir16"]), {}), (("ir8.png", frames["ir8"]), {"stretch": "none"})):
        assert not [line for line in _notes(_post(client, ("vis.png", frames["visible"]), b, **query))
                    if "nearly flat" in line]


@pytest.mark.parametrize("query", [{"task": "ivf"}, {"palette": "inferno"}], ids=["ivf", "palette"])
def test_infrared_sent_as_a_says_visible_first(client, frames, query):
    r = _post(client, ("ir8.png", frames["ir8"]), ("vis.png", frames["visible"]), **query)
    order = [line for line in _notes(r) if "visible first" in line]
    assert order == ["note: ir8.png is grey and vis.png colour: if ir8.png is the infrared image, visible first "
                     "is the convention (as benchmarked, and as a rig is calibrated); the output takes the first "
                     f"image's size, {W}x{H}; send the visible image as a and the infrared one as b (a grey visible "
                     "image beside a colour thermal one is given rightly so)"], _notes(r)
    if "palette" in query:  # infrared=N goes with a palette
        named = _post(client, ("ir8.png", frames["ir8"]), ("vis.png", frames["visible"]), infrared=2, **query)
        assert not [line for line in _notes(named) if "visible first" in line]  # b named the infrared image


def test_visible_as_a_or_no_thermal_query_says_nothing_of_the_order(client, frames):
    assert not [line for line in _notes(_post(client, ("vis.png", frames["visible"]), ("ir8.png", frames["ir8"]),
                                              palette="inferno")) if "visible first" in line]
    assert not [line for line in _notes(_post(client, ("ir8.png", frames["ir8"]), ("vis.png", frames["visible"])))
                if "visible first" in line]


def _streaming_loop() -> str:
    """docs/serving.md's streaming example: the python block that defines fused_frames."""
    blocks = re.findall(r"```python\n(.*?)```", SERVING_MD.read_text(encoding="utf-8"), re.S)
    found = [block for block in blocks if "def fused_frames" in block]
    assert len(found) == 1, "docs/serving.md has no (or more than one) streaming example"
    return found[0]


@pytest.mark.parametrize("infrared, pinned", [("ir8", {"palette_range"}), ("ir16", {"stretch", "palette_range"})],
                         ids=["8-bit", "raw-16-bit"])
def test_the_documented_streaming_loop_keeps_each_header_and_sends_visible_first(client, frames, monkeypatch,
                                                                                  infrared, pinned):
    """The loop, run through the app (fastapi's TestClient is an httpx.Client): from the second frame
    on it sends back each header the first response had, an 8-bit stream its palette range alone;
    and, the visible image sent as a, no response says the pair came infrared first."""
    sent: list[dict[str, str]] = []
    responses: list[httpx.Response] = []

    class Recording:
        def post(self, url, params=None, files=None):
            sent.append(dict(params))
            assert files["a"][0] == "vis.png" and files["b"][0] == "ir.png"
            responses.append(client.post(url, params=params, files=files))
            return responses[-1]

    @contextlib.contextmanager
    def fake_client(**settings):
        yield Recording()

    monkeypatch.setattr(httpx, "Client", fake_client)
    namespace: dict = {}
    exec(compile(_streaming_loop(), str(SERVING_MD), "exec"), namespace)
    pair = (encode_png(frames["visible"]), encode_png(frames[infrared]))
    fused = list(namespace["fused_frames"]([pair] * 3))
    assert len(fused) == 3 and all(r.status_code == 200 for r in responses)
    assert sent[0] == {"palette": "inferno"}
    headers = {"stretch": STRETCH_HEADER, "palette_range": PALETTE_RANGE_HEADER}
    for later in sent[1:]:
        assert set(later) == {"palette"} | pinned, later
        assert all(later[name] == responses[0].headers[headers[name]] for name in pinned)
    assert not any("visible first" in r.headers.get(NOTES_HEADER, "") for r in responses)


def _documented_call(pattern: str) -> str:
    """The inline code of docs/serving.md that starts with ``pattern`` (the export's documented calls)."""
    found = re.findall(r"`(" + re.escape(pattern) + r"[^`]*)`", SERVING_MD.read_text(encoding="utf-8"))
    assert len(found) == 1, f"docs/serving.md has no (or more than one) `{pattern}...`"
    return found[0]


def test_the_documented_calls_of_an_export_run_and_a_float_gain_is_refused(lively_weights, tmp_path, monkeypatch):
    """docs/serving.md's calls of the TorchScript and ONNX files, run as written on exports of the
    tiny weights; a Python float for a gain, as the docs once implied, fails in TorchScript."""
    import onnxruntime
    import torch

    from defusion.model.weights import load_weights
    from defusion.fusion.export import export_model

    monkeypatch.chdir(tmp_path)
    model = load_weights(lively_weights)
    export_model(model, "denet.pt", fmt="torchscript")
    export_model(model, "denet.onnx", fmt="onnx", opset=17)
    x1, x2 = torch.rand(1, 3, 32, 40), torch.rand(1, 3, 32, 40)
    scripted: dict = {"torch": torch, "x1": x1, "x2": x2}
    exec(_documented_call('m = torch.jit.load("denet.pt")'), scripted)
    with torch.no_grad():
        expected = model(x1, x2, unique_gain=1.5, detail_gain=2.0)
    assert torch.allclose(scripted["fused"], expected.fused, atol=1e-4)
    with pytest.raises(RuntimeError, match="Expected a value of type 'Tensor' for argument 'unique_gain'"):
        scripted["m"](x1, x2, 1.5, 2.0)
    ran: dict = {"onnxruntime": onnxruntime, "np": np, "x1": x1.numpy(), "x2": x2.numpy()}
    exec(_documented_call('session = onnxruntime.InferenceSession("denet.onnx")'), ran)
    assert np.allclose(ran["fused"], expected.fused.numpy(), atol=1e-4)


def test_a_grey_16_bit_bracket_sent_with_stretch_none_is_not_told_to_stretch(client, frames):
    """task=mef: the dark shot beside one that fills the range is an exposure, which the automatic stretch
    leaves as it is (stretch.measure_stretch), so no note says to turn the stretch on (a photographer's audit)."""
    bright = (frames["ir16"].astype(np.float64) - COLD) / (WARM - COLD)
    ev0 = np.rint(1000 + 60000 * bright).astype(np.uint16)
    r = _post(client, ("ev-2.png", ev0 // 4), ("ev0.png", ev0), stretch="none", task="mef")
    assert not [line for line in _notes(r) if "nearly flat" in line], _notes(r)
    r = _post(client, ("ev-2.png", ev0 // 4), ("ev0.png", ev0), stretch="none")  # no task: may be thermal
    assert [line for line in _notes(r) if "nearly flat" in line] and "ev-2.png" in r.headers[NOTES_HEADER]


def test_a_palette_over_a_colour_upload_is_warned_of_in_the_notes(client, frames):
    """A medical audit: a PET already in jet colours, given as the palette's image, was re-mapped by its
    luminance (its hottest red came out cyan), unsaid; the server's header says it now."""
    pet = smooth_image(np.random.default_rng(3), H, W)  # a colour upload
    notes = _notes(_post(client, ("mri.png", frames["ir8"]), ("pet.png", pet), palette="jet", infrared="2"))
    assert any(line.startswith("warning: pet.png: the image the palette colours is in colour") for line in notes), notes
    plain = _notes(_post(client, ("vis.png", frames["visible"]), ("ir8.png", frames["ir8"]), palette="jet"))
    assert not any("is in colour" in line for line in plain), plain
