"""How OpenAPI describes the API: ``POST /v1/fuse``'s query parameters (their help, the palette
values), its multipart body, which it reads itself (with the server's limits and the image types
it takes), its response headers and its error statuses (with their headers); the answers of
``/healthz``, ``/readyz`` and ``/v1/info``."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from defusion.fusion import choices
from defusion.fusion.rig import MAX_RIG_BYTES
from defusion.io.formats import DEFAULT_JPEG_QUALITY, FULL_CHROMA_QUALITY
from defusion.serving.answer_format import QUALITY_RANGE
from defusion.serving.errors import SERVICE_UNAVAILABLE
from defusion.serving.limits import RIG_FIELD, Limits
from defusion.serving.responses import (COMPONENT_FILES, MODEL_DIGEST_CHARS, MODEL_HEADER, NOTES_HEADER,
                                        SOURCE_MAP_FILE, WEIGHT_FILE)
from defusion.serving.runner import QUEUE_FULL_RETRY_AFTER_S
from defusion.serving.stream import PALETTE_RANGE_HEADER, STRETCH_HEADER

#: The ``palette`` query values (choices.PALETTES), checked by FastAPI.
Palette = choices.Palette
#: The error statuses of ``POST /v1/fuse`` (all ``{"detail": "<one line>"}``), for OpenAPI.
ERRORS: dict[int, str] = {
    400: "an image that cannot be decoded (empty, truncated, corrupt), or a malformed multipart body",
    408: "the upload stalled (no piece of the body came for the server's --upload-timeout) or took too long "
         "(the whole body did not come within its --upload-deadline), or the request's line and headers did not "
         "come within its --header-timeout (answered before the request reaches the API); the connection is closed",
    413: "a file or the whole body over the server's byte bounds, an image over its pixel bound, or a rig field "
         f"over {MAX_RIG_BYTES // 1024} KiB",
    415: "not an image (text, an unknown format), or a body that is not multipart/form-data",
    422: "a missing field a or b, more images than the server fuses, a gap in the fields, images of different "
         "sizes without a rig, a bad rig, components of more than two images, a bad query value (a stretch or "
         "palette_range that is no mapping; a quality outside 1-100; a format other than png with components or "
         "source_map), an unknown query parameter or form field, or one sent twice",
    500: "an unexpected failure of the server (its log has the details)",
    SERVICE_UNAVAILABLE: "the server is busy (max_queue requests are held already: retry after Retry-After "
                         "seconds), out of memory for this request, its temporary storage failed, or it is "
                         "shutting down (--timeout-graceful-shutdown ran out before the answer: retry elsewhere; "
                         "with Connection: close)",
}
#: The headers some error answers carry, by status, for OpenAPI.
ERROR_HEADERS: dict[int, dict[str, dict[str, Any]]] = {
    408: {"Connection": {"description": "close: the server closes the connection after this answer",
                         "schema": {"type": "string", "enum": ["close"]}}},
    SERVICE_UNAVAILABLE: {
        "Retry-After": {"description": f"where the server is busy: seconds to wait before retrying "
                                       f"({QUEUE_FULL_RETRY_AFTER_S})", "schema": {"type": "integer"}},
        "Connection": {"description": "close, where the server is shutting down", "schema": {"type": "string"}}},
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
               f"range; none: values as they are; or the {STRETCH_HEADER} header of an earlier response "
               "(FIELD:LOW-HIGH in 16-bit counts per upload, comma-separated: a:7002-8997; FIELD:LOW..HIGH in a "
               "float upload's own values: b:20.5..44.75), to map every frame of a stream as that one, whatever "
               "each frame's own range (values beyond it clipped)",
    "deghost": "true: remove ghosts of what moved between the images (brackets)",
    "source_map": f"true (with pixels=sources): a zip of fused.png and {SOURCE_MAP_FILE}, which image each pixel "
                  "came from, black a to white the last",
    "metadata": "false: leave the sources' colour profile and a's EXIF (without the exposure tags the uploads "
                "do not share) out of the fused image; colour uploads are then converted to sRGB, as an untagged "
                "image is read",
    "palette": "false colour from the infrared image, as thermal cameras show it: inferno, magma, plasma, hot, "
               "jet or turbo; none (the default) keeps the sources' colours",
    "infrared": "with a palette: which upload is the infrared image, 1 for a (default: the one raw thermal "
                "frame, else the only grey upload, else the last)",
    "palette_range": f"with a palette: LOW,HIGH, the infrared values it spans (0 to 1, as fused): the "
                     f"{PALETTE_RANGE_HEADER} header of an earlier response, to colour every frame of a stream "
                     "alike (default: measured on this request's infrared image)",
    "format": "the fused image's format: png (16 bits where the result has them), jpeg, webp (lossless, or lossy "
              "with quality) or tiff "
              "(16 bits kept), written as defusion fuse writes them; jpeg and webp hold 8 bits (a 16-bit result "
              "is reduced, and X-Defusion-Notes says so); sides are bounded (webp 16383 px, jpeg 65500 px, png "
              "1000000 px: a wider image is a 422, as is a zip of PNGs past png's). Default: the Accept header's first choice where it names one of "
              "image/png, image/jpeg, image/webp and image/tiff (a browser's generic image header gets png; a "
              "16-bit result or a side too wide keeps png or tiff, with a note), else png (never a 406). The "
              "zips of components and source_map stay PNG (another format is a 422)",
    "quality": f"the JPEG or WebP answer's quality, {QUALITY_RANGE[0]}-{QUALITY_RANGE[1]}, as defusion fuse "
               f"--quality: JPEG's default {DEFAULT_JPEG_QUALITY} (from {FULL_CHROMA_QUALITY} up colour is kept at "
               "full resolution, 4:4:4); WebP is lossless without it and lossy at it; the other formats are "
               "lossless, and ignore it (with a note)",
}
#: The headers of a fused response, for OpenAPI.
RESPONSE_HEADERS: dict[str, dict[str, Any]] = {
    name: {"description": text, "schema": {"type": "string"}} for name, text in {
        NOTES_HEADER: "what reading and fusing the uploads had to say, lines (warning: ..., note: ...) joined by "
                      "' | '; absent where there was nothing",
        STRETCH_HEADER: "the stretch of raw thermal frames this fusion used (FIELD:LOW-HIGH in 16-bit counts, "
                        "FIELD:LOW..HIGH in a float upload's own values, comma-separated); send it back as "
                        "stretch= to keep it; absent where nothing was stretched",
        PALETTE_RANGE_HEADER: "the infrared values the palette spanned (LOW,HIGH, 0 to 1); send it back as "
                              "palette_range= to keep it; absent without a palette",
        MODEL_HEADER: "what made the answer: defusion/VERSION; weights-sha256= the first "
                      f"{MODEL_DIGEST_CHARS} hex digits of the model file's SHA-256 (GET /v1/info has it whole)",
    }.items()}
#: The media types of the images an upload may be (the part's own Content-Type is not checked: the
#: format is read from the bytes; camera raw files, with the raw extra, by the file name's suffix).
IMAGE_CONTENT_TYPES = ("image/png", "image/jpeg", "image/tiff", "image/bmp", "image/webp", "image/gif",
                       "image/x-portable-anymap", "image/x-tga", "image/heic", "image/heif",
                       "application/octet-stream")


def fuse_request_body(limits: Limits) -> dict[str, Any]:
    """OpenAPI's ``requestBody`` of ``POST /v1/fuse``, which reads its multipart form itself (so
    FastAPI cannot see it): the image files a, b (required) and c, ... (this server's max_images),
    and the optional rig; this server's limits and the image types it takes."""
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
    types = ", ".join(IMAGE_CONTENT_TYPES)
    description = (f"The images to fuse, registered and of one size (or a rig's), as files in fields "
                   f"{', '.join(limits.fields)}, in order. This server takes at most {limits.max_upload_bytes:,} "
                   f"bytes per file (413 over it), {limits.max_pixels:,} pixels per image (413) and "
                   f"{limits.max_images} images per request (422); the whole body must come within "
                   f"{limits.upload_deadline_s:g} s, with no pause over {limits.upload_timeout_s:g} s (408). "
                   f"Image types: {types} (PNG, JPEG, TIFF, BMP, WebP, GIF's first frame, PPM, TGA; HEIC and camera "
                   "raw files where the server has the heif and raw extras); the format is read from the bytes, "
                   "not the part's Content-Type; anything else is a 415.")
    encoding = {field: {"contentType": types} for field in limits.fields}
    return {"required": True, "description": description,
            "content": {"multipart/form-data": {"schema": schema, "encoding": encoding}}}


class HealthStatus(BaseModel):
    """The body of ``/healthz`` and ``/readyz`` (the counts: ``/readyz`` once the model is loaded)."""

    status: Literal["ok", "ready", "busy", "loading"]
    requests: int | None = None
    waiting: int | None = None
    max_queue: int | None = None


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InfoModel(_Strict):
    name: str
    runtime: str
    config: dict[str, Any] | None
    parameters: int | None


class InfoWeights(_Strict):
    file: str | None
    sha256: str | None
    metadata: dict[str, str]


class InfoLimits(_Strict):
    max_upload_bytes: int
    max_pixels: int
    max_images: int
    max_queue: int
    upload_timeout_s: float
    upload_deadline_s: float
    max_request_bytes: int


class InfoFormat(_Strict):
    """One ``formats`` entry of /v1/info: ``lossy`` and ``quality`` without a ``quality`` asked (None:
    lossless), ``takes_quality`` whether ``quality`` sets it (WebP: lossy at it)."""

    media_type: str
    bits: int
    lossy: bool
    quality: int | None
    takes_quality: bool


class Info(_Strict):
    """The ``GET /v1/info`` document (defusion.serving.info.describe)."""

    model: InfoModel
    weights: InfoWeights
    device: str
    half: bool
    options: dict[str, Any]
    tasks: dict[str, dict[str, Any]]
    limits: InfoLimits
    formats: dict[str, InfoFormat]
    version: str


class ErrorDetail(BaseModel):
    """The body of every error response: one line saying what was wrong (OpenAPI's error model)."""

    detail: str
