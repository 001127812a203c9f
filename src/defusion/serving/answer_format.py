"""The image format of a ``POST /v1/fuse`` answer: ``?format=`` (png, jpeg, webp, tiff), else the
request's ``Accept`` header (:func:`negotiated`), else PNG; and its encoding, by
:func:`defusion.io.writing.write_image`'s rules, so that the API and ``defusion fuse -o fused.jpg``
write alike (JPEG at ``quality``, 4:4:4 from :data:`~defusion.io.formats.FULL_CHROMA_QUALITY` up;
WebP lossless, or lossy at ``quality`` where one is given; 16 bits kept in PNG and TIFF only).

A format whose encoder cannot hold the image (its longest side: WebP's, JPEG's, PNG's, by
:data:`~defusion.io.formats.MAX_SIDES`, the table ``defusion fuse`` checks -o by) is refused with a 422
where ``format`` asked it (before the model's turn: :func:`check_answerable`), and replaced by PNG (or
another the header accepts, else the first that holds it) with a note where ``Accept`` chose it; so is an 8-bit format that ``Accept`` chose for a 16-bit result: only an explicit
``format`` loses bits (:func:`choose_answer_format`).

The zips (``components``, ``source_map``) stay PNG whatever is asked: their maps (a decision map,
a source index) must not be blurred by a lossy format."""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus
from typing import Literal

import numpy as np

from defusion.io.formats import DEFAULT_JPEG_QUALITY, SIXTEEN_BIT_SUFFIXES, too_large
from defusion.io.metadata import ImageMetadata
from defusion.io.writing import encode_image
from defusion.serving.errors import ApiError


#: The ``format`` query values; the first is the default.
AnswerFormat = Literal["png", "jpeg", "webp", "tiff"]
DEFAULT_FORMAT: AnswerFormat = "png"
#: The qualities ``quality`` takes (JPEG's and WebP's, as ``defusion fuse --quality``).
QUALITY_RANGE = (1, 100)
#: The file name of a fused image answer, before its suffix (as in the zips: fused.png).
FUSED_STEM = "fused"


@dataclass(frozen=True)
class Format:
    """One answer format: its media type, the suffix write_image writes it by, whether it is lossy
    without a ``quality``, and whether a ``quality`` sets it (WebP: lossy at it, lossless without)."""

    media_type: str
    suffix: str
    lossy: bool = False
    takes_quality: bool = False

    @property
    def bits(self) -> int:
        """The most bits per sample it keeps: 16 in PNG and TIFF, else 8 (write_image's rule)."""
        return 16 if self.suffix in SIXTEEN_BIT_SUFFIXES else 8


#: Each ``format`` value, in :data:`AnswerFormat`'s order.
FORMATS: dict[str, Format] = {
    "png": Format("image/png", ".png"),
    "jpeg": Format("image/jpeg", ".jpg", lossy=True, takes_quality=True),
    # lossless without a quality, lossy at one, as write_image writes it
    "webp": Format("image/webp", ".webp", takes_quality=True),
    "tiff": Format("image/tiff", ".tif"),
}
#: Accept's wildcards that match an image format, the more specific first.
_WILDCARDS = ("image/*", "*/*")


def negotiated(asked: str | None, accept: str | None) -> str:
    """The answer's format before the image is known: ``asked`` (``?format=``) where given, else the
    one ``accept`` (an Accept header) picks of :data:`FORMATS`, by one rule:

    - where the header's first choice (its highest q; the first entry of those) names one of ours,
      that one, or the first of ours in :data:`FORMATS`' order that the header likes as much (named,
      or through ``image/*`` or ``*/*``, at that q: equal q is equal preference, RFC 9110);
    - else (``*/*``, ``image/*``, or a type we cannot give such as ``image/avif`` or ``text/html``
      first: a browser's generic Accept) the first of ours the header accepts (:func:`acceptable`),
      PNG first; PNG where it accepts none, or where there is no header (never a 406).

    So a browser's Accept, which names image/webp among many, gets PNG (lossless, fast to encode,
    16 bits), and only a client that puts a format first gets it.

    Example:
        >>> negotiated(None, "image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8")  # Chrome's
        'png'
        >>> negotiated(None, "image/webp"), negotiated(None, "image/webp, */*;q=0.8"), negotiated("tiff", "image/png")
        ('webp', 'webp', 'tiff')
        >>> negotiated(None, "image/png;q=0, image/*"), negotiated(None, "image/avif, image/tiff;q=0.5")
        ('jpeg', 'tiff')
        >>> negotiated(None, "image/avif"), negotiated(None, "image/*;q=0, */*")  # nothing of ours accepted
        ('png', 'png')
    """
    if asked is not None:
        return asked
    entries = _accepted(accept or "")
    top = max((q for _, q in entries), default=0.0)
    if top <= 0:  # no header, or nothing it accepts
        return DEFAULT_FORMAT
    first = next(media_type for media_type, q in entries if q == top)
    by_type = {spec.media_type: name for name, spec in FORMATS.items()}
    if first in by_type:
        qualities = _qualities(entries)
        return next((name for name in FORMATS if qualities[name] >= top), by_type[first])
    return next(iter(acceptable(accept)), DEFAULT_FORMAT)


def acceptable(accept: str | None) -> list[str]:
    """The formats of :data:`FORMATS` (in its order) that ``accept`` takes: a q over 0 by its most
    specific entry (``image/png``, else ``image/*``, else ``*/*``; a named q=0 refuses one a wildcard
    takes); every one where there is no header.

    Example:
        >>> acceptable("image/*, image/png;q=0"), acceptable("image/avif, image/webp"), acceptable(None)
        (['jpeg', 'webp', 'tiff'], ['webp'], ['png', 'jpeg', 'webp', 'tiff'])
    """
    entries = _accepted(accept or "")
    if not entries:
        return list(FORMATS)
    return [name for name, q in _qualities(entries).items() if q > 0]


def _qualities(entries: list[tuple[str, float]]) -> dict[str, float]:
    """Each of :data:`FORMATS`' q in an Accept header's ``entries``: its most specific entry's (its
    media type, else ``image/*``, else ``*/*``; the first of an entry given twice), 0 where none matches."""
    first_q = dict(reversed(entries))  # an entry given twice: its first q
    return {name: next((first_q[media_range] for media_range in (spec.media_type, *_WILDCARDS)
                        if media_range in first_q), 0.0)
            for name, spec in FORMATS.items()}


def choose_answer_format(image: np.ndarray, asked: str | None, accept: str | None) -> tuple[str, list[str]]:
    """The format ``image`` is answered in, with a note where it is not the one Accept chose.

    ``asked`` (``?format=``) where given, or an :class:`ApiError` (422, :func:`check_sides`) where its
    encoder cannot hold ``image``'s sides; else :func:`negotiated`'s choice where it holds ``image``
    whole, else the first format ``accept`` takes that does (:func:`acceptable`), else the first of
    :data:`FORMATS` that does (PNG where it can: never a 406): a wide image is never a 500, and a 16-bit
    result loses no bits to a format the client did not ask by name.

    Example:
        >>> choose_answer_format(np.zeros((16, 16400, 3), np.uint8), None, "image/webp")
        ('png', ['note: Accept chose webp, but webp takes sides up to 16383 px; this image is 16400x16: answered in png'])
        >>> choose_answer_format(np.zeros((4, 4), np.uint16), None, "image/jpeg, image/tiff;q=0.5")[0]
        'tiff'
        >>> choose_answer_format(np.zeros((1, 1_000_001), np.uint8), None, "image/png")[0]  # PNG's widest: 1,000,000
        'tiff'
    """
    if asked is not None:
        check_sides(asked, image.shape)
        return asked, []
    chosen = negotiated(None, accept)
    why = _cannot_hold(chosen, image)
    if why is None:
        return chosen, []
    holding = (name for name in (*acceptable(accept), *FORMATS) if _cannot_hold(name, image) is None)
    answer = next(holding, None)
    if answer is None:  # past every format's sides: no answer can be encoded
        check_sides(chosen, image.shape)
    return answer, [f"note: Accept chose {chosen}, but {why}: answered in {answer}"]


def too_wide(name: str, shape: tuple[int, ...]) -> str | None:
    """Why format ``name`` cannot encode an image of ``shape`` (HxW or HxWxC): a side past its
    encoder's longest (:data:`~defusion.io.formats.MAX_SIDES`, by its suffix); None where it can.

    Example:
        >>> too_wide("webp", (16, 16400)), too_wide("png", (16, 16400)), too_wide("jpeg", (16, 16400))
        ('webp takes sides up to 16383 px; this image is 16400x16', None, None)
        >>> too_wide("png", (1, 2_000_000))
        'png takes sides up to 1000000 px; this image is 2000000x1'
    """
    height, width = shape[:2]
    return too_large(FORMATS[name].suffix, width, height, name=name)


def check_sides(name: str, shape: tuple[int, ...]) -> None:
    """Refuse with a 422 of one line a format ``name`` asked by ``?format=`` that cannot encode an
    image of ``shape``, naming the lossless formats that can (before the model is waited for, where
    the uploads' size is known).

    Example:
        >>> check_sides("webp", (16, 16400))
        Traceback (most recent call last):
        ...
        defusion.serving.errors.ApiError: webp takes sides up to 16383 px; this image is 16400x16: format=png or tiff
    """
    why = too_wide(name, shape)
    if why is None:
        return
    raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, f"{why}: {_instead(shape)}")


def _instead(shape: tuple[int, ...]) -> str:
    """What to ask for an image of ``shape`` that a format refused: the lossless formats that hold it.

    Example:
        >>> _instead((16, 16400)), _instead((1, 2_000_000))
        ('format=png or tiff', 'format=tiff')
    """
    holding = [name for name, spec in FORMATS.items() if not spec.lossy and too_wide(name, shape) is None]
    return f"format={' or '.join(holding)}" if holding else "send smaller images"


def check_answerable(shape: tuple[int, ...], asked: str | None, zipped: bool = False) -> None:
    """Refuse with a 422 of one line, before the model's turn, a request whose answer could not be
    encoded for the uploads' ``shape`` (the fused image takes the first's): a ``format`` asked
    (:func:`check_sides`), or a zip of PNGs (``zipped``: components, source_map) past PNG's sides. An
    answer whose format Accept chose never fails: another that holds it is answered
    (:func:`choose_answer_format`).

    Example:
        >>> check_answerable((1, 2_000_000), None, zipped=True)
        Traceback (most recent call last):
        ...
        defusion.serving.errors.ApiError: png takes sides up to 1000000 px; this image is 2000000x1: the zips (components, source_map) hold PNGs; ask for the fused image alone, format=tiff
    """
    if asked is not None:
        check_sides(asked, shape)
    why = too_wide("png", shape) if zipped else None
    if why is not None:
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY,
                       f"{why}: the zips (components, source_map) hold PNGs; ask for the fused image alone, "
                       f"{_instead(shape)}")


def _cannot_hold(name: str, image: np.ndarray) -> str | None:
    """Why format ``name`` would not hold ``image`` whole: its sides, or 16 bits it would reduce; None where it does."""
    if image.dtype == np.uint16 and FORMATS[name].bits < 16:
        return f"{name} holds 8 bits and this result has 16"
    return too_wide(name, image.shape)


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
    if quality_given and not FORMATS[name].takes_quality:
        said.append(quality_note(f"{name} answer"))
    return said


def quality_note(answer: str) -> str:
    """The note for a ``quality`` that sets nothing: ``answer`` (a png answer, a zip of PNGs) is lossless.

    Example:
        >>> quality_note("tiff answer")
        "note: quality sets a JPEG or WebP answer's quality; this tiff answer is lossless"
    """
    return f"note: quality sets a JPEG or WebP answer's quality; this {answer} is lossless"


def encode_answer(image: np.ndarray, name: str, quality: int | None = None,
                  metadata: ImageMetadata | None = None) -> bytes:
    """``image`` (HxW or HxWx3, uint8 or uint16) in format ``name``, with ``metadata``, byte for byte
    as ``defusion fuse`` writes a file of its suffix (:func:`defusion.io.writing.encode_image`: one
    encoder for the CLI and the API). ``quality`` None (none asked) is each format's default: JPEG at
    :data:`~defusion.io.formats.DEFAULT_JPEG_QUALITY`, WebP lossless.

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
    lossy without a ``quality`` and its quality then (JPEG's default; None for lossless), and whether
    ``quality`` sets it (``takes_quality``: JPEG, and WebP, lossless without one and lossy at it).

    Example:
        >>> formats_info()["webp"]
        {'media_type': 'image/webp', 'bits': 8, 'lossy': False, 'quality': None, 'takes_quality': True}
    """
    return {name: {"media_type": spec.media_type, "bits": spec.bits, "lossy": spec.lossy,
                   "quality": DEFAULT_JPEG_QUALITY if spec.lossy else None, "takes_quality": spec.takes_quality}
            for name, spec in FORMATS.items()}
