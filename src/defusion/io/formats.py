"""What :mod:`defusion.io.writing` writes, :mod:`defusion.io.images`' pixel bound and the Pillow formats
every reader opens, without their dependencies (OpenCV, Pillow, numpy; Pillow is imported only by the
functions that open a file): the command line's options show them in ``--help``, which stays fast."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from PIL import Image

#: Default bound on width x height of an input (decompression-bomb guard): 100 MP.
DEFAULT_MAX_PIXELS = 100_000_000
#: Suffixes that :func:`defusion.io.writing.write_image` can produce.
WRITABLE_SUFFIXES = (".png", ".tif", ".tiff", ".jpg", ".jpeg", ".bmp", ".webp")
#: Suffixes that keep 16-bit data (the others are written with 8 bits).
SIXTEEN_BIT_SUFFIXES = (".png", ".tif", ".tiff")
#: The longest side (px) each suffix of :data:`WRITABLE_SUFFIXES` encodes, measured with OpenCV 5.1's
#: encoders that :func:`defusion.io.writing.encode_image` runs (one pixel more fails to encode): PNG's is
#: libpng's default user limit (PNG_USER_WIDTH_MAX and _HEIGHT_MAX, 1,000,000; the format itself takes
#: 2**31 - 1, as Pillow's writer does), WebP's libwebp's WEBP_MAX_DIMENSION (Pillow's WebP too), JPEG's
#: libjpeg's JPEG_MAX_DIMENSION; TIFF's sides are 32-bit fields, BMP's signed 32-bit ones (neither is
#: reached: 2**24 px wrote). The one table the CLI (before the model loads) and the server (before it
#: fuses) check an output's sides against, and :func:`~defusion.io.writing.encode_image` before encoding.
MAX_SIDES = {".png": 1_000_000, ".tif": 2**32 - 1, ".tiff": 2**32 - 1, ".jpg": 65_500, ".jpeg": 65_500,
             ".bmp": 2**31 - 1, ".webp": 16_383}
#: One suffix of each writable format (the one said where a message suggests a format).
ONE_SUFFIX_PER_FORMAT = (".png", ".tif", ".jpg", ".bmp", ".webp")
#: JPEG quality (``write_image``'s default) and the one from which colour is kept at full resolution.
DEFAULT_JPEG_QUALITY = 95
FULL_CHROMA_QUALITY = 90
#: Suffixes whose quality a ``quality`` given to ``write_image`` sets: JPEG's, and WebP's, which is lossless
#: without one (a measured image needs no loss) and lossy at it when given (smaller files to share).
QUALITY_SUFFIXES = (".jpg", ".jpeg", ".webp")
#: ``defusion bench --jpeg-quality match``: each pair's built-in results stored as most of its published
#: results are (:func:`defusion.io.jpeg.stored_quality`), not at one quality.
JPEG_MATCH = "match"
#: Pillow's names of the formats defusion opens with Pillow (:data:`defusion.io.images.READ_FORMATS`; HEIF
#: is added where pillow-heif has registered it, camera raw files go through LibRaw): Pillow otherwise
#: picks its plugin by a file's content, whatever its name, and an EPS named ``.png`` would start
#: Ghostscript on it. DIB is BMP without its file header (``.dib``); PPM is Pillow's name for PNM.
PILLOW_FORMATS = ("PNG", "JPEG", "TIFF", "BMP", "DIB", "WEBP", "GIF", "PPM", "TGA")
#: Bytes Pillow reads to know a format (``Image.open``'s prefix).
_PREFIX_BYTES = 16


def pillow_formats() -> tuple[str, ...]:
    """:data:`PILLOW_FORMATS`, with HEIF where its plugin is registered
    (:func:`defusion.io.heif.register_heif`)."""
    from PIL import Image

    return (*PILLOW_FORMATS, "HEIF") if "HEIF" in Image.ID else PILLOW_FORMATS


def open_image(source: str | Path | IO[bytes]) -> Image.Image:
    """``Image.open`` limited to the formats defusion reads (:func:`pillow_formats`): every reader of a
    user's file opens it here, so no other Pillow plugin sees it. Pillow's UnidentifiedImageError for a
    file of any other format (:func:`held_format` says which it holds).

    Pillow's DecompressionBombWarning (four lines, one of them Pillow's source, for an image over
    ``Image.MAX_IMAGE_PIXELS``, 89.5 MP by default) is not shown (:func:`_ignore_bomb_warnings`):
    defusion's own pixel bound (:data:`DEFAULT_MAX_PIXELS`, ``--max-pixels``) says the same in one line
    where the image is read. Pillow's DecompressionBombError (over twice its bound) still stops the open.
    """
    from PIL import Image

    quiet_pillow_warnings()
    return Image.open(source, formats=pillow_formats())


#: Pillow's warnings on a damaged EXIF block (its TIFF directory reader skips what it cannot read): a
#: damaged source has no EXIF, or less, and nothing more to say. Ignored by one filter and no wider, added
#: where it is not there (:func:`quiet_pillow_warnings`): a warnings.catch_warnings() around the read is
#: not thread-safe (the server reads in a thread pool), and racing another it can leave an ignore-all
#: filter installed.
_PILLOW_DAMAGED_EXIF = r"(Possibly corrupt EXIF data|Corrupt EXIF data|Tag data larger than file|Tag offset too large)"
_PILLOW_TIFF_MODULE = r"PIL\.TiffImagePlugin\Z"
#: Where Pillow's DecompressionBombWarning is raised: the one filter names it, and no wider.
_PILLOW_IMAGE_MODULE = r"PIL\.Image\Z"


def _ignore_bomb_warnings() -> None:
    """Add one filter ignoring Pillow's DecompressionBombWarning where no filter names that warning yet:
    a check and at most one insert, since a warnings.catch_warnings() around each open is not
    thread-safe (the server opens uploads in a thread pool; racing another thread it could leave an
    ignore-all filter installed). Process-wide, like any filter: an application embedding defusion that
    set its own for that warning (``"error"``, say) keeps it. Checked on every open: a catch_warnings() of
    the caller's (a test's) may have dropped it."""
    from PIL import Image

    if not any(category is Image.DecompressionBombWarning for _, _, category, *_ in warnings.filters):
        warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning, module=_PILLOW_IMAGE_MODULE)


def _ignore_damaged_exif_warnings() -> None:
    """Add the one filter for :data:`_PILLOW_DAMAGED_EXIF` where it is not there (a catch_warnings() of
    the caller's, a test's, may have dropped it). A check and at most one insert: no context manager."""
    if not any(action == "ignore" and getattr(message, "pattern", None) == _PILLOW_DAMAGED_EXIF
               for action, message, *_ in warnings.filters):
        warnings.filterwarnings("ignore", message=_PILLOW_DAMAGED_EXIF, module=_PILLOW_TIFF_MODULE)


def quiet_pillow_warnings() -> None:
    """Pillow's warnings that say nothing to a defusion user, each ignored by one narrow filter added
    where it is not there (no context manager: not thread-safe): its DecompressionBombWarning
    (:func:`_ignore_bomb_warnings`) and its warnings on a damaged EXIF block (a damaged source has no
    EXIF, or less: :data:`_PILLOW_DAMAGED_EXIF`). Every open (:func:`open_image`) runs it."""
    _ignore_bomb_warnings()
    _ignore_damaged_exif_warnings()


def too_large(suffix: str, width: int, height: int, name: str | None = None) -> str | None:
    """Why an image of ``width`` x ``height`` cannot be written as ``suffix`` (``.png``, ``png``): a side
    past the format's :data:`MAX_SIDES`, said in one clause naming the format ``name`` (default: the
    suffix; the server says its ``format`` values); None where it can (or the suffix is none of
    :data:`WRITABLE_SUFFIXES`: writing refuses it by its name).

    Example:
        >>> too_large(".webp", 16400, 16), too_large("tif", 16400, 16)
        ('webp takes sides up to 16383 px; this image is 16400x16', None)
        >>> too_large(".jpg", 70000, 16, name="jpeg")
        'jpeg takes sides up to 65500 px; this image is 70000x16'
    """
    suffix = "." + suffix.lower().lstrip(".")
    limit = MAX_SIDES.get(suffix)
    if limit is None or max(width, height) <= limit:
        return None
    return f"{name or suffix[1:]} takes sides up to {limit} px; this image is {width}x{height}"


def suffixes_holding(width: int, height: int, among: tuple[str, ...] = ONE_SUFFIX_PER_FORMAT) -> list[str]:
    """The suffixes of ``among`` (in its order) whose encoder takes an image of ``width`` x ``height``:
    what to write instead of one that cannot.

    Example:
        >>> suffixes_holding(16400, 16), suffixes_holding(1_000_001, 1, (".png", ".tif", ".jpg"))
        (['.png', '.tif', '.jpg', '.bmp'], ['.tif'])
    """
    return [suffix for suffix in among if too_large(suffix, width, height) is None]


def one_of(names: list[str]) -> str:
    """``names`` said as a choice: "a", "a or b", "a, b or c" (what to write instead).

    Example:
        >>> one_of([".png", ".tif", ".bmp"])
        '.png, .tif or .bmp'
    """
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def held_format(source: str | Path | bytes) -> str | None:
    """Pillow's name of the format whose signature ``source`` (a path, or the bytes) starts with
    (``"EPS"``, ``"PSD"``), found by the plugins' signature checks alone, none of them opening it:
    to say what a refused file holds. None where no plugin knows it or it cannot be read.

    Example:
        >>> held_format(b"%!PS-Adobe-3.0 EPSF-3.0\\n"), held_format(b"plain text")
        ('EPS', None)
    """
    from PIL import Image

    try:
        if isinstance(source, bytes):
            prefix = source[:_PREFIX_BYTES]
        else:
            with open(source, "rb") as f:
                prefix = f.read(_PREFIX_BYTES)
    except OSError:
        return None
    Image.init()
    for name, (_factory, accept) in list(Image.OPEN.items()):
        try:
            if accept is not None and accept(prefix):
                return name
        except Exception:  # noqa: BLE001 - a plugin's check tripping over a short prefix: not its format
            continue
    return None

__all__ = ["quiet_pillow_warnings", "JPEG_MATCH", "DEFAULT_MAX_PIXELS", "WRITABLE_SUFFIXES", "MAX_SIDES", "too_large",
           "suffixes_holding", "one_of", "SIXTEEN_BIT_SUFFIXES", "DEFAULT_JPEG_QUALITY",
           "FULL_CHROMA_QUALITY", "QUALITY_SUFFIXES", "PILLOW_FORMATS", "pillow_formats", "open_image", "held_format"]
