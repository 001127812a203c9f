"""How the API refuses a request: :class:`ApiError` (a status and a one-line detail), the
statuses it uses, and the checks that raise it."""

from __future__ import annotations

import ipaddress
import re
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Callable, Collection, Iterable, Sequence

from defusion.serving import is_loopback
from defusion.serving.limits import FIELDS

if TYPE_CHECKING:  # an annotation only: importing ApiError loads no torch
    from defusion.fusion.options import FuseOptions

#: The status of a server that cannot serve a request now (busy, out of memory, storage failing).
SERVICE_UNAVAILABLE = 503
#: The status logged for a request whose client left before its answer (nginx's "client closed
#: request"): nothing is sent, so no client ever reads it.
CLIENT_CLOSED_REQUEST = 499


#: Headers of an answer after which the connection is closed: a client that stalled its upload does
#: not keep its socket for the keep-alive time (uvicorn's 75 s) beyond --upload-timeout.
CLOSE_CONNECTION = {"Connection": "close"}
#: The most unknown names a refusal quotes: a request with thousands of them is answered in one short line.
NAMES_QUOTED = 5
#: The most characters of one name a refusal quotes.
NAME_CHARS_QUOTED = 64


class ApiError(Exception):
    """An error answered as ``{"detail": message}`` with ``status`` (and ``headers``, where given)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = int(status)  # an HTTPStatus member as the plain number it is
        self.detail = detail
        self.headers = headers


class ClientGone(Exception):
    """The client disconnected; ``str(exc)`` says when. Nothing is answered (no one is listening)."""


def options_or_422(make: Callable[..., FuseOptions], *args: Any, **kwargs: Any) -> FuseOptions:
    """``make(*args, **kwargs)``, FuseOptions' refusal of a combination (a palette with
    pixels=sources) answered as a 422."""
    try:
        return make(*args, **kwargs)
    except ValueError as exc:
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc)) from None


def refuse_unknown(what: str, names: Iterable[str], accepted: tuple[str, ...], taken: str | None = None) -> None:
    """A 422 naming the ``names`` not in ``accepted`` (and what is, or ``taken``): a misspelt option or
    field would otherwise be ignored, and the request answered as if it had not been sent."""
    unknown = list(dict.fromkeys(name for name in names if name not in accepted))
    if unknown:
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                       f"unknown {what}{'s' if len(unknown) > 1 else ''} {_some(unknown)}; POST /v1/fuse takes "
                       f"{taken or what + 's ' + ', '.join(accepted)}")


def _some(names: Sequence[str], most: int = NAMES_QUOTED) -> str:
    """The first ``most`` of ``names``, quoted, and how many more there are.

    Example:
        >>> _some(["a", "b", "c"], 2)
        "'a', 'b' and 1 more"
    """
    quoted = ", ".join(_quoted(name) for name in names[:most])
    return f"{quoted} and {len(names) - most} more" if len(names) > most else quoted


def _quoted(name: str) -> str:
    """``name`` quoted, cut to :data:`NAME_CHARS_QUOTED` characters (with "...") where longer."""
    return repr(name if len(name) <= NAME_CHARS_QUOTED else name[:NAME_CHARS_QUOTED - 3] + "...")


def refuse_repeated(what: str, names: Sequence[str]) -> None:
    """A 422 for the first name sent more than once: which value was meant cannot be known, and
    taking one would silently drop the other."""
    repeated = [name for name in dict.fromkeys(names) if names.count(name) > 1]
    if repeated:
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                       f"{what} {_quoted(repeated[0])} sent {names.count(repeated[0])} times; send each once")


def name_fields(message: str, fields: Sequence[str] = FIELDS) -> str:
    """A fusion core's ``message`` with each image it names by place ("image 2") named by its upload
    field ("field 'b'"), as every other refusal of the API names them.

    Example:
        >>> name_fields("cannot register image 2 to image 1 (affine): too little structure")
        "cannot register field 'b' to field 'a' (affine): too little structure"
    """
    from defusion.io.notes import name_places

    return name_places(message, [f"field {name!r}" for name in fields])


#: A Host header: a name or IPv4 address, or an IPv6 address in brackets, each with an optional port.
_HOST_HEADER = re.compile(r"\[([0-9A-Fa-f:.]+)\](?::\d{1,5})?|([^\s:\[\]/@]+)(?::\d{1,5})?")


def host_name(header: str) -> str | None:
    """The host a Host header names, lower case, without port, brackets or final dot (None if it names none).

    Example:
        >>> host_name("LocalHost:8000"), host_name("[::1]:8000"), host_name("a b")
        ('localhost', '::1', None)
    """
    match = _HOST_HEADER.fullmatch(header)
    return normal_host(match.group(1) or match.group(2)) if match else None


def normal_host(name: str) -> str:
    """A host name or address as Host headers and ``--allowed-host`` are compared: lower case, no
    brackets or final dot, an IP address in its canonical form (``2001:DB8::0:1`` as ``2001:db8::1``).

    Example:
        >>> normal_host("[2001:DB8:0::1]"), normal_host("API.example.com.")
        ('2001:db8::1', 'api.example.com')
    """
    name = name.strip("[]").lower().rstrip(".")
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name


def check_host(header: str | None, allowed: Collection[str]) -> None:
    """A 400 for a request whose Host header names neither a loopback host (localhost, 127.0.0.1, ::1)
    nor one of ``allowed`` (lower case, as :func:`host_name` gives them): a web page whose own name
    resolves to this server (DNS rebinding) gets no answer from it through its visitors' browsers."""
    name = host_name(header or "")
    if name and (is_loopback(name) or name in allowed):
        return
    sent = f"Host {_quoted(header)}" if header else "no Host header"
    named = name if name and len(name) <= NAME_CHARS_QUOTED else "NAME"
    raise ApiError(HTTPStatus.BAD_REQUEST,
                   f"{sent}: this server answers only to localhost, 127.0.0.1, ::1"
                   f"{''.join(', ' + n for n in sorted(allowed))} (a guard against DNS rebinding); to answer "
                   f"to {named if name else 'a name'} as well, start the server with --allowed-host {named} "
                   f"(or DEFUSION_ALLOWED_HOSTS={named})")
