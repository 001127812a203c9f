"""The UI's WebSocket origin check behind a reverse proxy (a review: a proxy's page was refused with a
bare 403 and the UI hung on "connecting"), while a foreign page is still refused, said in the log."""

from __future__ import annotations

import asyncio

import pytest

from defusion.ui.host_guard import HostGuard, cross_origin


@pytest.mark.parametrize("origin, host, allowed, refused", [
    ("https://ui.example.com", "127.0.0.1:8501", ("ui.example.com",), False),  # nginx proxy_pass, Host rewritten
    ("https://ui.example.com", "127.0.0.1:8501", (), True),  # not named: a foreign page for all the UI knows
    ("http://lab.example", "lab.example:80", None, False),  # a default port left out of one of them
    ("https://lab.example", "lab.example:443", None, False),
    ("http://lab.example:8080", "lab.example", None, True),  # another port is another origin
    ("http://evil.example", "127.0.0.1:8501", None, True),
    ("null", "127.0.0.1:8501", None, True),
])
def test_origins(origin, host, allowed, refused):
    assert cross_origin(origin, host, allowed) is refused


def _websocket(guard: HostGuard, host: str, origin: str) -> list[dict]:
    sent: list[dict] = []
    scope = {"type": "websocket", "headers": [(b"host", host.encode()), (b"origin", origin.encode())]}

    async def app(scope, receive, send):
        await send({"type": "websocket.accept"})

    async def send(message):
        sent.append(message)

    guard.app = app
    asyncio.run(guard(scope, None, send))
    return sent


def test_a_proxy_named_with_allowed_host_gets_its_websocket_and_a_foreign_page_is_refused_in_the_log(capsys):
    guard = HostGuard(None, allowed=("ui.example.com",))
    assert _websocket(guard, "127.0.0.1:8501", "https://ui.example.com") == [{"type": "websocket.accept"}]
    assert _websocket(guard, "127.0.0.1:8501", "https://evil.example")[0]["type"] == "websocket.close"
    err = capsys.readouterr().err
    assert "defusion: refused a WebSocket from a page of 'https://evil.example'" in err and "--allowed-host" in err
