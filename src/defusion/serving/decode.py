"""Uploaded bytes to image arrays, by exactly the rules of :func:`defusion.io.images.read_image`.

The bytes go to a temporary file that ``read_image`` decodes, so uploads and files on disk take
one code path (8/16-bit, EXIF orientation, alpha dropped, pixel bound checked from the header).
Failures are sorted into the three kinds a server answers differently:

- :class:`~defusion.io.pixel_bound.ImageTooLargeError`: over the pixel bound (HTTP 413);
- :class:`UnsupportedImageError`: not an image, or a format we cannot read (HTTP 415): one that
  Pillow could open but defusion does not read (EPS, PSD, ...) is refused from its first bytes,
  never handed to Pillow's plugin for it (:func:`defusion.io.formats.open_image`);
- :class:`~defusion.io.errors.ImageReadError`: an image file that is truncated or corrupt (HTTP 400),
  also whatever else a decoder raises on odd data (a TypeError from corrupt EXIF): the upload's
  fault, never the server's.

Two failures are the server's, never the upload's: :class:`UploadStorageError` (the temporary
file could not be made or written: a full disk, a temporary folder it cannot write, a file size
limit; the reason is logged here, at error level, and not put in the message) and ``MemoryError``
(also when a reader had wrapped it in an ImageReadError), both re-raised for the server to answer 503.

:func:`header_size` reads an upload's size from its header alone, so that a server can refuse
images of different sizes (or too many pixels) before decoding any of them.
"""

from __future__ import annotations

import io
import logging
import os
import re
import tempfile

import numpy as np
from PIL import UnidentifiedImageError

from defusion.io.errors import ImageReadError
from defusion.io.float_pixels import FloatReading
from defusion.io.formats import DEFAULT_MAX_PIXELS, open_image
from defusion.io.heif import HEIF_EXTRA
from defusion.io.images import ImageFormatError, read_image
from defusion.io.notes import collecting, say, split_line
from defusion.io.pixel_bound import ImageTooLargeError
from defusion.io.probes import header_size as image_header_size
from defusion.io.raw import RAW_EXTRA, is_raw

log = logging.getLogger("defusion.serving")

#: Leading bytes of the formats read_image handles: a file that starts like one of these but
#: cannot be opened is a damaged image (400), not an unsupported type (415).
_IMAGE_SIGNATURES = (b"\x89PNG", b"\xff\xd8", b"BM", b"II*\x00", b"MM\x00*", b"GIF8", b"RIFF")
#: At most this many characters of a client's file name label its upload (a name, not an essay: the
#: label goes into every message, note and log line about the upload).
MAX_LABEL_CHARS = 100
#: The characters a client's file name may not carry into a label as they are: the C0 controls (a NUL,
#: CR or LF is no valid header byte; h11 refused the whole answer), DEL, the C1 controls (0x9b is a
#: terminal's CSI, as ESC [ is) and Unicode's line and paragraph separators (line breaks to
#: str.splitlines and many log viewers).
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


class UnsupportedImageError(ImageReadError):
    """Data that is not an image, or an image format that cannot be read."""


class UploadStorageError(RuntimeError):
    """The upload could not be stored in a temporary file to be decoded: the server's disk or
    temporary folder failed (logged with the reason), not the upload. The message names the
    upload only: no server path."""


def decode_image(data: bytes, name: str = "upload", max_pixels: int = DEFAULT_MAX_PIXELS,
                 floats: FloatReading = "stretch") -> np.ndarray:
    """Decode image bytes to HxW or HxWx3 uint8/uint16, as ``read_image`` reads a file (float pixels
    as ``floats`` says: ``"values"`` keeps them as float32, for the API to map by a stream's range).

    ``name`` (the client's file name) only names the upload in error messages and gives the
    temporary file its suffix.

    Example:
        >>> import cv2
        >>> ok, png = cv2.imencode(".png", np.zeros((4, 6), np.uint8))
        >>> decode_image(png.tobytes(), "x.png").shape
        (4, 6)
    """
    label = file_label(name)
    if not data:
        raise ImageReadError(f"{label}: empty upload")
    size = header_size(data, name)
    if size is not None and size[0] * size[1] > max_pixels:  # exact counts: rounded, both could read 0.1 MP
        width, height = size
        raise ImageTooLargeError(label, f"{width}x{height} is {width * height:,} pixels, over the limit of "
                                        f"{max_pixels:,} pixels")
    try:
        fd, tmp = tempfile.mkstemp(prefix="defusion-upload-", suffix=_suffix(name))
    except OSError as exc:
        raise _storage_failed(label, exc) from None
    try:
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        except OSError as exc:  # a full disk, a file size limit (ulimit -f), a quota
            raise _storage_failed(label, exc) from None
        try:
            with collecting() as said:  # said again below, naming the upload, not the temporary file
                image = read_image(tmp, max_pixels, floats=floats)
            for line in said:
                kind, message = split_line(line)
                say(kind, message.replace(tmp, label))
            return image
        except ImageTooLargeError as exc:
            raise exc.told(source=label) from None
        except ImageReadError as exc:
            if _read_ran_out_of_memory(exc):  # a reader that wrapped the server's MemoryError
                raise MemoryError(f"decoding {label}") from exc
            if isinstance(exc, ImageFormatError) or HEIF_EXTRA in str(exc) or RAW_EXTRA in str(exc):
                # a format defusion does not read (EPS, PSD, ...), or a HEIC or raw upload, its extra missing
                raise UnsupportedImageError(str(exc).replace(tmp, label)) from None
            if not _identifiable(data):
                raise UnsupportedImageError(f"{label}: not an image, or a format that cannot be read") from None
            if isinstance(exc.__context__, UnidentifiedImageError):  # a known signature, broken header
                raise ImageReadError(f"{label}: cannot decode the header; is the file truncated or corrupt?") from None
            raise ImageReadError(str(exc).replace(tmp, label)) from None
        except MemoryError:  # the server's limits, not the file's fault
            raise
        except Exception as exc:  # a decoder tripping over odd data (corrupt EXIF: a TypeError in Pillow)
            log.warning("decoding %s failed in an unexpected way (a decoder bug, or one in defusion?)", label,
                        exc_info=True)
            raise ImageReadError(f"{label}: cannot read image ({one_line(exc).replace(tmp, label)}); "
                                 "is the file corrupt?") from None
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass


def _storage_failed(label: str, exc: OSError) -> UploadStorageError:
    """Log why the upload could not be stored (the server's log may name its paths), and the error to raise."""
    log.error("cannot store upload %s in a temporary file to decode it: %s (temporary folder %s: full, not "
              "writable, or over a file size limit?)", label, one_line(exc), tempfile.gettempdir())
    return UploadStorageError(f"{label}: the server could not store the upload to decode it")


def _read_ran_out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` was caused, at any depth, by a MemoryError."""
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, MemoryError):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def header_size(data: bytes, name: str = "upload") -> tuple[int, int] | None:
    """(width, height) of the image :func:`decode_image` would return, from the header alone
    (:func:`defusion.io.probes.header_size`; None for a camera raw file, known by ``name``).

    Example:
        >>> import cv2
        >>> ok, png = cv2.imencode(".png", np.zeros((4, 6), np.uint8))
        >>> header_size(png.tobytes()), header_size(b"plain text")
        ((6, 4), None)
    """
    return None if is_raw(name or "") else image_header_size(data)


def one_line(exc: BaseException) -> str:
    """An exception as one line for an error message: its type, and its message if it has one."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _identifiable(data: bytes) -> bool:
    """Whether the bytes look like an image defusion reads: Pillow recognises them as one of those
    formats, or a known signature."""
    if data.startswith(_IMAGE_SIGNATURES):
        return True
    try:
        with open_image(io.BytesIO(data)):
            return True
    except UnidentifiedImageError:
        return False
    except MemoryError:
        raise
    except Exception:  # recognised, but broken further on
        return True


def file_label(name: str) -> str:
    r"""The client's file ``name`` as messages, notes, response headers and log lines name its upload:
    without its folders, its first :data:`MAX_LABEL_CHARS` characters, control characters escaped
    (:func:`escape_controls`), so that a name cannot break a header (a NUL) or write to a terminal
    reading the log (an ESC).

    Example:
        >>> file_label("photos/a\x00b.png"), file_label("\x1b[31mred.png"), file_label("")
        ('a\\x00b.png', '\\x1b[31mred.png', 'upload')
    """
    base = os.path.basename(name or "") or "upload"
    return escape_controls(base[:MAX_LABEL_CHARS])


def escape_controls(text: str) -> str:
    r"""``text`` with each control character (:data:`_CONTROLS`) written as Python escapes it, as the
    notes header writes non-ASCII ones (``\x00``, ``\x1b``, ``\x7f``, ``\u2028``).

    Example:
        >>> escape_controls("a\x01b\x7f\tc")
        'a\\x01b\\x7f\\tc'
    """
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def _suffix(name: str) -> str:
    suffix = os.path.splitext(name or "")[1].lower()
    return suffix if re.fullmatch(r"\.[a-z0-9]{1,8}", suffix) else ""
