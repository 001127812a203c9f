"""A bound on the time a request's line and headers take to arrive, on uvicorn's HTTP protocols.

uvicorn times out an idle kept-alive connection only, and the app sees a request only once its headers
are in: without this, a client that sent half a request line kept its connection (and a file
descriptor) forever. ``defusion serve --header-timeout`` runs uvicorn with
:func:`header_timeout_protocol`; under ``uvicorn --factory`` the app cannot choose uvicorn's protocol,
and a reverse proxy in front must bound it (nginx: ``client_header_timeout``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from defusion.serving.limits import HEADER_TIMEOUT_S

_log = logging.getLogger("defusion.serving")


class HeaderDeadline:
    """A mixin for uvicorn's HTTP protocols (h11's, httptools'): a connection whose request line and
    headers have not all come :attr:`header_timeout_s` seconds after it opened, or, kept alive, after
    its next request's first byte, is closed, answered 408 where some of them came, and logged in one
    line. uvicorn times out an idle kept-alive connection only, and the app sees a request only once
    its headers are in: without this, a client that sent half a request line kept its connection
    (and a file descriptor) forever. Made by :func:`header_timeout_protocol`."""

    header_timeout_s: float = HEADER_TIMEOUT_S
    transport: asyncio.Transport
    client: tuple[str, int] | None
    cycle: Any
    _header_timer: asyncio.TimerHandle | None = None
    _header_bytes = False  # whether some bytes of the awaited request came (a 408), or none (closed silently)
    _header_since = "connecting"
    _headers_pending = False  # httptools: a request's first byte parsed, its headers' end not yet
    _request_open = False  # httptools: a request's headers parsed, its body's end not yet

    def connection_made(self, transport: asyncio.Transport) -> None:  # a new connection: its first request's time
        super().connection_made(transport)  # type: ignore[misc]
        self._arm_header_timer("connecting")

    def data_received(self, data: bytes) -> None:
        super().data_received(data)  # type: ignore[misc]
        self._follow_headers(came=self._partial_request())

    def on_response_complete(self) -> None:  # a pipelined request's part may wait in the buffer
        super().on_response_complete()  # type: ignore[misc]
        self._follow_headers(came=self._partial_request())

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)  # type: ignore[misc]

    def on_message_begin(self) -> None:  # httptools' parser's callbacks (h11 has none)
        self._headers_pending = True
        super().on_message_begin()  # type: ignore[misc]

    def on_headers_complete(self) -> None:
        self._headers_pending, self._request_open = False, True
        super().on_headers_complete()  # type: ignore[misc]

    def on_message_complete(self) -> None:
        self._request_open = False
        super().on_message_complete()  # type: ignore[misc]

    def _follow_headers(self, came: bool) -> None:
        """The timer stopped once the awaited request's headers are in; started where they are not
        and some of its bytes ``came`` (the next request on a kept-alive connection)."""
        if self.transport.is_closing() or not self._awaiting_headers():
            self._cancel_header_timer()
        elif came:
            if self._header_timer is None:
                self._arm_header_timer("its first byte")
            self._header_bytes = True

    def _awaiting_headers(self) -> bool:
        """Whether the connection waits for a request's line and headers (none being read or answered)."""
        conn = getattr(self, "conn", None)
        if conn is not None:  # h11: the client's side is IDLE until a request's headers are parsed
            import h11

            return conn.their_state is h11.IDLE
        cycle = self.cycle  # httptools: between a request's body's end (its answer sent) and the next headers
        return not self._request_open and (cycle is None or cycle.response_complete)

    def _partial_request(self) -> bool:
        """Whether bytes of a request whose headers are not complete have come: h11 keeps them in its
        buffer; httptools' parser has begun a message."""
        conn = getattr(self, "conn", None)
        return bool(conn.trailing_data[0]) if conn is not None else self._headers_pending

    def _arm_header_timer(self, since: str) -> None:
        self._cancel_header_timer()
        self._header_since, self._header_bytes = since, False
        self._header_timer = asyncio.get_running_loop().call_later(self.header_timeout_s, self._headers_timed_out)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_timed_out(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or not self._awaiting_headers():
            return
        client = "%s:%d" % self.client if self.client else "-"
        if self._header_bytes:
            _log.warning("%s - a request's line and headers did not all come within %g s of %s (--header-timeout): "
                         "answered 408 and closed", client, self.header_timeout_s, self._header_since)
            self.transport.write(header_timeout_answer(self.header_timeout_s))
        else:
            _log.info("%s - sent no request within %g s of connecting (--header-timeout): closed", client,
                      self.header_timeout_s)
        self.transport.close()


def header_timeout_answer(seconds: float) -> bytes:
    r"""The 408 a connection whose headers took over ``seconds`` gets before it is closed: the API's
    error body, written raw (the HTTP library has no request to answer yet).

    Example:
        >>> head, _, body = header_timeout_answer(20).partition(b"\r\n\r\n")
        >>> print(head.splitlines()[0].decode(), json.loads(body)["detail"], sep="\n")
        HTTP/1.1 408 Request Timeout
        the request's line and headers did not all come within 20 s (the server's --header-timeout); send them at once
    """
    body = json.dumps({"detail": f"the request's line and headers did not all come within {seconds:g} s (the "
                                 "server's --header-timeout); send them at once"}).encode("ascii")
    return (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
            b"content-length: " + str(len(body)).encode("ascii") + b"\r\n\r\n" + body)


def header_timeout_protocol(seconds: float, base: type[asyncio.Protocol] | None = None) -> type[asyncio.Protocol]:
    """uvicorn's HTTP protocol ``base`` (default: the one uvicorn picks, httptools' where installed,
    else h11's) with :class:`HeaderDeadline`'s bound of ``seconds``: uvicorn's ``http`` setting.

    Example:
        >>> protocol = header_timeout_protocol(12.5)
        >>> protocol.header_timeout_s, issubclass(protocol, HeaderDeadline)
        (12.5, True)
    """
    if base is None:
        from uvicorn.protocols.http.auto import AutoHTTPProtocol

        base = AutoHTTPProtocol
    return type(f"HeaderTimeout{base.__name__}", (HeaderDeadline, base), {"header_timeout_s": seconds})


__all__ = ["HeaderDeadline", "header_timeout_answer", "header_timeout_protocol"]
