"""A request's uploads to its images: decoded by :mod:`defusion.serving.decode`, each failure
answered with its status, their sizes checked to fit together; their metadata; and their colours
brought into one profile, as ``defusion fuse`` brings its files' (:func:`colours_matched`)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Sequence

import numpy as np
from starlette.concurrency import run_in_threadpool

from defusion.fusion.rig import Rig, RigError
from defusion.io.errors import ImageReadError
from defusion.io.float_pixels import FloatReading
from defusion.io.icc import match_colour_spaces
from defusion.io.metadata import ImageMetadata, read_metadata
from defusion.io.pixel_bound import ImageTooLargeError
from defusion.serving.decode import (UnsupportedImageError, UploadStorageError, decode_image, file_label, header_size,
                                     one_line)
from defusion.serving.errors import SERVICE_UNAVAILABLE, ApiError, name_fields
from defusion.serving.limits import Limits, server_setting, too_many_pixels
from defusion.serving.multipart import Upload

log = logging.getLogger("defusion.serving")

#: How a client is told the pixel bound is the server's, for whoever runs it to raise.
SERVER_LIMIT_HINT = server_setting("--max-pixels")


async def decoded(uploads: Sequence[Upload], rig: Rig | None, limits: Limits,
                  floats: FloatReading = "stretch") -> list[np.ndarray]:
    """The uploads' pixels, checked to fit together: one size (compared from the headers first, so
    a mismatch costs no decoding), or the sizes ``rig`` was calibrated at. Float pixels are read as
    ``floats`` says (``"values"``: as they are, for :func:`~defusion.serving.stream.map_floats`)."""
    if rig is None:
        headers = await run_in_threadpool(lambda: [header_size(u.data, u.name) for u in uploads])
        _refuse_different_sizes(uploads, headers, exact=False)
    images = [await run_in_threadpool(_decode, upload, limits.max_pixels, floats) for upload in uploads]
    if rig is None:
        _refuse_different_sizes(uploads, [(im.shape[1], im.shape[0]) for im in images], exact=True)
        return images
    try:
        rig.check_images(images)
    except RigError as exc:
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, f"rig: {name_fields(str(exc))}") from None
    return images


def _refuse_different_sizes(uploads: Sequence[Upload], sizes: Sequence[tuple[int, int] | None], *,
                            exact: bool) -> None:
    """A 422 naming the first image whose (width, height) differs from ``a``'s (None: not known).
    Not ``exact`` (sizes read from the headers, where the EXIF orientation may not be) refuses only
    sizes that no rotation makes equal; the decoded sizes are checked exactly afterwards."""
    first = sizes[0]
    for upload, size in zip(uploads[1:], sizes[1:]):
        if first is None or size is None:
            continue
        if (size != first) if exact else (sorted(size) != sorted(first)):
            raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                           f"images differ in size: a is {_wxh(first)} and {upload.field} is {_wxh(size)} "
                           "(WxH); fusion needs registered images of one size (or a calibrated "
                           "camera rig in the field 'rig': defusion calibrate)")


def _decode(upload: Upload, max_pixels: int, floats: FloatReading = "stretch") -> np.ndarray:
    """The upload's pixels; every failure to decode it is the upload's problem: a 4xx, never a 500.
    ``max_pixels`` bounds the pixels a fusion runs (:func:`~defusion.serving.limits.charged_pixels`),
    checked from the header before decoding and from the pixels after (a header that does not tell)."""
    field = upload.field
    try:
        _check_charged(upload, header_size(upload.data, upload.name), max_pixels)
        image = decode_image(upload.data, upload.name, max_pixels, floats=floats)  # floats: float pixels only
        _check_charged(upload, (image.shape[1], image.shape[0]), max_pixels)
        return image
    except UploadStorageError:  # the server's disk or temporary folder; decode_image logged the reason
        raise ApiError(SERVICE_UNAVAILABLE, f"field '{field}': the server could not store the upload to decode it "
                                            "(a problem on the server, not the image; its log has the reason); "
                                            "retry later") from None
    except ImageTooLargeError as exc:
        raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                       f"field '{field}': {exc.told(hint=SERVER_LIMIT_HINT)}") from None
    except UnsupportedImageError as exc:
        raise ApiError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE, f"field '{field}': {exc}") from None
    except ImageReadError as exc:
        raise ApiError(HTTPStatus.BAD_REQUEST, f"field '{field}': {exc}") from None
    except MemoryError:
        raise
    except Exception as exc:  # decode_image words the decoders' own failures; this is the last line
        log.warning("decoding field %r (%s) failed in an unexpected way (a bug in reading?)", field,
                    upload_label(upload), exc_info=True)
        raise ApiError(HTTPStatus.BAD_REQUEST,
                       f"cannot read image '{field}' ({upload_label(upload)}): {one_line(exc)}") from None


def _check_charged(upload: Upload, size: tuple[int, int] | None, max_pixels: int) -> None:
    """ImageTooLargeError, as decoding raises it for an image over the bound, where the upload of
    ``size`` (width, height; None: not known) runs more than ``max_pixels`` once padded (a 16,000,000x1
    image: 128,000,000), though its own pixels are within."""
    said = None if size is None else too_many_pixels(*size, max_pixels)
    if said:
        raise ImageTooLargeError(upload_label(upload), said)


def upload_label(upload: Upload) -> str:
    """The upload as notes name it: the client's file name without its folders, as reading it says it."""
    return file_label(upload.name)


def upload_metadata(upload: Upload) -> ImageMetadata:
    """The upload's colour profile and EXIF; none where they cannot be read (the pixels were)."""
    try:
        return read_metadata(upload.data)
    except MemoryError:  # the server's limits, not the file's fault: a 503
        raise
    except Exception:  # corrupt EXIF that Pillow's parser trips over: the fused image goes without
        log.debug("reading the metadata of field %r (%s) failed", upload.field, upload_label(upload), exc_info=True)
        return ImageMetadata()


def colours_matched(uploads: Sequence[Upload], images: Sequence[np.ndarray], metadata: bool
                    ) -> tuple[list[np.ndarray], list[ImageMetadata]]:
    """``images`` (decoded from ``uploads``) with the colour ones whose profile differs from the first
    colour upload's converted to it, and the uploads' metadata with the profiles they now have, as
    ``defusion fuse`` matches its files (:func:`defusion.io.icc.match_colour_spaces`, which says so in
    one line); without ``metadata`` (``metadata=false``: the fused image carries no profile, and is read
    as sRGB), every colour upload made sRGB. Mixed as raw numbers, a Display P3 upload beside an sRGB
    one would show in wrong colours under the one profile the answer carries."""
    return match_colour_spaces(images, [upload_metadata(u) for u in uploads], [upload_label(u) for u in uploads],
                               carried=metadata, unprofiled_by="metadata=false")


def _wxh(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"
