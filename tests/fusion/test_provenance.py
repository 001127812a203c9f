"""A fused image says what made it (defusion.fusion.provenance): EXIF Software even without the sources' EXIF,
and a compact record of the version, the weights' name and SHA-256, the runtime and the options, from
`defusion fuse` (PNG, JPEG, TIFF, WebP), the server's answers and the web UI's download; none with
--no-metadata / metadata=false."""

from __future__ import annotations

import hashlib
import io
import json

import numpy as np
import pytest
from PIL import Image

from defusion import __version__
from defusion.io.images import write_image
from defusion.fusion.provenance import DIGEST_CHARS, MAX_RECORD_BYTES, RECORD_KEY, SHIPPED, MadeBy
from tests.cli.conftest import run_fuse
from tests.conftest import smooth_image

SOFTWARE, IMAGE_DESCRIPTION, EXIF_IFD, USER_COMMENT = 305, 270, 0x8769, 37510  # EXIF's tags
ASCII_CODE = b"ASCII\x00\x00\x00"


@pytest.fixture
def pair(tmp_path, rng):
    """Two plain PNGs, without EXIF or a profile: what the audit fused."""
    paths = []
    for name, gain in (("under.png", 0.5), ("over.png", 1.5)):
        path = tmp_path / name
        write_image(path, np.clip(smooth_image(rng, 32, 48).astype(float) * gain, 0, 255).astype(np.uint8))
        paths.append(path)
    return paths


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _exif_record(im: Image.Image) -> dict:
    """The record in an image's EXIF UserComment, its Software asserted to be defusion's."""
    exif = im.getexif()
    assert exif[SOFTWARE] == f"defusion {__version__}"
    comment = exif.get_ifd(EXIF_IFD)[USER_COMMENT]
    assert comment.startswith(ASCII_CODE)
    return json.loads(comment[len(ASCII_CODE):])


def _check(record: dict, weights, **options) -> None:
    assert record["defusion"] == __version__ and record["weights"] == weights.name
    assert record["sha256"] == _sha(weights)[:DIGEST_CHARS] and record["runtime"]
    assert {k: record["options"][k] for k in options} == options


def test_a_fused_png_and_jpeg_carry_software_and_the_record(pair, tmp_path, tiny_weights):
    png, jpeg = tmp_path / "f1.png", tmp_path / "f1.jpg"
    for out in (png, jpeg):
        assert run_fuse(*pair, "--task", "mef", "--unique-gain", "1.7", "--weights", tiny_weights, "-o", out) == 0
    with Image.open(png) as im:
        text = im.info[RECORD_KEY]
        _check(json.loads(text), tiny_weights, unique_gain=1.7, order="exposure")
        assert _exif_record(im) == json.loads(text)
    from defusion.fusion.options import FuseOptions

    assert FuseOptions.from_record(json.loads(text)["options"]) == FuseOptions.for_task("mef", unique_gain=1.7)
    with Image.open(jpeg) as im:
        _check(_exif_record(im), tiny_weights, unique_gain=1.7, order="exposure")
    assert len(text.encode()) < MAX_RECORD_BYTES and str(tmp_path) not in text  # small, and no user's path


def test_tiff_and_webp_carry_it_too(pair, tmp_path, tiny_weights):
    tif, webp = tmp_path / "f.tif", tmp_path / "f.webp"
    for out in (tif, webp):
        assert run_fuse(*pair, "--align", "translation", "--weights", tiny_weights, "-o", out) == 0
    with Image.open(tif) as im:
        assert im.tag_v2[SOFTWARE] == f"defusion {__version__}"
        _check(json.loads(im.tag_v2[IMAGE_DESCRIPTION]), tiny_weights, align="translation")
    with Image.open(webp) as im:
        _check(_exif_record(im), tiny_weights, align="translation")


def test_no_metadata_leaves_the_record_out_with_the_rest(pair, tmp_path, tiny_weights):
    out = tmp_path / "bare.png"
    assert run_fuse(*pair, "--unique-gain", "1.7", "--weights", tiny_weights, "--no-metadata", "-o", out) == 0
    with Image.open(out) as im:
        assert RECORD_KEY not in im.info and not im.getexif()


def test_the_server_s_answer_carries_the_record(lively_weights, one_torch_thread):
    from fastapi.testclient import TestClient

    from defusion.fusion.fuser import Fuser
    from defusion.serving.api import Limits, create_app

    rng = np.random.default_rng(0)
    sent = {}
    for field in ("a", "b"):
        buffer = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (24, 32), dtype=np.uint8)).save(buffer, "PNG")
        sent[field] = (f"{field}.png", buffer.getvalue(), "image/png")
    fuser = Fuser.from_pretrained(lively_weights, device="cpu")
    with TestClient(create_app(fuser, Limits(), weights=lively_weights)) as client:
        r = client.post("/v1/fuse?task=mef", files=sent)
        assert r.status_code == 200, r.text
        with Image.open(io.BytesIO(r.content)) as im:
            _check(json.loads(im.info[RECORD_KEY]), lively_weights, order="exposure")
        assert r.headers["X-Defusion-Model"].endswith(_sha(lively_weights)[:DIGEST_CHARS])  # serve's digest
        r = client.post("/v1/fuse?format=jpeg&metadata=false", files=sent)
        with Image.open(io.BytesIO(r.content)) as im:
            assert not im.getexif()


def test_the_web_ui_s_download_carries_it_with_or_without_uploads(tiny_weights):
    from defusion.fusion.fuser import Fuser
    from defusion.ui.image_output import png_bytes

    fuser = Fuser.from_pretrained(tiny_weights, device="cpu", runtime="torch", task="ivf", unique_gain=1.7)
    made_by = MadeBy.of(fuser, tiny_weights, "ivf")
    fused = np.zeros((8, 8, 3), np.uint8)
    upload = io.BytesIO()
    Image.fromarray(fused).save(upload, "PNG")
    for files in (None, [upload.getvalue()] * 2):  # an example pair has no files
        with Image.open(io.BytesIO(png_bytes(fused, files, made_by=made_by))) as im:
            record = json.loads(im.info[RECORD_KEY])
            _check(record, tiny_weights, unique_gain=1.7)
            assert record["runtime"] == "torch" and _exif_record(im) == record


def test_the_shipped_weights_are_named_so():
    from defusion.fusion.options import FuseOptions
    from defusion.model.weights import shipped_weights_path

    record = json.loads(MadeBy(FuseOptions()).record())
    assert record["weights"] == SHIPPED and record["options"] == {}
    assert record["sha256"] == _sha(shipped_weights_path())[:DIGEST_CHARS]
