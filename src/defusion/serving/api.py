"""The DeFusion REST API (FastAPI): ``POST /v1/fuse``, ``GET /healthz``, ``GET /readyz``, ``GET /v1/info``.

The server calls the one fusion core, :meth:`Fuser.fuse` / :meth:`Fuser.decompose`; uploads are
decoded by :func:`defusion.serving.decode.decode_image`, i.e. by ``read_image``'s rules. One model
is shared by all requests: a request waits for its turn on the event loop (an asyncio lock, no
worker thread held while it waits) and its model call runs in the thread pool, so the event loop
and the pool keep accepting, checking and decoding other requests meanwhile. At most
``max_queue`` requests are held besides the one being fused; more are answered 503 at once. Each
request is checked and fused with its own options (the server's with the request's on top), never
the shared Fuser's, and is skipped if its client has left by the time the model is free.

Every error is JSON ``{"detail": "..."}`` (a string):

====  ===========================================================================
400   unreadable, empty, truncated or corrupt image (whatever its decoder raises); malformed
      multipart body (no boundary, or one that ends before its closing boundary)
408   the upload stalled: no piece of the body for ``upload_timeout_s`` seconds (``--upload-timeout``)
413   a file over ``max_upload_bytes`` (Content-Length or bytes actually read), or
      an image over ``max_pixels``
415   not an image (text, unknown format), or a body that is not multipart/form-data
422   a missing field ``a`` or ``b``, more than ``max_images`` images or a gap in the fields,
      sources of different sizes, components of more than two images, a bad query value, an
      unknown query parameter or form field, a query parameter or field sent twice
500   an unexpected failure of the server (its log has the traceback)
503   the server is busy (``max_queue`` requests held already; with ``Retry-After``), out of
      memory for the request (a MemoryError, or PyTorch's own), its temporary storage failed (its
      log has the reason), or it is shutting down (``--timeout-graceful-shutdown`` ran out)
====  ===========================================================================

A client that disconnects gets nothing; the server logs one line with its address and status 499
(uvicorn's access log has none: nothing was sent). A fusion whose client left stops after the
network pass it is in (a tile, a pair of a stack). Why a request was refused (4xx) is logged at
debug level.

Run it with ``defusion serve``, or with uvicorn directly:
``uvicorn --factory defusion.serving.api:app_from_env`` (``defusion serve``'s settings from the
``DEFUSION_*`` variables of :data:`ENV_VARIABLES`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import inspect
import io
import logging
import os
import re
import threading
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Callable, Iterable, Literal, Mapping, NoReturn, Sequence

import anyio.from_thread
import cv2
import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect

from defusion import __version__
from defusion.fusion.align import Motion
from defusion.fusion.color import to_uint8
from defusion.fusion.fuser import (MAX_DETAIL_GAIN, MAX_UNIQUE_GAIN, TASK_FIELDS, TASKS, Decomposition, FuseOptions, Fuser,
                                   Selection, SizeMismatchError, Task)
from defusion.fusion.rig import MAX_RIG_BYTES, Rig, RigError
from defusion.fusion.selection import PixelSource, source_map
from defusion.fusion.stretch import Stretch
from defusion.io.images import ImageReadError, ImageTooLargeError
from defusion.io.metadata import ImageMetadata, choose_metadata, embed_metadata, read_metadata
from defusion.io.notes import collecting
from defusion.serving.decode import UnsupportedImageError, UploadStorageError, decode_image, header_size, one_line

log = logging.getLogger("defusion.serving")
#: The ``palette`` query values (defusion.fusion.color.PALETTES), checked by FastAPI.
Palette = Literal["none", "inferno", "magma", "plasma", "hot", "jet", "turbo"]

#: Default bound on each uploaded file: 50 MiB.
DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
#: Default bound on the images of one request (a bracket or focus stack of up to 4).
DEFAULT_MAX_IMAGES = 4
#: Default bound on each image's pixels: 16 MP (a 12 MP phone photo, a 4928x3264 camera frame,
#: 4096x4096). A request's peak memory grows with its pixels (docs/serving.md, "Memory": about
#: 0.17 GB per megapixel of a pair at the default scale, on 0.9 GB of fixed cost; a 16 MP pair
#: about 3.6 GB), so the default fits a host of 4-8 GB; the CLI's bound (io.images.DEFAULT_MAX_PIXELS,
#: 100 MP) let one small request (a pair of 190 KB PNGs of 81 MP of zeros) take about 15 GB (0.9 + 0.17 x 81,
#: extrapolated from the per-MP rule). --max-pixels sets it; the queue multiplies it (docs/serving.md, "Memory").
DEFAULT_SERVER_MAX_PIXELS = 16_000_000
#: Default bound on the requests held besides the one being fused (uploads read, decoded, waiting
#: for the model): more are answered 503 with Retry-After, so the server's memory stays bounded.
DEFAULT_MAX_QUEUE = 8
#: Seconds a client told 503 because the queue is full is asked to wait (Retry-After).
#: Default bound on the seconds the server waits for the next piece of a request's body: a client
#: that stalls longer is answered 408, so a stalled upload cannot hold its place in the queue forever.
UPLOAD_IDLE_TIMEOUT_S = 30.0
QUEUE_FULL_RETRY_AFTER_S = 10
#: How a client is told the pixel bound is the server's, for whoever runs it to raise.
SERVER_LIMIT_HINT = "the server's --max-pixels"
#: The status of a server that cannot serve a request now (busy, out of memory, storage failing).
SERVICE_UNAVAILABLE = 503
#: Room for multipart headers and boundaries on top of the files.
MULTIPART_OVERHEAD = 64 * 1024
#: The image fields of ``POST /v1/fuse``, in order: ``a`` and ``b`` always, then more up to ``max_images``.
FIELDS = ("a", "b", "c", "d", "e", "f", "g", "h")
#: The optional field with a camera rig's calibration (``defusion calibrate``'s JSON).
RIG_FIELD = "rig"
#: The fields a request may leave out; sent blank (a browser form's empty input), they are left out.
OPTIONAL_FIELDS = (*FIELDS[2:], RIG_FIELD)
#: Names inside the ``components=true`` zip, in this order.
COMPONENT_FILES = ("fused.png", "common.png", "unique_a.png", "unique_b.png")
#: Added to the components zip with pixels=sources: the decision map, white where a's pixels are.
WEIGHT_FILE = "weight_a.png"
#: With source_map=true (pixels=sources), beside the fused image in a zip: which source each pixel
#: came from, black ``a`` to white the last image (a focus stack's depth map).
SOURCE_MAP_FILE = "source_map.png"
#: The status logged for a request whose client left before its answer (nginx's "client closed
#: request"): nothing is sent, so no client ever reads it.
CLIENT_CLOSED_REQUEST = 499
#: The Fuser methods a request runs (:meth:`_ModelRunner.run`).
FuserCall = Literal["fuse", "fuse_with_weights", "decompose"]
#: The error statuses of ``POST /v1/fuse`` (all ``{"detail": "<one line>"}``), for OpenAPI.
ERRORS: dict[int, str] = {
    400: "an image that cannot be decoded (empty, truncated, corrupt), or a malformed multipart body",
    408: "the upload stalled: no piece of the body came for the server's upload timeout",
    413: "a file or the whole body over the server's byte bounds, an image over its pixel bound, or a rig field "
         f"over {MAX_RIG_BYTES // 1024} KiB",
    415: "not an image (text, an unknown format), or a body that is not multipart/form-data",
    422: "a missing field a or b, more images than the server fuses, a gap in the fields, images of different "
         "sizes without a rig, a bad rig, components of more than two images, a bad query value, an unknown "
         "query parameter or form field, or one sent twice",
    500: "an unexpected failure of the server (its log has the details)",
    SERVICE_UNAVAILABLE: "the server is busy (max_queue requests are held already: retry after Retry-After "
                         "seconds), out of memory for this request, or its temporary storage failed",
}
#: What each query parameter of ``POST /v1/fuse`` does, for OpenAPI (in the API's terms; the CLI's
#: help texts name its own flags).
QUERY_HELP: dict[str, str] = {
    "components": f"true: a zip of {', '.join(COMPONENT_FILES)} instead of the fused PNG (a pair only; "
                  f"with pixels=sources also {WEIGHT_FILE}, the decision map)",
    "task": "the kind of images, fused at its defaults whatever the server's: ivf (infrared and visible), "
            "mef (an exposure bracket, sorted brightest first) or mff (a focus stack: pixels from the sources, at "
            "scale 1 where the server runs at its default scale)",
    "align": "register the images onto one (hand-held brackets and focus stacks): a, or for a bracket sorted "
             "by exposure (task=mef, or a server started with --task mef) the best-exposed, whatever the fields' "
             "order; translation, euclidean, affine or homography",
    "pixels": "where the fused pixels come from: network (the reconstruction) or sources (each pixel from the "
              "source in focus there: focus stacks); default the task's (sources for mff), else the server's. "
              "Where the server runs at the default scale of its own pixels, the scale follows: sources at 1, "
              "network at 2",
    "stretch": "auto (the server's default): a raw 16-bit grey frame (thermal counts) is stretched to the full "
               "range; none: values as they are",
    "deghost": "true: remove ghosts of what moved between the images (brackets)",
    "source_map": f"true (with pixels=sources): a zip of fused.png and {SOURCE_MAP_FILE}, which image each pixel "
                  "came from, black a to white the last",
    "metadata": "false: leave the sources' colour profile and a's EXIF (without the exposure tags the uploads "
                "do not share) out of the fused PNG",
    "palette": "false colour from the infrared image, as thermal cameras show it: inferno, magma, plasma, hot, "
               "jet or turbo; none (the default) keeps the sources' colours",
    "infrared": "with a palette: which upload is the infrared image, 1 for a (default: the one raw thermal "
                "frame, else the only grey upload, else the last)",
}


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may make the server read and decode.

    ``max_upload_bytes`` bounds each uploaded file; the whole request body may be at most
    ``max_images`` files plus :data:`MULTIPART_OVERHEAD`. ``max_pixels`` bounds width x height
    of each image and is checked from the header, before anything is decoded. ``max_queue``
    bounds the requests the server holds besides the one being fused (reading, decoding, waiting
    for the model); one more is answered 503.
    """

    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_pixels: int = DEFAULT_SERVER_MAX_PIXELS
    max_images: int = DEFAULT_MAX_IMAGES
    max_queue: int = DEFAULT_MAX_QUEUE
    upload_timeout_s: float = UPLOAD_IDLE_TIMEOUT_S

    def __post_init__(self) -> None:
        if self.max_upload_bytes <= 0 or self.max_pixels <= 0:
            raise ValueError("max_upload_bytes and max_pixels must be positive")
        if not 2 <= self.max_images <= len(FIELDS):
            raise ValueError(f"max_images must be from 2 to {len(FIELDS)}")
        if self.max_queue < 0:
            raise ValueError("max_queue must be 0 or more")
        if not self.upload_timeout_s > 0:
            raise ValueError("upload_timeout_s must be positive")

    @property
    def fields(self) -> tuple[str, ...]:
        """The file fields a request may use."""
        return FIELDS[:self.max_images]

    @property
    def max_request_bytes(self) -> int:
        return self.max_images * self.max_upload_bytes + MULTIPART_OVERHEAD


def _fuse_request_body(limits: Limits) -> dict[str, Any]:
    """OpenAPI's ``requestBody`` of ``POST /v1/fuse``, which reads its multipart form itself (so
    FastAPI cannot see it): the image files a, b (required) and c, ... (this server's max_images),
    and the optional rig."""
    def image(text: str) -> dict[str, Any]:
        return {"type": "string", "format": "binary", "description": text}

    properties = {"a": image("the first image (the frame that align and rig map the others onto)"),
                  "b": image("the second image")}
    properties.update({field: image(f"image {i} of a bracket or focus stack, after the ones before it")
                       for i, field in enumerate(limits.fields[2:], start=3)})
    properties[RIG_FIELD] = {
        "anyOf": [{"type": "string", "format": "binary"}, {"type": "string"}],
        "description": "a camera rig's calibration, the JSON of defusion calibrate (a text value or a small "
                       "file): the other images are mapped onto a's pixel grid, so a rig's images of "
                       "different sizes fuse",
    }
    schema = {"type": "object", "properties": properties, "required": ["a", "b"]}
    return {"required": True, "content": {"multipart/form-data": {"schema": schema}}}


class ApiError(Exception):
    """An error answered as ``{"detail": message}`` with ``status``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class ErrorDetail(BaseModel):
    """The body of every error response: one line saying what was wrong (OpenAPI's error model)."""

    detail: str


class _BodyTooLarge(Exception):
    pass


class _UploadStalled(Exception):
    """No piece of the request's body came for ``upload_timeout_s`` seconds."""


class _ClientGone(Exception):
    """The client disconnected; ``str(exc)`` says when. Nothing is answered (no one is listening)."""


class _QueueFull(Exception):
    """``max_queue`` requests are held besides the one being fused: answered 503 with Retry-After."""


class _MultipartBody(MultiPartParser):
    """Starlette's multipart parser, also noting whether the body reached its closing boundary:
    python-multipart accepts a body that just stops, so a part cut short would vanish and the
    request be answered as if the client had left that field out."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ended = False
        self.open_part: Any = None  # the part being read (starlette's MultipartPart), None between parts

    def on_headers_finished(self) -> None:
        super().on_headers_finished()
        self.open_part = self._current_part  # set by MultiPartParser.on_part_begin

    def on_part_end(self) -> None:
        super().on_part_end()
        self.open_part = None

    def on_end(self) -> None:
        super().on_end()
        self.ended = True

    async def parse(self) -> FormData:
        """The form; a :class:`MultiPartException` if the body stops before its closing boundary."""
        form = await super().parse()
        if not self.ended:
            await form.close()
            part, self.open_part = self.open_part, None
            if part is not None and part.file is not None:
                await part.file.close()
            where = f" inside field {part.field_name!r}" if part is not None else ""
            raise MultiPartException(f"the body ends{where} before the closing boundary (was the upload cut short?)")
        return form


@dataclass(frozen=True)
class _Upload:
    """One uploaded image file, read but not decoded."""

    field: str
    data: bytes
    name: str  # the client's file name, else the field's


class _ModelRunner:
    """The one shared model, one call at a time, each request with its own options.

    The shared Fuser is never changed: a request's options (:meth:`options_for`) are made from
    the server's alone, and its call runs on a shallow copy of the Fuser that shares the model
    and carries those options. So each request is checked and fused by its own settings, and
    no request sees another's, however they interleave.

    A request takes a place (:meth:`admitted`: at most ``max_queue`` besides the one being
    fused, else :class:`_QueueFull`), then waits for the model's :meth:`turn` on the event loop,
    holding no worker thread, and only then calls :meth:`run` in the thread pool."""

    def __init__(self, fuser: Fuser, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        self.fuser = fuser
        self.options = fuser.options  # the server's options, frozen: each request starts from them
        self.max_queue = max_queue
        self.lock = threading.Lock()  # the model itself, whoever calls run (one event loop or not)
        self.active = 0  # requests admitted and not answered yet: reading, checking, waiting, being fused
        self.waiting = 0  # of those, the ones waiting for the model's turn
        self._turns: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    @property
    def full(self) -> bool:
        """Whether a new request would be refused: ``max_queue`` besides the one being fused are held."""
        return self.active > self.max_queue

    @contextlib.contextmanager
    def admitted(self):
        """A place among the requests the server holds, for the block; :class:`_QueueFull` if none is left."""
        if self.full:
            raise _QueueFull(f"{self.active} requests are held (one being fused, up to max_queue="
                             f"{self.max_queue} more)")
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1

    @contextlib.asynccontextmanager
    async def turn(self):
        """The model's turn, for the block: waited for on the event loop (no worker thread held),
        first come, first served."""
        loop = asyncio.get_running_loop()
        if self._turns is None or self._turns[0] is not loop:  # one per event loop (tests run several)
            self._turns = (loop, asyncio.Lock())
        lock = self._turns[1]
        self.waiting += 1
        try:
            await lock.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            lock.release()

    def options_for(self, task: Task | None = None, **request: Any) -> FuseOptions:
        """The server's options with ``task``'s settings and the request's own (None leaves the
        server's); a ValueError where FuseOptions refuses the combination. With or without a task,
        the scale follows the pixels asked for where the server's is the default for its own, and
        pixels from the sources drop the server's palette (FuseOptions.with_task's rules): only a
        request that asks for a palette with them is refused."""
        pixels = request.pop("pixels", None)
        if task is not None:
            options = self.options.with_task(task, pixels=pixels)
        else:
            options = self.options
            if pixels is not None:
                request.update(pixels=pixels, scale=self.options.scale_for(pixels))
                if pixels == "sources":  # a palette colours the network's fusion, as with_task drops it
                    options = replace(options, palette="none", infrared=None)
        return replace(options, **{name: value for name, value in request.items() if value is not None})

    def run(self, call: FuserCall, images: Sequence[np.ndarray], options: FuseOptions,
            wanted: Callable[[], bool] = lambda: True) -> Any:
        """``Fuser.<call>(*images)`` at ``options`` under the model lock (in a worker thread; the
        server takes the request's :meth:`turn` first, so this lock is never waited for there). Once the lock is held,
        ``wanted()`` is asked first: a request whose client left meanwhile is not fused (it would
        only keep the requests behind it waiting), raising :class:`_ClientGone`. It is asked again
        after each network pass (a tile, a pair of a stack), so a large fusion whose client left
        stops there and frees the model."""
        fuser = copy.copy(self.fuser)  # shares the model, not the options
        fuser.options = options

        def stop_if_gone() -> None:
            if not wanted():
                raise _ClientGone("during its fusion; it was stopped")

        with self.lock:
            if not wanted():
                raise _ClientGone("while waiting for the model; its fusion was skipped")
            try:
                return getattr(fuser, call)(*images, on_tile=stop_if_gone)
            except Exception as exc:
                if _out_of_memory(exc):  # PyTorch's (or onnxruntime's) own: answered as a MemoryError, a 503
                    raise MemoryError(one_line(exc)) from exc
                raise


#: How the runtimes say they ran out of memory without a MemoryError: PyTorch's CPU allocator
#: ("DefaultCPUAllocator: can't allocate memory"), CUDA ("CUDA out of memory"), onnxruntime's arena
#: ("Failed to allocate memory").
_OUT_OF_MEMORY = re.compile(r"can't allocate memory|out of memory|failed to allocate memory", re.IGNORECASE)


def _out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` is a runtime's way of saying it ran out of memory (torch.OutOfMemoryError,
    or a RuntimeError or onnxruntime error saying so)."""
    import sys

    torch = sys.modules.get("torch")  # never imported here: an ONNX Runtime server may run without it
    oom_type = getattr(torch, "OutOfMemoryError", None) if torch is not None else None
    if oom_type is not None and isinstance(exc, oom_type):
        return True
    runtime_error = isinstance(exc, RuntimeError) or type(exc).__module__.startswith("onnxruntime")  # not RuntimeErrors
    return runtime_error and bool(_OUT_OF_MEMORY.search(str(exc)))


def create_app(fuser: Fuser, limits: Limits | None = None, *, weights: str | Path | None = None,
               cors_origins: Sequence[str] = ()) -> FastAPI:
    """The API around a ready ``fuser``; ``weights`` (the file it was loaded from) feeds /v1/info.
    ``cors_origins``: the browser origins (``https://app.example.com``, or ``*``) whose pages may
    call the API (CORS); none by default."""
    limits = limits or Limits()
    runner = _ModelRunner(fuser, limits.max_queue)
    app = FastAPI(title="DeFusion", version=__version__,
                  description="Image fusion from decomposition (Liang et al., ECCV 2022)")
    app.state.fuser, app.state.limits, app.state.weights, app.state.runner = fuser, limits, weights, runner
    info = _describe(fuser, limits, weights)
    app.add_middleware(_AnswerCancelled)  # before CORS, which wraps it: the 503 carries its headers too
    if cors_origins:
        from starlette.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=list(cors_origins), allow_methods=list(CORS_METHODS),
                           allow_headers=["*"], expose_headers=list(CORS_EXPOSED_HEADERS), max_age=CORS_MAX_AGE_S)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        if exc.status < 500:  # the request's fault: worth a line only when looking into it
            log.debug("%s %s: %d %s", request.method, request.url.path, exc.status, exc.detail)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()]
        detail = "; ".join(parts) or "invalid request"
        log.debug("%s %s: 422 %s", request.method, request.url.path, detail)
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code < 500:  # 404, 405: refused like any other 4xx, logged the same way
            log.debug("%s %s: %d %s", request.method, request.url.path, exc.status_code, exc.detail)
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(_ClientGone)
    async def _client_gone(request: Request, exc: _ClientGone) -> Response:
        # uvicorn writes no access-log line for a response to a client that has gone: this is its line
        log.info('%s - "%s %s HTTP/%s" %d: the client disconnected %s', _client_address(request), request.method,
                 _path_with_query(request), request.scope.get("http_version", "1.1"), CLIENT_CLOSED_REQUEST, exc)
        return Response(status_code=CLIENT_CLOSED_REQUEST)  # no one reads it

    @app.exception_handler(_QueueFull)
    async def _queue_full(request: Request, exc: _QueueFull) -> JSONResponse:
        log.warning("%s %s from %s: 503, the server is busy: %s", request.method, request.url.path,
                    _client_address(request), exc)
        return JSONResponse({"detail": f"the server is busy: {exc}; retry after {QUEUE_FULL_RETRY_AFTER_S} s"},
                            status_code=SERVICE_UNAVAILABLE, headers={"Retry-After": str(QUEUE_FULL_RETRY_AFTER_S)})

    @app.exception_handler(MemoryError)
    async def _out_of_memory(request: Request, exc: MemoryError) -> JSONResponse:
        log.error("%s %s from %s: 503, out of memory: %s", request.method, request.url.path,
                  _client_address(request), one_line(exc))
        return JSONResponse({"detail": "the server ran out of memory for this request; send fewer or smaller "
                                       "images, or retry later"}, status_code=SERVICE_UNAVAILABLE)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # Starlette re-raises it after this answer, so the server still logs the traceback.
        return JSONResponse({"detail": "internal server error; the server's log has the details"}, status_code=500)

    @app.head("/healthz", include_in_schema=False)  # the same answer without a body (uvicorn drops it)
    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        """Liveness: 200 once the model is loaded, however busy the server is."""
        if getattr(fuser, "model", None) is None:
            return JSONResponse({"status": "loading"}, status_code=SERVICE_UNAVAILABLE)
        return JSONResponse({"status": "ok"})

    @app.head("/readyz", include_in_schema=False)  # the same answer without a body (uvicorn drops it)
    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        """Readiness: 503 while a new request would be refused (the queue is full), else 200."""
        if getattr(fuser, "model", None) is None:
            return JSONResponse({"status": "loading"}, status_code=SERVICE_UNAVAILABLE)
        state = {"requests": runner.active, "waiting": runner.waiting, "max_queue": runner.max_queue}
        if runner.full:
            return JSONResponse({"status": "busy", **state}, status_code=SERVICE_UNAVAILABLE,
                                headers={"Retry-After": str(QUEUE_FULL_RETRY_AFTER_S)})
        return JSONResponse({"status": "ready", **state})

    @app.get("/v1/info")
    async def v1_info() -> dict[str, Any]:
        return info

    @app.post(
        "/v1/fuse",
        response_class=Response,
        responses={200: {"content": {"image/png": {"schema": {"type": "string", "format": "binary"}},
                                     "application/zip": {"schema": {"type": "string", "format": "binary"}}},
                         "description": "the fused PNG, or with components=true a zip of "
                                        + ", ".join(COMPONENT_FILES) + f" (and {WEIGHT_FILE} with pixels=sources), "
                                        f"or with source_map=true a zip of fused.png and {SOURCE_MAP_FILE}"},
                   **{status: {"model": ErrorDetail, "description": text} for status, text in ERRORS.items()}},
        openapi_extra={"requestBody": _fuse_request_body(limits)},
    )
    async def v1_fuse(request: Request,
                      components: Annotated[bool, Query(description=QUERY_HELP["components"])] = False,
                      task: Annotated[Task | None, Query(description=QUERY_HELP["task"])] = None,
                      align: Annotated[Motion | None, Query(description=QUERY_HELP["align"])] = None,
                      pixels: Annotated[PixelSource | None, Query(description=QUERY_HELP["pixels"])] = None,
                      stretch: Annotated[Stretch | None, Query(description=QUERY_HELP["stretch"])] = None,
                      deghost: Annotated[bool | None, Query(description=QUERY_HELP["deghost"])] = None,
                      source_map: Annotated[bool, Query(description=QUERY_HELP["source_map"])] = False,
                      metadata: Annotated[bool, Query(description=QUERY_HELP["metadata"])] = True,
                      palette: Annotated[Palette | None, Query(description=QUERY_HELP["palette"])] = None,
                      infrared: Annotated[int | None, Query(description=QUERY_HELP["infrared"])] = None) -> Response:
        """Fuse the images in multipart file fields ``a``, ``b`` (and ``c``, ``d``, ... up to the
        server's ``max_images``: a bracket or focus stack, in order); registered, one size.
        ``task`` (ivf, mef, mff) fuses this request at that kind of images' defaults (``mff``: pixels
        from the sources, at scale 1 where the server runs at its default scale: ``FuseOptions.with_task``);
        ``align`` (translation, euclidean, affine, homography) registers the images onto ``a`` first
        (a bracket sorted by exposure, ``task=mef`` or the server's: onto the best-exposed, whatever
        the fields' order); ``pixels=sources`` takes each pixel from the source in focus there (focus
        stacks; at scale 1 where the server runs at its default scale, as with ``task``, and
        ``pixels=network`` at 2 where it runs at 1 from the sources); ``source_map=true`` (with
        pixels=sources) adds which image each pixel came from, black ``a`` to white the last (a focus
        stack's depth map). The fused PNG carries the
        sources' colour profile and ``a``'s EXIF (as ``defusion fuse``: without the exposure tags the
        uploads do not share, Software "defusion <version>") unless ``metadata=false``.
        ``stretch=none`` takes raw 16-bit grey frames (thermal counts) as they are instead of
        stretching them to the full range (``auto``, the server's default); ``deghost=true``
        removes ghosts of what moved between the images (brackets). A text field ``rig`` with a
        camera rig's calibration (the JSON of ``defusion calibrate``; ``curl -F 'rig=<rig.json'``)
        maps the other images onto ``a``'s pixel grid first, so a rig's images of different sizes fuse.
        ``palette`` (inferno, magma, plasma, hot, jet, turbo) colours the fused image by the infrared
        image's warmth, as thermal cameras show it; the infrared image is ``infrared=N`` (1 for
        ``a``), else the one raw thermal frame, else the only grey upload, else the last. An unknown
        or repeated query parameter or form field is a 422.

        Everything a request asks is checked against its own options (the server's with the
        request's on top), before it waits for the model."""
        _refuse_unknown("query parameter", request.query_params.keys(), query_parameters)
        _refuse_repeated("query parameter", [name for name, _ in request.query_params.multi_items()])
        if infrared is not None and infrared < 1:
            raise ApiError(422, f"infrared={infrared}: the infrared image's place among the uploads, 1 for 'a'")
        options = _options_or_422(runner.options_for, task, align=align, pixels=pixels, stretch=stretch,
                                  deghost=deghost, palette=palette,
                                  infrared=infrared - 1 if infrared is not None else None)
        if source_map and options.pixels != "sources":
            raise ApiError(422, "source_map=true needs pixels=sources: the network's reconstruction mixes the "
                                "sources, so no pixel comes from one image")
        if infrared is not None and options.palette == "none":
            raise ApiError(422, "infrared says which image a palette colours; add palette=inferno (or another)")
        with runner.admitted():  # a place among the requests held, else 503 (before the body is read)
            uploads, rig_text = await _read_uploads(request, limits)
            if rig_text is not None:
                options = _options_or_422(replace, options, rig=_parse_rig(rig_text))
            if components and len(uploads) != 2:
                raise ApiError(422, f"components=true decomposes a pair; got {len(uploads)} images")
            if options.palette != "none" and options.infrared is not None and options.infrared >= len(uploads):
                raise ApiError(422, f"infrared image {options.infrared + 1} was asked for, but {len(uploads)} images "
                                    "were given")
            with collecting() as said:  # what reading the uploads had to say (alpha, frames, ...): a response header
                images = await _decoded(uploads, options.rig, limits)
            sources_metadata = await run_in_threadpool(lambda: [_metadata(u) for u in uploads]) if metadata else []

            def kept(fused: np.ndarray) -> ImageMetadata | None:
                return choose_metadata(sources_metadata, colour=fused.ndim == 3) if metadata else None

            connected, cancelled = await _still_connected(request), threading.Event()

            def wanted() -> bool:
                return not cancelled.is_set() and connected()

            async def in_model(call: FuserCall) -> Any:
                """The model call, once it is this request's turn (waited for here, holding no worker thread).
                Cancelled (uvicorn's --timeout-graceful-shutdown ran out): one log line, the fusion told to
                stop after its network pass, and the cancellation goes on, so the shutdown does."""
                try:
                    async with runner.turn():
                        if await request.is_disconnected():
                            raise _ClientGone("while waiting for the model; its fusion was skipped")
                        return await run_in_threadpool(runner.run, call, images, options, wanted)
                except asyncio.CancelledError:
                    cancelled.set()
                    log.warning('%s - "%s %s": cancelled by the server\'s shutdown (--timeout-graceful-shutdown '
                                "ran out) before its answer", _client_address(request), request.method,
                                _path_with_query(request))
                    raise

            try:
                if components:
                    parts = await in_model("decompose")
                    body = await run_in_threadpool(_zip_parts, parts, source_map, kept(parts.fused))
                    disposition = 'attachment; filename="components.zip"'
                    return Response(body, media_type="application/zip",
                                    headers=_noted({"Content-Disposition": disposition}, said))
                if source_map:
                    selection = await in_model("fuse_with_weights")
                    body = await run_in_threadpool(_zip_selection, selection, kept(selection.fused))
                    return Response(body, media_type="application/zip",
                                    headers=_noted({"Content-Disposition": 'attachment; filename="fused.zip"'}, said))
                fused = await in_model("fuse")
            except (SizeMismatchError, ValueError) as exc:  # layout problems the Fuser refuses
                raise ApiError(422, str(exc)) from None
            return Response(await run_in_threadpool(encode_png, fused, kept(fused)), media_type="image/png",
                            headers=_noted({"Content-Disposition": f'inline; filename="{COMPONENT_FILES[0]}"'}, said))

    # v1_fuse's own parameters, so that a misspelt one (?sclae=1) is refused, not ignored
    query_parameters = tuple(name for name in inspect.signature(v1_fuse).parameters if name != "request")
    return app


#: The response header that carries what reading the uploads had to say, lines joined by " | ".
NOTES_HEADER = "X-Defusion-Notes"
#: At most this many characters of it (a header is no place for an essay).
MAX_NOTES_LENGTH = 2000
#: With --cors-origin: the methods a page of those origins may use, the response headers its script
#: may read beyond the CORS-safelisted ones, and how long a browser may cache a preflight's answer.
CORS_METHODS = ("GET", "HEAD", "POST")
CORS_EXPOSED_HEADERS = (NOTES_HEADER, "Content-Disposition", "Retry-After")
CORS_MAX_AGE_S = 600


#: The detail of the 503 a request cancelled by the server's shutdown is answered with.
SHUTTING_DOWN = ("the server is shutting down (its --timeout-graceful-shutdown ran out before this request was "
                 "answered); retry, on another instance if there is one")


class _AnswerCancelled:
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


def _client_address(request: Request) -> str:
    """``host:port`` of the request's client, as uvicorn's access log writes it ("-" if unknown)."""
    client = request.client
    return f"{client.host}:{client.port}" if client else "-"


def _path_with_query(request: Request) -> str:
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


def _noted(headers: dict[str, str], said: list[str]) -> dict[str, str]:
    """``headers`` with ``said`` (``"warning: ..."`` lines) as NOTES_HEADER, ASCII-safe and bounded.

    Example:
        >>> _noted({}, ["warning: a.png has transparent pixels"])
        {'X-Defusion-Notes': 'warning: a.png has transparent pixels'}
    """
    if not said:
        return headers
    text = " | ".join(" ".join(line.split()) for line in said).encode("ascii", "backslashreplace").decode("ascii")
    return {**headers, NOTES_HEADER: text[:MAX_NOTES_LENGTH]}


async def _decoded(uploads: Sequence[_Upload], rig: Rig | None, limits: Limits) -> list[np.ndarray]:
    """The uploads' pixels, checked to fit together: one size (compared from the headers first, so
    a mismatch costs no decoding), or the sizes ``rig`` was calibrated at."""
    if rig is None:
        headers = await run_in_threadpool(lambda: [header_size(u.data, u.name) for u in uploads])
        _refuse_different_sizes(uploads, headers, exact=False)
    images = [await run_in_threadpool(_decode, upload, limits.max_pixels) for upload in uploads]
    if rig is None:
        _refuse_different_sizes(uploads, [(im.shape[1], im.shape[0]) for im in images], exact=True)
        return images
    try:
        rig.check_images(images)
    except RigError as exc:
        raise ApiError(422, f"rig: {exc}") from None
    return images


def _options_or_422(make: Callable[..., FuseOptions], *args: Any, **kwargs: Any) -> FuseOptions:
    """``make(*args, **kwargs)``, FuseOptions' refusal of a combination (a palette with
    pixels=sources) answered as a 422."""
    try:
        return make(*args, **kwargs)
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None


async def _still_connected(request: Request) -> Callable[[], bool]:
    """For a worker thread: whether ``request``'s client is still connected (asked on the event loop).

    Asked once now as well (:class:`_ClientGone` if the client has left): uvicorn stops reading a
    connection once its request's body is in, and only a ``receive`` resumes it, so without this
    a client that leaves while its request waits for the model would go unnoticed."""
    if await request.is_disconnected():
        raise _ClientGone("before its fusion; it was skipped")

    def connected() -> bool:
        return not anyio.from_thread.run(request.is_disconnected)

    return connected


def _refuse_unknown(what: str, names: Iterable[str], accepted: tuple[str, ...], taken: str | None = None) -> None:
    """A 422 naming the ``names`` not in ``accepted`` (and what is, or ``taken``): a misspelt option or
    field would otherwise be ignored, and the request answered as if it had not been sent."""
    unknown = list(dict.fromkeys(name for name in names if name not in accepted))
    if unknown:
        raise ApiError(422, f"unknown {what}{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(repr(name) for name in unknown)}; POST /v1/fuse takes "
                            f"{taken or what + 's ' + ', '.join(accepted)}")


def _refuse_repeated(what: str, names: Sequence[str]) -> None:
    """A 422 for the first name sent more than once: which value was meant cannot be known, and
    taking one would silently drop the other."""
    repeated = [name for name in dict.fromkeys(names) if names.count(name) > 1]
    if repeated:
        raise ApiError(422, f"{what} {repeated[0]!r} sent {names.count(repeated[0])} times; send each once")


def _refuse_different_sizes(uploads: Sequence[_Upload], sizes: Sequence[tuple[int, int] | None], *,
                            exact: bool) -> None:
    """A 422 naming the first image whose (width, height) differs from ``a``'s (None: not known).
    Not ``exact`` (sizes read from the headers, where the EXIF orientation may not be) refuses only
    sizes that no rotation makes equal; the decoded sizes are checked exactly afterwards."""
    first = sizes[0]
    for upload, size in zip(uploads[1:], sizes[1:]):
        if first is None or size is None:
            continue
        if (size != first) if exact else (sorted(size) != sorted(first)):
            raise ApiError(422, f"images differ in size: a is {_wxh(first)} and {upload.field} is {_wxh(size)} "
                                "(WxH); fusion needs registered images of one size (or a calibrated "
                                "camera rig in the field 'rig': defusion calibrate)")


def _fields_taken(limits: Limits) -> str:
    """What a request's form may hold, for error messages."""
    return (f"image files in fields {', '.join(repr(f) for f in limits.fields)} (a and b, then the others "
            f"in order) and an optional {RIG_FIELD!r}")


async def _read_uploads(request: Request, limits: Limits) -> tuple[list[_Upload], str | None]:
    """Parse the multipart body within the limits: the image fields ``a``, ``b``, ... in order,
    read but not decoded, and the text of the ``rig`` field (None if absent)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(415, "expected a multipart/form-data body with image files in fields 'a', 'b' (, 'c', ...) "
                            f"(got {content_type or 'no Content-Type'})")
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            declared_bytes = int(declared)
        except ValueError:
            raise ApiError(400, f"invalid Content-Length {declared!r}") from None
        if declared_bytes > limits.max_request_bytes:
            raise ApiError(413, f"request body of {declared_bytes} bytes is over the limit of "
                                f"{limits.max_request_bytes} bytes (each file at most {limits.max_upload_bytes})")
    form = await _parse_form(request, limits)
    try:
        # a browser's form sends an optional input left blank as an empty part: as if it were not there
        items = [(name, value) for name, value in form.multi_items()
                 if not (name in OPTIONAL_FIELDS and _blank(value))]
        names = [name for name, _ in items]
        _refuse_repeated("field", names)
        fields = dict(items)
        present = [f for f in FIELDS if fields.get(f) is not None]
        if len(present) > limits.max_images:
            raise ApiError(422, f"{len(present)} images; this server fuses at most {limits.max_images} per request, "
                                f"in fields {', '.join(repr(f) for f in limits.fields)}")
        _refuse_unknown("field", names, (*limits.fields, RIG_FIELD), _fields_taken(limits))
        count = max(2, len(present))
        files = []
        for field in FIELDS[:count]:
            value = fields.get(field)
            if value is None:
                raise ApiError(422, f"missing field '{field}': send the image files as multipart fields "
                                    f"{', '.join(repr(f) for f in FIELDS[:count])}, in order")
            if not isinstance(value, UploadFile):
                raise ApiError(422, f"field '{field}' must be a file upload, not a text value")
            if value.size is not None and value.size > limits.max_upload_bytes:
                raise ApiError(413, f"field '{field}': {value.size} bytes is over the limit of "
                                    f"{limits.max_upload_bytes} bytes")
            files.append(value)
        uploads = []
        for field, file in zip(FIELDS, files):
            data = await file.read(limits.max_upload_bytes + 1)
            if len(data) > limits.max_upload_bytes:
                raise ApiError(413, f"field '{field}': over the limit of {limits.max_upload_bytes} bytes")
            uploads.append(_Upload(field, data, file.filename or field))
        rig = await _read_rig_field(fields.get(RIG_FIELD))
    finally:
        await form.close()
    return uploads, rig


def _blank(value: UploadFile | str) -> bool:
    """An empty part as a browser's form sends a blank input: a file input with no file chosen
    (``filename=""``, no bytes) or a text input left empty. A chosen file that is empty is not blank."""
    if isinstance(value, UploadFile):
        return not value.filename and not value.size
    return not value.strip()


async def _parse_form(request: Request, limits: Limits) -> FormData:
    """The multipart form, counting the bytes actually received (Content-Length may be absent,
    chunked, or wrong): 413 over the bound, 400 for a malformed body, :class:`_ClientGone` when
    the client disconnects before the end of it."""
    bounded = Request(request.scope, _bounded_receive(request.receive, limits.max_request_bytes,
                                                      limits.upload_timeout_s))
    try:
        async with contextlib.aclosing(bounded.stream()) as stream:
            # room for a rig file and one stray part, so that a stray is named later rather than counted here
            return await _MultipartBody(bounded.headers, stream, max_files=limits.max_images + 2,
                                        max_fields=limits.max_images + 4).parse()
    except _BodyTooLarge:
        raise ApiError(413, f"request body is over the limit of {limits.max_request_bytes} bytes "
                            f"(each file at most {limits.max_upload_bytes})") from None
    except _UploadStalled:
        raise ApiError(408, f"the upload stalled: no data for {limits.upload_timeout_s:g} s (the server's "
                            "--upload-timeout); send the whole body without pauses") from None
    except ClientDisconnect:
        raise _ClientGone("during the upload") from None
    except MultiPartException as exc:
        if exc.message.startswith("Too many"):  # starlette's bound on the parts: as more images than allowed
            raise ApiError(422, f"too many parts in one request ({exc.message.rstrip('.')}); this server "
                                f"fuses at most {limits.max_images} images per request and takes "
                                f"{_fields_taken(limits)}") from None
        reason = exc.message.rstrip(".")
        raise ApiError(400, f"malformed multipart body: {reason[:1].lower()}{reason[1:]}") from None


async def _read_rig_field(value) -> str | None:
    """The ``rig`` field's text (a text value, or a small uploaded JSON file); None if absent."""
    if value is None:
        return None
    data = await value.read(MAX_RIG_BYTES + 1) if isinstance(value, UploadFile) else value.encode()
    if len(data) > MAX_RIG_BYTES:
        raise ApiError(413, f"field '{RIG_FIELD}': over the limit of {MAX_RIG_BYTES} bytes for a rig file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(422, f"field '{RIG_FIELD}': not UTF-8 text (send the JSON written by defusion calibrate)") from None


def _parse_rig(text: str) -> Rig:
    try:
        return Rig.loads(text, f"field '{RIG_FIELD}'")
    except RigError as exc:
        raise ApiError(422, str(exc)) from None


def _decode(upload: _Upload, max_pixels: int) -> np.ndarray:
    """The upload's pixels; every failure to decode it is the upload's problem: a 4xx, never a 500."""
    field = upload.field
    try:
        return decode_image(upload.data, upload.name, max_pixels)
    except UploadStorageError:  # the server's disk or temporary folder; decode_image logged the reason
        raise ApiError(SERVICE_UNAVAILABLE, f"field '{field}': the server could not store the upload to decode it "
                                            "(a problem on the server, not the image; its log has the reason); "
                                            "retry later") from None
    except ImageTooLargeError as exc:
        raise ApiError(413, f"field '{field}': {exc.told(hint=SERVER_LIMIT_HINT)}") from None
    except UnsupportedImageError as exc:
        raise ApiError(415, f"field '{field}': {exc}") from None
    except ImageReadError as exc:
        raise ApiError(400, f"field '{field}': {exc}") from None
    except MemoryError:
        raise
    except Exception as exc:  # decode_image words the decoders' own failures; this is the last line
        log.warning("decoding field %r (%s) failed in an unexpected way (a bug in reading?)", field, upload.name,
                    exc_info=True)
        raise ApiError(400, f"cannot read image '{field}' ({upload.name}): {one_line(exc)}") from None


def _metadata(upload: _Upload) -> ImageMetadata:
    """The upload's colour profile and EXIF; none where they cannot be read (the pixels were)."""
    try:
        return read_metadata(upload.data)
    except MemoryError:  # the server's limits, not the file's fault: a 503
        raise
    except Exception:  # corrupt EXIF that Pillow's parser trips over: the fused image goes without
        log.debug("reading the metadata of field %r (%s) failed", upload.field, upload.name, exc_info=True)
        return ImageMetadata()


def _bounded_receive(receive: Callable, limit: int, idle_timeout_s: float = UPLOAD_IDLE_TIMEOUT_S) -> Callable:
    """``receive`` counting the body's bytes (:class:`_BodyTooLarge` over ``limit``) and waiting at
    most ``idle_timeout_s`` for each message (:class:`_UploadStalled`)."""
    received = 0

    async def bounded():
        nonlocal received
        try:
            with anyio.fail_after(idle_timeout_s):
                message = await receive()
        except TimeoutError:
            raise _UploadStalled from None
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge
        return message

    return bounded


def encode_png(image: np.ndarray, metadata: ImageMetadata | None = None) -> bytes:
    """HxW or HxWx3 uint8/uint16 to PNG bytes (16-bit stays 16-bit), with ``metadata`` if given."""
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(bgr))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    return encoded.tobytes() if metadata is None else embed_metadata(encoded.tobytes(), ".png", metadata)


def _zip(files: dict[str, np.ndarray], fused_metadata: ImageMetadata | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:  # PNG is compressed already
        for name, image in files.items():
            zf.writestr(name, encode_png(image, fused_metadata if name == COMPONENT_FILES[0] else None))
    return buffer.getvalue()


def _zip_parts(parts: Decomposition, with_source_map: bool = False,
               fused_metadata: ImageMetadata | None = None) -> bytes:
    files = dict(zip(COMPONENT_FILES, (parts.fused, parts.common, parts.unique_a, parts.unique_b)))
    if parts.weight_a is not None:
        files[WEIGHT_FILE] = to_uint8(parts.weight_a)
        if with_source_map:
            files[SOURCE_MAP_FILE] = to_uint8(source_map([parts.weight_a, 1 - parts.weight_a]))
    return _zip(files, fused_metadata)


def _zip_selection(selection: Selection, fused_metadata: ImageMetadata | None = None) -> bytes:
    return _zip({COMPONENT_FILES[0]: selection.fused, SOURCE_MAP_FILE: to_uint8(source_map(selection.weights))},
                fused_metadata)


def _wxh(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"


def _count_parameters(weights: str | Path) -> int | None:
    """The number of values in a safetensors file's tensors, from its header (None if unreadable)."""
    import math

    from safetensors import safe_open

    try:
        with safe_open(str(weights), "np") as f:
            return int(sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys()))
    except Exception:  # info must never fail; the weights were loaded already
        return None


def _count_config_parameters(cfg) -> int | None:
    """The number of parameters of the DeNet ``cfg`` describes, built on the meta device (no memory)."""
    try:
        import torch

        from defusion.model.denet import DeNet

        with torch.device("meta"):
            return int(sum(p.numel() for p in DeNet(cfg).parameters()))
    except Exception:  # info must never fail
        return None


#: Metadata of a weights or ONNX file that /v1/info leaves out of ``weights.metadata``: the model's
#: config (``model.config`` has it), the file format, and what an ONNX export says about its own
#: inputs (docs/serving.md, "Fusing without defusion"), not about the weights.
NOT_WEIGHTS_METADATA = ("config", "format", "size_multiple", "input_note", "fusion_defaults")
#: A word of a metadata value with a path separator in it (not part of a URL).
_PATH_WORD = re.compile(r"(?<![\w:/.~-])(?:[A-Za-z]:)?[\w.~-]*[/\\][\w.~/\\-]*")
#: How a file path starts where it is not relative to nothing: /, C:\, ./, ../, ~/.
_PATH_START = re.compile(r"(?:[A-Za-z]:)?[/\\]|\.{1,2}[/\\]|~[/\\]")


def _without_paths(value: str) -> str:
    """``value`` with each file path in it cut to its last part: a client has no business learning
    the server's (or the training machine's) folders.

    Example:
        >>> _without_paths("ImageNet sample images (1000), ../shared/data/train/natural")
        'ImageNet sample images (1000), natural'
        >>> _without_paths("see https://example.com/a/b; 1/2 of the steps, fp16/fp32, /srv/w/run3")
        'see https://example.com/a/b; 1/2 of the steps, fp16/fp32, run3'
    """
    def cut(match: re.Match) -> str:
        word = match.group(0)
        if not re.search(r"[A-Za-z]", word):  # a ratio or a date (1/2, 12/05)
            return word
        if not _PATH_START.match(word) and len(re.findall(r"[/\\]", word.rstrip("/\\"))) < 2:
            return word  # one separator, relative: and/or, fp16/fp32, not a folder of the server's
        parts = [part for part in re.split(r"[/\\]", word) if part]
        return parts[-1] if parts else word

    return _PATH_WORD.sub(cut, value)


def _describe(fuser: Fuser, limits: Limits, weights: str | Path | None) -> dict[str, Any]:
    """The /v1/info document (computed once)."""
    from defusion.model.registry import list_models, model_config

    model = fuser.model
    cfg = getattr(model, "cfg", None)
    name = "custom"
    if cfg is not None:
        name = next((n for n in list_models() if model_config(n) == cfg), "custom")
    parameters = None
    if hasattr(model, "parameters"):
        parameters = int(sum(p.numel() for p in model.parameters()))
    elif weights is not None and str(weights).endswith(".safetensors"):  # ONNX Runtime: count the file's tensors
        parameters = _count_parameters(weights)
    elif cfg is not None:  # an ONNX file (OnnxDeNet): the DeNet its config describes
        parameters = _count_config_parameters(cfg)
    metadata: dict[str, str] = {}
    if weights is not None and str(weights).endswith(".safetensors"):
        from defusion.model.weights import read_metadata

        try:
            metadata = dict(read_metadata(weights))
        except Exception:  # info must never fail; the weights were loaded already
            metadata = {}
    elif isinstance(getattr(model, "metadata", None), dict):  # an ONNX file: the weights' metadata it carries
        metadata = {str(k): str(v) for k, v in model.metadata.items()}
    metadata = {k: _without_paths(v) for k, v in metadata.items() if k not in NOT_WEIGHTS_METADATA}
    return {
        "model": {
            "name": name,
            "runtime": getattr(model, "runtime", "pytorch"),
            "config": cfg.to_dict() if cfg is not None else None,
            "parameters": parameters,
        },
        # the file name only: a client has no business learning the server's paths
        "weights": {"file": Path(weights).name if weights is not None else None, "metadata": metadata},
        "device": str(fuser.device),
        "half": fuser.half,
        # detail_gain as run (a null one goes with the unique gain)
        "options": {**asdict(fuser.options), "detail_gain": fuser.options.resolved_detail_gain},
        # what POST /v1/fuse?task=... changes from "options", per task
        "tasks": {task: _task_settings(fuser.options.with_task(task)) for task in TASKS},
        "limits": {**asdict(limits), "max_request_bytes": limits.max_request_bytes},
        "version": __version__,
    }


def _task_settings(options: FuseOptions) -> dict:
    """The fields a task sets, as the network runs them (the detail gain resolved), and the scale."""
    return {name: options.resolved_detail_gain if name == "detail_gain" else getattr(options, name)
            for name in (*TASK_FIELDS, "scale")}


def build_app(weights: str | Path | None = None, device: str = "auto", limits: Limits | None = None,
              onnx: str | Path | None = None, threads: int | None = None, runtime: str = "auto",
              cors_origins: Sequence[str] = (), **fuse_options) -> FastAPI:
    """Load a model (safetensors ``weights``, default the shipped ones, or an ``onnx`` file) and wrap it.

    ``threads`` bounds the CPU threads of one inference (PyTorch or onnxruntime); ``runtime``
    is ``auto`` (onnxruntime on a CPU, torch on a GPU), ``torch`` or ``onnxruntime`` (the weights
    exported once and cached); ``cors_origins``: see :func:`create_app`.
    """
    if onnx is not None:
        from defusion.serving.onnx_model import load_onnx_fuser

        fuser = load_onnx_fuser(onnx, device=device, threads=threads, **fuse_options)
        return create_app(fuser, limits, weights=onnx, cors_origins=cors_origins)
    if threads:
        import torch

        torch.set_num_threads(threads)
    from defusion.model.weights import shipped_weights_path

    fuser = Fuser.from_pretrained(weights, device=device, runtime=runtime, threads=threads, **fuse_options)
    return create_app(fuser, limits, weights=weights if weights is not None else shipped_weights_path(),
                      cors_origins=cors_origins)


#: The variables :func:`app_from_env` reads: each stands for the ``defusion serve`` option whose
#: parser and checks it goes through, and says what it takes where argparse's message would not
#: (a choice's message lists the choices). ``--host``, ``--port`` and ``--log-level`` are uvicorn's own.
ENV_VARIABLES: dict[str, tuple[str, str | None]] = {
    "DEFUSION_WEIGHTS": ("--weights", "a weights file (.safetensors)"),
    "DEFUSION_ONNX": ("--onnx", "an ONNX export (defusion export)"),
    "DEFUSION_RUNTIME": ("--runtime", None),
    "DEFUSION_DEVICE": ("--device", None),
    "DEFUSION_THREADS": ("--threads", "a whole number of 1 or more"),
    "DEFUSION_MAX_UPLOAD_BYTES": ("--max-upload-bytes", "a whole number of 1 or more"),
    "DEFUSION_MAX_PIXELS": ("--max-pixels", "a whole number of 1 or more"),
    "DEFUSION_MAX_IMAGES": ("--max-images", f"a whole number from 2 to {len(FIELDS)}"),
    "DEFUSION_MAX_QUEUE": ("--max-queue", "a whole number of 0 or more"),
    "DEFUSION_UPLOAD_TIMEOUT": ("--upload-timeout", "a number of seconds above 0"),
    "DEFUSION_TASK": ("--task", None),
    "DEFUSION_SCALE": ("--scale", "a whole number of 1 or more"),
    "DEFUSION_TILE": ("--tile", "a whole number: 0 (no tiling) or a tile size in pixels"),
    "DEFUSION_UNIQUE_GAIN": ("--unique-gain", f"a number from 0 to {MAX_UNIQUE_GAIN:g}"),
    "DEFUSION_DETAIL_GAIN": ("--detail-gain", f"a number from 0 to {MAX_DETAIL_GAIN:g}"),
    "DEFUSION_PALETTE": ("--palette", None),
    "DEFUSION_INFRARED": ("--infrared", "a whole number of 1 or more (1 for 'a')"),
    "DEFUSION_RIG": ("--rig", "a rig file (defusion calibrate)"),
    "DEFUSION_CORS_ORIGINS": ("--cors-origin", "origins such as https://app.example.com (scheme, host and "
                                              "port, no path), separated by commas or spaces, or *"),
}
#: The variables that hold a list (each item is one of its option's values).
LIST_ENV_VARIABLES = ("DEFUSION_CORS_ORIGINS",)


class EnvSettingError(ValueError):
    """A bad ``DEFUSION_*`` value: one line naming the variable and what it takes (what a
    uvicorn or gunicorn user reads first, instead of a bare int() traceback)."""


class _UsageError(Exception):
    pass


class _RaisingParser(argparse.ArgumentParser):
    """``defusion serve``'s parser, raising its usage errors (to be reworded) instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise _UsageError(message)


#: DEFUSION_* variables other parts of the package read (not server settings: no warning for them).
OTHER_ENV_VARIABLES = ("DEFUSION_CACHE", "DEFUSION_CONTAINER_CACHE")  # the export cache; the container test's


def settings_from_env(environ: Mapping[str, str] | None = None) -> dict[str, Any]:
    """:func:`build_app`'s arguments from the ``DEFUSION_*`` variables (:data:`ENV_VARIABLES`) in
    ``environ`` (default ``os.environ``); unset or empty ones keep ``defusion serve``'s defaults.

    Each value goes through ``defusion serve``'s own parser, checks and ``fusion_options``, so a
    multi-worker server runs exactly as ``defusion serve`` with those options would. Raises
    :class:`EnvSettingError` for a bad value.
    """
    from defusion.cli import serve as serve_cli  # here: the CLI is not needed to create_app
    from defusion.cli.errors import UserError
    from defusion.cli.options import fusion_options

    environ = os.environ if environ is None else environ
    unknown = sorted(name for name in environ if name.startswith("DEFUSION_") and name not in ENV_VARIABLES
                     and name not in OTHER_ENV_VARIABLES)
    if unknown:  # a typo (DEFUSION_SACLE) would otherwise pass unnoticed
        log.warning("unknown server setting(s) %s ignored; the server reads %s", ", ".join(unknown),
                    ", ".join(ENV_VARIABLES))
    parser = _RaisingParser(prog="defusion serve", add_help=False)
    serve_cli.add_arguments(parser)
    argv = []
    for name, (option, takes) in ENV_VARIABLES.items():
        value = environ.get(name, "")
        items = [item for item in re.split(r"[,\s]+", value) if item] if name in LIST_ENV_VARIABLES else [value]
        for item in filter(None, items):
            given = f"{option}={item}"  # one token: a value starting with '-' stays a value
            try:
                parser.parse_args([given])
            except _UsageError as exc:
                reason = re.sub(r"^argument [^:]*: ", "", str(exc))
                raise EnvSettingError(f"{name}={value!r}: {reason}" + (f"; {name} takes {takes}" if takes else "")
                                      + f" (as defusion serve {option})") from None
            argv.append(given)
    args = parser.parse_args(argv)
    try:
        serve_cli.check_options(args)  # the rules across options (--tile, --max-images, --onnx with --weights)
        options = fusion_options(args, names=("tile", "scale", "palette"))  # as defusion serve
    except RigError as exc:
        raise EnvSettingError(f"DEFUSION_RIG={environ.get('DEFUSION_RIG')!r}: {exc}") from None
    except (UserError, ValueError) as exc:
        raise EnvSettingError(_in_env_terms(str(exc))) from None
    return {"weights": args.weights, "device": args.device,
            "limits": Limits(args.max_upload_bytes, args.max_pixels, args.max_images, args.max_queue,
                             args.upload_timeout),
            "onnx": args.onnx, "threads": args.threads, "runtime": args.runtime,
            "cors_origins": tuple(args.cors_origin or ()), **options}


def _in_env_terms(message: str) -> str:
    """A ``defusion serve`` message with each option it names replaced by its variable."""
    variables = {option: name for name, (option, _) in ENV_VARIABLES.items()}
    return re.sub(r"--[a-z][a-z0-9-]*", lambda m: variables.get(m.group(0), m.group(0)), message)


def app_from_env(environ: Mapping[str, str] | None = None) -> FastAPI:
    """App factory for ``uvicorn --factory defusion.serving.api:app_from_env`` (and gunicorn's
    uvicorn workers): ``defusion serve``'s settings from the ``DEFUSION_*`` variables of
    :data:`ENV_VARIABLES` (:func:`settings_from_env`; docs/serving.md lists them).

    A bad value, or a model file that will not load, is an :class:`EnvSettingError` naming the variable.
    """
    from defusion.model.weights import WeightsError
    from defusion.serving.onnx_model import OnnxModelError

    settings = settings_from_env(environ)
    try:
        return build_app(**settings)
    except (WeightsError, OnnxModelError) as exc:
        name = "DEFUSION_ONNX" if settings["onnx"] is not None else "DEFUSION_WEIGHTS"
        if settings["onnx"] is None and settings["weights"] is None:
            raise  # the shipped weights: no variable to name
        raise EnvSettingError(f"{name}: {exc}") from None


__all__ = ["Limits", "create_app", "build_app", "app_from_env", "settings_from_env", "EnvSettingError",
           "ENV_VARIABLES", "encode_png", "COMPONENT_FILES", "WEIGHT_FILE",
           "SOURCE_MAP_FILE", "DEFAULT_MAX_UPLOAD_BYTES", "DEFAULT_MAX_IMAGES", "DEFAULT_SERVER_MAX_PIXELS",
           "DEFAULT_MAX_QUEUE", "UPLOAD_IDLE_TIMEOUT_S"]
