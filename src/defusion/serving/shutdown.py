"""ASGI middleware that answers a request cancelled by the server's shutdown with a JSON 503
instead of uvicorn's plain-text 500."""

from __future__ import annotations

import asyncio
import contextlib

from fastapi.responses import JSONResponse

from defusion.serving.errors import SERVICE_UNAVAILABLE

#: The detail of the 503 a request cancelled by the server's shutdown is answered with.
SHUTTING_DOWN = ("the server is shutting down (its --timeout-graceful-shutdown ran out before this request was "
                 "answered); retry, on another instance if there is one")


class AnswerCancelled:
    """ASGI middleware: a request cancelled by uvicorn's shutdown (``--timeout-graceful-shutdown``
    ran out) is answered ``503 {"detail": SHUTTING_DOWN}`` with ``Connection: close`` where no
    response was started, instead of uvicorn's plain-text 500; the cancellation then goes on
    (re-raised), so the shutdown does (uvicorn still logs it as an exception)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def noted(message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, noted)
        except asyncio.CancelledError:
            if not started:
                with contextlib.suppress(Exception):
                    response = JSONResponse({"detail": SHUTTING_DOWN}, status_code=SERVICE_UNAVAILABLE,
                                            headers={"Connection": "close"})
                    await response(scope, receive, send)
            raise
