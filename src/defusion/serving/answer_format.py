"""The image format of a ``POST /v1/fuse`` answer: ``?format=`` (png, jpeg, webp, tiff), else the
request's ``Accept`` header, else PNG; and its encoding, by :func:`defusion.io.writing.write_image`'s
rules, so that the API and ``defusion fuse -o fused.jpg`` write alike (JPEG at ``quality``, 4:4:4 from
:data:`~defusion.io.formats.FULL_CHROMA_QUALITY` up; WebP lossless; 16 bits kept in PNG and TIFF only).

The zips (``components``, ``source_map``) stay PNG whatever is asked: their maps (a decision map,
a source index) must not be blurred by a lossy format."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np

from defusion.io.formats import DEFAULT_JPEG_QUALITY, SIXTEEN_BIT_SUFFIXES
from defusion.io.metadata import ImageMetadata
from defusion.io.writing import encode_image


#: The ``format`` query values; the first is the default.
AnswerFormat = Literal["png", "jpeg", "webp", "tiff"]
DEFAULT_FORMAT: AnswerFormat = "png"
#: The qualities ``quality`` takes (JPEG's, as ``defusion fuse --quality``).
QUALITY_RANGE = (1, 100)
#: The file name of a fused image answer, before its suffix (as in the zips: fused.png).
FUSED_STEM = "fused"


@dataclass(frozen=True)
class Format:
    """One answer format: its media type, the suffix write_image writes it by, whether it is lossy."""

    media_type: str
    suffix: str
    lossy: bool = False

    @property
    def bits(self) -> int:
        """The most bits per sample it keeps: 16 in PNG and TIFF, else 8 (write_image's rule)."""
        return 16 if self.suffix in SIXTEEN_BIT_SUFFIXES else 8


#: Each ``format`` value, in :data:`AnswerFormat`'s order.
FORMATS: dict[str, Format] = {
    "png": Format("image/png", ".png"),
    "jpeg": Format("image/jpeg", ".jpg", lossy=True),
    "webp": Format("image/webp", ".webp"),  # lossless, as write_image writes it
    "tiff": Format("image/tiff", ".tif"),
}
assert tuple(FORMATS) == get_args(AnswerFormat)
#: Accept's wildcards, answered with the default format.
_WILDCARDS = ("*/*", "image/*")


def negotiated(asked: str | None, accept: str | None) -> str:
    """The answer's format: ``asked`` (``?format=``) where given, else the one ``accept`` (an Accept
    header) prefers of :data:`FORMATS` (highest q; a named type before a wildcard, then the first),
    else PNG: a wildcard, no header, or one naming only types this server cannot give (no 406).

    Example:
        >>> negotiated(None, "image/avif, image/webp, image/*;q=0.8"), negotiated("tiff", "image/jpeg")
        ('webp', 'tiff')
        >>> negotiated(None, "image/jpeg;q=0.5, image/png"), negotiated(None, "image/avif")
        ('png', 'png')
    """
    if asked is not None:
        return asked
    by_type = {spec.media_type: name for name, spec in FORMATS.items()}
    ranked = []
    for index, (media_type, q) in enumerate(_accepted(accept or "")):
        if q > 0 and (media_type in by_type or media_type in _WILDCARDS):
            wildcard = media_type in _WILDCARDS
            ranked.append((-q, wildcard, index, DEFAULT_FORMAT if wildcard else by_type[media_type]))
    return min(ranked)[3] if ranked else DEFAULT_FORMAT


def _accepted(accept: str) -> list[tuple[str, float]]:
    """An Accept header's (media type, q) pairs, lower case; an entry with a q that is no number from
    0 to 1 is left out (RFC 9110: not understood).

    Example:
        >>> _accepted("Image/JPEG; q=0.9, image/webp;q=x, */*")
        [('image/jpeg', 0.9), ('*/*', 1.0)]
    """
    pairs = []
    for entry in accept.split(","):
        media_type, *parameters = (part.strip() for part in entry.split(";"))
        q = 1.0
        for parameter in parameters:
            key, _, value = parameter.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = -1.0
        if media_type and 0 <= q <= 1:
            pairs.append((media_type.lower(), q))
    return pairs


def format_notes(image: np.ndarray, name: str, quality_given: bool) -> list[str]:
    """What the answer's format did that a client should know (``X-Defusion-Notes`` lines): a 16-bit
    result reduced to 8 bits (as ``defusion fuse`` warns), ``quality`` for a format it does not set.

    Example:
        >>> format_notes(np.zeros((2, 2), np.uint16), "jpeg", False)
        ['warning: jpeg holds 8 bits; the 16-bit result was reduced (format=png or format=tiff keeps 16 bits)']
    """
    said = []
    if image.dtype == np.uint16 and FORMATS[name].bits < 16:
        keeps = " or ".join(f"format={other}" for other, spec in FORMATS.items() if spec.bits == 16)
        said.append(f"warning: {name} holds 8 bits; the 16-bit result was reduced ({keeps} keeps 16 bits)")
    if quality_given and not FORMATS[name].lossy:
        said.append(quality_note(f"{name} answer"))
    return said


def quality_note(answer: str) -> str:
    """The note for a ``quality`` that sets nothing: ``answer`` (a png answer, a zip of PNGs) is lossless."""
    return f"note: quality sets a JPEG answer's quality; this {answer} is lossless"


def encode_answer(image: np.ndarray, name: str, quality: int = DEFAULT_JPEG_QUALITY,
                  metadata: ImageMetadata | None = None) -> bytes:
    """``image`` (HxW or HxWx3, uint8 or uint16) in format ``name``, with ``metadata``, byte for byte
    as ``defusion fuse`` writes a file of its suffix (:func:`defusion.io.writing.encode_image`: one
    encoder for the CLI and the API).

    Example:
        >>> encode_answer(np.zeros((4, 6, 3), np.uint8), "jpeg")[:3]
        b'\\xff\\xd8\\xff'
    """
    return encode_image(image, FORMATS[name].suffix, quality=quality, metadata=metadata)


def disposition(name: str) -> str:
    """The Content-Disposition of a fused image answer: shown inline, named by its format's suffix.

    Example:
        >>> disposition("jpeg")
        'inline; filename="fused.jpg"'
    """
    return f'inline; filename="{FUSED_STEM}{FORMATS[name].suffix}"'


def formats_info() -> dict[str, dict[str, object]]:
    """/v1/info's ``formats``: each ``format`` value's media type, the bits it keeps, whether it is
    lossy, and its default quality (JPEG's; None for the lossless ones)."""
    return {name: {"media_type": spec.media_type, "bits": spec.bits, "lossy": spec.lossy,
                   "quality": DEFAULT_JPEG_QUALITY if spec.lossy else None} for name, spec in FORMATS.items()}
