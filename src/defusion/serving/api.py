"""The DeFusion REST API (FastAPI): ``POST /v1/fuse``, ``GET /healthz``, ``GET /readyz``, ``GET /v1/info``.

The server calls the one fusion core, :meth:`Fuser.fuse` / :meth:`Fuser.decompose`; uploads are
decoded by :func:`defusion.serving.decode.decode_image`, i.e. by ``read_image``'s rules. One model
is shared by all requests: a request waits for its turn on the event loop (an asyncio lock, no
worker thread held while it waits) and its model call runs in the thread pool, so the event loop
and the pool keep accepting, checking and decoding other requests meanwhile. At most
``max_queue`` requests are held besides the one being fused; more are answered 503 at once. Each
request is checked and fused with its own options (the server's with the request's on top), never
the shared Fuser's, and is skipped if its client has left by the time the model is free.

Every error is JSON ``{"detail": "..."}`` (a string), with CORS headers where CORS is on:

====  ===========================================================================
400   unreadable, empty, truncated or corrupt image (whatever its decoder raises); malformed
      multipart body (no boundary, or one that ends before its closing boundary); with
      ``allowed_hosts`` (``defusion serve`` on a loopback address), a Host header that names
      neither a loopback host nor an allowed one
408   the upload stalled: no piece of the body for ``upload_timeout_s`` seconds (``--upload-timeout``),
      or the whole body not in after ``upload_deadline_s`` (``--upload-deadline``); with
      ``Connection: close``, so the slow client's socket is not kept alive
413   a file over ``max_upload_bytes`` (Content-Length or bytes actually read), or
      an image over ``max_pixels``
415   not an image (text, unknown format), or a body that is not multipart/form-data
422   a missing field ``a`` or ``b``, more than ``max_images`` images or a gap in the fields,
      sources of different sizes, components of more than two images, a bad query value, an
      unknown query parameter or form field, a query parameter or field sent twice, a ``format``
      whose encoder cannot hold the image's sides (WebP up to 16383 px, JPEG up to 65500)
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

import asyncio
import inspect
import logging
import threading
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Callable, Mapping, Sequence

import anyio.from_thread
import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException

from defusion import __version__
from defusion.fusion.align import Motion
from defusion.fusion.fuser import Fuser, SizeMismatchError, Task
from defusion.fusion.selection import PixelSource
from defusion.fusion.stretch import STRETCHES, FixedStretch
from defusion.io.formats import DEFAULT_JPEG_QUALITY
from defusion.io.metadata import ImageMetadata, choose_metadata
from defusion.io.notes import collecting
from defusion.serving.answer_format import (DEFAULT_FORMAT, FORMATS, QUALITY_RANGE, AnswerFormat, check_sides,
                                            disposition, encode_answer, format_notes, quality_note, settled)
from defusion.serving.cors import (CORS_EXPOSED_HEADERS, CORS_MAX_AGE_S, CORS_METHODS, JsonCORSMiddleware,
                                   cors_options)
from defusion.serving.decode import one_line
from defusion.serving.env_settings import ENV_VARIABLES, EnvSettingError, settings_from_env
from defusion.serving.errors import (CLIENT_CLOSED_REQUEST, SERVICE_UNAVAILABLE, ApiError, ClientGone, check_host,
                                     normal_host, options_or_422, refuse_repeated, refuse_unknown)
from defusion.serving.info import describe, weights_id
from defusion.serving.limits import (DEFAULT_MAX_IMAGES, DEFAULT_MAX_QUEUE, DEFAULT_MAX_UPLOAD_BYTES,
                                     DEFAULT_SERVER_MAX_PIXELS, FIELDS, UPLOAD_DEADLINE_S, UPLOAD_IDLE_TIMEOUT_S,
                                     Limits)
from defusion.serving.multipart import parse_rig, read_uploads
from defusion.serving.openapi import (ERROR_HEADERS, ERRORS, QUERY_HELP, RESPONSE_HEADERS, ErrorDetail, HealthStatus,
                                      Info, Palette, fuse_request_body)
from defusion.serving.responses import (COMPONENT_FILES, MODEL_HEADER, NOTES_HEADER, SOURCE_MAP_FILE, WEIGHT_FILE,
                                        encode_png, model_header, noted, zip_parts, zip_selection)
from defusion.serving.runner import QUEUE_FULL_RETRY_AFTER_S, FuserCall, ModelRunner, QueueFull
from defusion.serving.shutdown import INTERNAL_ERROR, INTERNAL_SERVER_ERROR, AnswerCancelled
from defusion.serving.stream import (check_stretch_fields, float_notes, fold_float_stretch, kept_headers, map_floats,
                                     mapping_notes, parse_palette_range, pinned, read_stretch)
from defusion.serving.upload_images import decoded, upload_label, upload_metadata

log = logging.getLogger("defusion.serving")

#: How an answer of /healthz or /readyz is described in OpenAPI, by status.
_PROBE_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"model": HealthStatus, "description": "alive (/healthz: ok) or ready for a new request (/readyz: ready)"},
    SERVICE_UNAVAILABLE: {"model": HealthStatus,
                          "description": "the model is still loading; for /readyz also busy (max_queue requests "
                                         "are held already), with Retry-After"},
}


def create_app(fuser: Fuser, limits: Limits | None = None, *, weights: str | Path | None = None,
               cors_origins: Sequence[str] = (), allowed_hosts: Sequence[str] | None = None,
               task: Task | None = None) -> FastAPI:
    """The API around a ready ``fuser``; ``weights`` (the file it was loaded from) feeds /v1/info.
    ``task``: the one the server's options were made for (``defusion serve --task``), which the
    notes follow where a request asks none (an infrared + visible pair sent infrared first, ``ivf``).
    ``cors_origins``: the browser origins (``https://app.example.com``, or ``*``) whose pages may
    call the API (CORS); none by default. ``allowed_hosts``: None (the default) answers every Host
    header; a sequence (even empty) answers only loopback hosts and these names, any port, and
    refuses others with a 400 (:class:`HostCheck`; ``defusion serve`` on a loopback address)."""
    limits = limits or Limits()
    runner, server_task = ModelRunner(fuser, limits.max_queue), task
    app = FastAPI(title="DeFusion", version=__version__,
                  description="Image fusion from decomposition (Liang et al., ECCV 2022)")
    app.state.fuser, app.state.limits, app.state.weights, app.state.runner = fuser, limits, weights, runner
    app.state.task = task
    info = describe(fuser, limits, weights)  # once: the model file's SHA-256 is not computed per request
    made_by = model_header(__version__, weights_id(info))
    app.add_middleware(AnswerCancelled)  # before CORS, which wraps it: its 503 and 500 carry CORS headers too
    if cors_origins:
        app.add_middleware(JsonCORSMiddleware, **cors_options(cors_origins))
    if allowed_hosts is not None:  # added last, so outermost: a refused Host reaches nothing else
        app.add_middleware(HostCheck, allowed=allowed_hosts)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        if exc.status < 500:  # the request's fault: worth a line only when looking into it
            log.debug("%s %s: %d %s", request.method, request.url.path, exc.status, exc.detail)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status, headers=exc.headers)

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

    @app.exception_handler(ClientGone)
    async def _client_gone(request: Request, exc: ClientGone) -> Response:
        # uvicorn writes no access-log line for a response to a client that has gone: this is its line
        log.info('%s - "%s %s HTTP/%s" %d: the client disconnected %s', _client_address(request), request.method,
                 _path_with_query(request), request.scope.get("http_version", "1.1"), CLIENT_CLOSED_REQUEST, exc)
        return Response(status_code=CLIENT_CLOSED_REQUEST)  # no one reads it

    @app.exception_handler(QueueFull)
    async def _queue_full(request: Request, exc: QueueFull) -> JSONResponse:
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
        # AnswerCancelled answers first, inside CORS; this is for a failure outside it (in a middleware).
        # Starlette re-raises it after this answer, so the server still logs the traceback.
        return JSONResponse({"detail": INTERNAL_ERROR}, status_code=INTERNAL_SERVER_ERROR)

    @app.head("/healthz", include_in_schema=False)  # the same answer without a body (uvicorn drops it)
    @app.get("/healthz", operation_id="healthz", responses=_PROBE_ANSWERS)
    async def healthz() -> JSONResponse:
        """Liveness: 200 once the model is loaded, however busy the server is."""
        if getattr(fuser, "model", None) is None:
            return JSONResponse({"status": "loading"}, status_code=SERVICE_UNAVAILABLE)
        return JSONResponse({"status": "ok"})

    @app.head("/readyz", include_in_schema=False)  # the same answer without a body (uvicorn drops it)
    @app.get("/readyz", operation_id="readyz",
             responses={**_PROBE_ANSWERS, SERVICE_UNAVAILABLE: {
                 **_PROBE_ANSWERS[SERVICE_UNAVAILABLE],
                 "headers": {"Retry-After": ERROR_HEADERS[SERVICE_UNAVAILABLE]["Retry-After"]}}})
    async def readyz() -> JSONResponse:
        """Readiness: 503 while a new request would be refused (the queue is full), else 200."""
        if getattr(fuser, "model", None) is None:
            return JSONResponse({"status": "loading"}, status_code=SERVICE_UNAVAILABLE)
        state = {"requests": runner.active, "waiting": runner.waiting, "max_queue": runner.max_queue}
        if runner.full:
            return JSONResponse({"status": "busy", **state}, status_code=SERVICE_UNAVAILABLE,
                                headers={"Retry-After": str(QUEUE_FULL_RETRY_AFTER_S)})
        return JSONResponse({"status": "ready", **state})

    @app.head("/v1/info", include_in_schema=False)  # the same answer without a body (uvicorn drops it)
    @app.get("/v1/info", operation_id="info", response_model=None,
             responses={200: {"model": Info, "description": "the model, its weights' SHA-256, the options and "
                                                            "limits this server runs with"}})
    async def v1_info() -> JSONResponse:
        """The model (name, runtime, config, parameters), the weights (file name, SHA-256, metadata), the
        device, the options, what each task changes, the limits and the version."""
        return JSONResponse(info)

    @app.post(
        "/v1/fuse",
        operation_id="fuse",
        response_class=Response,
        responses={200: {"headers": RESPONSE_HEADERS,
                         "content": {**{spec.media_type: {"schema": {"type": "string", "format": "binary"}}
                                        for spec in FORMATS.values()},
                                     "application/zip": {"schema": {"type": "string", "format": "binary"}}},
                         "description": "the fused image (PNG unless format= or Accept asks another), or with "
                                        "components=true a zip of PNGs, "
                                        + ", ".join(COMPONENT_FILES) + f" (and {WEIGHT_FILE} with pixels=sources), "
                                        f"or with source_map=true a zip of fused.png and {SOURCE_MAP_FILE}"},
                   **{status: {"model": ErrorDetail, "description": text,
                               **({"headers": ERROR_HEADERS[status]} if status in ERROR_HEADERS else {})}
                      for status, text in ERRORS.items()}},
        openapi_extra={"requestBody": fuse_request_body(limits)},
    )
    async def v1_fuse(request: Request,
                      components: Annotated[bool, Query(description=QUERY_HELP["components"])] = False,
                      task: Annotated[Task | None, Query(description=QUERY_HELP["task"])] = None,
                      align: Annotated[Motion | None, Query(description=QUERY_HELP["align"])] = None,
                      pixels: Annotated[PixelSource | None, Query(description=QUERY_HELP["pixels"])] = None,
                      stretch: Annotated[str | None, Query(description=QUERY_HELP["stretch"])] = None,
                      deghost: Annotated[bool | None, Query(description=QUERY_HELP["deghost"])] = None,
                      source_map: Annotated[bool, Query(description=QUERY_HELP["source_map"])] = False,
                      metadata: Annotated[bool, Query(description=QUERY_HELP["metadata"])] = True,
                      palette: Annotated[Palette | None, Query(description=QUERY_HELP["palette"])] = None,
                      infrared: Annotated[int | None, Query(description=QUERY_HELP["infrared"],
                                                           json_schema_extra=_at_least_one)] = None,
                      palette_range: Annotated[str | None, Query(description=QUERY_HELP["palette_range"])] = None,
                      format: Annotated[AnswerFormat | None, Query(description=QUERY_HELP["format"])] = None,
                      quality: Annotated[int, Query(description=QUERY_HELP["quality"], ge=QUALITY_RANGE[0],
                                                    le=QUALITY_RANGE[1])] = DEFAULT_JPEG_QUALITY
                      ) -> Response:
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
        stack's depth map). The fused image carries the
        sources' colour profile and ``a``'s EXIF (as ``defusion fuse``: without the exposure tags the
        uploads do not share, Software "defusion <version>") unless ``metadata=false``.
        ``stretch=none`` takes raw 16-bit grey frames (thermal counts) as they are instead of
        stretching them to the full range (``auto``, the server's default); ``stretch=a:7002-8997``
        (an earlier response's ``X-Defusion-Stretch``) maps them as that one did, and
        ``palette_range=LOW,HIGH`` (its ``X-Defusion-Palette-Range``) spans the palette as it did: a
        stream keeps one mapping, which a hot object entering the view cannot change (a float upload, a
        radiometric TIFF, is mapped by a range of its own values, ``b:20.5..44.75``, kept the same
        way); ``deghost=true`` removes ghosts of what moved between the images (brackets). A text field
        ``rig`` with a
        camera rig's calibration (the JSON of ``defusion calibrate``; ``curl -F 'rig=<rig.json'``)
        maps the other images onto ``a``'s pixel grid first, so a rig's images of different sizes fuse.
        ``palette`` (inferno, magma, plasma, hot, jet, turbo) colours the fused image by the infrared
        image's warmth, as thermal cameras show it; the infrared image is ``infrared=N`` (1 for
        ``a``), else the one raw thermal frame, else the only grey upload, else the last. ``format``
        (png, jpeg, webp, tiff; else the ``Accept`` header's choice among them where it puts one first,
        else png: :func:`~defusion.serving.answer_format.negotiated`) is the fused image's, as
        ``defusion fuse`` writes it (``quality``: JPEG's, 1-100); the zips stay PNG. A format chosen by
        ``Accept`` that cannot hold the result (its sides, or 16 bits) gives way to PNG, with a note; one
        asked by ``format`` is a 422 for sides past its encoder's. An unknown or repeated query parameter
        or form field is a 422.

        Everything a request asks is checked against its own options (the server's with the
        request's on top), before it waits for the model."""
        refuse_unknown("query parameter", request.query_params.keys(), query_parameters)
        refuse_repeated("query parameter", [name for name, _ in request.query_params.multi_items()])
        if infrared is not None and infrared < 1:
            raise ApiError(422, f"infrared={infrared}: the infrared image's place among the uploads, 1 for 'a'")
        stretch_asked, spans_asked = read_stretch(stretch, limits.fields) if stretch is not None else (None, {})
        options = options_or_422(runner.options_for, task, align=align, pixels=pixels, stretch=stretch_asked,
                                  deghost=deghost, palette=palette,
                                  infrared=infrared - 1 if infrared is not None else None,
                                  palette_range=parse_palette_range(palette_range) if palette_range is not None
                                  else None)
        if source_map and options.pixels != "sources":
            raise ApiError(422, "source_map=true needs pixels=sources: the network's reconstruction mixes the "
                                "sources, so no pixel comes from one image")
        if infrared is not None and options.palette == "none":
            raise ApiError(422, "infrared says which image a palette colours; add palette=inferno (or another)")
        if palette_range is not None and options.palette == "none":
            raise ApiError(422, "palette_range says what a palette spans; add palette=inferno (or another)")
        zipped = "components=true" if components else "source_map=true" if source_map else None
        if zipped and format not in (None, DEFAULT_FORMAT):
            raise ApiError(422, f"format={format} is the fused image's; {zipped} answers a zip of PNGs (lossless "
                                "maps): leave format out, or ask format=png")
        with runner.admitted():  # a place among the requests held, else 503 (before the body is read)
            uploads, rig_text = await read_uploads(request, limits)
            if rig_text is not None:
                options = options_or_422(replace, options, rig=parse_rig(rig_text))
            check_stretch_fields(options.stretch, len(uploads), spans_asked)
            if components and len(uploads) != 2:
                raise ApiError(422, f"components=true decomposes a pair; got {len(uploads)} images")
            if options.palette != "none" and options.infrared is not None and options.infrared >= len(uploads):
                raise ApiError(422, f"infrared image {options.infrared + 1} was asked for, but {len(uploads)} images "
                                    "were given")
            with collecting() as said:  # what reading the uploads had to say (alpha, frames, ...): a response header
                values = await decoded(uploads, options.rig, limits, floats="values")
            # float frames to 16 bits by one range a stream can keep (stretch=a:LOW..HIGH), else the frame's own
            images, spans = await run_in_threadpool(map_floats, values, options.stretch, spans_asked)
            if format is not None:  # a format too narrow for the uploads' sides: refused before the model's turn
                check_sides(format, images[0].shape)
            sources_metadata = await run_in_threadpool(lambda: [upload_metadata(u) for u in uploads]) if metadata else []

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
                            raise ClientGone("while waiting for the model; its fusion was skipped")
                        return await run_in_threadpool(runner.run, call, images, options, wanted)
                except asyncio.CancelledError:
                    cancelled.set()
                    log.warning('%s - "%s %s": cancelled by the server\'s shutdown (--timeout-graceful-shutdown '
                                "ran out) before its answer", _client_address(request), request.method,
                                _path_with_query(request))
                    raise

            def headers(disposition: str) -> dict[str, str]:
                """The response's headers: what it used for a stream to keep, and what there was to say."""
                return noted({"Content-Disposition": disposition, MODEL_HEADER: made_by,
                              **kept_headers(options, spans)}, said)

            try:
                asked = runner.fuser_for(options)
                options = await run_in_threadpool(pinned, asked, images)  # the same fusion; its headers say it
                # a count stretch measured on a float upload (floats in a narrow band of [0, 1]): into its span
                images, options, spans = await run_in_threadpool(fold_float_stretch, values, images, options, spans)
                names = [upload_label(u) for u in uploads]
                said += float_notes(names, values, spans, spans_asked)
                mapped = ([*(stretch_asked.sources if isinstance(stretch_asked, FixedStretch) else ()), *spans_asked]
                          if stretch is not None and stretch not in STRETCHES else None)
                said += await run_in_threadpool(mapping_notes, asked, options, images, names,
                                                task if task is not None else server_task, mapped,
                                                [i for i, v in enumerate(values) if v.dtype.kind == "f"])
                if zipped and "quality" in request.query_params:
                    said.append(quality_note("zip of PNGs"))
                if components:
                    parts = await in_model("decompose")
                    body = await run_in_threadpool(zip_parts, parts, source_map, kept(parts.fused))
                    return Response(body, media_type="application/zip",
                                    headers=headers('attachment; filename="components.zip"'))
                if source_map:
                    selection = await in_model("fuse_with_weights")
                    body = await run_in_threadpool(zip_selection, selection, kept(selection.fused))
                    return Response(body, media_type="application/zip",
                                    headers=headers('attachment; filename="fused.zip"'))
                fused = await in_model("fuse")
            except (SizeMismatchError, ValueError) as exc:  # layout problems the Fuser refuses
                raise ApiError(422, str(exc)) from None
            answer_format, format_said = settled(fused, format, request.headers.get("accept"))
            said += format_said + format_notes(fused, answer_format, "quality" in request.query_params)
            body = await run_in_threadpool(encode_answer, fused, answer_format, quality, kept(fused))
            return Response(body, media_type=FORMATS[answer_format].media_type,
                            headers={**headers(disposition(answer_format)), "Vary": "Accept"})

    # v1_fuse's own parameters, so that a misspelt one (?sclae=1) is refused, not ignored
    query_parameters = tuple(name for name in inspect.signature(v1_fuse).parameters if name != "request")
    return app


def _at_least_one(schema: dict[str, Any]) -> None:
    """OpenAPI's schema of ``infrared``: an integer of 1 or more (the handler words the 422 itself)."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "integer":
            branch["minimum"] = 1


class HostCheck:
    """ASGI middleware: an HTTP request whose Host header names neither a loopback host nor one of
    ``allowed`` is answered 400 (:func:`~defusion.serving.errors.check_host`). A server on
    127.0.0.1 is otherwise open to any web page whose name its author points at 127.0.0.1 (DNS
    rebinding): the visitor's browser sends that page's requests, with that name in Host."""

    def __init__(self, app: Any, allowed: Sequence[str]) -> None:
        self.app = app
        self.allowed = frozenset(normal_host(name) for name in allowed if name)  # a bare IPv6 too

    async def __call__(self, scope: dict[str, Any], receive: Callable, send: Callable) -> None:
        if scope["type"] == "http":
            host = Headers(scope=scope).get("host")
            try:
                check_host(host, self.allowed)
            except ApiError as exc:
                log.debug("%s %s: %d %s", scope.get("method"), scope.get("path"), exc.status, exc.detail)
                await JSONResponse({"detail": exc.detail}, status_code=exc.status)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _client_address(request: Request) -> str:
    """``host:port`` of the request's client, as uvicorn's access log writes it ("-" if unknown)."""
    client = request.client
    return f"{client.host}:{client.port}" if client else "-"


def _path_with_query(request: Request) -> str:
    query = request.url.query
    return f"{request.url.path}?{query}" if query else request.url.path


async def _still_connected(request: Request) -> Callable[[], bool]:
    """For a worker thread: whether ``request``'s client is still connected (asked on the event loop).

    Asked once now as well (:class:`ClientGone` if the client has left): uvicorn stops reading a
    connection once its request's body is in, and only a ``receive`` resumes it, so without this
    a client that leaves while its request waits for the model would go unnoticed."""
    if await request.is_disconnected():
        raise ClientGone("before its fusion; it was skipped")

    def connected() -> bool:
        return not anyio.from_thread.run(request.is_disconnected)

    return connected


def build_app(weights: str | Path | None = None, device: str = "auto", limits: Limits | None = None,
              onnx: str | Path | None = None, threads: int | None = None, runtime: str = "auto",
              cors_origins: Sequence[str] = (), allowed_hosts: Sequence[str] | None = None,
              task: Task | None = None, **fuse_options) -> FastAPI:
    """Load a model (safetensors ``weights``, default the shipped ones, or an ``onnx`` file) and wrap it.

    ``threads`` bounds the CPU threads of one inference (PyTorch or onnxruntime); ``runtime``
    is ``auto`` (onnxruntime on a CPU, torch on a GPU), ``torch`` or ``onnxruntime`` (the weights
    exported once and cached); ``cors_origins``, ``allowed_hosts``, ``task`` (the one ``fuse_options``
    were made for: ``defusion serve --task``): see :func:`create_app`.
    """
    from defusion.model.weights import shipped_weights_path

    model = onnx if onnx is not None else weights  # an export whatever its name; weights X.onnx is one too
    fuser = Fuser.from_pretrained(model, device=device, runtime=runtime, threads=threads,
                                  onnx=True if onnx is not None else None, **fuse_options)
    return create_app(fuser, limits, weights=model if model is not None else shipped_weights_path(),
                      cors_origins=cors_origins, allowed_hosts=allowed_hosts, task=task)


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


__all__ = ["Limits", "HostCheck", "create_app", "build_app", "app_from_env", "settings_from_env", "EnvSettingError",
           "ENV_VARIABLES", "encode_png", "COMPONENT_FILES", "NOTES_HEADER", "MODEL_HEADER", "WEIGHT_FILE",
           "SOURCE_MAP_FILE", "DEFAULT_MAX_UPLOAD_BYTES", "DEFAULT_MAX_IMAGES", "DEFAULT_SERVER_MAX_PIXELS",
           "DEFAULT_MAX_QUEUE", "UPLOAD_IDLE_TIMEOUT_S", "UPLOAD_DEADLINE_S", "CORS_METHODS", "CORS_EXPOSED_HEADERS",
           "CORS_MAX_AGE_S",
           "FIELDS"]  # defined in defusion.serving.limits; still imported from here
