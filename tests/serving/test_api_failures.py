"""The server under failures a client or the host causes: a stalled upload (408, its queue place
given back), running out of memory inside PyTorch (503), a request cancelled by shutdown."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
from typing import Awaitable, Callable

import numpy as np
import pytest
from fastapi.testclient import TestClient

from defusion.cli import serve as serve_cli
from defusion.fusion.fuser import Fuser
from defusion.serving import api
from defusion.serving.api import Limits, create_app, encode_png, settings_from_env
from tests.conftest import free_port
from tests.serving.test_api import _assert_error, files


@pytest.fixture(scope="module")
def png() -> bytes:
    return encode_png(np.full((32, 32, 3), 128, np.uint8))


#: The first piece of an upload's body: the start of field a's file.
FIRST_PIECE = b'--xx\r\nContent-Disposition: form-data; name="a"; filename="a.png"\r\n\r\n'


def _scope(body_length: int) -> dict:
    return {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
            "path": "/v1/fuse", "raw_path": b"/v1/fuse", "query_string": b"", "root_path": "",
            "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000),
            "headers": [(b"host", b"test"), (b"content-type", b"multipart/form-data; boundary=xx"),
                        (b"content-length", str(body_length).encode())]}


async def call_upload(app, rest: Callable[[], Awaitable[dict]], started: asyncio.Event | None = None
                      ) -> tuple[int, bytes, dict[str, str]]:
    """POST /v1/fuse straight to the ASGI ``app``: the body's first piece comes at once (``started`` set
    then), every later one as ``rest`` gives it. The answer's status, body and headers."""
    pieces = [{"type": "http.request", "body": FIRST_PIECE, "more_body": True}]
    sent: list[dict] = []

    async def receive() -> dict:
        if pieces:
            if started is not None:
                started.set()
            return pieces.pop(0)
        return await rest()

    async def send(message: dict) -> None:
        sent.append(message)

    await app(_scope(100_000), receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    headers = {name.decode().lower(): value.decode() for name, value in start.get("headers", [])}
    return start["status"], b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"), headers


async def _call_stalled(app, started: asyncio.Event) -> tuple[int, bytes, dict[str, str]]:
    """POST /v1/fuse with a body whose first piece comes and then nothing more (the connection stays)."""
    async def stall() -> dict:
        await asyncio.Event().wait()  # the client stalls: neither data nor a disconnect
        raise AssertionError("unreachable")

    return await call_upload(app, stall, started)


# -- 1. a stalled upload ----------------------------------------------------------------------
def test_a_stalled_upload_is_a_408_and_gives_its_queue_place_back(fuser, png):
    """With max_queue=0, one stalled upload holds the only place: others are 503 until it times out."""
    import httpx

    app = create_app(fuser, Limits(max_queue=0, upload_timeout_s=0.5))
    runner = app.state.runner

    async def scenario():
        started = asyncio.Event()
        stalled = asyncio.create_task(_call_stalled(app, started))
        await asyncio.wait_for(started.wait(), 10)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as c:
            meanwhile = await c.post("/v1/fuse", files=files(png, png))
            busy = await c.get("/readyz")
            status, body, headers = await asyncio.wait_for(stalled, 10)
            ready = await c.get("/readyz")
            after = await c.post("/v1/fuse", files=files(png, png))
        return meanwhile, busy, status, body, headers, ready, after

    meanwhile, busy, status, body, headers, ready, after = asyncio.run(scenario())
    assert meanwhile.status_code == 503 and busy.status_code == 503  # the stall held the place...
    assert status == 408
    # the audit: without it the stalled client kept its socket for the keep-alive time (75 s)
    assert headers.get("connection") == "close", headers
    detail = json.loads(body)["detail"]
    assert "stalled" in detail and "0.5 s" in detail and "--upload-timeout" in detail
    assert runner.active == 0  # ...and gave it back
    assert ready.status_code == 200 and after.status_code == 200


def test_the_upload_timeout_option_and_variable(fuser):
    parser = argparse.ArgumentParser()
    serve_cli.add_arguments(parser)
    assert parser.parse_args([]).upload_timeout == api.UPLOAD_IDLE_TIMEOUT_S
    assert Limits().upload_timeout_s == api.UPLOAD_IDLE_TIMEOUT_S
    assert parser.parse_args(["--upload-timeout", "2.5"]).upload_timeout == 2.5
    for bad in ("0", "-1", "inf", "soon"):
        with pytest.raises(SystemExit):
            parser.parse_args(["--upload-timeout", bad])
    assert settings_from_env({"DEFUSION_UPLOAD_TIMEOUT": "7"})["limits"].upload_timeout_s == 7
    with pytest.raises(api.EnvSettingError, match="DEFUSION_UPLOAD_TIMEOUT"):
        settings_from_env({"DEFUSION_UPLOAD_TIMEOUT": "0"})
    with pytest.raises(ValueError):
        Limits(upload_timeout_s=0)


# -- 3. out of memory inside PyTorch ----------------------------------------------------------
@pytest.mark.parametrize("error", [
    RuntimeError("[enforce fail at alloc_cpu.cpp:117] data. DefaultCPUAllocator: can't allocate memory: you tried "
                 "to allocate 21233664000 bytes. Error code 12 (Cannot allocate memory)"),
    RuntimeError("CUDA out of memory. Tried to allocate 20.00 GiB"),
    "torch.OutOfMemoryError",
])
def test_pytorchs_out_of_memory_is_a_503_not_a_500(fuser, png, caplog, error):
    import torch

    if error == "torch.OutOfMemoryError":
        error = torch.OutOfMemoryError("allocation failed")
    calls = []

    class Starved(Fuser):
        def fuse(self, *images, **kwargs):
            calls.append(1)
            if len(calls) == 1:
                raise error
            return super().fuse(*images, **kwargs)

    with TestClient(create_app(Starved(fuser.model, fuser.device, options=fuser.options))) as c:
        with caplog.at_level("INFO", logger="defusion.serving"):
            r = c.post("/v1/fuse", files=files(png, png))
        _assert_error(r, 503, "ran out of memory")
        errors = [rec for rec in caplog.records if rec.name == "defusion.serving" and rec.levelno == logging.ERROR]
        assert len(errors) == 1 and str(error).split(".")[0] in errors[0].getMessage()
        assert c.post("/v1/fuse", files=files(png, png)).status_code == 200  # the model is free after


def test_other_runtime_errors_stay_500s(fuser, png):
    class Broken(Fuser):
        def fuse(self, *images, **kwargs):
            raise RuntimeError("a bug")

    with TestClient(create_app(Broken(fuser.model, fuser.device, options=fuser.options)),
                    raise_server_exceptions=False) as c:
        _assert_error(c.post("/v1/fuse", files=files(png, png)), 500, "internal server error")


# -- 5. defusion serve's sockets ----------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", "localhost", "::"])
def test_bind_listens_at_once_on_every_address_and_a_second_bind_of_the_port_fails(host):
    import socket

    from defusion.cli.errors import UserError

    if host == "::" and not socket.has_ipv6:
        pytest.skip("no IPv6")
    port = free_port()
    try:
        sockets = serve_cli.bind(host, port)
    except UserError as exc:
        if ":" in host or "Cannot assign" in str(exc):
            pytest.skip(f"this machine cannot listen on {host}: {exc}")
        raise
    try:
        found = {info[0] for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                         flags=socket.AI_PASSIVE)}
        assert {s.family for s in sockets} == found & {socket.AF_INET, socket.AF_INET6}
        for sock in sockets:
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)  # listening, before any model loads
        target = "::1" if sockets[0].family == socket.AF_INET6 else "127.0.0.1"
        with socket.create_connection((target, port), timeout=5):  # waits in the backlog meanwhile
            pass
        with pytest.raises(UserError, match=f"cannot listen on .*:{port}: .*in use"):
            serve_cli.bind(host, port)  # a second server on the port fails at once, before loading
    finally:
        for sock in sockets:
            sock.close()


def test_an_unknown_host_is_one_line():
    from defusion.cli.errors import UserError

    with pytest.raises(UserError, match="cannot listen on no-such-host.invalid:8000"):
        serve_cli.bind("no-such-host.invalid", 8000)


def test_a_failure_inside_uvicorn_is_one_line_not_a_traceback(monkeypatch, fuser):
    import errno

    from defusion.cli.errors import UserError

    class FailingServer:
        def __init__(self, config):
            pass

        def run(self, sockets):
            raise OSError(errno.EADDRINUSE, "Address already in use")

    monkeypatch.setattr("defusion.serving.api.build_app", lambda weights, device, limits, **kw: create_app(fuser, limits))
    monkeypatch.setattr("uvicorn.Server", FailingServer)
    parser = argparse.ArgumentParser()
    serve_cli.add_arguments(parser)
    port = free_port()
    with pytest.raises(UserError, match=f"serving on 127.0.0.1:{port} failed: Address already in use"):
        serve_cli.run(parser.parse_args(["--port", str(port)]))
    serve_cli.bind("127.0.0.1", port)[0].close()  # its sockets were closed


# -- 6. a request cancelled by the server's shutdown ----------------------------------------------
def test_a_request_cancelled_by_shutdown_is_a_json_503_logged_in_one_line_and_stays_cancelled(fuser, png, caplog):
    """uvicorn's --timeout-graceful-shutdown cancels the request's task: it once got uvicorn's
    plain-text 500. The cancellation still goes on (uvicorn's shutdown proceeds) and the fusion
    is told to stop after its network pass."""
    import threading

    entered, release, asked = threading.Event(), threading.Event(), []

    class Slow(Fuser):
        def fuse(self, *images, on_tile=None, **kwargs):
            entered.set()
            release.wait(10)
            asked.append(on_tile is not None and _stops(on_tile))
            return super().fuse(*images, **kwargs)

    def _stops(on_tile) -> bool:
        try:
            on_tile()
        except Exception:
            return True
        return False

    app = create_app(Slow(fuser.model, fuser.device, options=fuser.options))
    boundary = b"xx"
    body = b"".join(b'--xx\r\nContent-Disposition: form-data; name="%s"; filename="%s.png"\r\n'
                    b"Content-Type: image/png\r\n\r\n%s\r\n" % (f.encode(), f.encode(), png) for f in ("a", "b"))
    body += b"--xx--\r\n"
    scope = _scope(len(body))
    scope["headers"][1] = (b"content-type", b"multipart/form-data; boundary=" + boundary)
    sent: list[dict] = []

    async def scenario():
        pieces = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive():
            if pieces:
                return pieces.pop(0)
            await asyncio.Event().wait()  # still connected

        async def send(message):
            sent.append(message)

        task = asyncio.create_task(app(scope, receive, send))
        await asyncio.to_thread(entered.wait, 10)
        task.cancel("Task cancelled, timeout graceful shutdown exceeded")
        with pytest.raises(asyncio.CancelledError):
            await task
        release.set()
        for _ in range(200):  # the worker thread finishes its pass
            if asked:
                break
            await asyncio.sleep(0.02)

    with caplog.at_level("INFO", logger="defusion.serving"):
        asyncio.run(scenario())
    start = next(m for m in sent if m["type"] == "http.response.start")
    assert start["status"] == 503 and (b"connection", b"close") in start["headers"]
    detail = json.loads(b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"))["detail"]
    assert "shutting down" in detail
    lines = [r.getMessage() for r in caplog.records if r.name == "defusion.serving" and r.levelno == logging.WARNING]
    assert len(lines) == 1 and "cancelled by the server's shutdown" in lines[0]
    assert asked == [True]  # the fusion was told to stop


# -- 7. every 4xx is logged at debug ---------------------------------------------------------------
def test_404_and_405_are_logged_at_debug_like_other_refusals(fuser, caplog):
    with TestClient(create_app(fuser)) as c, caplog.at_level("DEBUG", logger="defusion.serving"):
        assert c.get("/v2/fuse").status_code == 404
        assert c.get("/v1/fuse").status_code == 405
    lines = [r.getMessage() for r in caplog.records if r.name == "defusion.serving" and r.levelno == logging.DEBUG]
    assert any("GET /v2/fuse: 404" in line for line in lines), lines
    assert any("GET /v1/fuse: 405" in line for line in lines), lines


def test_the_load_test_counts_a_full_queue_apart_from_errors(fuser):
    import httpx

    from benchmarks.serve_load import run_load
    from tests.serving.test_api_isolation import _held_app

    held = _held_app(fuser, Limits(max_queue=0))
    png_ = encode_png(np.full((16, 16, 3), 100, np.uint8))

    async def scenario():
        transport = httpx.ASGITransport(app=held.app)
        real = httpx.AsyncClient

        class Client(real):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, transport=transport, **{k: v for k, v in kwargs.items() if k != "limits"})

        import benchmarks.serve_load as load
        load.httpx.AsyncClient, original = Client, load.httpx.AsyncClient
        try:
            task = asyncio.create_task(run_load("http://test", png_, png_, clients=2, requests=6, max_seconds=20))
            await asyncio.to_thread(held.entered.wait, 10)
            await asyncio.sleep(0.3)
            held.release.set()
            return await task
        finally:
            load.httpx.AsyncClient = original

    result = asyncio.run(scenario())
    assert result["busy"] >= 1 and not result["errors"] and result["ok"] + result["busy"] == 6
