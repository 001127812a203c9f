"""What ``POST /v1/fuse`` answers with: the fused PNG (:func:`encode_png`), the zips of
components or a source map, and the header with what reading the uploads had to say."""

from __future__ import annotations

import io
import zipfile

import numpy as np

from defusion.fusion.color import to_uint8
from defusion.fusion.fuser import Decomposition, Selection
from defusion.fusion.selection import source_map
from defusion.io.metadata import ImageMetadata
from defusion.io.writing import encode_image
from defusion.serving.decode import escape_controls

#: Names inside the ``components=true`` zip, in this order.
COMPONENT_FILES = ("fused.png", "common.png", "unique_a.png", "unique_b.png")
#: Added to the components zip with pixels=sources: the decision map, white where a's pixels are.
WEIGHT_FILE = "weight_a.png"
#: With source_map=true (pixels=sources), beside the fused image in a zip: which source each pixel
#: came from, black ``a`` to white the last image (a focus stack's depth map).
SOURCE_MAP_FILE = "source_map.png"
#: The response header that carries what reading the uploads had to say, lines joined by " | ".
NOTES_HEADER = "X-Defusion-Notes"
#: At most this many characters of it (a header is no place for an essay).
MAX_NOTES_LENGTH = 2000
#: The response header of every fused answer that says what made it: the package's version and the
#: model file's SHA-256, its first :data:`MODEL_DIGEST_CHARS` hex digits (/v1/info has it whole).
MODEL_HEADER = "X-Defusion-Model"
MODEL_DIGEST_CHARS = 12


def model_header(version: str, sha256: str | None) -> str:
    """:data:`MODEL_HEADER`'s value: ``defusion/VERSION``, and ``; weights-sha256=`` the digest's start if known.

    Example:
        >>> model_header("0.1.0", "0123456789abcdef" * 4)
        'defusion/0.1.0; weights-sha256=0123456789ab'
        >>> model_header("0.1.0", None)
        'defusion/0.1.0'
    """
    return f"defusion/{version}" + (f"; weights-sha256={sha256[:MODEL_DIGEST_CHARS]}" if sha256 else "")


def with_notes_header(headers: dict[str, str], said: list[str]) -> dict[str, str]:
    r"""``headers`` with ``said`` (``"warning: ..."`` lines) as NOTES_HEADER, bounded and a valid
    header value whatever the lines hold: whitespace runs made one space, other control characters
    and non-ASCII ones escaped as Python writes them (``\x00``, ``\u6f22``), as the uploads'
    labels already are (:func:`~defusion.serving.decode.file_label`).

    Example:
        >>> with_notes_header({}, ["warning: a.png has transparent pixels"])
        {'X-Defusion-Notes': 'warning: a.png has transparent pixels'}
        >>> with_notes_header({}, ["note: a\x00b\u00e9.png\r\nX-Evil: 1"])
        {'X-Defusion-Notes': 'note: a\\x00b\\xe9.png X-Evil: 1'}
    """
    if not said:
        return headers
    text = " | ".join(" ".join(line.split()) for line in said).encode("ascii", "backslashreplace").decode("ascii")
    return {**headers, NOTES_HEADER: escape_controls(text)[:MAX_NOTES_LENGTH]}


def encode_png(image: np.ndarray, metadata: ImageMetadata | None = None) -> bytes:
    """HxW or HxWx3 uint8/uint16 to PNG bytes (16-bit stays 16-bit), with ``metadata`` if given, as
    ``defusion fuse`` writes a PNG (:func:`defusion.io.writing.encode_image`)."""
    return encode_image(image, ".png", metadata=metadata)


def _zip(files: dict[str, np.ndarray], fused_metadata: ImageMetadata | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as zf:  # PNG is compressed already
        for name, image in files.items():
            zf.writestr(name, encode_png(image, fused_metadata if name == COMPONENT_FILES[0] else None))
    return buffer.getvalue()


def zip_parts(parts: Decomposition, with_source_map: bool = False,
               fused_metadata: ImageMetadata | None = None) -> bytes:
    files = dict(zip(COMPONENT_FILES, (parts.fused, parts.common, parts.unique_a, parts.unique_b)))
    if parts.weight_a is not None:
        files[WEIGHT_FILE] = to_uint8(parts.weight_a)
        if with_source_map:
            files[SOURCE_MAP_FILE] = to_uint8(source_map([parts.weight_a, 1 - parts.weight_a]))
    return _zip(files, fused_metadata)


def zip_selection(selection: Selection, fused_metadata: ImageMetadata | None = None) -> bytes:
    return _zip({COMPONENT_FILES[0]: selection.fused, SOURCE_MAP_FILE: to_uint8(source_map(selection.weights))},
                fused_metadata)
