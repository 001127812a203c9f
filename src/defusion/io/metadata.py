"""What a photograph says about itself, carried from the sources to the fused image.

A fused bracket or focus stack should open in a photo editor like its sources do: in the same
colour space (its ICC profile: an Adobe RGB or Display P3 image read without its profile shows
wrong colours) and with its camera, lens and date (EXIF). :func:`read_metadata` reads both from a
source's header (:func:`read_profile` the profile alone); :func:`choose_metadata` picks what fits
the fused image (a colour profile only for colour output, a grey one only for grey; sources of
different profiles are first converted into one: :mod:`defusion.io.icc`); :func:`embed_metadata`
adds them to an encoded PNG or JPEG, :func:`tiff_with_metadata` and :func:`webp_with_metadata`
write a TIFF or WebP with them. EXIF is written upright (orientation 1: :func:`defusion.io.images.read_image` has
already turned the pixels) and without the source's thumbnail. A TIFF's first directory is also
the image's own (sizes, strips, compression): only its :data:`DESCRIPTIVE_TAGS` are taken as EXIF.
A camera raw file's EXIF is read from its TIFF structure (DNG, CR2, NEF, ARW, ORF, RW2, ...), a
RAF's from the JPEG inside it, else from the JPEG the camera wrote beside it; where none can be
read, a note says so. EXIF too large for a JPEG (:data:`JPEG_EXIF_LIMIT`) loses the fusion's record
where that is what pushes it over, else its bulk (:data:`BULKY_TAGS`: XMP, maker notes), so that the
camera, lens and date fit; a note says what was left out. A fused image was taken at none of its sources' exposures: :func:`fused_exif`
drops the exposure tags (:data:`EXPOSURE_TAGS`) the sources disagree on, keeps the camera, lens,
date and rights, and names defusion the software (:data:`SOFTWARE`), in every format. Given the record of
what made the fused image (:meth:`defusion.fusion.provenance.MadeBy.record`), :func:`choose_metadata` adds
it: EXIF (Software, and the record as UserComment, :data:`USER_COMMENT`, unless the first source has a
comment of its own, which is kept) even where the sources have none, a PNG text chunk keyed
:data:`RECORD_KEY`, a TIFF's ImageDescription.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Sequence

from PIL import Image, ImageFile

from defusion import __version__
from defusion.io import notes
from defusion.io.formats import open_image, quiet_pillow_warnings
from defusion.io.heif import register_heif
from defusion.io.orientation import EXIF_ORIENTATION
from defusion.io.raw import is_raw

if TYPE_CHECKING:
    import numpy as np

#: Suffixes whose files carry the profile and EXIF: PNG and JPEG by :func:`embed_metadata`, TIFF by
#: :func:`tiff_with_metadata` (the EXIF's camera, software, date and rights tags), WebP by
#: :func:`webp_with_metadata`.
METADATA_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp")
#: EXIF tags a TIFF carries in its own first directory (TIFF 6 and TIFF/EP): camera, software,
#: date, artist, rights; the rest of EXIF (exposure, lens) needs a sub-directory not written here.
TIFF_EXIF_TAGS = {271: "Make", 272: "Model", 305: "Software", 306: "DateTime", 315: "Artist",
                  33432: "Copyright", 36867: "DateTimeOriginal"}
_EXIF_PREFIX = b"Exif\x00\x00"
_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_SOFTWARE = 305
#: The keyword of a fused PNG's text chunk that holds the fusion's record (``Image.open(path).info["defusion"]``).
RECORD_KEY = "defusion"
#: EXIF's UserComment (EXIF sub-directory): the fusion's record (:mod:`defusion.fusion.provenance`) in JPEG,
#: WebP and PNG, after the character code EXIF 2.3 gives ASCII text (:data:`_ASCII_COMMENT`).
USER_COMMENT = 37510
_ASCII_COMMENT = b"ASCII\x00\x00\x00"
#: How a fusion's record starts (:meth:`defusion.fusion.provenance.MadeBy.record`): a source's UserComment
#: that does is an earlier fusion's, not the user's words.
_RECORD_START = b'{"defusion":'
#: What a note says where a JPEG's EXIF has no room for the fusion's record (:func:`_jpeg_exif`).
_NO_RECORD = ("the JPEG names defusion as its Software only (a PNG holds the record in its \"defusion\" text "
              "chunk, a TIFF in its ImageDescription)")
#: The note where the first source's EXIF has a UserComment of its own (:func:`fused_exif` keeps it).
KEPT_COMMENT = ("the first source's EXIF UserComment is kept as it is, so the fused image's EXIF does not hold the "
                "record of what made it (a PNG holds it in its \"defusion\" text chunk, a TIFF in its "
                "ImageDescription)")
#: Tags of a TIFF's (or a TIFF-based raw file's) first directory that describe the photograph:
#: :data:`TIFF_EXIF_TAGS`, the orientation and the pointers to the EXIF (exposure, lens) and GPS
#: sub-directories, which come whole, as a JPEG's do. The rest of that directory says how that file
#: stores its pixels (size, bits, compression, strips, a raw file's sensor tags), or is the file's
#: own profile, XMP packet or description: none of it is true of the fused image.
DESCRIPTIVE_TAGS = frozenset(TIFF_EXIF_TAGS) | {EXIF_ORIENTATION, _EXIF_IFD, _GPS_IFD}
#: First-directory tags that make EXIF too large for a JPEG's one segment (:data:`JPEG_EXIF_LIMIT`)
#: and that a fused image can do without: left out first where it does not fit, so that the camera,
#: lens and date do. (The thumbnail's directory is never written.)
BULKY_TAGS = {700: "XMP", 33723: "IPTC", 34377: "Photoshop", 34675: "ICC profile", 37724: "ImageSourceData",
              50341: "PrintIM", 59932: "Padding"}
#: The EXIF sub-directory's tags of the same kind: the maker's notes and padding.
BULKY_DETAILS = {37500: "MakerNote", 59932: "Padding"}
#: The Software tag of every fused image (EXIF of PNG, JPEG and WebP, and TIFF's own tag): the
#: image was made by defusion, not by the camera's firmware.
SOFTWARE = f"defusion {__version__}"
#: EXIF tags (EXIF sub-directory) of one shot's exposure, focus and flash: a fused image keeps one
#: only where all its sources have the same value, since it was taken at none of differing ones.
EXPOSURE_TAGS = {33434: "ExposureTime", 33437: "FNumber", 34850: "ExposureProgram",
                 34855: "PhotographicSensitivity", 34864: "SensitivityType",
                 34865: "StandardOutputSensitivity", 34866: "RecommendedExposureIndex", 34867: "ISOSpeed",
                 37377: "ShutterSpeedValue", 37378: "ApertureValue", 37379: "BrightnessValue",
                 37380: "ExposureBiasValue", 37382: "SubjectDistance", 37385: "Flash", 37386: "FocalLength",
                 41493: "ExposureIndex", 41986: "ExposureMode", 41989: "FocalLengthIn35mmFilm",
                 41991: "GainControl", 41996: "SubjectDistanceRange"}
#: The EXIF sub-directory's tags kept where EXIF without :data:`BULKY_TAGS` still does not fit: the
#: time the picture was taken, the lens and the exposure.
ESSENTIAL_DETAILS = {36867: "DateTimeOriginal", 36868: "DateTimeDigitized", 36880: "OffsetTime",
                     36881: "OffsetTimeOriginal", 37521: "SubsecTimeOriginal", 42033: "BodySerialNumber",
                     42034: "LensSpecification", 42035: "LensMake", 42036: "LensModel", 42037: "LensSerialNumber",
                     **EXPOSURE_TAGS}
#: JPEG segment payloads are at most 65533 bytes (a 16-bit length that counts its own 2 bytes);
#: an ICC_PROFILE segment spends 14 on its header.
_JPEG_SEGMENT = 65533
#: The largest EXIF block a JPEG holds: one APP1 segment, ``Exif\0\0`` included (there is no
#: continuation as ICC profiles have).
JPEG_EXIF_LIMIT = _JPEG_SEGMENT
_ICC_HEADER = b"ICC_PROFILE\x00"
#: Bytes of a TIFF header: byte order, magic number, offset of the first directory.
_TIFF_HEADER = 8
_BYTE_ORDERS = {b"II": "<", b"MM": ">"}
#: BigTIFF's magic number (TIFF's is 42; Olympus and Panasonic raw files have their own).
_BIGTIFF = 43
#: Fujifilm's RAF (no TIFF): its magic, and where its header gives the offset and length of the JPEG
#: (with the camera's EXIF) inside it, as two big-endian 32-bit numbers.
_RAF_MAGIC = b"FUJIFILMCCD-RAW "
quiet_pillow_warnings()  # at import too: a damaged EXIF block read after the open is warned of then
_RAF_JPEG_AT = 84
_RAF_HEADER = _RAF_JPEG_AT + 8
#: Suffixes of the JPEG a camera writes beside a raw file of the same stem (raw + JPEG), which
#: carries the same EXIF.
_JPEG_TWIN_SUFFIXES = (".jpg", ".JPG", ".jpeg", ".JPEG")


@dataclass(frozen=True)
class ImageMetadata:
    """A source's ICC profile and EXIF block (TIFF bytes, ``Exif\\0\\0`` first), either may be None; a
    fused image's also the ``record`` of what made it (:meth:`defusion.fusion.provenance.MadeBy.record`)."""

    icc_profile: bytes | None = None
    exif: bytes | None = None
    record: str | None = None

    @property
    def profile_space(self) -> str | None:
        """The profile's colour space from its header (``"RGB"``, ``"GRAY"``, ...), None without one."""
        if not self.icc_profile or len(self.icc_profile) < 20:
            return None
        return self.icc_profile[16:20].decode("latin-1").strip()


def read_metadata(source: str | Path | bytes) -> ImageMetadata:
    """The ICC profile and EXIF of an image file (a path, or its bytes), from its header (nothing
    is decoded); an unreadable file has none (reading its pixels reports the problem). A TIFF's
    EXIF is its :data:`DESCRIPTIVE_TAGS` and sub-directories; a camera raw file's is read from its
    TIFF structure, else from a JPEG of the same name beside it, else a note says it is missing.

    Example:
        >>> import tempfile, os
        >>> path = os.path.join(tempfile.mkdtemp(), "plain.png")
        >>> Image.new("RGB", (4, 4)).save(path)
        >>> read_metadata(path)
        ImageMetadata(icc_profile=None, exif=None, record=None)
    """
    quiet_pillow_warnings()  # Pillow's warnings on a damaged block: no context manager (not thread-safe)
    if not isinstance(source, bytes) and is_raw(source):
        return _raw_metadata(Path(source))
    register_heif()
    try:
        with open_image(io.BytesIO(source) if isinstance(source, bytes) else source) as im:
            icc = im.info.get("icc_profile") or None
            exif = header_exif(im)
            if im.format == "TIFF":  # its first directory is the image's own: the photograph's tags only
                _keep_descriptive(exif)
            return ImageMetadata(icc, _upright_bytes(exif))
    except Exception:  # noqa: BLE001 - unreadable, or a corrupt EXIF block (TypeError, struct.error, ...)
        pass
    try:  # one Pillow cannot open, such as a raw file uploaded (bytes, no name): a RAF, or its TIFF structure?
        with io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb") as fp:
            if fp.read(len(_RAF_MAGIC)) == _RAF_MAGIC:  # an uploaded RAF (no twin beside bytes)
                return ImageMetadata(exif=_raf_exif(fp))
            fp.seek(0)
            return ImageMetadata(exif=_tiff_structure_exif(fp))
    except OSError:  # missing, a folder, no permission: reading its pixels says so
        return ImageMetadata()


def read_profile(source: str | Path | bytes) -> bytes | None:
    """The ICC profile of an image file (a path, or its bytes) alone, None where it has none: what
    its colours mean, to bring sources of different profiles into one before fusing
    (:func:`defusion.io.icc.match_colour_spaces`). A camera raw file has none (it is developed to
    sRGB), and nothing is said of its EXIF.

    Example:
        >>> import tempfile, os
        >>> from PIL import ImageCms
        >>> path = os.path.join(tempfile.mkdtemp(), "tagged.png")
        >>> srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        >>> Image.new("RGB", (4, 4)).save(path, icc_profile=srgb)
        >>> read_profile(path) == srgb
        True
    """
    if not isinstance(source, bytes) and is_raw(source):
        return None
    return read_metadata(source).icc_profile


#: Bytes of a PNG chunk's header (its data's length, then its type) and of the CRC after its data (PNG
#: specification, section 5.3).
_PNG_CHUNK_HEADER, _PNG_CRC = 8, 4
#: The other chunks Pillow's PNG decoder takes pixel data from after an IDAT (APNG's fdAT, MNG's DDAT): one
#: right after the IDAT chunks leaves the read to Pillow's decoding (:func:`_png_pixels_end`).
_PNG_MORE_PIXELS = (b"DDAT", b"fdAT")
#: Bytes of an APNG fdAT chunk's sequence number, before its pixel data (APNG specification), which
#: Pillow's reader of the chunk has read.
_APNG_SEQUENCE = 4


def header_exif(im: Image.Image) -> Image.Exif:
    """An open image's EXIF, as Pillow's ``getexif()`` reads it, a PNG's without decoding its pixels
    (:func:`_png_exif`: one whose eXIf chunk follows its pixels too): for every reader of a file's EXIF
    that needs no pixels (:func:`read_metadata`; a shot's capture time and exposure,
    :mod:`defusion.io.shots`).

    Example:
        >>> exif, png = Image.Exif(), io.BytesIO()
        >>> exif[0x010F] = "Canon"  # Make
        >>> Image.new("RGB", (4, 4)).save(png, "PNG", exif=exif)
        >>> with Image.open(png) as im:
        ...     header_exif(im)[0x010F]
        'Canon'
    """
    return _png_exif(im) if im.format == "PNG" else im.getexif()


def _png_exif(im: Image.Image) -> Image.Exif:
    """An open PNG's EXIF, as Pillow's ``getexif()`` reads it, without decoding its pixels. Where the header
    (the chunks before the pixels) has no eXIf chunk, Pillow decodes the whole image (``load()``) to reach
    the chunks after the pixels, which may hold one, or the text chunks it also reads EXIF from
    (ImageMagick's "Raw profile type exif", an XMP packet's orientation): 0.3 s for 12 MP, each read.
    Here the pixel chunks are passed over by their headers and the chunks after them read as ``load()``
    reads them (:func:`_read_png_tail`). A pixel stream that does not decode though the file is whole
    still gives its metadata (reading the pixels says what is wrong with them)."""
    if "exif" in im.info or not _read_png_tail(im):
        return im.getexif()
    return Image.Image.getexif(im)  # the base class's: from im.info, which now holds the chunks after the pixels


def _read_png_tail(im: Image.Image) -> bool:
    """Read the chunks after an open PNG's pixels into ``im.info`` as Pillow's ``PngImageFile.load_end()``
    does once it has decoded them (the same chunk readers, stops and errors: an unreadable chunk fails
    the read as it fails ``load()``). False, with nothing read, where this cannot stand in for decoding:
    no pixel chunk where the header says, or the file ends inside the pixel chunks (Pillow then decodes
    them, and its decoder says whether it had all it needed)."""
    png, fp = getattr(im, "png", None), getattr(im, "fp", None)
    if png is None or fp is None or not im.tile or not hasattr(png, "call"):
        return False
    end = _png_pixels_end(fp, im.tile[0][2])
    if end is None:
        return False
    size = fp.seek(0, io.SEEK_END)
    fp.seek(end)
    while True:
        fp.read(_PNG_CRC)
        try:
            cid, pos, length = png.read()
        except (struct.error, SyntaxError):  # the file ends, or garbage: what follows the pixels is not read
            break
        if cid == b"IEND" or (cid == b"fcTL" and getattr(im, "is_animated", False)):  # an APNG's next frame
            break
        try:
            png.call(cid, pos, length)
        except UnicodeDecodeError:
            break
        except EOFError:  # pixel data after other chunks: passed over
            try:
                _skip_chunk_data(fp, length - _APNG_SEQUENCE if cid == b"fdAT" else length, size)
            except OSError:
                if ImageFile.LOAD_TRUNCATED_IMAGES:
                    break
                raise
        except AttributeError:  # a chunk Pillow has no reader for
            _skip_chunk_data(fp, length, size)
    return True


def _png_pixels_end(fp: BinaryIO, first: int) -> int | None:
    """Where the data of the last of the IDAT chunks that follow one another from ``first`` (the first
    one's data, as Pillow's tile gives it) ends in ``fp``, found from their headers alone; None where
    there is no IDAT chunk there, the file ends inside one, or the pixels go on in another kind of chunk."""
    size = fp.seek(0, io.SEEK_END)
    start, end = first - _PNG_CHUNK_HEADER, None
    while True:
        fp.seek(start)
        head = fp.read(_PNG_CHUNK_HEADER)
        if len(head) < _PNG_CHUNK_HEADER or head[4:] != b"IDAT":
            break
        data_end = start + _PNG_CHUNK_HEADER + int.from_bytes(head[:4], "big")
        if data_end > size:
            return None
        start, end = data_end + _PNG_CRC, data_end
    return None if head[4:] in _PNG_MORE_PIXELS else end


def _skip_chunk_data(fp: BinaryIO, length: int, size: int) -> None:
    """Move ``fp`` past a chunk's ``length`` bytes of data in a file of ``size`` bytes; OSError, as
    Pillow's reading of them raises it, where the file ends first."""
    if length > 0 and fp.seek(length, io.SEEK_CUR) > size:
        raise OSError("Truncated File Read")


def _upright_bytes(exif: Image.Exif) -> bytes | None:
    """``exif`` with its sub-directories, tagged upright (the pixels are read upright), as bytes;
    None where it has no tags."""
    if not exif:
        return None
    _load_sub_ifds(exif)
    exif[EXIF_ORIENTATION] = 1
    exif.bigtiff = False  # EXIF is classic TIFF, whatever a BigTIFF source was
    return exif.tobytes()


def _keep_descriptive(exif: Image.Exif) -> None:
    """Drop from ``exif`` (a TIFF's first directory) all but the :data:`DESCRIPTIVE_TAGS`."""
    for code in [code for code in exif if code not in DESCRIPTIVE_TAGS]:
        del exif[code]


def _raw_metadata(path: Path) -> ImageMetadata:
    """A camera raw file's EXIF: from its TIFF structure (or a RAF's JPEG), else from the JPEG the
    camera wrote beside it; a note where neither can be read. No profile: it is developed to sRGB."""
    exif = _raw_exif(path)
    if exif is None:
        twin = next((path.with_suffix(suffix) for suffix in _JPEG_TWIN_SUFFIXES if _is_file(path.with_suffix(suffix))),
                    None)
        exif = read_metadata(twin).exif if twin is not None else None
    if exif is None:  # said once per kind of raw file: a card of them is one line
        notes.note(f"no EXIF (camera, lens, date) can be read from {path.suffix.upper()} raw files like "
                   "these, nor from a JPEG of the same name beside them: images fused from them go without it")
    return ImageMetadata(exif=exif)


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a folder it cannot look into
        return False


def _raw_exif(path: Path) -> bytes | None:
    """EXIF bytes from a raw file itself, None where it has none that can be read."""
    try:
        with open(path, "rb") as fp:
            if fp.read(len(_RAF_MAGIC)) == _RAF_MAGIC:
                return _raf_exif(fp)
            fp.seek(0)
            return _tiff_structure_exif(fp)
    except OSError:  # missing, a folder, no permission: reading its pixels says so
        return None


def _tiff_structure_exif(fp: BinaryIO) -> bytes | None:
    """The descriptive EXIF (:data:`DESCRIPTIVE_TAGS` and the sub-directories) of a TIFF-structured
    file: TIFF, DNG and most makers' raw files, including Olympus's and Panasonic's, which replace
    TIFF's magic number with their own. None where it is not one, or is too damaged to read."""
    try:
        head = fp.read(_TIFF_HEADER)
        endian = _BYTE_ORDERS.get(head[:2])
        if endian is None or len(head) < _TIFF_HEADER or struct.unpack(endian + "H", head[2:4])[0] == _BIGTIFF:
            return None  # not TIFF; or BigTIFF, which Pillow reads itself (no raw format is one)
        (offset,) = struct.unpack(endian + "I", head[4:])
        exif = Image.Exif()
        exif.endian = endian
        exif.load_from_fp(fp, offset)  # a standard header in place of the maker's magic
        _keep_descriptive(exif)
        return _upright_bytes(exif)
    except Exception:  # noqa: BLE001 - damaged: bad offsets, truncated (struct.error, SyntaxError, ...)
        return None


def _raf_exif(fp: BinaryIO) -> bytes | None:
    """The EXIF of the JPEG inside a Fujifilm RAF (``fp``, open on it), None where there is none."""
    fp.seek(0)
    header = fp.read(_RAF_HEADER)
    if len(header) < _RAF_HEADER:
        return None
    start, length = struct.unpack(">II", header[_RAF_JPEG_AT:_RAF_HEADER])
    size = fp.seek(0, io.SEEK_END)
    if start >= size:
        return None
    fp.seek(start)
    jpeg = fp.read(min(length, size - start))  # a damaged length asks for no more than the file holds
    return read_metadata(jpeg).exif if jpeg.startswith(b"\xff\xd8") else None


def choose_metadata(sources: Sequence[ImageMetadata], colour: bool, record: str | None = None) -> ImageMetadata:
    """The fused image's metadata: the first source's EXIF as :func:`fused_exif` fits it to a fused
    image, and the profile of the first source whose profile fits the output (an RGB profile for
    colour output, a grey one for grey). Sources whose colour profiles differ are first brought into
    one (:func:`defusion.io.icc.match_colour_spaces`, which gives their metadata as converted): as
    read, the first RGB profile would label colours of other spaces too. ``record``: what fused it
    (:meth:`defusion.fusion.provenance.MadeBy.record`; every front end gives it: ``defusion fuse``, the
    server, the web UI), which the image carries; then there is EXIF, with Software and the record,
    even where the sources have none.

    Example:
        >>> grey, rgb = ImageMetadata(b"." * 16 + b"GRAY" + b"."), ImageMetadata(b"." * 16 + b"RGB " + b".")
        >>> choose_metadata([grey, rgb], colour=True) == ImageMetadata(rgb.icc_profile)
        True
    """
    wanted = "RGB" if colour else "GRAY"
    icc = next((m.icc_profile for m in sources if m.profile_space == wanted), None)
    return ImageMetadata(icc, fused_exif([m.exif for m in sources], record), record)


def fused_exif(exifs: Sequence[bytes | None], record: str | None = None) -> bytes | None:
    """The first source's EXIF for the image fused from all: without the :data:`EXPOSURE_TAGS`
    whose values differ between the sources (or that a source lacks), with Software :data:`SOFTWARE`
    and ``record`` (the fusion's, :mod:`defusion.fusion.provenance`) as UserComment, unless the first
    source has a comment of its own (:func:`_own_comment`): the user's words are kept, and a note says
    the record is then in a PNG's text chunk and a TIFF's ImageDescription only. None without a first
    EXIF and a record (no camera's tags are made up); a block that cannot be parsed is kept as it is.

    Example:
        >>> def shot(seconds):
        ...     exif = Image.Exif()
        ...     exif[271] = "Canon"
        ...     exif.get_ifd(_EXIF_IFD)[33434] = seconds
        ...     return exif.tobytes()
        >>> fused = Image.Exif()
        >>> fused.load(fused_exif([shot(0.001), shot(0.25)]).removeprefix(_EXIF_PREFIX))
        >>> fused[271], fused[_SOFTWARE] == SOFTWARE, 33434 in fused.get_ifd(_EXIF_IFD)
        ('Canon', True, False)
        >>> fused.load(fused_exif([None], '{"defusion":"0.1.0"}').removeprefix(_EXIF_PREFIX))
        >>> fused[_SOFTWARE] == SOFTWARE, fused.get_ifd(_EXIF_IFD)[USER_COMMENT]
        (True, b'ASCII\\x00\\x00\\x00{"defusion":"0.1.0"}')
        >>> commented = Image.Exif()
        >>> commented.get_ifd(_EXIF_IFD)[USER_COMMENT] = _ASCII_COMMENT + b"grandma's 80th"
        >>> with notes.collecting() as said:
        ...     fused.load(fused_exif([commented.tobytes()], '{"defusion":"0.1.0"}').removeprefix(_EXIF_PREFIX))
        >>> fused.get_ifd(_EXIF_IFD)[USER_COMMENT], len(said)
        (b"ASCII\\x00\\x00\\x00grandma's 80th", 1)
    """
    if not exifs or not exifs[0]:
        if record is None:
            return None
        parsed = [Image.Exif(), *(_parsed_exif(exif) for exif in exifs[1:])]  # defusion's tags alone
    else:
        parsed = [_parsed_exif(exif) for exif in exifs]
        if parsed[0] is None:
            return exifs[0]
    first = parsed[0]
    details = _sub_ifd(first, _EXIF_IFD)
    for code in EXPOSURE_TAGS:
        values = [_exposure_value(exif, code) for exif in parsed]
        if any(value != values[0] for value in values):
            first.pop(code, None)
            details.pop(code, None)
    first[_SOFTWARE] = SOFTWARE
    if record is not None:
        if _own_comment(first.get_ifd(_EXIF_IFD).get(USER_COMMENT)):
            notes.note(KEPT_COMMENT)
        else:
            first.get_ifd(_EXIF_IFD)[USER_COMMENT] = _record_comment(record)
    return first.tobytes()


def _record_comment(record: str) -> bytes:
    """``record`` as the UserComment it is written as: EXIF's ASCII character code, then the text."""
    return _ASCII_COMMENT + record.encode("ascii", "replace")


def _own_comment(comment: object) -> bool:
    """Whether a source's UserComment says something of its own: not blank (cameras write 8 code bytes
    and spaces or NULs) and not an earlier fusion's record (a fused image fused again: it told of that
    fusion, which this one's record replaces).

    Example:
        >>> _own_comment(_ASCII_COMMENT + b"our trip"), _own_comment(b"\\x00" * 8 + b" " * 20)
        (True, False)
        >>> _own_comment(_record_comment('{"defusion":"0.1.0"}')), _own_comment(None)
        (False, False)
    """
    if isinstance(comment, str):
        comment = comment.encode("utf-8", "replace")
    if not isinstance(comment, bytes):
        return False
    text = comment[len(_ASCII_COMMENT):] if len(comment) >= len(_ASCII_COMMENT) else comment
    return bool(text.strip(b"\x00 ")) and not text.startswith(_RECORD_START)


def _parsed_exif(exif: bytes | None) -> Image.Exif | None:
    """``exif`` parsed, with its sub-directories loaded (so that tobytes() writes them); None
    without one or where it cannot be parsed."""
    if not exif:
        return None
    parsed = Image.Exif()
    try:
        parsed.load(exif.removeprefix(_EXIF_PREFIX))
        _load_sub_ifds(parsed)
    except Exception:  # noqa: BLE001 - not TIFF bytes, or a corrupt block (SyntaxError, struct.error, ...)
        return None
    return parsed if len(parsed) else None


def _exposure_value(exif: Image.Exif | None, code: int) -> object:
    """Tag ``code`` of ``exif`` (its EXIF sub-directory, else its first), None where it has none."""
    if exif is None:
        return None
    return _sub_ifd(exif, _EXIF_IFD).get(code, exif.get(code))


def _load_sub_ifds(exif: Image.Exif) -> None:
    """Load the EXIF and GPS sub-directories ``exif`` points to, so that tobytes() writes them;
    none is added where it has no pointer (Pillow's get_ifd() would add an empty one)."""
    for ifd in (_EXIF_IFD, _GPS_IFD):
        _sub_ifd(exif, ifd)


def _sub_ifd(exif: Image.Exif, ifd: int) -> dict:
    """Sub-directory ``ifd`` of ``exif`` (loaded), or a new empty dict, not added, where it has none."""
    return exif.get_ifd(ifd) if ifd in exif else {}


def embed_metadata(encoded: bytes, suffix: str, metadata: ImageMetadata) -> bytes:
    """``encoded`` (a PNG or JPEG file's bytes) with the profile and EXIF added, and a PNG's text chunk
    of the fusion's record (keyed :data:`RECORD_KEY`); other formats are
    returned as they are (see :data:`METADATA_SUFFIXES`)."""
    suffix = suffix.lower()
    if suffix == ".png":
        return _embed_png(encoded, metadata)
    if suffix in (".jpg", ".jpeg"):
        return _embed_jpeg(encoded, metadata)
    return encoded


def tiff_with_metadata(image: np.ndarray, metadata: ImageMetadata) -> bytes:
    """An 8- or 16-bit TIFF (Deflate) of ``image`` (HxW or HxWx3, RGB) with the ICC profile and
    the EXIF tags a TIFF holds in its first directory (:data:`TIFF_EXIF_TAGS`), its Software
    :data:`SOFTWARE` as in the other formats' EXIF (:func:`fused_exif`), and the fusion's record as
    its ImageDescription (where the others' EXIF has it as UserComment, which needs a sub-directory).

    Example:
        >>> import numpy as np
        >>> data = tiff_with_metadata(np.zeros((4, 6, 3), np.uint16), ImageMetadata(b"." * 16 + b"RGB "))
        >>> data[:2], read_metadata(data).icc_profile == b"." * 16 + b"RGB "
        (b'II', True)
    """
    import tifffile

    tags = []
    if metadata.exif:
        exif = Image.Exif()
        exif.load(metadata.exif.removeprefix(_EXIF_PREFIX))
        details = exif.get_ifd(_EXIF_IFD)
        for code in TIFF_EXIF_TAGS:
            value = exif.get(code, details.get(code))
            if code != _SOFTWARE and isinstance(value, str) and value.strip("\x00 "):  # Software: below
                tags.append((code, "s", 0, value.strip("\x00"), True))
    buffer = io.BytesIO()
    tifffile.imwrite(buffer, image, photometric="rgb" if image.ndim == 3 else "minisblack",
                     compression="zlib", iccprofile=metadata.icc_profile, extratags=tags, metadata=None,
                     software=SOFTWARE, description=metadata.record)
    return buffer.getvalue()


def webp_with_metadata(image: np.ndarray, metadata: ImageMetadata, quality: int | None = None) -> bytes:
    """A WebP of 8-bit ``image`` (HxW, HxWx3 or HxWx4) with the ICC profile and EXIF: lossless where
    ``quality`` is None (:func:`~defusion.io.writing.write_image`'s default), else lossy at ``quality``
    (1-100, libwebp's scale, as OpenCV's IMWRITE_WEBP_QUALITY)."""
    buffer = io.BytesIO()
    coding = {"lossless": True, "exact": True} if quality is None else {"quality": quality}
    Image.fromarray(image).save(buffer, "WEBP", **coding, icc_profile=metadata.icc_profile or None,
                                exif=metadata.exif or b"")
    return buffer.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _embed_png(encoded: bytes, metadata: ImageMetadata) -> bytes:
    chunks = b""
    if metadata.icc_profile:  # iCCP: name, NUL, compression method 0, zlib stream
        chunks += _png_chunk(b"iCCP", b"ICC Profile\x00\x00" + zlib.compress(metadata.icc_profile))
    if metadata.exif:  # eXIf holds the TIFF bytes, without JPEG's "Exif\0\0"
        chunks += _png_chunk(b"eXIf", metadata.exif.removeprefix(_EXIF_PREFIX))
    if metadata.record:  # tEXt: keyword, NUL, Latin-1 text (the record is ASCII JSON)
        chunks += _png_chunk(b"tEXt", RECORD_KEY.encode() + b"\x00" + metadata.record.encode("latin-1", "replace"))
    header_end = 8 + 8 + 13 + 4  # signature, IHDR's length and type, its 13 bytes, its CRC
    if not chunks or encoded[12:16] != b"IHDR":
        return encoded
    return encoded[:header_end] + chunks + encoded[header_end:]


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload


def _jpeg_exif(exif: bytes, record: str | None = None) -> bytes | None:
    """``exif`` as a JPEG's APP1 payload (``Exif\\0\\0`` first), within :data:`JPEG_EXIF_LIMIT`: too
    large, it loses the fusion's ``record`` (its UserComment, :func:`fused_exif`) where that is what
    pushes it over, the sources' tags kept whole; else its :data:`BULKY_TAGS` and :data:`BULKY_DETAILS`
    (XMP, maker notes, ...), then all but the camera, date, rights (:data:`DESCRIPTIVE_TAGS`), lens and
    exposure (:data:`ESSENTIAL_DETAILS`), the record kept with them where it still fits; each said in a
    note; None, said, where even that does not fit.

    Example:
        >>> block = Image.Exif()
        >>> block[271], block[700] = "Canon", b" " * JPEG_EXIF_LIMIT  # an XMP packet as large as the limit
        >>> with notes.collecting() as said:
        ...     fitted = _jpeg_exif(block.tobytes())
        >>> said
        ["note: the sources' EXIF is larger than a JPEG holds (64 KB): written without its XMP"]
        >>> block.load(fitted)
        >>> dict(block)
        {271: 'Canon'}
    """
    exif = exif if exif.startswith(_EXIF_PREFIX) else _EXIF_PREFIX + exif
    if len(exif) <= JPEG_EXIF_LIMIT:
        return exif
    limit_kb = round(JPEG_EXIF_LIMIT / 1024)
    parsed = _parsed_exif(exif)
    if parsed is not None:
        details = _sub_ifd(parsed, _EXIF_IFD)
        ours = details.pop(USER_COMMENT) if record is not None and details.get(USER_COMMENT) == _record_comment(
            record) else None  # defusion's own addition: left out before any of the sources' tags
        smaller, kept = _fitted(parsed, details, ours)
        if smaller is not None:  # the sources' tags whole (the record too, written again more compactly)
            if not kept:
                notes.note(f"the record of what made the fused image does not fit in a JPEG's EXIF ({limit_kb} KB) "
                           f"beside the sources' EXIF: {_NO_RECORD}")
            return smaller
        dropped = [BULKY_TAGS[code] for code in BULKY_TAGS if parsed.pop(code, None) is not None]
        dropped += [BULKY_DETAILS[code] for code in BULKY_DETAILS if details.pop(code, None) is not None]
        smaller, kept = _fitted(parsed, details, ours)
        if smaller is not None:
            notes.note(f"the sources' EXIF is larger than a JPEG holds ({limit_kb} KB): written without its "
                       f"{', '.join(dropped)}{_record_said(ours, kept)}")
            return smaller
        _keep_descriptive(parsed)
        for code in [code for code in details if code not in ESSENTIAL_DETAILS]:
            del details[code]
        smaller, kept = _fitted(parsed, details, ours)
        if smaller is not None:
            notes.note(f"the sources' EXIF is larger than a JPEG holds ({limit_kb} KB): written with only its "
                       f"camera, lens, date, exposure, place and rights tags{_record_said(ours, kept)}")
            return smaller
    notes.note(f"the sources' EXIF is larger than a JPEG holds ({limit_kb} KB), even without its XMP and "
               "maker notes: the JPEG is written without EXIF (PNG, TIFF and WebP hold it)")
    return None


def _fitted(parsed: Image.Exif, details: dict, record: bytes | None) -> tuple[bytes | None, bool]:
    """``parsed``'s bytes where they fit a JPEG (:data:`JPEG_EXIF_LIMIT`), with the fusion's ``record``
    (its UserComment, put back into ``details``, the EXIF sub-directory) where it fits too; None where
    nothing does. And whether the record is in them."""
    if record is not None:
        details[USER_COMMENT] = record
        data = parsed.tobytes()
        if len(data) <= JPEG_EXIF_LIMIT:
            return data, True
        del details[USER_COMMENT]
    data = parsed.tobytes()
    return (data if len(data) <= JPEG_EXIF_LIMIT else None), False


def _record_said(record: bytes | None, kept: bool) -> str:
    """What a note on EXIF fitted to a JPEG adds of the fusion's record: kept, or left out and where it is."""
    if record is None:
        return ""
    return " (the fusion's record kept)" if kept else f"; nor is there room for the fusion's record: {_NO_RECORD}"


def _embed_jpeg(encoded: bytes, metadata: ImageMetadata) -> bytes:
    if encoded[:2] != b"\xff\xd8":
        return encoded
    segments = b""
    exif = _jpeg_exif(metadata.exif, metadata.record) if metadata.exif else None
    if exif:
        segments += _jpeg_segment(0xE1, exif)
    if metadata.icc_profile:
        size = _JPEG_SEGMENT - len(_ICC_HEADER) - 2
        parts = [metadata.icc_profile[i:i + size] for i in range(0, len(metadata.icc_profile), size)]
        if len(parts) <= 255:
            segments += b"".join(_jpeg_segment(0xE2, _ICC_HEADER + bytes([n + 1, len(parts)]) + part)
                                 for n, part in enumerate(parts))
    at = 2
    if encoded[2:4] == b"\xff\xe0":  # JFIF's APP0 stays first
        at = 4 + struct.unpack(">H", encoded[4:6])[0]
    return encoded[:at] + segments + encoded[at:]
