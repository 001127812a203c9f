"""The REST API as an operator runs it: bounded memory (pixels, queue), server failures as 5xx, what
is logged, browser forms, health and readiness, `defusion serve`'s socket and timeouts, /v1/info
of an ONNX model, CORS."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
import os
import socket
import tempfile
from dataclasses import replace

import anyio.to_thread
import cv2
import httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient

from defusion.cli import serve as serve_cli
from defusion.cli.errors import UserError
from defusion.fusion.fuser import Fuser
from defusion.io.errors import ImageReadError
from defusion.serving import decode as decode_module
from defusion.serving.api import (DEFAULT_MAX_QUEUE, DEFAULT_SERVER_MAX_PIXELS, NOTES_HEADER,
                                  QUEUE_FULL_RETRY_AFTER_S, Limits, create_app, encode_png)
from tests.serving.test_api import _assert_error, as_image, files
from tests.serving.test_api_isolation import TIMEOUT, _held_app, _post, _until_waiting


@pytest.fixture(scope="module")
def pair():
    from tests.conftest import smooth_image

    rng = np.random.default_rng(5)
    return smooth_image(rng, 40, 48), smooth_image(rng, 40, 48, channels=1)


def _server_records(caplog, level: int | None = None) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "defusion.serving" and (level is None or r.levelno == level)]


# -- 1. memory: the default pixel bound, MemoryError --------------------------------------
def test_the_servers_default_pixel_bound_is_one_a_host_can_serve():
    """100 MP (the CLI's bound) let a pair of 190 KB PNGs of 81 MP of zeros take about 15 GB (0.9 + 0.17 GB per
    MP, extrapolated: docs/serving.md, "Memory"); the server's is lower."""
    parser = argparse.ArgumentParser()
    serve_cli.add_arguments(parser)
    args = parser.parse_args([])
    assert Limits().max_pixels == DEFAULT_SERVER_MAX_PIXELS == args.max_pixels
    assert DEFAULT_SERVER_MAX_PIXELS <= 16_000_000
    assert args.max_queue == DEFAULT_MAX_QUEUE


def test_a_small_upload_of_many_pixels_is_413_at_the_default_bound(client):
    """An all-zero PNG just over the default bound (a few KB) is refused from its header."""
    width = DEFAULT_SERVER_MAX_PIXELS // 4000 + 1
    bomb = cv2.imencode(".png", np.zeros((4000, width), np.uint8))[1].tobytes()
    assert len(bomb) < 100_000
    r = client.post("/v1/fuse", files=files(bomb, bomb))
    _assert_error(r, 413, f"{width * 4000:,} pixels", f"{DEFAULT_SERVER_MAX_PIXELS:,}", "--max-pixels")


def test_running_out_of_memory_is_a_503_logged_as_an_error_and_the_model_is_free_after(fuser, pair, caplog):
    calls = []

    class Starved(Fuser):
        def fuse(self, *images, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise MemoryError("Unable to allocate 927. MiB for an array with shape (9000, 9000, 3)")
            return super().fuse(*images, **kwargs)

    a, b = pair
    with TestClient(create_app(Starved(fuser.model, fuser.device, options=fuser.options))) as c:
        with caplog.at_level("INFO", logger="defusion.serving"):
            r = c.post("/v1/fuse", files=files(encode_png(a), encode_png(b)))
        _assert_error(r, 503, "ran out of memory", "smaller")
        errors = _server_records(caplog, logging.ERROR)
        assert len(errors) == 1 and "out of memory" in errors[0].getMessage()
        assert "927. MiB" in errors[0].getMessage()
        r = c.post("/v1/fuse", files=files(encode_png(a), encode_png(b)))  # the model's turn was given back
        assert r.status_code == 200, r.text


@pytest.mark.parametrize("failure", ["bare", "wrapped"])
def test_running_out_of_memory_while_decoding_is_a_503_not_a_bad_image(client, pair, monkeypatch, failure):
    """Also where a reader wrapped the MemoryError in an ImageReadError (a broad except in io.images)."""
    def read_image(path, max_pixels, **options):
        if failure == "bare":
            raise MemoryError
        try:
            raise MemoryError
        except MemoryError as exc:
            raise ImageReadError(f"{path}: cannot read") from exc

    monkeypatch.setattr(decode_module, "read_image", read_image)
    a, b = pair
    _assert_error(client.post("/v1/fuse", files=files(encode_png(a), encode_png(b))), 503, "out of memory")


# -- 2. the server's disk is the server's problem -----------------------------------------
class _FullDisk:
    """``os`` for decode.py, with files whose writes fail as over ``ulimit -f`` (or on a full disk)."""

    def __getattr__(self, name):
        return getattr(os, name)

    @staticmethod
    def fdopen(fd, mode):
        real = os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8")  # decode.py's is "wb"

        class Failing:
            def __enter__(self):
                return self

            def __exit__(self, *exc):
                real.close()

            def write(self, data):
                raise OSError(errno.EFBIG, "File too large")

        return Failing()


@pytest.mark.parametrize("failure", ["no temporary folder", "write fails"])
def test_a_temporary_storage_failure_is_a_503_without_the_servers_paths(client, pair, monkeypatch, tmp_path,
                                                                        caplog, failure):
    missing = tmp_path / "no-such-folder"
    if failure == "no temporary folder":
        monkeypatch.setattr(tempfile, "tempdir", str(missing))
    else:
        monkeypatch.setattr(decode_module, "os", _FullDisk())
    a, b = pair
    with caplog.at_level("DEBUG", logger="defusion.serving"):
        r = client.post("/v1/fuse", files=files(encode_png(a), encode_png(b), names=("vis.png", "ir.png")))
    detail = _assert_error(r, 503, "field 'a'", "could not store the upload", "not the image")
    assert str(tmp_path) not in detail and tempfile.gettempdir() not in detail and "defusion-upload" not in detail
    errors = [record.getMessage() for record in _server_records(caplog, logging.ERROR)]
    assert len(errors) == 1 and "vis.png" in errors[0], errors
    if failure == "no temporary folder":
        assert "No such file or directory" in errors[0] and str(missing) in errors[0]
    else:
        assert "File too large" in errors[0]


# -- 3. waiting for the model holds no worker thread; a bounded queue -----------------------
def test_a_refusal_is_answered_at_once_while_requests_wait_for_the_model(fuser, pair):
    """Requests waiting for the model hold no worker thread: with a pool of 3 threads and 4 requests
    waiting behind one being fused, a pair of different sizes is still refused (422) at once."""
    a, b = pair
    held = _held_app(fuser, Limits(max_queue=10))
    waiting_count = 4

    async def scenario():
        anyio.to_thread.current_default_thread_limiter().total_tokens = 3
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=held.app), base_url="http://test") as c:
            tasks = [asyncio.create_task(_post(c, "", a, b))]
            try:
                assert await asyncio.to_thread(held.entered.wait, TIMEOUT), "the first request never reached the model"
                tasks += [asyncio.create_task(_post(c, "", a, b)) for _ in range(waiting_count)]
                assert await _until_waiting(held.runner, waiting_count), "the others never waited for the model"
                mismatch = await asyncio.wait_for(_post(c, "", a, np.ascontiguousarray(b[:-8])), TIMEOUT)
                still_held = held.runner.waiting == waiting_count
            finally:
                held.release.set()
            return mismatch, still_held, await asyncio.gather(*tasks)

    mismatch, still_held, fused = asyncio.run(scenario())
    _assert_error(mismatch, 422, "differ in size")
    assert still_held  # answered while the others were still waiting
    assert [r.status_code for r in fused] == [200] * (1 + waiting_count)


def test_a_full_queue_is_a_503_with_retry_after_and_readyz_says_so(fuser, pair):
    a, b = pair
    held = _held_app(fuser, Limits(max_queue=1))

    async def scenario():
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=held.app), base_url="http://test") as c:
            first = asyncio.create_task(_post(c, "", a, b))
            try:
                assert await asyncio.to_thread(held.entered.wait, TIMEOUT)
                ready_one = await c.get("/readyz")
                second = asyncio.create_task(_post(c, "", a, b))
                assert await _until_waiting(held.runner)
                refused = await _post(c, "", a, b)
                busy, healthy, head = await c.get("/readyz"), await c.get("/healthz"), await c.head("/readyz")
            finally:
                held.release.set()
            done = await asyncio.gather(first, second)
            return ready_one, refused, busy, healthy, head, done, await c.get("/readyz")

    ready_one, refused, busy, healthy, head, done, ready_after = asyncio.run(scenario())
    assert ready_one.status_code == 200 and ready_one.json()["status"] == "ready"
    _assert_error(refused, 503, "busy", "max_queue=1", f"retry after {QUEUE_FULL_RETRY_AFTER_S} s")
    assert refused.headers["retry-after"] == str(QUEUE_FULL_RETRY_AFTER_S)
    assert busy.status_code == 503 and busy.json() == {"status": "busy", "requests": 2, "waiting": 1, "max_queue": 1}
    assert busy.headers["retry-after"] == str(QUEUE_FULL_RETRY_AFTER_S)
    assert head.status_code == 503 and head.content == b""
    assert healthy.status_code == 200  # liveness: busy is not dead
    assert [r.status_code for r in done] == [200, 200]
    assert len(held.calls) == 2  # the refused request never reached the model
    assert ready_after.status_code == 200 and ready_after.json()["requests"] == 0


# -- 4. logging -----------------------------------------------------------------------------
def test_why_a_request_was_refused_is_logged_at_debug(client, pair, caplog):
    a, b = pair
    with caplog.at_level("DEBUG", logger="defusion.serving"):
        r = client.post("/v1/fuse", files=files(b"plain text, not an image", encode_png(b)))
        q = client.post("/v1/fuse?components=maybe", files=files(encode_png(a), encode_png(b)))
    detail = _assert_error(r, 415, "not an image")
    debug = [record.getMessage() for record in _server_records(caplog, logging.DEBUG)]
    assert any("415" in line and detail in line for line in debug), debug
    assert q.status_code == 422 and any("422" in line and "components" in line for line in debug), debug


# -- 5. browser forms: blank optional inputs -------------------------------------------------
BOUNDARY = "browserformboundary"


def _part(name: str, data: bytes, filename: str | None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
    kind = "Content-Type: application/octet-stream\r\n" if filename is not None else ""
    return f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\n{kind}\r\n".encode() + data + b"\r\n"


def _form(client: TestClient, *parts: bytes) -> httpx.Response:
    body = b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()
    return client.post("/v1/fuse", content=body, headers={"content-type": f"multipart/form-data; boundary={BOUNDARY}"})


@pytest.mark.parametrize("blanks", [
    [("c", b"", ""), ("d", b"", "")],  # file inputs with no file chosen
    [("rig", b"", None)],  # an empty text input
    [("rig", b"  \r\n", None)],
    [("rig", b"", "")],  # an empty file input
    [("c", b"", ""), ("rig", b"", ""), ("e", b"", "")],  # e: beyond this server's max_images, blank
])
def test_blank_optional_inputs_of_a_browser_form_are_left_out(client, fuser, pair, blanks):
    a, b = pair
    r = _form(client, _part("a", encode_png(a), "a.png"), _part("b", encode_png(b), "b.png"),
              *(_part(name, data, filename) for name, data, filename in blanks))
    assert r.status_code == 200, r.text
    np.testing.assert_array_equal(as_image(r.content), fuser.fuse(a, b))


def test_a_blank_input_before_a_chosen_one_is_a_gap_and_an_empty_chosen_file_is_400(client, pair):
    a, b = pair
    pa, pb = _part("a", encode_png(a), "a.png"), _part("b", encode_png(b), "b.png")
    _assert_error(_form(client, pa, pb, _part("c", b"", ""), _part("d", encode_png(a), "d.png")), 422,
                  "missing field 'c'")
    _assert_error(_form(client, pa, pb, _part("c", b"", "empty.png")), 400, "empty.png", "empty upload")
    _assert_error(_form(client, pa, _part("b", b"", "")), 400, "empty upload")  # a and b are not optional


# -- 6. health, `defusion serve`'s socket and uvicorn's timeouts ----------------------------
def test_head_healthz_and_readyz(client):
    for path in ("/healthz", "/readyz"):
        r = client.head(path)
        assert r.status_code == 200 and r.content == b""
    assert client.get("/readyz").json() == {"status": "ready", "requests": 0, "waiting": 0,
                                            "max_queue": DEFAULT_MAX_QUEUE}


def _serve_args(*argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    serve_cli.add_arguments(parser)
    return parser.parse_args([str(a) for a in argv])


def test_a_port_in_use_fails_before_loading_and_says_nothing_of_serving(monkeypatch, capsys):
    loaded = []
    monkeypatch.setattr("defusion.serving.api.build_app", lambda *args, **kwargs: loaded.append(1))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UserError, match=f"cannot listen on 127.0.0.1:{port}: .*in use"):
            serve_cli.run(_serve_args("--port", port))
    assert not loaded and "serving on" not in capsys.readouterr().err


def test_serve_binds_then_says_so_and_gives_uvicorn_its_socket_and_timeouts(monkeypatch, capsys, fuser):
    seen = {}

    class FakeServer:
        def __init__(self, config):
            seen["config"] = config

        def run(self, sockets):
            seen["bound"] = [s.getsockname() for s in sockets]
            seen["said"] = capsys.readouterr().err

    def fake_build_app(weights, device, limits, **kwargs):
        seen.update(limits=limits, cors_origins=kwargs["cors_origins"])
        return create_app(fuser, limits)

    monkeypatch.setattr("defusion.serving.api.build_app", fake_build_app)
    monkeypatch.setattr("uvicorn.Server", FakeServer)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert serve_cli.run(_serve_args("--port", port, "--max-queue", 0, "--timeout-graceful-shutdown", 20,
                                     "--cors-origin", "https://app.example.com")) == 0
    assert seen["bound"] == [("127.0.0.1", port)]
    assert f"serving on http://127.0.0.1:{port}" in seen["said"]  # said once bound, before serving
    config = seen["config"]
    assert (config.timeout_keep_alive, config.timeout_graceful_shutdown) == (serve_cli.DEFAULT_TIMEOUT_KEEP_ALIVE_S, 20)
    assert serve_cli.DEFAULT_TIMEOUT_KEEP_ALIVE_S > 60  # above a load balancer's usual idle timeout
    assert seen["limits"].max_queue == 0 and seen["cors_origins"] == ("https://app.example.com",)
    with socket.socket() as again:  # run() closed its socket
        again.bind(("127.0.0.1", port))


# -- 7. pixels from the sources drop the server's palette, as a task does --------------------
def test_a_requests_pixels_from_the_sources_drop_the_servers_palette(fuser, pair):
    a, b = pair
    thermal = create_app(Fuser(fuser.model, fuser.device, options=replace(fuser.options, palette="inferno")))
    runner = thermal.state.runner
    assert runner.options_for(None, pixels="sources").palette == "none"
    assert runner.options_for("mff").palette == "none"
    with pytest.raises(ValueError, match="palette"):
        runner.options_for(None, pixels="sources", palette="jet")
    expected = Fuser(fuser.model, fuser.device, options=replace(fuser.options, pixels="sources", scale=1)).fuse(a, b)
    with TestClient(thermal) as c:
        r = c.post("/v1/fuse?pixels=sources", files=files(encode_png(a), encode_png(b)))
        assert r.status_code == 200, r.text
        np.testing.assert_array_equal(as_image(r.content), expected)
        for query in ("?pixels=sources&palette=jet", "?task=mff&palette=jet"):  # asked for both: still refused
            _assert_error(c.post(f"/v1/fuse{query}", files=files(encode_png(a), encode_png(b))), 422, "palette")


# -- 8. /v1/info: an ONNX model's parameters and metadata, no paths --------------------------
TRAINING_DATA = "ImageNet sample images (1000), ../shared/data/train/natural"


@pytest.fixture(scope="module")
def described_weights(lively_weights, tmp_path_factory):
    """The lively weights with metadata naming folders, and their ONNX export (which carries it)."""
    from defusion.model.weights import load_weights, read_metadata, save_weights
    from defusion.fusion.export import export_onnx

    folder = tmp_path_factory.mktemp("described")
    weights = folder / "described.safetensors"
    model = load_weights(lively_weights)
    save_weights(model, weights, metadata={"steps": "7", "training_data": TRAINING_DATA,
                                           "history": "resumed from /srv/runs/run3/weights.safetensors"})
    onnx = export_onnx(model, folder / "described.onnx", metadata=read_metadata(weights))
    return weights, onnx, sum(p.numel() for p in model.parameters())


def test_info_of_an_onnx_model_has_its_parameters_and_its_weights_metadata_without_paths(described_weights):
    from defusion.fusion.onnx_runtime import load_onnx_fuser

    weights, onnx, parameters = described_weights
    with TestClient(create_app(load_onnx_fuser(onnx, device="cpu"), weights=onnx)) as c:
        info = c.get("/v1/info").json()
    assert info["model"]["runtime"] == "onnxruntime" and info["model"]["name"] == "defusion-tiny"
    assert info["model"]["parameters"] == parameters
    metadata = info["weights"]["metadata"]
    assert metadata["steps"] == "7" and metadata["precision"] == "fp32"
    assert metadata["training_data"] == "ImageNet sample images (1000), natural"
    assert metadata["history"] == "resumed from weights.safetensors"
    assert not {"config", "format", "input_note", "fusion_defaults"} & set(metadata)
    assert info["weights"]["file"] == "described.onnx"


def test_info_never_shows_a_path_from_the_weights_metadata(fuser, described_weights):
    weights, _, _ = described_weights
    with TestClient(create_app(fuser, weights=weights)) as c:
        metadata = c.get("/v1/info").json()["weights"]["metadata"]
    assert metadata["training_data"] == "ImageNet sample images (1000), natural"
    assert not any("/" in value for value in metadata.values()), metadata


# -- 9. CORS, opt-in ---------------------------------------------------------------------------
ORIGIN = "https://app.example.com"


def test_cors_is_off_unless_origins_are_given(client):
    r = client.get("/healthz", headers={"Origin": ORIGIN})
    assert "access-control-allow-origin" not in r.headers


def test_cors_lets_the_given_origins_call_and_read_the_notes_header(fuser, pair):
    a, b = pair
    rgba = np.dstack([a, np.full(a.shape[:2], 128, np.uint8)])  # transparent pixels: a note
    png = cv2.imencode(".png", cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGRA))[1].tobytes()
    with TestClient(create_app(fuser, cors_origins=[ORIGIN])) as c:
        preflight = c.options("/v1/fuse", headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"})
        assert preflight.status_code == 200 and preflight.headers["access-control-allow-origin"] == ORIGIN
        r = c.post("/v1/fuse", files=files(png, encode_png(b)), headers={"Origin": ORIGIN})
        assert r.status_code == 200 and NOTES_HEADER in r.headers
        assert r.headers["access-control-allow-origin"] == ORIGIN
        assert NOTES_HEADER.lower() in r.headers["access-control-expose-headers"].lower()
        other = c.get("/healthz", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


def test_cors_origins_from_the_environment_and_bad_ones_refused():
    from defusion.serving.api import EnvSettingError, settings_from_env

    settings = settings_from_env({"DEFUSION_CORS_ORIGINS": f"{ORIGIN}, http://localhost:3000",
                                  "DEFUSION_MAX_QUEUE": "3"})
    assert settings["cors_origins"] == (ORIGIN, "http://localhost:3000") and settings["limits"].max_queue == 3
    assert settings_from_env({})["cors_origins"] == ()
    with pytest.raises(EnvSettingError, match="DEFUSION_CORS_ORIGINS=.*no path or trailing slash"):
        settings_from_env({"DEFUSION_CORS_ORIGINS": f"{ORIGIN}/"})
    with pytest.raises(SystemExit):
        _serve_args("--cors-origin", "app.example.com")
