"""The DeFusion REST API (FastAPI): ``POST /v1/fuse``, ``GET /healthz``, ``GET /v1/info``.

The server calls the one fusion core, :meth:`Fuser.fuse` / :meth:`Fuser.decompose`; uploads are
decoded by :func:`defusion.serving.decode.decode_image`, i.e. by ``read_image``'s rules. One model
is shared by all requests: model calls are serialised by a lock and run in the thread pool, so
the event loop keeps accepting and decoding other requests meanwhile.

Every error is JSON ``{"detail": "..."}`` (a string):

====  ===========================================================================
400   unreadable, empty, truncated or corrupt image; malformed multipart body
413   a file over ``max_upload_bytes`` (Content-Length or bytes actually read), or
      an image over ``max_pixels``
415   not an image (text, unknown format), or a body that is not multipart/form-data
422   a missing field ``a`` or ``b``, more than ``max_images`` images or a gap in the fields,
      sources of different sizes, components of more than two images, a bad query value, an
      unknown query parameter or form field, a field sent twice
====  ===========================================================================

Run it with ``defusion serve``, or with uvicorn directly:
``uvicorn --factory defusion.serving.api:app_from_env`` (``defusion serve``'s settings from the
``DEFUSION_*`` variables of :data:`ENV_VARIABLES`).
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import io
import logging
import os
import re
import threading
import zipfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Literal, Mapping, NoReturn

import cv2
import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException as StarletteHTTPException

from defusion import __version__
from defusion.cli.options import MAX_DETAIL_GAIN, MAX_UNIQUE_GAIN
from defusion.fusion.align import Motion
from defusion.fusion.color import to_uint8
from defusion.fusion.fuser import TASK_FIELDS, TASKS, Decomposition, FuseOptions, Fuser, Selection, SizeMismatchError, Task
from defusion.fusion.rig import MAX_RIG_BYTES, Rig, RigError
from defusion.fusion.selection import PixelSource, source_map
from defusion.fusion.stretch import Stretch
from defusion.io.images import DEFAULT_MAX_PIXELS, ImageReadError, ImageTooLargeError
from defusion.io.metadata import ImageMetadata, choose_metadata, embed_metadata, read_metadata
from defusion.serving.decode import UnsupportedImageError, decode_image

log = logging.getLogger("defusion.serving")
#: The ``palette`` query values (defusion.fusion.color.PALETTES), checked by FastAPI.
Palette = Literal["none", "inferno", "magma", "plasma", "hot", "jet", "turbo"]

#: Default bound on each uploaded file: 50 MiB.
DEFAULT_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
#: Default bound on the images of one request (a bracket or focus stack of up to 4).
DEFAULT_MAX_IMAGES = 4
#: Room for multipart headers and boundaries on top of the files.
MULTIPART_OVERHEAD = 64 * 1024
#: The image fields of ``POST /v1/fuse``, in order: ``a`` and ``b`` always, then more up to ``max_images``.
FIELDS = ("a", "b", "c", "d", "e", "f", "g", "h")
#: The optional field with a camera rig's calibration (``defusion calibrate``'s JSON).
RIG_FIELD = "rig"
#: Names inside the ``components=true`` zip, in this order.
COMPONENT_FILES = ("fused.png", "common.png", "unique_a.png", "unique_b.png")
#: Added to the components zip with pixels=sources: the decision map, white where a's pixels are.
WEIGHT_FILE = "weight_a.png"
#: With source_map=true (pixels=sources), beside the fused image in a zip: which source each pixel
#: came from, black ``a`` to white the last image (a focus stack's depth map).
SOURCE_MAP_FILE = "source_map.png"


@dataclass(frozen=True)
class Limits:
    """Bounds on what one request may make the server read and decode.

    ``max_upload_bytes`` bounds each uploaded file; the whole request body may be at most
    ``max_images`` files plus :data:`MULTIPART_OVERHEAD`. ``max_pixels`` bounds width x height
    of each image and is checked from the header, before anything is decoded.
    """

    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    max_pixels: int = DEFAULT_MAX_PIXELS
    max_images: int = DEFAULT_MAX_IMAGES

    def __post_init__(self) -> None:
        if self.max_upload_bytes <= 0 or self.max_pixels <= 0:
            raise ValueError("max_upload_bytes and max_pixels must be positive")
        if not 2 <= self.max_images <= len(FIELDS):
            raise ValueError(f"max_images must be from 2 to {len(FIELDS)}")

    @property
    def fields(self) -> tuple[str, ...]:
        """The file fields a request may use."""
        return FIELDS[:self.max_images]

    @property
    def max_request_bytes(self) -> int:
        return self.max_images * self.max_upload_bytes + MULTIPART_OVERHEAD


class ApiError(Exception):
    """An error answered as ``{"detail": message}`` with ``status``."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class _BodyTooLarge(Exception):
    pass


class _ModelRunner:
    """Serialises calls into the shared model (one model, many request threads). A request's
    ``task`` and its own options (``REQUEST_OPTIONS``: align, pixels, stretch) apply to that
    request alone (:meth:`FuseOptions.with_task`)."""

    def __init__(self, fuser: Fuser) -> None:
        self.fuser = fuser
        self.lock = threading.Lock()

    def fuse(self, *images: np.ndarray, task: Task | None = None, **request) -> np.ndarray:
        with self.lock, self._options_for(task, **request):
            return self.fuser.fuse(*images)

    def fuse_with_weights(self, *images: np.ndarray, task: Task | None = None, **request) -> Selection:
        with self.lock, self._options_for(task, **request):
            return self.fuser.fuse_with_weights(*images)

    def pixels_for(self, pixels: PixelSource | None) -> str:
        """Where a request's pixels come from: its own ``pixels``, else the server's."""
        return pixels or self.fuser.options.pixels

    def decompose(self, a: np.ndarray, b: np.ndarray, task: Task | None = None, **request) -> Decomposition:
        with self.lock, self._options_for(task, **request):
            return self.fuser.decompose(a, b)

    @contextlib.contextmanager
    def _options_for(self, task: Task | None, **request):
        """The server's options, or for the duration of one call (under the lock) the task's
        and the request's own (``align``, ``pixels``, ``stretch``; None leaves the server's)."""
        saved = self.fuser.options
        options = saved.with_task(task) if task is not None else saved
        options = replace(options, **{name: value for name, value in request.items() if value is not None})
        self.fuser.options = options
        try:
            yield
        finally:
            self.fuser.options = saved


def create_app(fuser: Fuser, limits: Limits | None = None, *, weights: str | Path | None = None) -> FastAPI:
    """The API around a ready ``fuser``; ``weights`` (the file it was loaded from) feeds /v1/info."""
    limits = limits or Limits()
    runner = _ModelRunner(fuser)
    app = FastAPI(title="DeFusion", version=__version__,
                  description="Image fusion from decomposition (Liang et al., ECCV 2022)")
    app.state.fuser, app.state.limits, app.state.weights = fuser, limits, weights
    info = _describe(fuser, limits, weights)

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = [f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', 'invalid')}" for e in exc.errors()]
        return JSONResponse({"detail": "; ".join(parts) or "invalid request"}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": str(exc.detail)}, status_code=exc.status_code, headers=exc.headers)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        if getattr(fuser, "model", None) is None:
            return JSONResponse({"status": "loading"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/v1/info")
    async def v1_info() -> dict[str, Any]:
        return info

    @app.post(
        "/v1/fuse",
        response_class=Response,
        responses={200: {"content": {"image/png": {}, "application/zip": {}},
                         "description": "the fused PNG, or with components=true a zip of "
                                        + ", ".join(COMPONENT_FILES) + f" (and {WEIGHT_FILE} with pixels=sources), "
                                        f"or with source_map=true a zip of fused.png and {SOURCE_MAP_FILE}"}},
    )
    async def v1_fuse(request: Request, components: bool = False, task: Task | None = None,
                      align: Motion | None = None, pixels: PixelSource | None = None,
                      stretch: Stretch | None = None, deghost: bool | None = None, source_map: bool = False,
                      metadata: bool = True, palette: Palette | None = None,
                      infrared: int | None = None) -> Response:
        """Fuse the images in multipart file fields ``a``, ``b`` (and ``c``, ``d``, ... up to the
        server's ``max_images``: a bracket or focus stack, in order); registered, one size.
        ``task`` (ivf, mef, mff) fuses this request at that kind of images' defaults; ``align``
        (translation, euclidean, affine, homography) registers the others onto ``a`` first;
        ``pixels=sources`` takes each pixel from the source in focus there (focus stacks; at the
        server's scale); ``source_map=true`` (with pixels=sources) adds which image each pixel came
        from, black ``a`` to white the last (a focus stack's depth map). The fused PNG carries the
        sources' colour profile and ``a``'s EXIF (as ``defusion fuse``) unless ``metadata=false``.
        ``stretch=none`` takes raw 16-bit grey frames (thermal counts) as they are instead of
        stretching them to the full range (``auto``, the server's default); ``deghost=true``
        removes ghosts of what moved between the images (brackets). A text field ``rig`` with a
        camera rig's calibration (the JSON of ``defusion calibrate``; ``curl -F 'rig=<rig.json'``)
        maps the other images onto ``a``'s pixel grid first, so a rig's images of different sizes fuse.
        ``palette`` (inferno, magma, plasma, hot, jet, turbo) colours the fused image by the infrared
        image's warmth, as thermal cameras show it; the infrared image is the only grey upload, else
        ``a``, or ``infrared=N`` (1 for ``a``). An unknown query parameter or form field is a 422."""
        _refuse_unknown("query parameter", request.query_params.keys(), query_parameters)
        if source_map and runner.pixels_for(pixels) != "sources":
            raise ApiError(422, "source_map=true needs pixels=sources: the network's reconstruction mixes the "
                                "sources, so no pixel comes from one image")
        images, sources_metadata, rig_text = await _read_images(request, limits)
        rig = _parse_rig(rig_text) if rig_text is not None else None
        if infrared is not None and infrared < 1:
            raise ApiError(422, f"infrared={infrared}: the infrared image's place among the uploads, 1 for 'a'")
        if infrared is not None and (palette or runner.fuser.options.palette) == "none":
            raise ApiError(422, "infrared says which image a palette colours; add palette=inferno (or another)")
        request_options = {"align": align, "pixels": pixels, "stretch": stretch, "deghost": deghost, "rig": rig,
                           "palette": palette, "infrared": infrared - 1 if infrared is not None else None}
        rig = rig or runner.fuser.options.rig

        def kept(fused: np.ndarray) -> ImageMetadata | None:
            return choose_metadata(sources_metadata, colour=fused.ndim == 3) if metadata else None
        if rig is not None:
            try:
                rig.check_images(images)
            except RigError as exc:
                raise ApiError(422, f"rig: {exc}") from None
        for field, image in zip(FIELDS[1:], images[1:] if rig is None else []):
            if image.shape[:2] != images[0].shape[:2]:
                raise ApiError(422, f"images differ in size: a is {_wxh(images[0])} and {field} is {_wxh(image)} "
                                    "(WxH); fusion needs registered images of one size (or a calibrated "
                                    "camera rig in the field 'rig': defusion calibrate)")
        if components and len(images) != 2:
            raise ApiError(422, f"components=true decomposes a pair; got {len(images)} images")
        try:
            if components:
                parts = await run_in_threadpool(runner.decompose, *images, task=task, **request_options)
                body = await run_in_threadpool(_zip_parts, parts, source_map, kept(parts.fused))
                return Response(body, media_type="application/zip",
                                headers={"Content-Disposition": 'attachment; filename="components.zip"'})
            if source_map:
                selection = await run_in_threadpool(runner.fuse_with_weights, *images, task=task,
                                                    **request_options)
                body = await run_in_threadpool(_zip_selection, selection, kept(selection.fused))
                return Response(body, media_type="application/zip",
                                headers={"Content-Disposition": 'attachment; filename="fused.zip"'})
            fused = await run_in_threadpool(runner.fuse, *images, task=task, **request_options)
        except (SizeMismatchError, ValueError) as exc:  # layout problems the Fuser refuses
            raise ApiError(422, str(exc)) from None
        return Response(await run_in_threadpool(encode_png, fused, kept(fused)), media_type="image/png")

    # v1_fuse's own parameters, so that a misspelt one (?sclae=1) is refused, not ignored
    query_parameters = tuple(name for name in inspect.signature(v1_fuse).parameters if name != "request")
    return app


def _refuse_unknown(what: str, names: Iterable[str], accepted: tuple[str, ...], taken: str | None = None) -> None:
    """A 422 naming the ``names`` not in ``accepted`` (and what is, or ``taken``): a misspelt option or
    field would otherwise be ignored, and the request answered as if it had not been sent."""
    unknown = list(dict.fromkeys(name for name in names if name not in accepted))
    if unknown:
        raise ApiError(422, f"unknown {what}{'s' if len(unknown) > 1 else ''} "
                            f"{', '.join(repr(name) for name in unknown)}; POST /v1/fuse takes "
                            f"{taken or what + 's ' + ', '.join(accepted)}")


def _fields_taken(limits: Limits) -> str:
    """What a request's form may hold, for error messages."""
    return (f"image files in fields {', '.join(repr(f) for f in limits.fields)} (a and b, then the others "
            f"in order) and an optional {RIG_FIELD!r}")


async def _read_images(request: Request, limits: Limits) -> tuple[list[np.ndarray], list[ImageMetadata], str | None]:
    """Parse the multipart body within the limits and decode fields ``a``, ``b``, ... in order;
    also each one's colour profile and EXIF, and the text of the ``rig`` field (None if absent)."""
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
    # Count what is actually received too: Content-Length may be absent (chunked) or wrong.
    bounded = Request(request.scope, _bounded_receive(request.receive, limits.max_request_bytes))
    try:  # room for a rig file and one stray part, so that a stray is named below rather than counted here
        form = await bounded.form(max_files=limits.max_images + 2, max_fields=limits.max_images + 4)
    except _BodyTooLarge:
        raise ApiError(413, f"request body is over the limit of {limits.max_request_bytes} bytes "
                            f"(each file at most {limits.max_upload_bytes})") from None
    except StarletteHTTPException as exc:  # starlette's bound on the parts: too many, as more images than allowed
        if exc.status_code == 400 and str(exc.detail).startswith("Too many"):
            raise ApiError(422, f"too many parts in one request ({str(exc.detail).rstrip('.')}); this server "
                                f"fuses at most {limits.max_images} images per request and takes "
                                f"{_fields_taken(limits)}") from None
        raise
    try:
        names = [name for name, _ in form.multi_items()]
        repeated = [name for name in dict.fromkeys(names) if names.count(name) > 1]
        if repeated:
            raise ApiError(422, f"field {repeated[0]!r} sent {names.count(repeated[0])} times; send each once")
        present = [f for f in FIELDS if form.get(f) is not None]
        if len(present) > limits.max_images:
            raise ApiError(422, f"{len(present)} images; this server fuses at most {limits.max_images} per request, "
                                f"in fields {', '.join(repr(f) for f in limits.fields)}")
        _refuse_unknown("field", names, (*limits.fields, RIG_FIELD), _fields_taken(limits))
        count = max(2, len(present))
        uploads = []
        for field in FIELDS[:count]:
            value = form.get(field)
            if value is None:
                raise ApiError(422, f"missing field '{field}': send the image files as multipart fields "
                                    f"{', '.join(repr(f) for f in FIELDS[:count])}, in order")
            if not isinstance(value, UploadFile):
                raise ApiError(422, f"field '{field}' must be a file upload, not a text value")
            if value.size is not None and value.size > limits.max_upload_bytes:
                raise ApiError(413, f"field '{field}': {value.size} bytes is over the limit of "
                                    f"{limits.max_upload_bytes} bytes")
            uploads.append(value)
        datas = []
        for field, upload in zip(FIELDS, uploads):
            data = await upload.read(limits.max_upload_bytes + 1)
            if len(data) > limits.max_upload_bytes:
                raise ApiError(413, f"field '{field}': over the limit of {limits.max_upload_bytes} bytes")
            datas.append((data, upload.filename or field))
        rig = await _read_rig_field(form.get(RIG_FIELD))
    finally:
        await form.close()
    images = []
    for field, (data, name) in zip(FIELDS, datas):
        images.append(await run_in_threadpool(_decode, field, data, name, limits.max_pixels))
    return images, [read_metadata(data) for data, _ in datas], rig


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


def _decode(field: str, data: bytes, name: str, max_pixels: int) -> np.ndarray:
    try:
        return decode_image(data, name, max_pixels)
    except ImageTooLargeError as exc:
        message = str(exc).replace("raise it with --max-pixels", "the server's --max-pixels")
        raise ApiError(413, f"field '{field}': {message}") from None
    except UnsupportedImageError as exc:
        raise ApiError(415, f"field '{field}': {exc}") from None
    except ImageReadError as exc:
        raise ApiError(400, f"field '{field}': {exc}") from None


def _bounded_receive(receive: Callable, limit: int) -> Callable:
    received = 0

    async def bounded():
        nonlocal received
        message = await receive()
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


def _wxh(image: np.ndarray) -> str:
    return f"{image.shape[1]}x{image.shape[0]}"


def _count_parameters(weights: str | Path) -> int | None:
    """The number of values in a safetensors file's tensors, from its header (None if unreadable)."""
    import math

    from safetensors import safe_open

    try:
        with safe_open(str(weights), "np") as f:
            return int(sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys()))
    except Exception:  # info must never fail; the weights were loaded already
        return None


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
    metadata: dict[str, str] = {}
    if weights is not None and str(weights).endswith(".safetensors"):
        from defusion.model.weights import read_metadata

        try:
            metadata = {k: v for k, v in read_metadata(weights).items() if k not in ("config", "format")}
        except Exception:  # info must never fail; the weights were loaded already
            metadata = {}
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
    """The fields a task sets, as the network runs them (the detail gain resolved)."""
    return {name: options.resolved_detail_gain if name == "detail_gain" else getattr(options, name)
            for name in TASK_FIELDS}


def build_app(weights: str | Path | None = None, device: str = "auto", limits: Limits | None = None,
              onnx: str | Path | None = None, threads: int | None = None, runtime: str = "auto",
              **fuse_options) -> FastAPI:
    """Load a model (safetensors ``weights``, default the shipped ones, or an ``onnx`` file) and wrap it.

    ``threads`` bounds the CPU threads of one inference (PyTorch or onnxruntime); ``runtime``
    is ``auto`` (onnxruntime on a CPU, torch on a GPU), ``torch`` or ``onnxruntime`` (the weights
    exported once and cached).
    """
    if onnx is not None:
        from defusion.serving.onnx_model import load_onnx_fuser

        fuser = load_onnx_fuser(onnx, device=device, threads=threads, **fuse_options)
        return create_app(fuser, limits, weights=onnx)
    if threads:
        import torch

        torch.set_num_threads(threads)
    from defusion.model.weights import shipped_weights_path

    fuser = Fuser.from_pretrained(weights, device=device, runtime=runtime, threads=threads, **fuse_options)
    return create_app(fuser, limits, weights=weights if weights is not None else shipped_weights_path())


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
    "DEFUSION_TASK": ("--task", None),
    "DEFUSION_SCALE": ("--scale", "a whole number of 1 or more"),
    "DEFUSION_TILE": ("--tile", "a whole number: 0 (no tiling) or a tile size in pixels"),
    "DEFUSION_UNIQUE_GAIN": ("--unique-gain", f"a number from 0 to {MAX_UNIQUE_GAIN:g}"),
    "DEFUSION_DETAIL_GAIN": ("--detail-gain", f"a number from 0 to {MAX_DETAIL_GAIN:g}"),
    "DEFUSION_PALETTE": ("--palette", None),
    "DEFUSION_INFRARED": ("--infrared", "a whole number of 1 or more (1 for 'a')"),
    "DEFUSION_RIG": ("--rig", "a rig file (defusion calibrate)"),
}


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
        if not value:
            continue
        given = f"{option}={value}"  # one token: a value starting with '-' stays a value
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
            "limits": Limits(args.max_upload_bytes, args.max_pixels, args.max_images),
            "onnx": args.onnx, "threads": args.threads, "runtime": args.runtime, **options}


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
           "SOURCE_MAP_FILE", "DEFAULT_MAX_UPLOAD_BYTES", "DEFAULT_MAX_IMAGES"]
