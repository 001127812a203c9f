"""Reading images the way fusion users have them: 8/16-bit, grey or colour (writing them:
:mod:`defusion.io.writing`).

Every failure a user can cause (missing file, not an image, truncated file, too many
pixels) raises :class:`ImageReadError` with a one-line message naming the file. Pillow opens only the
formats defusion reads (:func:`defusion.io.formats.open_image`): a file of any other, whatever its name
(an EPS named ``.png``, which Pillow would hand to Ghostscript), is an :class:`ImageFormatError`. What is read with
something left behind (transparency, later frames, levels beyond 16 bits) is said once as a
``defusion: warning`` (:mod:`defusion.io.notes`).
"""

from __future__ import annotations

import io
import re
from contextlib import suppress
from pathlib import Path
from typing import IO, Literal, get_args

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from defusion.errors import DefusionError
from defusion.io.arrays import MAX_8BIT, MAX_16BIT
from defusion.io.errors import ImageReadError  # defined there: the CLI names it without OpenCV
# The input bound, what write_image can produce and JPEG qualities: defined there, for the CLI's fast --help.
from defusion.io.formats import (DEFAULT_JPEG_QUALITY, DEFAULT_MAX_PIXELS, FULL_CHROMA_QUALITY,
                                 SIXTEEN_BIT_SUFFIXES, WRITABLE_SUFFIXES, held_format, open_image, pillow_formats)
from defusion.io.heif import HEIF_EXTRA, HEIF_SUFFIXES, is_heif, register_heif
from defusion.io.notes import warn
from defusion.io.raw import RAW_SUFFIXES, RawReadError, is_raw, raw_opens, raw_size, read_raw
# Writing moved to defusion.io.writing; its names stay importable from here (the same objects).
from defusion.io.writing import check_path, check_writable_folder, write_bytes_atomically, write_image

#: Suffixes of the files :func:`read_image` reads: the formats cameras, phones (with the ``heif``
#: extra), raw converters (with ``raw``), benchmarks and image editors write. Folders are searched for these.
READ_SUFFIXES = (".png", ".jpg", ".jpeg", ".jpe", ".jfif", ".tif", ".tiff", ".bmp", ".dib", ".webp", ".gif", ".ppm",
                 ".pgm", ".pbm", ".pnm", ".tga", *HEIF_SUFFIXES, *RAW_SUFFIXES)
#: The same formats by name, for messages.
READ_FORMATS = "PNG, JPEG, TIFF, BMP, WebP, GIF, PNM, TGA, HEIC/HEIF and camera raw files"
#: How :func:`read_image` takes float pixels (a 32-bit float TIFF). ``stretch``, for fusion input: values in
#: [0, 1] as they are, any other range (a radiometric thermal frame in degrees) stretched from its minimum to
#: its maximum, as a display of it would, in 16 bits. ``levels``, for scoring (``defusion metrics``,
#: ``defusion bench``): the float32 values as stored, unquantised, once checked to lie on one of the two scales
#: :mod:`defusion.metrics` takes a float array on (:func:`defusion.metrics._utils.float_scale`: [0, 1] or
#: 0..255), so that the file scores as its array does; any other range refused: stretched, a 0..255 result
#: saved as floats would score twice its contrast. ``values``, for a caller that maps them itself (``defusion
#: video``: one range for every frame of a stream, :func:`float_to_uint16`): the float32 values as stored.
FloatReading = Literal["stretch", "levels", "values"]
FLOAT_READINGS: tuple[str, ...] = get_args(FloatReading)
#: TIFF SampleFormat of floating-point samples.
_TIFF_FLOAT = 3
_EXIF_ORIENTATION = 0x0112
#: Bits an integer pixel is stored in where Pillow's raw mode does not say ('I' is 32-bit), and 16 bits.
_INT_BITS, _SIXTEEN = 32, 16
#: Pillow modes of colour that Pillow reduces to 8 bits when the file holds 16 (OpenCV reads those).
_DEEP_MODES = ("RGB", "RGBA")
#: Pillow modes with an alpha band, and those whose "transparency" key colour or index makes pixels transparent.
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
_KEYED_MODES = ("1", "L", "P", "RGB")
#: Formats that can hold several images, and what they call them.
_FRAME_NAMES = {"GIF": "frames", "PNG": "frames", "WEBP": "frames", "TIFF": "pages"}
#: TIFF's first bytes (classic and BigTIFF, either byte order).
_TIFF_SIGNATURES = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
#: TIFF colour models tifffile reads here (grey, RGB; Pillow reads the rest), and its sample layouts handled.
_TIFF_GREY, _TIFF_RGB = 1, 2
_TIFF_LAYOUTS = ("YX", "YXS", "SYX")
#: TIFF ExtraSamples values that are alpha (associated, unassociated).
_TIFF_ALPHA = (1, 2)
#: TIFF NewSubfileType's bit of a reduced-resolution copy: a preview, not a page of its own.
_TIFF_REDUCED = 1
#: Frames of an animated image (pages of a TIFF) counted at most, for the warning that only the first is
#: read: a file of many thousand tiny frames would otherwise take seconds to count (a 22 MB GIF of 1.5
#: million one-pixel frames, 15 s).
_FRAMES_COUNTED = 100
#: GIF's blocks of an image (a frame) and of an extension; the flag of a colour table that follows a descriptor.
_GIF_IMAGE, _GIF_EXTENSION = b",", b"!"
_GIF_COLOUR_TABLE = 0x80
#: A zero byte between GIF blocks: padding some encoders write (a second block terminator) and decoders
#: (Pillow among them) step over; and how many bytes of a run of them are read at once.
_GIF_PADDING = b"\x00"
_GIF_PADDING_CHUNK = 4096


#: How a command-line user raises the pixel bound; the server and the web UI say theirs
#: (:meth:`ImageTooLargeError.told`).
RAISE_LIMIT_HINT = "raise it with --max-pixels"


class ImageTooLargeError(ImageReadError):
    """An input over the pixel bound: ``source`` (a path or an upload's name) and ``detail`` (its
    size against the bound), then ``hint`` in brackets: how to raise the bound, which a server or
    UI tells in its own terms, and names an upload as its user knows it, with :meth:`told`.

    Example:
        >>> err = ImageTooLargeError("/tmp/x.png", "4x4 is 16 pixels, over the limit of 9 pixels")
        >>> str(err.told(source="a.png", hint="the server's --max-pixels"))
        "a.png: 4x4 is 16 pixels, over the limit of 9 pixels (the server's --max-pixels)"
    """

    def __init__(self, source: str | Path, detail: str, hint: str | None = RAISE_LIMIT_HINT) -> None:
        self.source, self.detail, self.hint = str(source), detail, hint
        super().__init__(f"{self.source}: {detail}" + (f" ({hint})" if hint else ""))

    def told(self, *, source: str | Path | None = None, hint: str | None = None) -> ImageTooLargeError:
        """The same error naming ``source`` instead, with ``hint`` instead (where the error has one:
        Pillow's own guard, which no flag raises, keeps none)."""
        return ImageTooLargeError(self.source if source is None else source, self.detail,
                                  hint if hint is not None and self.hint else self.hint)

    def __reduce__(self) -> tuple:  # pickled whole (a benchmark worker's error), not by its message
        return type(self), (self.source, self.detail, self.hint), self.__dict__


class ReadOptionError(DefusionError, ValueError):
    """An argument :func:`read_image` cannot take: an unknown ``floats`` reading (a ValueError, as
    before this class existed)."""


class ImageFormatError(ImageReadError):
    """A file holding an image format defusion does not read (EPS, PSD, FITS, ...), whatever its name:
    refused from its first bytes, never handed to the Pillow plugin for it (EPS's starts Ghostscript)."""


class FloatRangeError(ImageReadError):
    """A float image read to be scored (``floats="levels"``) whose values span ``low``..``high``, on
    neither scale the metrics take: a caller may read it otherwise (stretched, as fusion input)."""

    def __init__(self, message: str, low: float, high: float) -> None:
        super().__init__(message)
        self.low, self.high = low, high


def _allow_pixels(max_pixels: int) -> None:
    """Let Pillow open what ``max_pixels`` allows: its own bomb guard (89.5 MP, refusing over twice
    that) would otherwise refuse a larger bound the user set; never lowered, so other code's
    setting keeps its meaning."""
    if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < max_pixels:
        Image.MAX_IMAGE_PIXELS = max_pixels


def _pixels(count: int, other: int | None = None) -> str:
    """A pixel count a person can read: '12.0 MP', or the exact count under 0.1 MP; and where it
    would read the same as ``other`` (a limit it is over), exact.

    Example:
        >>> _pixels(12_000_000), _pixels(120_000, other=100_000), _pixels(5_000)
        ('12.0 MP', '120,000 pixels', '5,000 pixels')
    """
    rounded = f"{count / 1e6:.1f} MP"
    if count < 100_000 or (other is not None and rounded == f"{other / 1e6:.1f} MP"):
        return f"{count:,} pixels"
    return rounded


def _check_pixels(path: Path, width: int, height: int, max_pixels: int) -> None:
    """ImageTooLargeError where a header's size is over the pixel bound, before anything is decoded."""
    if width * height > max_pixels:
        raise ImageTooLargeError(path, f"{width}x{height} is {_pixels(width * height, max_pixels)}, over the limit "
                                       f"of {_pixels(max_pixels, width * height)}")


def read_image(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS, floats: FloatReading = "stretch"
               ) -> np.ndarray:
    """Decode ``path`` to HxW (grey) or HxWx3 (RGB), uint8 or uint16 (float32 for a float file read
    with ``floats="levels"`` or ``"values"``), EXIF-upright.

    Alpha is dropped: transparent pixels fuse as their colour values (a warning says so where some
    pixel is less than opaque). Palette and CMYK images become RGB; 16-bit data stays 16-bit, with
    alpha too, and grey + alpha stays HxW. Of an animated image or a multi-page TIFF the first frame
    is read (a warning says so). Integer pixels stored in other than 16 bits (a 32-bit TIFF) are
    8-bit data when none is over 255; integers are 16-bit data when all are in 0..65535, and beyond
    that scaled to 16 bits by their maximum (by their range where some are negative), with a warning.
    Float pixels are read as ``floats`` says (:data:`FloatReading`): for fusion (``stretch``, the
    default) as 16-bit, those outside [0, 1] stretched; for scoring (``levels``) as the float32 values
    they are, where they lie in [0, 1] or on 0..255, and any other range is an ImageReadError; as the
    float32 values whatever their range (``values``), for a caller that maps them itself. Grey and
    RGB TIFFs are decoded by
    tifffile where it can (:func:`_from_tifffile`), the rest by Pillow. The pixel bound is checked from
    the header, before anything is decoded. Camera raw files (DNG, CR2, NEF, ...) are developed to
    16-bit sRGB with the ``raw`` extra (:mod:`defusion.io.raw`). A file holding any other format
    Pillow knows (EPS, PSD, ...) is an :class:`ImageFormatError`, never handed to Pillow's plugin for it.
    The array is the caller's own: writable, sharing memory with nothing.

    Example:
        >>> import tempfile
        >>> image = read_image(write_image(Path(tempfile.mkdtemp()) / "grey.png", np.zeros((2, 3), np.uint8)))
        >>> image.shape, image.dtype, image.flags.writeable
        ((2, 3), dtype('uint8'), True)
    """
    if floats not in FLOAT_READINGS:
        raise ReadOptionError(f"unknown float reading {floats!r}; use one of {', '.join(FLOAT_READINGS)}")
    path = Path(path)
    if not path.is_file():
        raise ImageReadError(f"{path}: no such file" if not path.exists() else f"{path}: is not a file")
    if is_raw(path):
        return _writable(_read_raw(path, max_pixels))
    register_heif()
    _allow_pixels(max_pixels)
    try:
        with open_image(path) as im:
            _check_pixels(path, *im.size, max_pixels)
            rawmode = _rawmode(im)  # before anything loads the pixels (a PNG's EXIF may follow them)
            _warn_frames(path, im.format, _frames(path, im))
            orientation = _orientation(path, im)
            decoded = _from_tifffile(path, max_pixels, floats) if im.format == "TIFF" else None
            if decoded is None:
                decoded = _from_pillow_or_opencv(path, im, rawmode, orientation, floats)
    except Image.DecompressionBombError as exc:  # Pillow's own guard, before the header is ours
        found = re.search(r"\((\d+) pixels\)", str(exc))
        count = int(found.group(1)) if found else None
        if count is None or count > max_pixels:
            raise ImageTooLargeError(path, f"{_pixels(count) + ', ' if count else ''}over the limit of "
                                           f"{_pixels(max_pixels)}") from None
        raise ImageTooLargeError(  # Pillow's bound, lowered by other code below ours
            path, f"{_pixels(count)} is too many pixels for Pillow to open safely (its decompression-bomb "
            "guard, Image.MAX_IMAGE_PIXELS)", hint=None) from None
    except UnidentifiedImageError:
        decoded = _from_tifffile(path, max_pixels, floats) if _is_tiff(path) else None  # e.g. 16-bit grey + alpha
        if decoded is not None:
            _warn_frames(path, "TIFF", _tiff_pages(path))
        else:
            if is_heif(path) and not register_heif():
                raise ImageReadError(f"{path}: a HEIC/HEIF image; reading it needs pillow-heif: {HEIF_EXTRA}") from None
            _refuse_other_format(path)
            raise ImageReadError(f"{path}: not an image, or a format that cannot be read") from None
    except (OSError, SyntaxError, ValueError) as exc:
        if isinstance(exc, ImageReadError):
            raise
        raise ImageReadError(f"{path}: cannot decode ({exc}); is the file truncated or corrupt?") from None
    array, transparent = decoded
    if transparent:
        warn(f"{path} has transparent pixels (alpha); alpha is ignored: they fuse as their colour values "
             "(flatten it onto a background first to fuse what it shows)")
    return _writable(array)


def _writable(array: np.ndarray) -> np.ndarray:
    """``array``, copied where it is read-only: ``np.asarray`` of a Pillow image wraps the image's
    bytes, which nothing may write (``a[0, 0] = 0`` fails, ``torch.from_numpy`` warns). An array
    decoding or a conversion made afresh (tifffile's, OpenCV's, a stretch's) is returned as it is.

    Example:
        >>> frozen = np.frombuffer(bytes(4), np.uint8)
        >>> _writable(frozen).flags.writeable, _writable(frozen.copy()).base is None
        (True, True)
    """
    return array if array.flags.writeable else array.copy()


def _refuse_other_format(path: Path) -> None:
    """ImageFormatError where ``path`` holds an image format that defusion does not read (its first
    bytes say which), rather than "not an image"."""
    held = held_format(path)
    if held is not None and held not in pillow_formats():
        raise ImageFormatError(f"{path}: not an image defusion reads (it holds {held} data?); defusion reads "
                               f"{READ_FORMATS}") from None


#: EXIF orientations that turn an image a quarter (its width and height swap).
_QUARTER_TURNS = (5, 6, 7, 8)


def header_size(source: str | Path | bytes) -> tuple[int, int] | None:
    """(width, height) of the image :func:`read_image` would return (EXIF-upright), from its header
    alone, nothing decoded: to refuse sources of different sizes before the work. None where the
    header cannot tell: not an image of a format defusion reads (:func:`~defusion.io.formats.open_image`),
    a damaged header (reading says what is wrong), a camera raw file (its developed size is LibRaw's;
    for bytes, the caller knows the name).

    A PNG's EXIF may follow its pixels, and Pillow decodes them all to find it, so a PNG without
    EXIF before its pixels is taken as upright: compare sizes whatever their order where that matters.

    Example:
        >>> ok, png = cv2.imencode(".png", np.zeros((4, 6), np.uint8))
        >>> header_size(png.tobytes()), header_size(b"plain text")
        ((6, 4), None)
    """
    if not source or (not isinstance(source, bytes) and is_raw(source)):
        return None
    register_heif()
    try:
        with open_image(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
            width, height = im.size
            orientation = _header_orientation(im)
    except Exception:  # noqa: BLE001 - anything Pillow cannot make out from the header: reading reports it
        return None
    return (height, width) if orientation in _QUARTER_TURNS else (width, height)


def _header_orientation(im: Image.Image) -> int:
    """The EXIF orientation an open image's header gives (1, upright, where it gives none or
    cannot be read: decoding has the last word)."""
    if im.format == "PNG" and "exif" not in im.info:
        return 1  # Pillow's PngImageFile.getexif() would decode every pixel looking for an eXIf chunk after them
    try:
        return int(im.getexif().get(_EXIF_ORIENTATION, 1))
    except Exception:  # noqa: BLE001 - a corrupt EXIF block
        return 1


def opens_as_image(path: str | Path) -> bool:
    """Whether ``path`` opens as an image, from its header only (cheap, for listing a folder): False
    for junk and zero-byte files; True for a truncated image (reading it says so) and where the extra
    that reads it is missing (rawpy, pillow-heif), so that reading it says what to install."""
    path = Path(path)
    try:
        if path.stat().st_size == 0:
            return False
    except OSError:
        return False
    if is_raw(path):
        return raw_opens(path)
    if is_heif(path) and not register_heif():
        return True
    try:
        with open_image(path):
            return True
    except Image.DecompressionBombError:  # an image, only too large: reading it says so
        return True
    except Exception:  # Pillow's errors on a file it cannot open; tifffile reads some TIFFs Pillow does not
        return _is_tiff(path)


def stores_floats(path: str | Path) -> bool:
    """Whether ``path``'s pixels are floating-point numbers (a 32-bit float TIFF), from its header
    alone: :func:`read_image` reads those one way for fusion and another for scoring (``floats``), so
    a reader that needs both decodes such a file twice, and any other once. False where the header
    cannot tell (reading says what is wrong).

    Example:
        >>> stores_floats("no-such-file.tif")
        False
    """
    path = Path(path)
    if not path.is_file() or is_raw(path):
        return False
    if _is_tiff(path):
        import tifffile

        try:
            with tifffile.TiffFile(path) as tif:
                return tif.pages.first.sampleformat == _TIFF_FLOAT
        except Exception:  # tifffile's errors on an odd file
            return False
    try:
        with open_image(path) as im:
            return im.mode == "F"
    except Exception:  # noqa: BLE001 - Pillow's errors on a file it cannot open
        return False


def _read_raw(path: Path, max_pixels: int) -> np.ndarray:
    """A camera raw file developed to 16-bit sRGB (:mod:`defusion.io.raw`), the pixel bound checked
    from its header first."""
    try:
        _check_pixels(path, *raw_size(path), max_pixels)
        return read_raw(path)
    except RawReadError as exc:
        raise ImageReadError(str(exc)) from None


def _warn_frames(path: Path, image_format: str | None, count: int) -> None:
    """Say that only the first of an animated image's ``count`` frames (a multi-page TIFF's pages) is read."""
    kind = _FRAME_NAMES.get(image_format or "")
    if kind is not None and count > 1:
        many = f"{count} or more" if count >= _FRAMES_COUNTED else str(count)
        warn(f"{path} holds {many} {kind}; only the first is read (save the one to fuse as an image of its own)")


def _frames(path: Path, im: Image.Image) -> int:
    """How many images the file holds where its format can hold several, up to ``_FRAMES_COUNTED``; else 1."""
    if im.format not in _FRAME_NAMES:
        return 1
    if im.format == "TIFF":
        return _tiff_pages(path)
    if im.format == "GIF":  # Pillow's n_frames walks every frame; an APNG's and a WebP's header says
        return _gif_frames(path)
    return min(getattr(im, "n_frames", 1), _FRAMES_COUNTED)


def _gif_frames(path: Path) -> int:
    """How many frames a GIF holds, up to ``_FRAMES_COUNTED``, from its blocks, nothing decoded (1 where
    its structure cannot be followed: reading its first frame says what is wrong)."""
    count = 0
    with suppress(OSError), open(path, "rb") as f:
        screen = f.read(13)  # signature and version, then the logical screen descriptor (its flags at 10)
        _skip_colour_table(f, screen[10:11])
        while count < _FRAMES_COUNTED:
            block = _gif_block(f)
            if block == _GIF_IMAGE:
                descriptor = f.read(9)  # position, size, then its flags
                _skip_colour_table(f, descriptor[8:9])
                f.read(1)  # LZW minimum code size
                count += _skip_sub_blocks(f)
            elif block == _GIF_EXTENSION:
                f.read(1)  # its label
                _skip_sub_blocks(f)
            else:  # the trailer, the end of the file or something unknown
                break
    return max(count, 1)


def _gif_block(f: IO[bytes]) -> bytes:
    """The byte that introduces the next GIF block (``,`` an image, ``!`` an extension, ``;`` the
    trailer), zero bytes of padding before it stepped over a chunk at a time (a long run of them costs
    no more than reading it); ``b""`` at the end of the file."""
    byte = f.read(1)
    while byte == _GIF_PADDING:
        chunk = f.read(_GIF_PADDING_CHUNK)
        if not chunk:
            return b""
        rest = chunk.lstrip(_GIF_PADDING)
        if rest:
            f.seek(1 - len(rest), io.SEEK_CUR)  # just past the block's first byte
            return rest[:1]
    return byte


def _skip_colour_table(f: IO[bytes], flags: bytes) -> None:
    """Step over the colour table that a GIF descriptor's last byte, ``flags``, says follows."""
    if flags and flags[0] & _GIF_COLOUR_TABLE:
        f.seek(3 << ((flags[0] & 7) + 1), io.SEEK_CUR)


def _skip_sub_blocks(f: IO[bytes]) -> bool:
    """Step over a GIF data block's sub-blocks; whether it ended (its terminator read) before the file did."""
    while size := f.read(1):
        if size == b"\x00":
            return True
        f.seek(size[0], io.SEEK_CUR)
    return False


def _tiff_pages(path: Path) -> int:
    """How many images a TIFF holds, its reduced-resolution previews not counted, up to
    ``_FRAMES_COUNTED`` (1 where tifffile cannot tell)."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            count = 0
            for page in tif.pages:
                count += not page.subfiletype & _TIFF_REDUCED
                if count >= _FRAMES_COUNTED:
                    break
            return count
    except Exception:  # tifffile's errors on an odd file: reading its first page says what is wrong
        return 1


def _is_tiff(path: Path) -> bool:
    """Whether ``path`` starts as a TIFF does."""
    with suppress(OSError), open(path, "rb") as f:
        return f.read(len(_TIFF_SIGNATURES[0])) in _TIFF_SIGNATURES
    return False


def _rawmode(im: Image.Image) -> str | None:
    """How the file stores the pixels Pillow will decode ('RGB;16B', 'I;32S', ...): only known before loading."""
    if not im.tile:
        return None
    args = im.tile[0][3]
    rawmode = args[0] if isinstance(args, tuple) else args
    return rawmode if isinstance(rawmode, str) else None


def _is_16bit_colour(mode: str, rawmode: str | None) -> bool:
    """True when Pillow would reduce 16-bit colour (16-bit RGB or RGBA PNG/TIFF, grey + alpha PNG) to 8 bits."""
    return mode in _DEEP_MODES and ";16" in (rawmode or "")


def _stored_bits(rawmode: str | None) -> int:
    """The bits an integer ('I' mode) pixel is stored in: 'I;16S' 16, 'I;32S' or 'I' 32."""
    found = re.search(r";(\d+)", rawmode or "")
    return int(found.group(1)) if found else _INT_BITS


def _from_pillow_or_opencv(path: Path, im: Image.Image, rawmode: str | None, orientation: int,
                           floats: FloatReading = "stretch") -> tuple[np.ndarray, bool]:
    """Pixels (upright) and whether some are transparent: Pillow's decoding, OpenCV's where Pillow
    would reduce 16-bit colour to 8 bits (``rawmode``, :func:`_rawmode` before loading, says)."""
    deep_colour = _is_16bit_colour(im.mode, rawmode)
    im.load()  # decodes everything: truncated files fail here
    decoded = _from_opencv(path, grey=(rawmode or "").startswith("L")) if deep_colour else None
    if decoded is not None:
        array, transparent = decoded
        if im.format == "PNG":  # OpenCV's TIFF reader orients by itself
            array = _apply_orientation(array, orientation)
        return array, transparent
    transparent = _pillow_transparent(im)
    # read again once loaded: libtiff turns a compressed TIFF upright as it decodes and drops the tag
    return _from_pillow(_upright(im, _orientation(path, im)), path, _stored_bits(rawmode), floats), transparent


#: EXIF orientation -> the transpose that makes the image upright (as ImageOps.exif_transpose).
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}


def _orientation(path: Path, im: Image.Image) -> int:
    """The EXIF orientation (1-8; 1 where there is none); a broken EXIF block is warned about and
    the pixels taken as stored, rather than the file refused (Pillow raises all sorts on one)."""
    try:
        value = im.getexif().get(_EXIF_ORIENTATION, 1)
    except OSError:  # a PNG's EXIF may follow its pixels, so this decodes them: a corrupt or truncated
        raise        # stream fails here, and Pillow does not raise it again on load (zeros instead)
    except Exception as exc:  # noqa: BLE001 - TypeError, struct.error, ... from a corrupt block
        warn(f"{path}: its EXIF block cannot be read ({type(exc).__name__}); orientation ignored, the pixels "
             "taken as stored")
        return 1
    return value if value in _UPRIGHT else 1


def _upright(im: Image.Image, orientation: int) -> Image.Image:
    """``im`` turned upright for its EXIF ``orientation``."""
    method = _UPRIGHT.get(orientation)
    return im.transpose(method) if method is not None else im


def _pillow_transparent(im: Image.Image) -> bool:
    """Whether some pixel of a loaded image is less than opaque (an alpha band, a palette's or a key
    colour's transparency)."""
    if im.mode in _ALPHA_MODES:
        alpha = im.getchannel("A")
    elif im.mode in _KEYED_MODES and "transparency" in im.info:
        alpha = im.convert("RGBA").getchannel("A")
    else:
        return False
    return alpha.getextrema()[0] < MAX_8BIT


def _from_pillow(im: Image.Image, path: Path, stored_bits: int, floats: FloatReading = "stretch") -> np.ndarray:
    if im.mode in ("I;16", "I;16B", "I;16L", "I;16N"):
        return np.asarray(im, dtype=np.uint16)
    if im.mode == "F":
        return _float_levels(path, np.asarray(im, dtype=np.float32), floats)
    if im.mode == "I":
        return _integer_levels(path, np.asarray(im), stored_bits)
    if im.mode in ("1", "L", "LA"):
        return np.asarray(im.convert("L"))
    if im.mode in ("P", "PA"):  # by RGBA: Pillow warns when a palette's transparency is dropped straight to RGB
        return np.ascontiguousarray(np.asarray(im.convert("RGBA"))[:, :, :3])
    return np.asarray(im.convert("RGB"))


def pillow_levels(im: Image.Image, name: str = "image") -> np.ndarray:
    """The pixels of an in-memory Pillow image in mode ``I`` (32-bit integers) or ``F`` (32-bit floats)
    as :func:`read_image` gives a file's: ``np.asarray`` leaves them int32 or float32 values that are no
    levels. Integers become uint8 where all are 8-bit values, else uint16 (scaled, with a warning, where
    beyond 16 bits); floats in [0, 1] become 16-bit levels and any other range (a radiometric frame in
    degrees) is stretched over 16 bits from its minimum to its maximum (:func:`float_to_uint16`).
    ``name`` names the image in warnings and errors. An image in memory no longer says how many bits its
    file stored (``read_image`` reads that from the file): integers all <= 255 are taken as 8-bit values;
    for a 16-bit frame that dark, pass ``np.asarray(im).astype(np.uint16)`` instead.

    Example:
        >>> im = Image.fromarray(np.array([[20.0, 30.0, 40.0]], np.float32))  # mode F: degrees Celsius
        >>> pillow_levels(im).tolist(), pillow_levels(im.convert("I")).dtype.name
        ([[0, 32768, 65535]], 'uint8')
    """
    if im.mode not in ("I", "F"):
        raise ReadOptionError(f"pillow_levels reads modes I and F; {name} is in mode {im.mode}")
    try:
        return _from_pillow(im, Path(name), _INT_BITS)
    except ValueError as exc:  # _finite's, which names no image
        raise ImageReadError(f"{name}: {exc}") from None


def _levels(path: Path, values: np.ndarray, floats: FloatReading = "stretch") -> np.ndarray:
    """Pixels of any numeric type as uint8 or uint16, by :func:`read_image`'s rules."""
    if values.dtype in (np.uint8, np.uint16):
        return values
    if values.dtype.kind == "f":
        return _float_levels(path, values.astype(np.float32), floats)
    if values.dtype.kind in "iu":
        return _integer_levels(path, values, values.dtype.itemsize * 8)
    raise ValueError(f"pixels of type {values.dtype}")


def _integer_levels(path: Path, values: np.ndarray, stored_bits: int) -> np.ndarray:
    """Integer pixels as uint8/uint16: 8-bit data if not stored in 16 bits and none is over 255 (an
    8-bit image saved as 32-bit integers would be near black as 16-bit), 16-bit if all fit 0..65535;
    else scaled to 16 bits by the maximum (0 stays black), or by the range where some are negative,
    with a warning: clipped, a 32-bit frame's values over 65535 would all be white."""
    lo, hi = int(values.min()), int(values.max())
    if lo < 0 or hi > MAX_16BIT:
        base = min(lo, 0)
        span = hi - base
        scaled = (values.astype(np.float64) - base) * (MAX_16BIT / span) if span else np.zeros(values.shape)
        how = "range" if lo < 0 else "maximum"
        warn(f"{path} holds integer values {lo} to {hi}, beyond 16 bits' 0-{MAX_16BIT}: scaled to 16 bits by its "
             f"{how} (save it as 16-bit to fuse its own levels)")
        return np.round(scaled).astype(np.uint16)
    if stored_bits != _SIXTEEN and hi <= MAX_8BIT:
        return values.astype(np.uint8)
    return values.astype(np.uint16)


def _float_levels(path: Path, values: np.ndarray, floats: FloatReading) -> np.ndarray:
    """A float image as ``floats`` says: stretched to 16 bits for fusion (:func:`float_to_uint16`),
    as its float32 values for scoring (:func:`_scored_floats`), or as they are (``values``)."""
    if floats == "levels":
        return _scored_floats(path, values)
    return _finite(values) if floats == "values" else float_to_uint16(values)


def _finite(values: np.ndarray) -> np.ndarray:
    """Float pixels as float32, refused where some are NaN or infinite (no range maps those)."""
    if not np.isfinite(values).all():
        raise ValueError("a float image holding NaN or infinite values")
    return values.astype(np.float32, copy=False)


def _scored_floats(path: Path, values: np.ndarray) -> np.ndarray:
    """A float image read to be scored: its float32 values as they are (unquantised, unclipped: the
    metrics clip [0, 1] themselves, :func:`defusion.metrics._utils.as_image`), so that the file
    scores as its array would; an ImageReadError of one line naming ``path`` for a range on neither
    scale the metrics take, which they refuse in an array too (:func:`defusion.metrics._utils.float_scale`).

    Example:
        >>> _scored_floats(Path("f.tif"), np.array([[60.5, 187.25]], np.float32)).tolist()  # 0..255, kept
        [[60.5, 187.25]]
        >>> _scored_floats(Path("f.tif"), np.array([[-5.0, 40.0]], np.float32))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.io.images.FloatRangeError: f.tif: float values span -5..40, neither 0..1 nor 0..255 ...
    """
    from defusion.metrics._utils import float_range_problem, float_scale

    if not np.isfinite(values).all():
        raise ImageReadError(f"{path}: a float image holding NaN or infinite values")
    lo, hi = float(values.min()), float(values.max())
    if float_scale(lo, hi) is None:
        raise FloatRangeError(f"{path}: {float_range_problem(lo, hi)}", lo, hi)
    return values.astype(np.float32, copy=False)


def float_to_uint16(values: np.ndarray, span: tuple[float, float] | None = None) -> np.ndarray:
    """A float image (a 32-bit TIFF) as 16-bit: values in [0, 1] as they are; any other range (a
    radiometric thermal frame in degrees, a 0..255 float image) stretched from its minimum to its
    maximum, as a display of it would (:func:`float_stretched`). With ``span`` (low, high), from that
    range instead, values beyond it clipped: one mapping for every frame of a stream
    (:func:`stream_float_span`), so that a hot object entering the view cannot dim the rest.

    Example:
        >>> frame = np.array([[20.0, 30.0, 40.0]], np.float32)
        >>> float_to_uint16(frame).tolist(), float_to_uint16(frame + 60, span=(20.0, 40.0)).tolist()
        ([[0, 32768, 65535]], [[65535, 65535, 65535]])
    """
    values = _finite(values)
    if span is None:
        lo, hi = float(values.min()), float(values.max())
        if not float_stretched(lo, hi):
            return np.round(values * MAX_16BIT).astype(np.uint16)
        span = (lo, hi)
    lo, hi = span
    scaled = np.clip((values - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(values)
    return np.round(scaled * MAX_16BIT).astype(np.uint16)


def stream_float_span(values: np.ndarray) -> tuple[float, float] | None:
    """The one range a stream of float frames is mapped by (:func:`float_to_uint16`), measured on
    ``values``, its first frame that holds more than one value: its minimum to its maximum where
    reading stretches them (:func:`float_stretched`: the first frame reads as ``defusion fuse`` reads
    it), else (0, 1) (values in [0, 1] kept as they are). None for a flat frame (a thermal camera's
    shutter frame), which tells no range: measure the next one.

    Example:
        >>> stream_float_span(np.array([[20.5, 44.75]])), stream_float_span(np.array([[0.2, 0.7]]))
        ((20.5, 44.75), (0.0, 1.0))
        >>> stream_float_span(np.full((2, 2), 30.0)) is None
        True
    """
    lo, hi = float(np.min(values)), float(np.max(values))
    if lo == hi:
        return None
    return (lo, hi) if float_stretched(lo, hi) else (0.0, 1.0)


def float_stretched(low: float, high: float) -> bool:
    """Whether :func:`read_image` stretches float pixels spanning ``low``..``high`` from their minimum
    to their maximum when it reads them for fusion (``floats="stretch"``): any range but [0, 1] (a
    radiometric thermal frame in degrees). The one rule that reading follows and that the notes saying
    so (``defusion fuse``, the web UI: :func:`describe_float_stretch`) ask.

    Example:
        >>> float_stretched(0.0, 1.0), float_stretched(20.5, 44.9), float_stretched(-0.5, 0.5)
        (False, True, True)
    """
    return not (low >= 0 and high <= 1)


def float_span(source: str | Path | bytes, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[float, float] | None:
    """The lowest and highest value of a float image's pixels (a 32-bit float TIFF's first page), from
    its path or its bytes: what :func:`float_stretched` asks, for a note on how reading took them. None
    for integer pixels, a file over ``max_pixels``, values not all finite, and a file that neither
    tifffile nor Pillow reads (reading it says what is wrong). It decodes the pixels again: ask it of
    float files only where that matters (a note), not on every read.

    Example:
        >>> ok, png = cv2.imencode(".png", np.zeros((4, 6), np.uint8))
        >>> float_span(png.tobytes()), float_span(b"plain text")
        (None, None)
    """
    if not isinstance(source, bytes):
        source = Path(source)
        if not source.is_file() or is_raw(source):
            return None
    tiff = source.startswith(_TIFF_SIGNATURES) if isinstance(source, bytes) else _is_tiff(source)
    try:
        values = _tiff_floats(source, max_pixels) if tiff else _pillow_floats(source, max_pixels)
    except Exception:  # noqa: BLE001 - a TIFF tifffile cannot decode: Pillow reads LZW without imagecodecs
        values = _pillow_floats(source, max_pixels)
    if values is None or not values.size or not np.isfinite(values).all():
        return None
    return float(values.min()), float(values.max())


def _tiff_floats(source: Path | bytes, max_pixels: int) -> np.ndarray | None:
    """A TIFF's first page's pixels as tifffile decodes them (its alpha left out, as reading leaves it)
    where its samples are floats; None for other samples or over ``max_pixels``; tifffile's errors where
    it cannot decode the file."""
    import tifffile

    with tifffile.TiffFile(io.BytesIO(source) if isinstance(source, bytes) else source) as tif:
        page = tif.pages.first
        if page.sampleformat != _TIFF_FLOAT or page.imagewidth * page.imagelength > max_pixels:
            return None
        colours = 1 if page.photometric == _TIFF_GREY else 3
        return _colour_and_alpha(page.asarray(), colours, tuple(page.extrasamples), page.axes)[0]


def _pillow_floats(source: Path | bytes, max_pixels: int) -> np.ndarray | None:
    """An image Pillow opens as float pixels (mode ``F``), decoded; None for any other, over
    ``max_pixels``, or that Pillow cannot read (reading says what is wrong, and warns of what it must)."""
    try:  # no catch_warnings() around it: not thread-safe (the server probes uploads in a thread pool);
        # Pillow's warnings on a damaged EXIF block or a large image are filtered already (io.metadata, open_image)
        with open_image(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
            if im.mode != "F" or im.width * im.height > max_pixels:
                return None
            return np.asarray(im, dtype=np.float32)
    except Exception:  # noqa: BLE001 - Pillow's errors on a file it cannot open: reading says what is wrong
        return None


def describe_float_stretch(name: str, span: tuple[float, float] | None) -> str | None:
    """What reading does to a file ``name`` of float pixels spanning ``span`` (:func:`float_span`) that
    :func:`float_stretched`: the start of the line every front end says it in (each adds what its own
    stretch option does not do). None where reading keeps the values (floats in [0, 1], integer pixels).

    Example:
        >>> describe_float_stretch("ir.tif", (20.5882, 44.902))
        'ir.tif holds float values 20.59 to 44.9 (not 0 to 1: a radiometric thermal frame in degrees, say): \
stretched from its minimum to its maximum onto the full range when read'
        >>> describe_float_stretch("ir.tif", (0.0, 1.0)) is None
        True
        >>> describe_float_stretch("flat.tif", (30.0, 30.0))
        'flat.tif holds one float value, 30, everywhere (not 0 to 1): read as black'
    """
    if span is None or not float_stretched(*span):
        return None
    low, high = span
    if low == high:  # nothing to stretch: reading makes it black
        return f"{name} holds one float value, {low:.4g}, everywhere (not 0 to 1): read as black"
    return (f"{name} holds float values {low:.4g} to {high:.4g} (not 0 to 1: a radiometric thermal frame in "
            "degrees, say): stretched from its minimum to its maximum onto the full range when read")


def _opaque(dtype: np.dtype) -> float:
    """The alpha value of an opaque pixel: the integer type's maximum, 1 for floats."""
    return float(np.iinfo(dtype).max) if np.issubdtype(dtype, np.integer) else 1.0


def _from_opencv(path: Path, grey: bool = False) -> tuple[np.ndarray, bool] | None:
    """OpenCV's decoding (16-bit colour kept) and whether some pixel is transparent; ``grey``: the file
    stores grey, which OpenCV expands to three equal channels when it has alpha. None if OpenCV cannot."""
    data = np.fromfile(str(path), dtype=np.uint8)
    array = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if array is None or array.dtype not in (np.uint8, np.uint16):
        return None
    transparent = False
    if array.ndim == 3:
        channels = array.shape[2]
        if channels in (2, 4):  # the last is alpha
            transparent = bool(array[:, :, -1].min() < _opaque(array.dtype))
        if channels <= 2 or grey:
            array = array[:, :, 0]
        else:
            array = cv2.cvtColor(array[:, :, :3], cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(array), transparent


def _from_tifffile(path: Path, max_pixels: int, floats: FloatReading = "stretch") -> tuple[np.ndarray, bool] | None:
    """A grey or RGB TIFF's first page decoded by tifffile and turned upright by its Orientation tag
    here, and whether some pixel is transparent. Pillow scrambles an uncompressed grey TIFF turned by a
    quarter (orientation 5-8) and 16-bit colour stored plane by plane, and cannot open 16-bit grey +
    alpha. None where tifffile cannot decode it (LZW and JPEG need imagecodecs; a truncated file) or
    it holds another colour model (palette, CMYK, YCbCr, white-is-zero) or bilevel pixels: Pillow then
    reads it, or says why it cannot."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            if page.photometric not in (_TIFF_GREY, _TIFF_RGB) or page.axes not in _TIFF_LAYOUTS \
                    or page.bitspersample < 8:
                return None
            _check_pixels(path, page.imagewidth, page.imagelength, max_pixels)
            colours = 1 if page.photometric == _TIFF_GREY else 3
            if page.samplesperpixel > colours + 1:  # a small file could declare thousands per pixel
                raise ImageReadError(f"{path}: {page.samplesperpixel} samples per pixel; defusion reads grey or RGB "
                                     "images, with at most one alpha sample")
            values = page.asarray()
            orientation = page.tags.valueof(_EXIF_ORIENTATION, 1)
            extras = tuple(page.extrasamples)
            layout = page.axes
    except ImageReadError:  # too large, or too many samples: said, not passed on to Pillow
        raise
    except Exception:  # tifffile's errors: a compression it lacks, a truncated or unusual file
        return None
    values, alpha = _colour_and_alpha(values, colours, extras, layout)
    transparent = alpha is not None and bool(alpha.min() < _opaque(alpha.dtype))
    return np.ascontiguousarray(_apply_orientation(_levels(path, values, floats), orientation)), transparent


def _colour_and_alpha(values: np.ndarray, colours: int, extras: tuple, layout: str
                      ) -> tuple[np.ndarray, np.ndarray | None]:
    """A TIFF page's samples (tifffile's array) as the grey or RGB pixels reading keeps, HxW or HxWx3,
    and its alpha plane (None without one): extra samples are never pixels, nor counted in their range."""
    if layout == "SYX":
        values = np.moveaxis(values, 0, -1)
    alpha = None
    if values.ndim == 3:
        declared = extras or _TIFF_ALPHA[:1]  # undeclared (OpenCV declares none): alpha, as Pillow takes it
        index = next((colours + i for i, kind in enumerate(declared) if kind in _TIFF_ALPHA), None)
        if index is not None and index < values.shape[2]:
            alpha = values[:, :, index]
        values = values[:, :, 0] if colours == 1 else values[:, :, :colours]
    return values, alpha


def _apply_orientation(array: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip as EXIF orientation 1-8 asks (what ImageOps.exif_transpose does)."""
    ops = {
        2: lambda a: a[:, ::-1],
        3: lambda a: a[::-1, ::-1],
        4: lambda a: a[::-1],
        5: lambda a: np.swapaxes(a, 0, 1),
        6: lambda a: np.rot90(a, -1),
        7: lambda a: np.swapaxes(a, 0, 1)[::-1, ::-1],
        8: lambda a: np.rot90(a, 1),
    }
    op = ops.get(orientation)
    return np.ascontiguousarray(op(array)) if op else array


__all__ = ["READ_SUFFIXES", "READ_FORMATS", "FloatReading", "FLOAT_READINGS", "RAISE_LIMIT_HINT", "ImageReadError",
           "ImageTooLargeError", "ImageFormatError", "FloatRangeError", "ReadOptionError", "read_image", "header_size",
           "opens_as_image", "stores_floats", "pillow_levels",
           "float_stretched", "float_span", "describe_float_stretch", "float_to_uint16", "stream_float_span",
           # defined in defusion.io.formats and defusion.io.writing, kept importable from here:
           "DEFAULT_MAX_PIXELS", "WRITABLE_SUFFIXES", "SIXTEEN_BIT_SUFFIXES", "DEFAULT_JPEG_QUALITY",
           "FULL_CHROMA_QUALITY", "write_image", "write_bytes_atomically", "check_path", "check_writable_folder"]
