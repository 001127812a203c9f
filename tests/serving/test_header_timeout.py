"""A security audit: a client that sent ``POST /v1/fuse HTTP/1.1\\r\\nHost: x\\r\\n`` and then nothing kept its
connection open for good (over 150 s): uvicorn times out idle kept-alive connections only, and the upload
timeouts start once the headers are in. `defusion serve` now gives uvicorn a protocol that closes a
connection whose request line and headers take over --header-timeout (a 408 where some came), from the
connection's start or from a kept-alive connection's next request's first byte."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import threading
import time
from typing import Any, Iterator

import pytest

uvicorn = pytest.importorskip("uvicorn")

from defusion.serving.header_timeout import HeaderDeadline, header_timeout_protocol  # noqa: E402
from defusion.serving.limits import HEADER_TIMEOUT_S  # noqa: E402
from tests.conftest import free_port  # noqa: E402

#: The header timeout of the servers here: short, so that the tests are; the waits are sized from it.
TIMEOUT_S = 0.5
#: Seconds a test waits for what should happen within TIMEOUT_S (a slow, shared machine).
SLACK_S = 10
#: Seconds the test app takes to answer ``/slow``: past TIMEOUT_S, which bounds the headers only.
SLOW_S = 3 * TIMEOUT_S
REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
PARTIAL = b"POST /v1/fuse HTTP/1.1\r\nHost: x\r\n"  # the audit's: its headers never end


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """A plain ASGI app: ``ok``, after SLOW_S on ``/slow``."""
    if scope["path"] == "/slow":
        await asyncio.sleep(SLOW_S)
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"2")]})
    await send({"type": "http.response.body", "body": b"ok"})


def _protocols() -> list[Any]:
    """uvicorn's HTTP protocols the timeout is made for: h11's, and httptools' where installed."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    found = [pytest.param(H11Protocol, id="h11")]
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        found.append(pytest.param(None, id="httptools", marks=pytest.mark.skip(reason="httptools not installed")))
    else:
        found.append(pytest.param(HttpToolsProtocol, id="httptools"))
    return found


@pytest.fixture(params=_protocols())
def port(request) -> Iterator[int]:
    """A uvicorn server of :func:`_app` on a free port, with the header timeout on ``request.param``'s protocol."""
    with serving(header_timeout_protocol(TIMEOUT_S, request.param)) as served:
        yield served


@contextlib.contextmanager
def serving(protocol: type[asyncio.Protocol], app: Any = _app, lifespan: str = "off") -> Iterator[int]:
    """A uvicorn server of ``app`` on ``protocol`` in a thread, on a free port (yielded), stopped after."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, http=protocol, lifespan=lifespan, log_config=None,
                            timeout_keep_alive=SLACK_S)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + SLACK_S
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "the test server did not start"
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(SLACK_S)


def _connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=SLACK_S)
    return sock


def _read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """What the server sends until it closes the connection, and the seconds that took."""
    start, out = time.monotonic(), b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            return out, time.monotonic() - start
        out += chunk


def _read_answer(sock: socket.socket) -> bytes:
    """One answer of :func:`_app` (its 2-byte body) on a connection kept open."""
    out = b""
    while not out.endswith(b"\r\n\r\nok"):
        chunk = sock.recv(65536)
        assert chunk, f"closed before an answer; got {out!r}"
        out += chunk
    return out


def test_headers_that_never_end_are_answered_408_and_closed(port, caplog):
    caplog.set_level(logging.INFO, logger="defusion.serving")
    with _connect(port) as sock:
        sock.sendall(PARTIAL)
        answer, took = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 Request Timeout\r\n"), answer
    head, _, body = answer.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower()
    assert "--header-timeout" in json.loads(body)["detail"]
    assert took < SLACK_S
    lines = [r.getMessage() for r in caplog.records if r.name == "defusion.serving"]
    assert len(lines) == 1 and "answered 408" in lines[0] and "127.0.0.1:" in lines[0], lines


def test_a_connection_that_sends_nothing_is_closed_without_an_answer(port):
    with _connect(port) as sock:
        answer, took = _read_until_closed(sock)
    assert answer == b"" and took < SLACK_S


def test_the_bound_spares_headers_in_time_a_slow_app_and_keep_alive_but_times_the_next_requests_headers(port):
    with _connect(port) as sock:
        for piece in (b"GET /slow HTTP/1.1\r\n", b"Host: 127.0.0.1\r\n", b"\r\n"):  # in pieces, within the bound
            sock.sendall(piece)
            time.sleep(TIMEOUT_S / 5)
        assert _read_answer(sock).startswith(b"HTTP/1.1 200 ")  # the app took SLOW_S, past the bound: answered
        sock.sendall(b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n")
        assert _read_answer(sock).startswith(b"HTTP/1.1 200 ")  # answered before its body came
        for piece in (b"x", b"y"):  # a body past the bound: not the headers' to bound
            time.sleep(TIMEOUT_S)
            sock.sendall(piece)
        time.sleep(3 * TIMEOUT_S)  # idle between requests: keep-alive's to bound, not the header timeout
        sock.sendall(REQUEST)
        assert _read_answer(sock).startswith(b"HTTP/1.1 200 ")
        sock.sendall(PARTIAL)  # the next request's headers never end
        answer, took = _read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 ") and took < SLACK_S


def test_defusion_serve_gives_uvicorn_the_header_timeout(uvicorn_config, capsys):
    for argv, expected in (((), HEADER_TIMEOUT_S), (("--header-timeout", "7.5"), 7.5)):
        status, config = uvicorn_config(*argv)
        assert status == 0 and issubclass(config.http, HeaderDeadline) and config.http.header_timeout_s == expected
    with pytest.raises(SystemExit):
        uvicorn_config("--header-timeout", "0")
    assert "--header-timeout: must be above 0, got 0" in capsys.readouterr().err
