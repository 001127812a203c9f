"""How the app answers what a request raises: every error as JSON ``{"detail": "<one line>"}``
(:func:`install_error_handlers`), each logged at the level its cause deserves. The statuses and
what causes them: :data:`~defusion.serving.openapi.ERRORS` and docs/serving.md, "Limits and errors"."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from defusion.serving.decode import escape_controls, one_line
from defusion.serving.errors import CLIENT_CLOSED_REQUEST, SERVICE_UNAVAILABLE, ApiError, ClientGone
from defusion.serving.runner import QUEUE_FULL_RETRY_AFTER_S, QueueFull
from defusion.serving.shutdown import INTERNAL_ERROR, INTERNAL_SERVER_ERROR

log = logging.getLogger("defusion.serving")

#: The detail of a 503 for a request that ran out of memory.
OUT_OF_MEMORY = "the server ran out of memory for this request; send fewer or smaller images, or retry later"


def install_error_handlers(app: FastAPI) -> None:
    """Answer ``app``'s errors as JSON: an :class:`ApiError` with its status, FastAPI's own refusals
    (a bad query value: 422; 404, 405) in one line, a full queue and a :class:`MemoryError` as 503,
    anything else as 500; and a :class:`ClientGone` with nothing, logged as uvicorn's access log
    would (499). A refusal (4xx) is logged at debug level: it is the request's fault."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ClientGone, _client_gone)
    app.add_exception_handler(QueueFull, _queue_full)
    app.add_exception_handler(MemoryError, _out_of_memory)
    app.add_exception_handler(Exception, _unexpected)


async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
    if exc.status < INTERNAL_SERVER_ERROR:  # the request's fault (4xx): worth a line only when looking into it
        log.debug("%s %s: %d %s", request.method, escape_controls(request.url.path), exc.status, exc.detail)
    return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    parts = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()]
    detail = "; ".join(parts) or "invalid request"
    log.debug("%s %s: %d %s", request.method, escape_controls(request.url.path), HTTPStatus.UNPROCESSABLE_ENTITY,
              detail)
    return JSONResponse({"detail": detail}, status_code=HTTPStatus.UNPROCESSABLE_ENTITY)


async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    if exc.status_code < INTERNAL_SERVER_ERROR:  # 404, 405: refused like any other 4xx, logged the same way
        log.debug("%s %s: %d %s", request.method, escape_controls(request.url.path), exc.status_code, exc.detail)
    return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)


async def _client_gone(request: Request, exc: ClientGone) -> Response:
    # uvicorn writes no access-log line for a response to a client that has gone: this is its line
    log.info('%s - "%s %s HTTP/%s" %d: the client disconnected %s', client_address(request), request.method,
             path_with_query(request), request.scope.get("http_version", "1.1"), CLIENT_CLOSED_REQUEST, exc)
    return Response(status_code=CLIENT_CLOSED_REQUEST)  # no one reads it


async def _queue_full(request: Request, exc: QueueFull) -> JSONResponse:
    log.warning("%s %s from %s: 503, the server is busy: %s", request.method, escape_controls(request.url.path),
                client_address(request), exc)
    return JSONResponse({"detail": f"the server is busy: {exc}; retry after {QUEUE_FULL_RETRY_AFTER_S} s"},
                        status_code=SERVICE_UNAVAILABLE, headers={"Retry-After": str(QUEUE_FULL_RETRY_AFTER_S)})


async def _out_of_memory(request: Request, exc: MemoryError) -> JSONResponse:
    log.error("%s %s from %s: 503, out of memory: %s", request.method, escape_controls(request.url.path),
              client_address(request), one_line(exc))
    return JSONResponse({"detail": OUT_OF_MEMORY}, status_code=SERVICE_UNAVAILABLE)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    # AnswerCancelled answers first, inside CORS; this is for a failure outside it (in a middleware).
    # Starlette re-raises it after this answer, so the server still logs the traceback.
    return JSONResponse({"detail": INTERNAL_ERROR}, status_code=INTERNAL_SERVER_ERROR)


def client_address(request: Request) -> str:
    """``host:port`` of the request's client, as uvicorn's access log writes it ("-" if unknown)."""
    client = request.client
    return f"{client.host}:{client.port}" if client else "-"


def path_with_query(request: Request) -> str:
    """The request's path, with its query string where it has one (as an access log writes it), its
    control characters escaped (a path of ``%1b[2J`` decodes to a terminal escape, for a log line)."""
    query = request.url.query
    return escape_controls(f"{request.url.path}?{query}" if query else request.url.path)
