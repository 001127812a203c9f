"""An ops audit, with --max-upload-bytes 100000: a chunked upload of one 500 KB file was read on up to the
whole body's bound (465,536 bytes) before it was refused as "request body is over the limit", and the
per-file 413 ("field 'b': 332022 bytes is over the limit of 100000 bytes") did not name --max-upload-bytes,
where the pixel 413 names --max-pixels. A file over the bound is refused as soon as it is, and each 413
names the option and the variable that set it."""

from __future__ import annotations

import asyncio

import numpy as np

from defusion.serving.api import Limits, create_app
from defusion.serving.responses import encode_png

#: The audit's per-file bound, and the size of the chunks uvicorn hands the app (its reads are up to 64 KiB).
MAX_FILE, CHUNK = 100_000, 16_384
PER_FILE = "(the server's --max-upload-bytes or DEFUSION_MAX_UPLOAD_BYTES)"


def _chunked_post(app, body: bytes) -> tuple[int, str, int]:
    """POST ``body`` to /v1/fuse in chunks, with no Content-Length: the status, the detail and the bytes read."""
    import json

    chunks = [body[i:i + CHUNK] for i in range(0, len(body), CHUNK)]
    read, answer = [0], {}

    async def receive():
        if chunks:
            chunk = chunks.pop(0)
            read[0] += len(chunk)
            return {"type": "http.request", "body": chunk, "more_body": bool(chunks)}
        await asyncio.sleep(3600)

    async def send(message):
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] = answer.get("body", b"") + message.get("body", b"")

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/v1/fuse", "raw_path": b"/v1/fuse", "root_path": "", "query_string": b"",
             "headers": [(b"host", b"127.0.0.1"), (b"content-type", b"multipart/form-data; boundary=x"),
                         (b"transfer-encoding", b"chunked")], "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 8000)}

    asyncio.run(app(scope, receive, send))
    return answer["status"], json.loads(answer["body"])["detail"], read[0]


def test_one_large_chunked_file_is_refused_at_the_per_file_bound(fuser):
    app = create_app(fuser, Limits(max_upload_bytes=MAX_FILE))
    body = (b'--x\r\nContent-Disposition: form-data; name="a"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n'
            + b"\0" * 500_000 + b"\r\n--x--\r\n")
    status, detail, read = _chunked_post(app, body)
    assert status == 413
    assert detail == f"field 'a': over the limit of {MAX_FILE} bytes per file {PER_FILE}"
    assert read < MAX_FILE + 2 * CHUNK < Limits(max_upload_bytes=MAX_FILE).max_request_bytes


def test_each_413_names_the_option_and_the_variable(fuser):
    from fastapi.testclient import TestClient

    big = encode_png(np.random.default_rng(0).integers(0, 255, (200, 200), np.uint8))
    small = encode_png(np.zeros((200, 200), np.uint8))
    with TestClient(create_app(fuser, Limits(max_upload_bytes=len(big) - 1))) as c:
        r = c.post("/v1/fuse", files={"a": ("a.png", small, "image/png"), "b": ("b.png", big, "image/png")})
        assert r.status_code == 413
        assert r.json()["detail"] == f"field 'b': over the limit of {len(big) - 1} bytes per file {PER_FILE}"
        r = c.post("/v1/fuse", content=b"x" * (4 * len(big) + 70_000),
                   headers={"Content-Type": "multipart/form-data; boundary=x"})
        assert r.status_code == 413 and "--max-images or DEFUSION_MAX_IMAGES" in r.json()["detail"]
        assert PER_FILE in r.json()["detail"]
