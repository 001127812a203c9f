"""Reading ``POST /v1/fuse``'s multipart body within the limits: the image files (read, not
decoded) and the ``rig`` field, with the refusals of a body that is too large, stalled or malformed."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, Callable

import anyio
from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import ClientDisconnect
from starlette.types import Message

from defusion.fusion.rig import MAX_RIG_BYTES, Rig, RigError
from defusion.serving.errors import CLOSE_CONNECTION, ApiError, ClientGone, refuse_repeated, refuse_unknown
from defusion.serving.limits import (FIELDS, MULTIPART_OVERHEAD, OPTIONAL_FIELDS, RIG_FIELD, UPLOAD_DEADLINE_S,
                                     UPLOAD_IDLE_TIMEOUT_S, Limits, server_setting)


class _BodyTooLarge(Exception):
    pass


class _FileTooLarge(Exception):
    """A file part of the body grew past ``max_upload_bytes``; ``field``: its name."""

    def __init__(self, field: str) -> None:
        super().__init__(field)
        self.field = field


class _UploadStalled(Exception):
    """No piece of the request's body came for ``upload_timeout_s`` seconds."""


class _UploadTooSlow(Exception):
    """The request's whole body did not come within ``upload_deadline_s`` seconds; ``received``: its bytes so far."""

    def __init__(self, received: int) -> None:
        super().__init__(received)
        self.received = received


class _MultipartBody(MultiPartParser):
    """Starlette's multipart parser, also noting whether the body reached its closing boundary:
    python-multipart accepts a body that just stops, so a part cut short would vanish and the
    request be answered as if the client had left that field out."""

    def __init__(self, *args: Any, max_file_bytes: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ended = False
        self.open_part: Any = None  # the part being read (starlette's MultipartPart), None between parts
        self.max_file_bytes = max_file_bytes
        self.part_bytes = 0  # of the part being read

    def on_part_begin(self) -> None:
        super().on_part_begin()
        self.part_bytes = 0

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        """The part's bytes, a file part refused (:class:`_FileTooLarge`) as soon as it is over
        ``max_file_bytes``: a chunked upload (no Content-Length) of one large file is not read on up
        to the whole body's bound first."""
        self.part_bytes += end - start
        part = self._current_part
        if self.max_file_bytes is not None and part.file is not None and self.part_bytes > self.max_file_bytes:
            raise _FileTooLarge(part.field_name)
        super().on_part_data(data, start, end)

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
class Upload:
    """One uploaded image file, read but not decoded."""

    field: str
    data: bytes
    name: str  # the client's file name, else the field's


def _per_file(limits: Limits) -> str:
    """The per-file bound as a 413 says it, naming where it is set.

    Example:
        >>> _per_file(Limits(max_upload_bytes=100_000))
        "100000 bytes per file (the server's --max-upload-bytes or DEFUSION_MAX_UPLOAD_BYTES)"
    """
    return f"{limits.max_upload_bytes} bytes per file ({server_setting('--max-upload-bytes')})"


def _whole_body(limits: Limits) -> str:
    """The whole body's bound as a 413 says it: what it is made of, naming where each part is set.

    Example:
        >>> _whole_body(Limits(max_upload_bytes=100_000))  # doctest: +NORMALIZE_WHITESPACE
        "465536 bytes: 4 files (the server's --max-images or DEFUSION_MAX_IMAGES) of at most 100000 bytes
        (the server's --max-upload-bytes or DEFUSION_MAX_UPLOAD_BYTES), and 65536 for the form"
    """
    return (f"{limits.max_request_bytes} bytes: {limits.max_images} files ({server_setting('--max-images')}) of at "
            f"most {limits.max_upload_bytes} bytes ({server_setting('--max-upload-bytes')}), and "
            f"{MULTIPART_OVERHEAD} for the form")


def _fields_taken(limits: Limits) -> str:
    """What a request's form may hold, for error messages."""
    return (f"image files in fields {', '.join(repr(f) for f in limits.fields)} (a and b, then the others "
            f"in order) and an optional {RIG_FIELD!r}")


async def read_uploads(request: Request, limits: Limits) -> tuple[list[Upload], str | None]:
    """Parse the multipart body within the limits: the image fields ``a``, ``b``, ... in order,
    read but not decoded, and the text of the ``rig`` field (None if absent)."""
    content_type = request.headers.get("content-type", "")
    if not content_type.lower().startswith("multipart/form-data"):
        raise ApiError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                       "expected a multipart/form-data body with image files in fields 'a', 'b' (, 'c', ...) "
                       f"(got {content_type or 'no Content-Type'})")
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            declared_bytes = int(declared)
        except ValueError:
            raise ApiError(HTTPStatus.BAD_REQUEST, f"invalid Content-Length {declared!r}") from None
        if declared_bytes > limits.max_request_bytes:
            raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                           f"request body of {declared_bytes} bytes is over the limit of {_whole_body(limits)}")
    form = await _parse_form(request, limits)
    try:
        # a browser's form sends an optional input left blank as an empty part: as if it were not there
        items = [(name, value) for name, value in form.multi_items()
                 if not (name in OPTIONAL_FIELDS and _blank(value))]
        names = [name for name, _ in items]
        refuse_repeated("field", names)
        fields = dict(items)
        present = [f for f in FIELDS if fields.get(f) is not None]
        if len(present) > limits.max_images:
            raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                           f"{len(present)} images; this server fuses at most {limits.max_images} per request, "
                           f"in fields {', '.join(repr(f) for f in limits.fields)}")
        refuse_unknown("field", names, (*limits.fields, RIG_FIELD), _fields_taken(limits))
        count = max(2, len(present))
        files = []
        for field in FIELDS[:count]:
            value = fields.get(field)
            if value is None:
                raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                               f"missing field '{field}': send the image files as multipart fields "
                               f"{', '.join(repr(f) for f in FIELDS[:count])}, in order")
            if not isinstance(value, UploadFile):
                raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                               f"field '{field}' must be a file upload, not a text value")
            if value.size is not None and value.size > limits.max_upload_bytes:
                raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               f"field '{field}': {value.size} bytes is over the limit of "
                               f"{_per_file(limits)}")
            files.append(value)
        uploads = []
        for field, file in zip(FIELDS, files):
            data = await file.read(limits.max_upload_bytes + 1)
            if len(data) > limits.max_upload_bytes:
                raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               f"field '{field}': over the limit of {_per_file(limits)}")
            uploads.append(Upload(field, data, file.filename or field))
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
    chunked, or wrong): 413 over the bound, 400 for a malformed body, :class:`ClientGone` when
    the client disconnects before the end of it."""
    limited_request = Request(request.scope, _bounded_receive(request.receive, limits.max_request_bytes,
                                                              limits.upload_timeout_s, limits.upload_deadline_s))
    try:
        async with contextlib.aclosing(limited_request.stream()) as stream:
            # room for a rig file and one stray part, so that a stray is named later rather than counted here
            return await _MultipartBody(limited_request.headers, stream, max_files=limits.max_images + 2,
                                        max_fields=limits.max_images + 4,
                                        max_file_bytes=limits.max_upload_bytes).parse()
    except _FileTooLarge as exc:
        raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                       f"field {exc.field!r}: over the limit of {_per_file(limits)}") from None
    except _BodyTooLarge:
        raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                       f"request body is over the limit of {_whole_body(limits)}") from None
    except _UploadStalled:
        raise ApiError(HTTPStatus.REQUEST_TIMEOUT,
                       f"the upload stalled: no data for {limits.upload_timeout_s:g} s "
                       f"({server_setting('--upload-timeout')}); send the whole body without pauses",
                       headers=CLOSE_CONNECTION) from None  # the socket is not kept for keep-alive
    except _UploadTooSlow as exc:
        raise ApiError(HTTPStatus.REQUEST_TIMEOUT,
                       f"the upload took too long: {exc.received} bytes of the body came in "
                       f"{limits.upload_deadline_s:g} s, the server's bound on a whole upload "
                       f"({server_setting('--upload-deadline')}: whoever runs the server can raise it); send "
                       "it faster, or smaller files",
                       headers=CLOSE_CONNECTION) from None
    except ClientDisconnect:
        raise ClientGone("during the upload") from None
    except MultiPartException as exc:
        if exc.message.startswith("Too many"):  # starlette's bound on the parts: as more images than allowed
            raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                           f"too many parts in one request ({exc.message.rstrip('.')}); this server "
                           f"fuses at most {limits.max_images} images per request and takes "
                           f"{_fields_taken(limits)}") from None
        reason = exc.message.rstrip(".")
        raise ApiError(HTTPStatus.BAD_REQUEST, f"malformed multipart body: {reason[:1].lower()}{reason[1:]}") from None


async def _read_rig_field(value: str | UploadFile | None) -> str | None:
    """The ``rig`` field's text (a text value, or a small uploaded JSON file); None if absent."""
    if value is None:
        return None
    data = await value.read(MAX_RIG_BYTES + 1) if isinstance(value, UploadFile) else value.encode()
    if len(data) > MAX_RIG_BYTES:
        raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                       f"field '{RIG_FIELD}': over the limit of {MAX_RIG_BYTES} bytes for a rig file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                       f"field '{RIG_FIELD}': not UTF-8 text (send the JSON written by defusion calibrate)") from None


def parse_rig(text: str) -> Rig:
    try:
        return Rig.loads(text, f"field '{RIG_FIELD}'")
    except RigError as exc:
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, str(exc)) from None


def _bounded_receive(receive: Callable, limit: int, idle_timeout_s: float = UPLOAD_IDLE_TIMEOUT_S,
                     deadline_s: float = UPLOAD_DEADLINE_S) -> Callable:
    """``receive`` counting the body's bytes (:class:`_BodyTooLarge` over ``limit``), waiting at
    most ``idle_timeout_s`` for each message (:class:`_UploadStalled`) and at most ``deadline_s``
    from now for the whole body (:class:`_UploadTooSlow`): a client that sends a byte now and then,
    each within the idle timeout, would otherwise hold its place in the queue forever."""
    received = 0
    deadline = anyio.current_time() + deadline_s

    async def receive_within_limits() -> Message:
        nonlocal received
        left = deadline - anyio.current_time()
        try:
            with anyio.fail_after(min(idle_timeout_s, max(left, 0))):
                message = await receive()
        except TimeoutError:
            raise (_UploadStalled() if idle_timeout_s < left else _UploadTooSlow(received)) from None
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise _BodyTooLarge
        return message

    return receive_within_limits
