"""The web UI's guard against DNS rebinding and cross-site WebSockets: ASGI middleware ahead of Streamlit.

A UI on 127.0.0.1 is otherwise open to any web page whose name its author points at 127.0.0.1: the
visitor's browser loads that page's requests, the UI's WebSocket included, with that name in Host,
so the page could drive fusions of files of its choosing. Streamlit's own ``server.allowedHosts``
checks the WebSocket only; :class:`HostGuard` checks every request, the way ``defusion serve``'s
HostCheck does. It also refuses a WebSocket opened by another origin before Streamlit sees it:
Streamlit refuses those too, but only after asking checkip.amazonaws.com for this machine's
address (an outbound call an offline site does not expect).

``defusion ui`` passes the names in :data:`ENV_ALLOWED_HOSTS`; ``ui_server.py`` reads them. No
Streamlit import here: the rules are tested without a server.
"""

from __future__ import annotations

import os
import sys
from typing import Any, Callable, Mapping, Sequence
from urllib.parse import urlsplit

from defusion.serving import is_loopback
from defusion.serving.errors import NAME_CHARS_QUOTED, host_name, normal_host

#: Environment variable ``defusion ui`` sets: comma-separated host names the UI answers to besides
#: loopback ones; set but empty, loopback ones only; unset, any Host (a UI on 0.0.0.0).
ENV_ALLOWED_HOSTS = "DEFUSION_UI_ALLOWED_HOSTS"
#: Status of a refused page request (as ``defusion serve``'s Host check answers).
BAD_REQUEST = 400
#: WebSocket close code sent before accepting, which uvicorn answers as HTTP 403 (RFC 6455 1008:
#: policy violation).
POLICY_VIOLATION = 1008


def allowed_from_env(env: Mapping[str, str] | None = None) -> tuple[str, ...] | None:
    """The names in :data:`ENV_ALLOWED_HOSTS` of ``env`` (default: this process's environment);
    None where it is unset (no Host check).

    Example:
        >>> allowed_from_env({ENV_ALLOWED_HOSTS: "a.example, B.example"}), allowed_from_env({})
        (('a.example', 'b.example'), None)
    """
    env = os.environ if env is None else env
    raw = env.get(ENV_ALLOWED_HOSTS)
    if raw is None:
        return None
    return tuple(normal_host(name.strip()) for name in raw.split(",") if name.strip())


def host_refusal(host: str | None, allowed: Sequence[str] | None) -> str | None:
    """Why a request with this Host header is refused (one line), or None where it is answered:
    any Host when ``allowed`` is None, else loopback names and ``allowed`` only, whatever the port.

    Example:
        >>> host_refusal("127.0.0.1:8501", ()), host_refusal("evil.example:8501", None)
        (None, None)
        >>> host_refusal("evil.example:8501", ("lab.example",))[:40]
        "Host 'evil.example:8501': this web UI an"
    """
    if allowed is None:
        return None
    name = host_name(host or "")
    if name and (is_loopback(name) or name in allowed):
        return None
    sent = f"Host {host[:NAME_CHARS_QUOTED]!r}" if host else "no Host header"
    named = name if name and len(name) <= NAME_CHARS_QUOTED else "NAME"
    return (f"{sent}: this web UI answers only to localhost, 127.0.0.1, ::1{''.join(', ' + n for n in allowed)} "
            f"(a guard against DNS rebinding); to reach it as {named}, start it with --allowed-host {named}")


#: The port a URL scheme implies where its Origin or Host names none.
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}


def cross_origin(origin: str | None, host: str | None, allowed: Sequence[str] | None = None) -> bool:
    """True for a WebSocket opened by a page of another origin than the UI's own: ``Origin``'s host and
    port are not ``Host``'s (a port left out is the scheme's default), and its host is not one of
    ``allowed`` (``--allowed-host``: the name a reverse proxy serves the UI under, whose ``Host`` it
    may rewrite to 127.0.0.1:8501). No Origin (a client other than a browser) is not cross-origin.

    Example:
        >>> cross_origin("http://127.0.0.1:8501", "127.0.0.1:8501"), cross_origin(None, "127.0.0.1:8501")
        (False, False)
        >>> cross_origin("http://evil.example", "127.0.0.1:8501"), cross_origin("http://lab.example", "lab.example:80")
        (True, False)
        >>> cross_origin("https://ui.example.com", "127.0.0.1:8501", allowed=("ui.example.com",))
        False
    """
    if origin is None:
        return False
    try:
        parts = urlsplit(origin)
        origin_port = parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return True
    origin_name = host_name(parts.netloc) if parts.netloc else None
    if origin_name is None:
        return True  # "null" (a sandboxed page, a file) or garbage: no page of the UI's
    if origin_name in (allowed or ()):
        return False
    try:
        host_parts = urlsplit(f"//{host or ''}")
        host_port = host_parts.port or _DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        return True
    return origin_name != host_name(host or "") or origin_port != host_port


def _header(scope: Mapping[str, Any], name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


class HostGuard:
    """ASGI middleware: a page request with a foreign Host (see :func:`host_refusal`) is answered 400
    in one line of text; a WebSocket with a foreign Host or from another origin is refused (403)."""

    def __init__(self, app: Any, allowed: Sequence[str] | None = None) -> None:
        self.app = app
        self.allowed = None if allowed is None else tuple(normal_host(name) for name in allowed if name)

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        kind = scope.get("type")
        if kind in ("http", "websocket"):
            host = _header(scope, b"host")
            refusal = host_refusal(host, self.allowed)
            if kind == "http" and refusal:
                await _answer_400(send, refusal)
                return
            origin = _header(scope, b"origin")
            if kind == "websocket" and (refusal or cross_origin(origin, host, self.allowed)):
                _say_refused(refusal or f"a WebSocket from a page of {origin[:NAME_CHARS_QUOTED]!r} (Host "
                             f"{(host or '')[:NAME_CHARS_QUOTED]!r}), another origin than the UI's: if that page "
                             "is the UI behind a reverse proxy, start it with --allowed-host NAME, the proxy's name")
                await send({"type": "websocket.close", "code": POLICY_VIOLATION})
                return
        await self.app(scope, receive, send)


def _say_refused(why: str) -> None:
    """One line in the UI's log for a refused WebSocket: the page itself only hangs on "connecting"."""
    print(f"defusion: refused {why}", file=sys.stderr, flush=True)


async def _answer_400(send: Callable, text: str) -> None:
    body = (text + "\n").encode("utf-8")
    await send({"type": "http.response.start", "status": BAD_REQUEST,
                "headers": [(b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode("ascii"))]})
    await send({"type": "http.response.body", "body": body})


__all__ = ["ENV_ALLOWED_HOSTS", "HostGuard", "allowed_from_env", "host_refusal", "cross_origin"]
