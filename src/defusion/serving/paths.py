"""Request paths as the routes see them: behind a reverse proxy that serves the API under a prefix
(``defusion serve --root-path /fusion``), and with a trailing slash answered, not redirected."""

from __future__ import annotations

from typing import Any, Callable


def route_path(scope: dict[str, Any]) -> str:
    """The path of ``scope`` as the app's routes name it: without the ``root_path`` prefix uvicorn puts
    before it (``--root-path``), and without trailing slashes.

    Example:
        >>> route_path({"path": "/fusion/healthz/", "root_path": "/fusion"}), route_path({"path": "/"})
        ('/healthz', '/')
    """
    path, root = scope.get("path", ""), scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):]
    return path.rstrip("/") or "/"


class TrailingSlashes:
    """ASGI middleware: a request for ``/v1/fuse/`` is answered as ``/v1/fuse``. Starlette's default is
    a 307 redirect to an absolute URL built from the Host the server sees, which behind a reverse proxy
    names the server's own address and drops the proxy's prefix, and which a client must follow with
    its upload again (curl does not by default). No route of the API ends in a slash."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and len(path) > 1 and path.endswith("/") and path.rstrip("/"):
            scope = {**scope, "path": path.rstrip("/")}
            raw = scope.get("raw_path")
            if raw:
                scope["raw_path"] = raw.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)
