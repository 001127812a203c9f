"""``POST /v1/fuse`` (:func:`add_fuse_route`): a request's query checked (:mod:`~defusion.serving.fuse_query`),
a place in the queue taken, its uploads read and decoded, the options its fusion measures fixed and
said, its turn on the model waited for, and its answer (an image, or a zip) built.

A request waits for the model on the event loop (an asyncio lock, no worker thread held) and its
model call runs in the thread pool, so the server keeps accepting, checking and decoding other
requests meanwhile (docs/serving.md, "Running the server")."""

from __future__ import annotations

import asyncio
import inspect
import logging
import threading
from dataclasses import dataclass, replace
from http import HTTPStatus
from typing import Annotated, Any, Callable

import anyio.from_thread
import numpy as np
from fastapi import FastAPI, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from defusion.fusion.align import Motion, describe_alignment
from defusion.fusion.deghost import describe_ghosts
from defusion.fusion.fuser import SizeMismatchError, Task
from defusion.fusion.options import FuseOptions
from defusion.fusion.results import Decomposition, Fusion, Selection
from defusion.fusion.selection import PixelSource
from defusion.io.metadata import ImageMetadata, choose_metadata
from defusion.io.notes import collecting, naming
from defusion.fusion.provenance import MadeBy
from defusion.serving.answer_format import (FORMATS, QUALITY_RANGE, AnswerFormat, check_answerable,
                                            choose_answer_format, disposition, encode_answer, format_notes,
                                            quality_note)
from defusion.serving.error_handlers import client_address, path_with_query
from defusion.serving.errors import ApiError, ClientGone, name_fields, options_or_422, refuse_repeated, refuse_unknown
from defusion.serving.fuse_query import FuseQuery, RequestOptions, request_options
from defusion.serving.limits import Limits
from defusion.serving.multipart import Upload, parse_rig, read_uploads
from defusion.serving.openapi import (ERROR_HEADERS, ERRORS, QUERY_HELP, RESPONSE_HEADERS, ErrorDetail, Palette,
                                      fuse_request_body)
from defusion.serving.responses import (COMPONENT_FILES, MODEL_HEADER, SOURCE_MAP_FILE, WEIGHT_FILE,
                                        with_notes_header, zip_parts, zip_selection)
from defusion.serving.runner import FuserCall, ModelRunner
from defusion.serving.stream import (STRETCH_HEADER, FloatSpans, check_stretch_fields, fix_measured_options,
                                     float_notes, fold_float_stretch, kept_headers, map_floats, mapping_notes)
from defusion.serving.upload_images import colours_matched, decoded, upload_label

log = logging.getLogger("defusion.serving")

#: OpenAPI's description of a 200 answer of ``POST /v1/fuse``: an image in any of the formats, or a zip.
FUSED_ANSWER: dict[str, Any] = {
    "headers": RESPONSE_HEADERS,
    "content": {**{spec.media_type: {"schema": {"type": "string", "format": "binary"}} for spec in FORMATS.values()},
                "application/zip": {"schema": {"type": "string", "format": "binary"}}},
    "description": "the fused image (PNG unless format= or Accept asks another), or with components=true a zip of "
                   "PNGs, " + ", ".join(COMPONENT_FILES) + f" (and {WEIGHT_FILE} with pixels=sources), or with "
                   f"source_map=true a zip of fused.png and {SOURCE_MAP_FILE}",
}
#: OpenAPI's description of ``POST /v1/fuse``'s error answers, by status.
ERROR_ANSWERS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorDetail, "description": text,
             **({"headers": ERROR_HEADERS[status]} if status in ERROR_HEADERS else {})}
    for status, text in ERRORS.items()}


@dataclass(frozen=True)
class FuseServer:
    """What every ``POST /v1/fuse`` shares: the model's ``runner``, the ``limits``, ``made_by`` (every
    answer's X-Defusion-Model) and ``task``, the one the server's options were made for."""

    runner: ModelRunner
    limits: Limits
    made_by: str
    task: Task | None = None


@dataclass(frozen=True)
class Inputs:
    """One request's uploads, read and decoded: ``values`` as decoded (float frames as their values),
    ``images`` as fused (float frames mapped to 16 bits by ``spans``), its ``options`` (with its rig),
    what there was to say so far (``said``), and the sources' metadata (None: ``metadata=false``)."""

    uploads: list[Upload]
    values: list[np.ndarray]
    images: list[np.ndarray]
    spans: FloatSpans
    options: FuseOptions
    said: list[str]
    sources_metadata: list[ImageMetadata] | None


def add_fuse_route(app: FastAPI, server: FuseServer) -> None:
    """``POST /v1/fuse`` on ``app``, fusing by ``server``'s model within its limits."""
    limits, runner = server.limits, server.runner

    @app.post("/v1/fuse", operation_id="fuse", response_class=Response,
              responses={200: FUSED_ANSWER, **ERROR_ANSWERS}, openapi_extra={"requestBody": fuse_request_body(limits)})
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
                      quality: Annotated[int | None, Query(description=QUERY_HELP["quality"], ge=QUALITY_RANGE[0],
                                                           le=QUALITY_RANGE[1])] = None
                      ) -> Response:
        # This docstring is the operation's description in OpenAPI (FastAPI reads it): edit it as API text.
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
        ``defusion fuse`` writes it (``quality``, 1-100: JPEG's, default 95; WebP's, lossless without
        it); the zips stay PNG. A format chosen by ``Accept`` that cannot hold the result (its sides,
        or 16 bits) gives way to PNG, with a note; one asked by ``format`` is a 422 for sides past its
        encoder's. An unknown or repeated query parameter or form field is a 422.

        Everything a request asks is checked against its own options (the server's with the
        request's on top), before it waits for the model."""
        refuse_unknown("query parameter", request.query_params.keys(), query_parameters)
        refuse_repeated("query parameter", [name for name, _ in request.query_params.multi_items()])
        quality_sent = "quality" in request.query_params  # else each format's default: WebP stays lossless
        query = FuseQuery(components=components, task=task, align=align, pixels=pixels, stretch=stretch,
                          deghost=deghost, source_map=source_map, metadata=metadata, palette=palette,
                          infrared=infrared, palette_range=palette_range, format=format,
                          quality=quality, quality_sent=quality_sent)
        asked = request_options(query, runner.options_for, limits.fields)
        with runner.admitted():  # a place among the requests held, else 503 (before the body is read)
            inputs = await read_inputs(request, query, asked, limits)
            return await fuse_and_answer(request, query, asked, inputs, server)

    # v1_fuse's own parameters, so that a misspelt one (?sclae=1) is refused, not ignored
    query_parameters = tuple(name for name in inspect.signature(v1_fuse).parameters if name != "request")


def _at_least_one(schema: dict[str, Any]) -> None:
    """OpenAPI's schema of ``infrared``: an integer of 1 or more (the handler words the 422 itself)."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "integer":
            branch["minimum"] = 1


async def read_inputs(request: Request, query: FuseQuery, asked: RequestOptions, limits: Limits) -> Inputs:
    """The request's uploads read within ``limits``, checked against what it asks (their count, the
    fields its stretch maps, the infrared image's place), decoded, float frames mapped to 16 bits,
    and, before the model's turn, a ``format`` too narrow for their sides refused; colour uploads of
    another profile than the first colour upload's converted to it (or all to sRGB with
    ``metadata=false``), said among the notes, their metadata with the profiles they now have.
    ``values`` stay as decoded."""
    uploads, rig_text = await read_uploads(request, limits)
    options = asked.options
    if rig_text is not None:
        options = options_or_422(replace, options, rig=parse_rig(rig_text))
    check_stretch_fields(options.stretch, len(uploads), asked.spans)
    if query.components and len(uploads) != 2:
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, f"components=true decomposes a pair; got {len(uploads)} images")
    if options.palette != "none" and options.infrared is not None and options.infrared >= len(uploads):
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                       f"infrared image {options.infrared + 1} was asked for, but {len(uploads)} images "
                       "were given")
    with collecting() as said:  # what reading the uploads had to say (alpha, frames, ...): a response header
        values = await decoded(uploads, options.rig, limits, floats="values")
    # float frames to 16 bits by one range a stream can keep (stretch=a:LOW..HIGH), else the frame's own
    images, spans = await run_in_threadpool(map_floats, values, options.stretch, asked.spans)
    # a format asked, or a zip of PNGs, too narrow for the uploads' sides: refused before the model's turn
    check_answerable(images[0].shape, query.format, bool(query.zipped))
    with collecting() as matched:  # the colour uploads of other profiles converted to a's, as defusion fuse does
        images, sources_metadata = await run_in_threadpool(colours_matched, uploads, images, query.metadata)
    said = said + [line for line in matched if line not in said]
    return Inputs(uploads, values, images, spans, options, said, sources_metadata if query.metadata else None)


async def fuse_and_answer(request: Request, query: FuseQuery, asked: RequestOptions, inputs: Inputs,
                          server: FuseServer) -> Response:
    """Fuse ``inputs`` (or decompose them, or fuse with a source map, as ``query`` asks) once it is
    the request's turn, and answer, with what alignment and deghosting found and what the fusion
    itself said (a misfire shot left out, an aligned upload of maybe another scene) among the notes;
    the Fuser's refusal of their layout is a 422 naming the fields
    (:func:`~defusion.serving.errors.name_fields`)."""
    connected = await _still_connected(request)
    try:
        inputs = await fix_options_and_notes(query, asked, inputs, server)
        made = answer_made_by(request, inputs, query.task if query.task is not None else server.task, server)

        async def model(call: FuserCall) -> Any:
            nonlocal inputs
            with collecting() as said, naming([upload_label(u) for u in inputs.uploads]):
                found = await _run_model(request, server.runner, call, inputs.images, inputs.options, connected)
            inputs = replace(inputs, said=inputs.said + [line for line in said if line not in inputs.said])
            return found

        registering = inputs.options.align != "none" or inputs.options.deghost
        if query.components:
            parts = await model("decompose")
            inputs = registration_noted(inputs, parts)
            body, inputs = await encoded_with_metadata(inputs, parts.fused, made, zip_parts, parts, query.source_map)
            return Response(body, media_type="application/zip",
                            headers=answer_headers('attachment; filename="components.zip"', inputs, server.made_by))
        # what alignment and deghosting found comes with the fusion's sources: asked for only where they ran
        found = await model("fusion") if registering else None
        if found is not None:
            inputs = registration_noted(inputs, found)
        if query.source_map:
            selection = (Selection(found.fused, found.weights) if found is not None
                         else await model("fuse_with_weights"))
            body, inputs = await encoded_with_metadata(inputs, selection.fused, made, zip_selection, selection)
            return Response(body, media_type="application/zip",
                            headers=answer_headers('attachment; filename="fused.zip"', inputs, server.made_by))
        fused = found.fused if found is not None else await model("fuse")
    except (SizeMismatchError, ValueError) as exc:  # layout problems the Fuser refuses
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, name_fields(str(exc))) from None
    return await image_answer(fused, query, request.headers.get("accept"), inputs, server.made_by, made)


def answer_made_by(request: Request, inputs: Inputs, task: Task | None, server: FuseServer) -> MadeBy:
    """What the answer's image records it was made with (:mod:`defusion.fusion.provenance`): ``inputs``'
    options as fixed (:func:`fix_options_and_notes`), the server's runtime and weights (the file
    ``create_app`` was given; a Fuser handed over alone names them by the digest its model carries, else
    not at all), and, with float uploads mapped by a span, the stretch that maps them so again
    (:data:`~defusion.serving.stream.STRETCH_HEADER`'s value, which ``stretch=`` takes back: the span is no
    FuseOptions field, and the options alone would fuse the upload otherwise)."""
    weights = getattr(request.app.state, "weights", None)
    made = MadeBy.of(server.runner.fuser_for(inputs.options), weights, task, weights_known=weights is not None)
    if not inputs.spans:
        return made
    return replace(made, stretch=kept_headers(inputs.options, inputs.spans)[STRETCH_HEADER])


def registration_noted(inputs: Inputs, found: Fusion | Decomposition) -> Inputs:
    """``inputs`` with what alignment and deghosting ``found`` among their notes, naming the uploads
    as ``defusion fuse`` names its files: "aligned o.png onto u.png: shift 3.2 px", "deghost found
    nothing that moved among u.png, o.png"."""
    names = [upload_label(u) for u in inputs.uploads]
    lines = (describe_alignment(names, found.warps, found.frame, found.fused.shape[:2], inputs.options.align),
             describe_ghosts(names, found.ghosts))
    return replace(inputs, said=inputs.said + [f"note: {line}" for line in lines if line])


async def fix_options_and_notes(query: FuseQuery, asked: RequestOptions, inputs: Inputs,
                                server: FuseServer) -> Inputs:
    """``inputs`` with the options their fusion would measure for itself fixed (the same fusion; the
    headers can say what it used, :func:`~defusion.serving.stream.fix_measured_options`), a count
    stretch measured on a float upload folded into its span, and what ``defusion fuse`` would say of
    them added to ``said``."""
    fuser = server.runner.fuser_for(inputs.options)
    options = await run_in_threadpool(fix_measured_options, fuser, inputs.images)
    # a count stretch measured on a float upload (floats in a narrow band of [0, 1]): into its span
    images, options, spans = await run_in_threadpool(fold_float_stretch, inputs.values, inputs.images, options,
                                                     inputs.spans)
    names = [upload_label(u) for u in inputs.uploads]
    said = inputs.said + float_notes(names, inputs.values, spans, asked.spans)
    said += await run_in_threadpool(mapping_notes, fuser, options, images, names,
                                    query.task if query.task is not None else server.task, asked.mapped,
                                    [i for i, v in enumerate(inputs.values) if v.dtype.kind == "f"])
    if query.zipped and query.quality_sent:
        said.append(quality_note("zip of PNGs"))
    return replace(inputs, images=images, spans=spans, options=options, said=said)


async def image_answer(fused: np.ndarray, query: FuseQuery, accept: str | None, inputs: Inputs,
                       made_by: str, made: MadeBy | None = None) -> Response:
    """The fused image's answer: in the format ``query`` or the ``accept`` header chose (with a note
    where it gave way), encoded as ``defusion fuse`` writes it, with the sources' metadata and the
    record of what ``made`` it."""
    answer_format, format_said = choose_answer_format(fused, query.format, accept)
    said = inputs.said + format_said + format_notes(fused, answer_format, query.quality_sent)
    body, inputs = await encoded_with_metadata(replace(inputs, said=said), fused, made, encode_answer, fused,
                                               answer_format, query.quality)
    return Response(body, media_type=FORMATS[answer_format].media_type,
                    headers={**answer_headers(disposition(answer_format), inputs, made_by), "Vary": "Accept"})


async def encoded_with_metadata(inputs: Inputs, fused: np.ndarray, made: MadeBy | None,
                                encode: Callable[..., bytes], *args: Any) -> tuple[bytes, Inputs]:
    """``encode(*args, metadata)`` in the thread pool, ``metadata`` what ``fused`` carries
    (:func:`_fused_metadata`), and ``inputs`` with what fitting it to the answer said among their notes (a
    JPEG's EXIF with no room for the record, a source's own UserComment kept): the client's to read, not
    the server's log."""
    with collecting() as written:
        body = await run_in_threadpool(encode, *args, _fused_metadata(inputs, fused, made))
    return body, replace(inputs, said=inputs.said + [line for line in written if line not in inputs.said])


def answer_headers(content_disposition: str, inputs: Inputs, made_by: str) -> dict[str, str]:
    """A fused answer's headers: what made it, what it used that a stream can keep (its stretch,
    its palette's range) and what there was to say."""
    return with_notes_header({"Content-Disposition": content_disposition, MODEL_HEADER: made_by,
                              **kept_headers(inputs.options, inputs.spans)}, inputs.said)


def _fused_metadata(inputs: Inputs, fused: np.ndarray, made: MadeBy | None = None) -> ImageMetadata | None:
    """The metadata the fused image carries (the profile its colours are in, the first colour upload's,
    as :func:`read_inputs` matched them; ``a``'s EXIF; the record of what ``made`` it, as ``defusion fuse``
    writes it: :mod:`defusion.fusion.provenance`), or None where the request asked ``metadata=false``."""
    if inputs.sources_metadata is None:
        return None
    return choose_metadata(inputs.sources_metadata, colour=fused.ndim == 3, record=made.record() if made else None)


async def _run_model(request: Request, runner: ModelRunner, call: FuserCall, images: list[np.ndarray],
                     options: FuseOptions, connected: Callable[[], bool]) -> Any:
    """``runner``'s model ``call`` of ``images`` at ``options``, once it is this request's turn
    (waited for here, holding no worker thread); stopped where the client is no longer
    ``connected()``. Cancelled (uvicorn's --timeout-graceful-shutdown ran out): one log line, the
    fusion told to stop after its network pass, and the cancellation goes on, so the shutdown does."""
    cancelled = threading.Event()

    def still_wanted() -> bool:
        """Whether the fusion should go on: the server is not cancelling it, and its client is there."""
        return not cancelled.is_set() and connected()

    try:
        async with runner.turn():
            if await request.is_disconnected():
                raise ClientGone("while waiting for the model; its fusion was skipped")
            return await run_in_threadpool(runner.run, call, images, options, still_wanted)
    except asyncio.CancelledError:
        cancelled.set()
        log.warning('%s - "%s %s": cancelled by the server\'s shutdown (--timeout-graceful-shutdown '
                    "ran out) before its answer", client_address(request), request.method, path_with_query(request))
        raise


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
