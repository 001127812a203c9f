"""CORS for the API (``--cors-origin``): Starlette's middleware with the methods and headers the
API uses, and a refused preflight answered in JSON like every other error."""

from __future__ import annotations

from typing import Sequence

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from defusion.serving.responses import MODEL_HEADER, NOTES_HEADER
from defusion.serving.stream import PALETTE_RANGE_HEADER, STRETCH_HEADER

#: The methods a page of the allowed origins may use.
CORS_METHODS = ("GET", "HEAD", "POST")
#: The response headers its script may read beyond the CORS-safelisted ones.
CORS_EXPOSED_HEADERS = (NOTES_HEADER, STRETCH_HEADER, PALETTE_RANGE_HEADER, MODEL_HEADER, "Content-Disposition",
                        "Retry-After")
#: How long a browser may cache a preflight's answer.
CORS_MAX_AGE_S = 600
#: The status of a refused preflight (Starlette's).
PREFLIGHT_REFUSED = 400
#: Response headers of a preflight's text answer that its JSON one replaces.
_BODY_HEADERS = ("content-type", "content-length")


class JsonCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware whose refused preflight (400, an origin or method not allowed)
    is ``{"detail": "Disallowed CORS origin; ..."}`` instead of Starlette's plain text, with the
    same headers."""

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code != PREFLIGHT_REFUSED:
            return answer
        reason = bytes(answer.body).decode("utf-8", "replace")
        headers = {name: value for name, value in answer.headers.items() if name not in _BODY_HEADERS}
        return JSONResponse({"detail": f"{reason}: this server lets pages of the origins named by its --cors-origin "
                                       f"(DEFUSION_CORS_ORIGINS) call it, with {', '.join(CORS_METHODS)}"},
                            status_code=PREFLIGHT_REFUSED, headers=headers)


def cors_options(origins: Sequence[str]) -> dict:
    """The keyword arguments of :class:`JsonCORSMiddleware` for pages of ``origins``.

    Example:
        >>> cors_options(["https://app.example.com"])["allow_methods"]
        ['GET', 'HEAD', 'POST']
    """
    return {"allow_origins": list(origins), "allow_methods": list(CORS_METHODS), "allow_headers": ["*"],
            "expose_headers": list(CORS_EXPOSED_HEADERS), "max_age": CORS_MAX_AGE_S}
