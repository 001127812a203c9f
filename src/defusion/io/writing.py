"""Writing images and other output files: :func:`write_image` (8/16-bit, with metadata), atomic writes
(:func:`write_bytes_atomically`), and checks that an output path or folder can be written before the work."""

from __future__ import annotations

import errno
import os
import uuid
from contextlib import suppress
from pathlib import Path

import cv2
import numpy as np

# What write_image can produce and JPEG qualities: defined there, for the CLI's fast --help.
from defusion.io.formats import DEFAULT_JPEG_QUALITY, FULL_CHROMA_QUALITY, SIXTEEN_BIT_SUFFIXES, WRITABLE_SUFFIXES
from defusion.io.metadata import ImageMetadata, embed_metadata, tiff_with_metadata, webp_with_metadata

#: OpenCV's WebP quality above 100 selects lossless coding.
_WEBP_LOSSLESS = 101


def write_image(path: str | Path, image: np.ndarray, quality: int = DEFAULT_JPEG_QUALITY,
                metadata: ImageMetadata | None = None) -> Path:
    """Write HxW or HxWx3 uint8/uint16 to ``path`` atomically; returns the path.

    16-bit data is kept in PNG and TIFF and reduced to 8 bits for JPEG, BMP and WebP. JPEG is
    written at ``quality`` (1-100), with full-resolution colour (4:4:4) from
    :data:`FULL_CHROMA_QUALITY` up, as photo editors save high-quality JPEGs (4:2:0 halves the colour
    resolution and smears coloured edges); WebP lossless (a compact file with no loss, as a measured
    image needs).
    ``metadata`` (an ICC profile and EXIF, :mod:`defusion.io.metadata`) goes into PNG, JPEG, WebP
    and TIFF (there the EXIF's camera, date and rights tags).
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITABLE_SUFFIXES:
        raise ValueError(f"{path}: cannot write '{suffix or 'no suffix'}'; use one of {', '.join(WRITABLE_SUFFIXES)}")
    if image.dtype == np.uint16 and suffix not in SIXTEEN_BIT_SUFFIXES:
        image = (image.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    if image.dtype not in (np.uint8, np.uint16):
        raise TypeError(f"write_image needs uint8 or uint16 data, got {image.dtype}")
    bgr = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    if not 1 <= quality <= 100:
        raise ValueError(f"JPEG quality must be from 1 to 100, got {quality}")
    jpeg = [cv2.IMWRITE_JPEG_QUALITY, quality]
    if quality >= FULL_CHROMA_QUALITY:
        jpeg += [cv2.IMWRITE_JPEG_SAMPLING_FACTOR, cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444]
    params = {".jpg": jpeg, ".jpeg": jpeg, ".webp": [cv2.IMWRITE_WEBP_QUALITY, _WEBP_LOSSLESS]}.get(suffix, [])
    ok, encoded = cv2.imencode(suffix, bgr, params)
    if not ok:
        raise OSError(f"{path}: encoding failed")
    if metadata is None or not (metadata.icc_profile or metadata.exif):
        data = encoded.tobytes()
    elif suffix in (".tif", ".tiff"):
        data = tiff_with_metadata(image, metadata)
    elif suffix == ".webp":
        data = webp_with_metadata(image, metadata)
    else:
        data = embed_metadata(encoded.tobytes(), suffix, metadata)
    write_bytes_atomically(path, data)
    return path


#: The longest file name (bytes) assumed where the file system cannot be asked: most take 255.
_NAME_MAX = 255
#: Shown of a name too long to write (a name of 255 bytes would fill the line).
_NAME_SHOWN = 24


def write_bytes_atomically(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in its folder, renamed into place: a run
    killed, or a disk filling, while writing leaves the previous file whole and no partial one.

    The temporary name is short (``.defusion-PID-RANDOM.tmp``), so that every name the folder takes can
    be written: ``.NAME.tmp`` was 5 bytes too long for names of 251-255 bytes. A failure is an OSError
    of one line naming ``path`` (not the temporary) and the reason, with the OS's ``errno``.
    """
    path = Path(path)
    tmp = path.with_name(f".defusion-{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        with suppress(OSError):
            tmp.unlink(missing_ok=True)
        blocker = _file_in_the_way(path.parent)
        reason = f"{blocker} is a file, not a folder" if blocker else (exc.strerror or str(exc))
        raise _os_error(f"{path}: cannot write ({reason})", exc.errno) from None
    return path


def check_path(path: str | Path) -> None:
    """Raise an OSError of one line where ``path`` can never be written, touching nothing: a part
    of it is a longer name than the file system takes, or a file stands where a folder must be.
    The message does not repeat ``path``: callers name it as it was given (``-o PATH: ...``).

    Example:
        >>> check_path("out/" + "e" * 300 + ".png")
        Traceback (most recent call last):
        OSError: the name eeeeeeeeeeeeeeeeeeeeeeee... is 304 bytes long; this file system takes names of at most 255
    """
    path = Path(path)
    limit = _name_max(path)
    for part in path.parts:
        size = len(os.fsencode(part))
        if size > limit:
            shown = part if len(part) <= _NAME_SHOWN else part[:_NAME_SHOWN] + "..."
            raise _os_error(f"the name {shown} is {size} bytes long; this file system takes names of at most "
                            f"{limit}", errno.ENAMETOOLONG)
    blocker = _file_in_the_way(path.parent)
    if blocker is not None:
        raise _os_error(f"{blocker} is a file, not a folder", errno.ENOTDIR)


def check_writable_folder(folder: str | Path) -> None:
    """Raise an OSError of one line (the reason, without ``folder``) unless files can be written in
    ``folder``: the folders missing are made, a small file is made and removed there, then the folders
    made are removed again. Said before minutes of work, not after: read-only, full, not allowed."""
    folder = Path(folder)
    check_path(folder / "x")
    made = [p for p in (folder, *folder.parents) if not os.path.isdir(p)]  # deepest first
    probe = folder / f".defusion-probe-{uuid.uuid4().hex[:8]}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"defusion")
        probe.unlink()
    except OSError as exc:
        with suppress(OSError):
            probe.unlink(missing_ok=True)
        raise _os_error(f"cannot write in {folder} ({exc.strerror or exc})", exc.errno) from None
    finally:
        for made_folder in made:
            with suppress(OSError):
                made_folder.rmdir()


def _name_max(path: Path) -> int:
    """The longest file name (bytes) the file system of ``path``'s nearest existing folder takes;
    :data:`_NAME_MAX` where it cannot be asked (Windows has no ``os.pathconf``)."""
    pathconf = getattr(os, "pathconf", None)
    if pathconf is None:
        return _NAME_MAX
    existing = next((p for p in (path, *path.parents) if os.path.isdir(p)), Path("."))
    try:
        return pathconf(existing, "PC_NAME_MAX")
    except (OSError, ValueError):
        return _NAME_MAX


def _file_in_the_way(folder: Path) -> Path | None:
    """The nearest of ``folder`` and its parents that exists, where it is not a folder, else None."""
    existing = next((p for p in (folder, *folder.parents) if os.path.exists(p)), None)
    return existing if existing is not None and not os.path.isdir(existing) else None


def _os_error(message: str, code: int | None) -> OSError:
    """An OSError whose text is ``message`` alone (no "[Errno N]") that keeps the OS's ``code``:
    callers tell a full or read-only disk (which stops a batch) from a problem of one file."""
    error = OSError(message)
    error.errno = code
    return error


__all__ = ["write_image", "write_bytes_atomically", "check_path", "check_writable_folder"]
