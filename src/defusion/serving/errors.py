"""How the API refuses a request: :class:`ApiError` (a status and a one-line detail), the
statuses it uses, and the checks that raise it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Iterable, Sequence

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


class ApiError(Exception):
    """An error answered as ``{"detail": message}`` with ``status`` (and ``headers``, where given)."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
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
        raise ApiError(422, str(exc)) from None


def refuse_unknown(what: str, names: Iterable[str], accepted: tuple[str, ...], taken: str | None = None) -> None:
    """A 422 naming the ``names`` not in ``accepted`` (and what is, or ``taken``): a misspelt option or
    field would otherwise be ignored, and the request answered as if it had not been sent."""
    unknown = list(dict.fromkeys(name for name in names if name not in accepted))
    if unknown:
        raise ApiError(422, f"unknown {what}{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(repr(name) for name in unknown)}; POST /v1/fuse takes "
                            f"{taken or what + 's ' + ', '.join(accepted)}")


def refuse_repeated(what: str, names: Sequence[str]) -> None:
    """A 422 for the first name sent more than once: which value was meant cannot be known, and
    taking one would silently drop the other."""
    repeated = [name for name in dict.fromkeys(names) if names.count(name) > 1]
    if repeated:
        raise ApiError(422, f"{what} {repeated[0]!r} sent {names.count(repeated[0])} times; send each once")
