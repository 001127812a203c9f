"""A security audit: control bytes in an upload's file name reached the response headers raw. A part
with ``filename="a\\x00b.png"`` (a PNG with alpha, which makes a note) was fused, then the connection
dropped with no answer (h11: "Illegal header value"); ``\\x01``, ``\\x1b`` (a terminal escape, which also
reached the log) and ``\\x7f`` went into X-Defusion-Notes raw. A name's control characters are now
escaped as its non-ASCII ones were (``\\x00``), in headers, JSON bodies and log lines alike."""

from __future__ import annotations

import io
import re
import socket

import numpy as np
import pytest
from PIL import Image

from defusion.serving.header_timeout import header_timeout_protocol
from defusion.serving.api import NOTES_HEADER, Limits, create_app, encode_png
from defusion.serving.limits import HEADER_TIMEOUT_S
from tests.conftest import smooth_image
from tests.serving.test_api import H, W
from tests.serving.test_header_timeout import SLACK_S, serving

BOUNDARY = b"XBOUNDARYX"
#: What no header value may hold (RFC 9110's field-value: visible ASCII, space and tab; obs-text aside).
CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: The audit's names (as the multipart header carries them) and how notes and messages write them.
NAMES = {b"a\x00b.png": r"a\x00b.png", b"a\x01b.png": r"a\x01b.png", b"a\x1b[31mb.png": r"a\x1b[31mb.png",
         b"a\x7fb.png": r"a\x7fb.png"}


@pytest.fixture(scope="module")
def pngs() -> tuple[bytes, bytes]:
    """``a`` with transparent pixels (reading it makes a note naming it), ``b`` plain."""
    rng = np.random.default_rng(11)
    visible, infrared = smooth_image(rng, H, W), smooth_image(rng, H, W, channels=1)
    rgba = np.dstack([visible, np.full(visible.shape[:2], 255, np.uint8)])
    rgba[:4, :4, 3] = 0
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    return buffer.getvalue(), encode_png(infrared)


def _body(a_name: bytes, a: bytes, b: bytes) -> bytes:
    """A multipart body of file fields ``a`` (named ``a_name`` byte for byte) and ``b``, built by hand:
    a client library would refuse or rewrite the name."""
    body = b""
    for field, name, data in ((b"a", a_name, a), (b"b", b"b.png", b)):
        body += (b"--" + BOUNDARY + b'\r\nContent-Disposition: form-data; name="' + field + b'"; filename="' + name
                 + b'"\r\nContent-Type: image/png\r\n\r\n' + data + b"\r\n")
    return body + b"--" + BOUNDARY + b"--\r\n"


def _post(client, body: bytes):
    return client.post("/v1/fuse", content=body,
                       headers={"Content-Type": "multipart/form-data; boundary=" + BOUNDARY.decode()})


@pytest.mark.parametrize("name", NAMES)
def test_a_names_control_characters_are_escaped_in_the_notes_header(client, pngs, name):
    r = _post(client, _body(name, *pngs))
    assert r.status_code == 200, r.text
    notes = r.headers[NOTES_HEADER]
    assert f"{NAMES[name]} has transparent pixels" in notes, notes
    assert not CONTROL.search(notes)


def test_a_names_control_characters_are_escaped_in_an_errors_json(client, pngs):
    r = _post(client, _body(b"x\x1b[2Jy.png", b"not an image", pngs[1]))
    assert r.status_code == 415, r.text
    detail = r.json()["detail"]
    assert r"x\x1b[2Jy.png" in detail and "\x1b" not in detail


def test_a_nul_in_a_name_is_answered_by_a_real_server_not_dropped(fuser, pngs):
    """The audit's case end to end: h11 refused the raw NUL in the header and dropped the connection."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    body = _body(b"a\x00b.png", *pngs)
    request = (b"POST /v1/fuse HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary="
               + BOUNDARY + b"\r\nContent-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
               + body)
    app = create_app(fuser, Limits())
    with serving(header_timeout_protocol(HEADER_TIMEOUT_S, H11Protocol), app, lifespan="on") as port:
        with socket.create_connection(("127.0.0.1", port), timeout=SLACK_S * 6) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    head = answer.partition(b"\r\n\r\n")[0].decode("latin-1")
    assert head.startswith("HTTP/1.1 200 "), answer[:300]
    notes = next(line for line in head.split("\r\n") if line.lower().startswith(NOTES_HEADER.lower() + ":"))
    assert r"a\x00b.png has transparent pixels" in notes
