"""ASGI middleware that answers, from inside the CORS layer, a request cancelled by the server's
shutdown (a JSON 503 instead of uvicorn's plain-text 500) and an unexpected failure (a JSON 500)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from defusion.serving.errors import SERVICE_UNAVAILABLE

#: The detail of the 503 a request cancelled by the server's shutdown is answered with.
SHUTTING_DOWN = ("the server is shutting down (its --timeout-graceful-shutdown ran out before this request was "
                 "answered); retry, on another instance if there is one")
#: The detail of the 500 an unexpected failure is answered with (the server's log has the traceback).
INTERNAL_ERROR = "internal server error; the server's log has the details"
#: The status of an unexpected failure of the server.
INTERNAL_SERVER_ERROR = 500


@dataclass
class CutOff:
    """The requests the server's shutdown cancelled before their answer (``count``): ``defusion serve``
    exits 0 after a stop signal only where there were none (defusion.cli.serve.stopped)."""

    count: int = 0


class AnswerCancelled:
    """ASGI middleware, added inside the CORS middleware so that its answers carry CORS headers (a
    browser's script then reads the JSON error instead of a CORS failure): where no response was
    started,

    - a request cancelled by uvicorn's shutdown (``--timeout-graceful-shutdown`` ran out) is
      answered ``503 {"detail": SHUTTING_DOWN}`` with ``Connection: close``, instead of uvicorn's
      plain-text 500;
    - an unexpected exception is answered ``500 {"detail": INTERNAL_ERROR}`` (Starlette's own
      handler of it sits outside every middleware, CORS included).

    Either then goes on (re-raised): the shutdown proceeds, and the server logs the traceback. Each
    cancelled request is counted in ``cut_off``, where given."""

    def __init__(self, app: ASGIApp, cut_off: CutOff | None = None) -> None:
        self.app = app
        self.cut_off = cut_off

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def noted(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        async def answer(detail: str, status: int, headers: dict[str, str] | None = None) -> None:
            if not started:
                with contextlib.suppress(Exception):
                    await JSONResponse({"detail": detail}, status_code=status, headers=headers)(scope, receive, send)

        try:
            await self.app(scope, receive, noted)
        except asyncio.CancelledError:
            if self.cut_off is not None:
                self.cut_off.count += 1
            await answer(SHUTTING_DOWN, SERVICE_UNAVAILABLE, {"Connection": "close"})
            raise
        except Exception:
            await answer(INTERNAL_ERROR, INTERNAL_SERVER_ERROR)
            raise
