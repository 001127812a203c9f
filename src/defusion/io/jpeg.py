"""JPEG as a benchmark's published results are stored: the quality a file was saved at, read from
its quantisation tables, and an image passed through the same encoding, so that results scored
from JPEG files and results computed here lose the same detail before they are compared
(``defusion bench --jpeg-quality``); whether a JPEG's data is corrupt (:func:`corrupt_jpeg_data`),
which Pillow decodes without a word; and a JPEG of more scans than any encoder writes refused before
decoding (:func:`check_jpeg_scans`), whose decoding time no limit on bytes or pixels bounds."""

from __future__ import annotations

import io
import re
from collections import Counter
from pathlib import Path
from typing import Iterable

import numpy as np

from defusion.io.errors import ImageReadError, ImageWriteError

#: The JPEG standard's luminance quantisation table (ITU T.81, Annex K), in row order: what the IJG
#: encoder (libjpeg, Pillow, OpenCV, MATLAB's imwrite) scales by the quality setting.
STANDARD_LUMINANCE_TABLE: tuple[int, ...] = (
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
)
#: Quality settings of the IJG encoder.
QUALITIES = range(1, 101)
#: Suffixes of JPEG files.
JPEG_SUFFIXES = (".jpg", ".jpeg", ".jpe", ".jfif")
#: Pillow's formats of JPEG files: MPO is a phone's JPEG with a preview or depth image after the first.
JPEG_FORMATS = ("JPEG", "MPO")
#: How libjpeg's warnings about data that does not decode as written begin (jerror.h: JWRN_HIT_MARKER,
#: JWRN_EXTRANEOUS_DATA, JWRN_HUFF_BAD_CODE, JWRN_ARITH_BAD_CODE, JWRN_MUST_RESYNC: "Corrupt JPEG data: ...";
#: JWRN_JPEG_EOF; JWRN_BOGUS_PROGRESSION).
CORRUPT_DATA_WORDS = ("Corrupt JPEG data", "Premature end of JPEG file", "Inconsistent progression sequence")
#: How much smaller the check of a JPEG's data decodes it (:func:`corrupt_jpeg_data`): 8, the largest
#: scale libjpeg decodes by, which still reads every Huffman code.
CHECK_SCALE = 8
#: The most scans (progressive passes) the first image of a JPEG may hold to be decoded. libjpeg's progressive
#: scripts (jcparam.c, jpeg_simple_progression) write 6 scans for grey, 10 for YCbCr, 18 for CMYK and at most 60
#: (6 a component, 10 components); mozjpeg picks its scans among 64 candidates (jpeg_search_progression); a baseline
#: JPEG has one scan a component. libjpeg-turbo leaves the bound to the caller (TurboJPEG's TJPARAM_SCANLIMIT,
#: ``djpeg -maxscans``; its fuzzers and tjbench use 500 on images of 1 MP at most). Decoding costs every scan a pass
#: over the image's blocks, however few bytes the scan holds: a 14-byte scan repeated cost 2.8 ms at 4 MP here
#: (Pillow, libjpeg-turbo 3; a 2-core AMD EPYC), so a 100 KB file of thousands took 41 s. 150 is 2.5 times what
#: any of those encoders writes and keeps a 16 MP photo under about 2 s of decoding.
MAX_JPEG_SCANS = 150
#: The most marker segments the scans are counted over (:func:`jpeg_scans`), a pass of the Python loop each: a
#: camera's JPEG has a few dozen (APPn, DQT, DHT, SOF, SOS, a DHT before each progressive scan), an ICC profile
#: split in 64 KB chunks at most 255 more. Beyond, every SOS marker in the file counts (a scan, or a byte pair of
#: an EXIF thumbnail or a later MPO image): the walk stays cheap on a file of millions of tiny segments.
MAX_WALKED_SEGMENTS = 10_000
#: JPEG markers (ITU T.81, Table B.1): start and end of image, start of scan (its entropy-coded data follows
#: its header) and TEM, which has no length, as RST0-RST7 have none.
SOI, EOI, SOS, TEM = 0xD8, 0xD9, 0xDA, 0x01
#: The next marker: 0xFF, any fill bytes 0xFF, then a code. Within entropy-coded data 0xFF is always followed
#: by 0x00 (a stuffed byte) or RSTn (0xD0-0xD7), neither a marker that ends it (T.81, B.1.1.5 and F.1.2.3): a
#: search for this skips a scan's data as libjpeg's decoder reads it (jdhuff.c, jdarith.c: a 0xFF, fill
#: bytes, then 0x00 is data; any other code a marker).
_MARKER = re.compile(rb"\xff\xff*([^\x00\xd0-\xd7\xff])")  # not "\xff+": a literal first byte is searched for
# in C, 13 times faster on a 12 MP photo's scan data (3.8 against 49 ms)


def ijg_luminance_table(quality: int) -> np.ndarray:
    """The luminance quantisation table the IJG encoder writes at ``quality`` (1-100), baseline.

    Example:
        >>> ijg_luminance_table(75)[:8].tolist()
        [8, 6, 5, 8, 12, 20, 26, 31]
        >>> int(ijg_luminance_table(100).max())
        1
    """
    if quality not in QUALITIES:
        raise ImageWriteError(f"JPEG quality must be 1 to 100, got {quality}")
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    table = (np.asarray(STANDARD_LUMINANCE_TABLE, dtype=np.int64) * scale + 50) // 100
    return np.clip(table, 1, 255)


def jpeg_quality(path: str | Path) -> tuple[int, bool] | None:
    """``(quality, exact)`` a JPEG file was saved at, from its luminance quantisation table: the IJG
    quality whose table it is (``exact``), else the nearest one (another encoder's tables); None
    for a file that is not a JPEG or cannot be read.

    Example:
        >>> import io, numpy as np
        >>> from PIL import Image
        >>> buffer = io.BytesIO()
        >>> Image.fromarray(np.zeros((16, 16), np.uint8)).save(buffer, "JPEG", quality=75)
        >>> jpeg_quality(buffer)
        (75, True)
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            tables = getattr(image, "quantization", None) if image.format == "JPEG" else None
    except (OSError, UnidentifiedImageError, ValueError):
        return None
    if not tables or 0 not in tables or len(tables[0]) != len(STANDARD_LUMINANCE_TABLE):
        return None
    found = np.asarray(tables[0], dtype=np.int64)
    distance = {q: int(np.abs(ijg_luminance_table(q) - found).sum()) for q in QUALITIES}
    best = min(QUALITIES, key=lambda q: (distance[q], -q))
    return best, distance[best] == 0


def jpeg_round_trip(image: np.ndarray, quality: int) -> np.ndarray:
    """``image`` (uint8, HxW or HxWx3) after being saved as a JPEG at ``quality`` (Pillow's IJG encoder,
    4:2:0 chroma for colour, as most published results are stored) and read back.

    Example:
        >>> x = np.tile(np.arange(0, 256, 4, dtype=np.uint8), (64, 1))
        >>> y = jpeg_round_trip(x, 75)
        >>> y.shape, y.dtype, bool(np.abs(y.astype(int) - x).max() <= 8)
        ((64, 64), dtype('uint8'), True)
    """
    from PIL import Image

    if quality not in QUALITIES:
        raise ImageWriteError(f"JPEG quality must be 1 to 100, got {quality}")
    if image.dtype != np.uint8:
        raise ImageWriteError(f"a JPEG holds 8-bit images; got {image.dtype}")
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality, subsampling="4:2:0")
    buffer.seek(0)
    with Image.open(buffer) as stored:
        return np.asarray(stored.convert(stored.mode))


def is_jpeg_name(path: str | Path) -> bool:
    """Whether a file is named as a JPEG.

    Example:
        >>> is_jpeg_name("fused/CBF/kettle.JPG"), is_jpeg_name("mine/kettle.png")
        (True, False)
    """
    return Path(path).suffix.lower() in JPEG_SUFFIXES


def stored_quality(paths: Iterable[str | Path]) -> int | None:
    """The JPEG quality most of ``paths`` (one pair's published results) were saved at, the lowest of
    the most common where qualities tie; None where most are not JPEG files (PNG, or none at all):
    how a result computed here is stored to be scored beside them (``defusion bench --jpeg-quality
    match``). A file named as a JPEG whose tables cannot be read counts as not JPEG.

    Example:
        >>> import io, numpy as np
        >>> from PIL import Image
        >>> def saved(quality):
        ...     buffer = io.BytesIO()
        ...     Image.fromarray(np.zeros((8, 8), np.uint8)).save(buffer, "JPEG", quality=quality)
        ...     return buffer
        >>> stored_quality([saved(75), saved(75), saved(95)]), stored_quality([saved(75), saved(95)])
        (75, 75)
        >>> stored_quality([]), stored_quality([saved(90), "a.png", "b.png"])
        (None, None)
    """
    found = [jpeg_quality(path) for path in paths]
    qualities = Counter(quality for quality, _ in filter(None, found))
    if sum(qualities.values()) * 2 <= len(found):  # most are not JPEG (or there are none)
        return None
    most = max(qualities.values())
    return min(quality for quality, count in qualities.items() if count == most)


def corrupt_jpeg_data(source: str | Path | bytes) -> str | None:
    """libjpeg's words where a JPEG's entropy-coded data is corrupt (``source``, a file's path or bytes),
    None where it decodes cleanly, or cannot be checked (the ``simplejpeg`` package missing, a JPEG
    libjpeg-turbo does not decode this way): a check, never a refusal, but of a JPEG of more scans than
    any encoder writes, which it refuses undecoded (:func:`check_jpeg_scans`).

    Why: Pillow's decoder mutes libjpeg's warnings, so a JPEG with damaged scan data (flipped bytes,
    a bad copy) decodes into a garbled picture without a word. Only decoding the Huffman codes shows it;
    libjpeg-turbo (``simplejpeg``, strict) stops on its first warning. At 1/8 scale
    (:data:`CHECK_SCALE`) it decodes every code but skips most of the inverse DCT and all colour
    conversion: on a 12 MP photo it added 50 ms to ``read_image``'s 214 (baseline JPEG), 164 to 330
    (progressive); 2 ms a file over the 2,159 benchmark JPEGs (a shared 2-core AMD EPYC), none of them
    flagged. libjpeg does not see every corruption (Huffman codes often fall back in step: of 100 random
    ones of 10 bytes each in a baseline JPEG it saw 66, Pillow refused 3; progressive: 93 and 7).

    Example:
        >>> import io
        >>> from PIL import Image
        >>> buffer = io.BytesIO()
        >>> Image.new("L", (64, 64), 128).save(buffer, "JPEG")
        >>> corrupt_jpeg_data(buffer.getvalue()) is None
        True
    """
    try:
        import simplejpeg
    except ImportError:  # an install without it: no check, as before
        return None
    data = bytes(source) if isinstance(source, (bytes, bytearray)) else Path(source).read_bytes()
    check_jpeg_scans(data, "JPEG data" if isinstance(source, (bytes, bytearray)) else source)
    try:
        simplejpeg.decode_jpeg(data, colorspace="GRAY", min_factor=CHECK_SCALE, strict=True)
        return None
    except ValueError as exc:
        said = str(exc)
    try:  # the same decoding, warnings let pass: where it fails too, this is no decodable JPEG to it
        simplejpeg.decode_jpeg(data, colorspace="GRAY", min_factor=CHECK_SCALE, strict=False)
    except ValueError:
        return None  # what Pillow makes of the file decides (an error of its own, or its picture)
    return said if said.startswith(CORRUPT_DATA_WORDS) else None


def jpeg_scans(data: bytes, limit: int = MAX_JPEG_SCANS) -> int:
    """How many scans the first image of JPEG ``data`` holds, counted up to ``limit + 1`` (those past it
    are not looked for); 0 for data that is not a JPEG.

    Why: a progressive JPEG's scans each cost a pass over the whole image, so a small file of many scans
    (one scan repeated) takes minutes to decode. The marker segments are walked as libjpeg reads them
    (a segment's length skipped, a scan's entropy-coded data searched for the marker that ends it) to the
    first End of Image, so that an EXIF thumbnail (inside an APP1 segment) or an MPO's later images are not
    counted: 2 to 6 ms on a 6.5 MB 12 MP photo (a shared 2-core AMD EPYC), against 90 to 330 to decode it. A
    truncated or odd file is counted as far as it goes; one of more than :data:`MAX_WALKED_SEGMENTS`
    segments counts every SOS marker in it.

    Example:
        >>> from PIL import Image
        >>> baseline, progressive = io.BytesIO(), io.BytesIO()
        >>> Image.new("RGB", (16, 16)).save(baseline, "JPEG")
        >>> Image.new("RGB", (16, 16)).save(progressive, "JPEG", progressive=True)
        >>> jpeg_scans(baseline.getvalue()), jpeg_scans(progressive.getvalue()), jpeg_scans(b"GIF89a")
        (1, 10, 0)
    """
    data = bytes(data)
    if not data.startswith(b"\xff\xd8"):  # libjpeg wants SOI first (Pillow too)
        return 0
    scans, at = 0, 2
    for _ in range(MAX_WALKED_SEGMENTS):
        found = _MARKER.search(data, at)
        if found is None:  # truncated: libjpeg stops there too
            return scans
        marker, at = found[1][0], found.end()
        if marker == EOI:
            return scans
        if marker in (SOI, TEM):  # no length follows
            continue
        if marker == SOS:
            scans += 1
            if scans > limit:
                return scans
        at += int.from_bytes(data[at:at + 2], "big")  # past the segment (a scan's header); 0 where truncated
    return min(data.count(b"\xff\xda"), limit + 1)  # segments beyond counting: every SOS marker counts


def check_jpeg_scans(data: bytes, name: str | Path) -> None:
    """Refuse JPEG ``data`` (the file ``name``) whose first image holds more than :data:`MAX_JPEG_SCANS`
    scans, before anything decodes it: an ImageReadError naming the file. Data that is not a JPEG passes.

    Example:
        >>> from PIL import Image
        >>> buffer = io.BytesIO()
        >>> Image.new("L", (8, 8)).save(buffer, "JPEG", progressive=True)
        >>> check_jpeg_scans(buffer.getvalue(), "photo.jpg")  # 6 scans: read
        >>> data = buffer.getvalue()
        >>> last = data.rindex(b"\\xff\\xda")
        >>> bomb = data[:-2] + data[last:-2] * 200 + data[-2:]  # the last scan repeated
        >>> check_jpeg_scans(bomb, "bomb.jpg")
        Traceback (most recent call last):
        ...
        defusion.io.errors.ImageReadError: bomb.jpg: a JPEG of more than 150 scans (encoders write 10 or so; each costs a pass over the whole image): refused before decoding; re-save it with a standard encoder, or as a PNG
    """
    if jpeg_scans(data) > MAX_JPEG_SCANS:
        raise ImageReadError(f"{name}: a JPEG of more than {MAX_JPEG_SCANS} scans (encoders write 10 or so; each "
                             "costs a pass over the whole image): refused before decoding; re-save it with a "
                             "standard encoder, or as a PNG")


def corrupt_jpeg_warning(name: str, message: str) -> str:
    """What is said of a JPEG ``name`` whose data libjpeg found corrupt (``message``, its words).

    Example:
        >>> corrupt_jpeg_warning("photo.jpg", "Corrupt JPEG data: premature end of data segment")
        'photo.jpg: its JPEG data is corrupt (libjpeg: Corrupt JPEG data: premature end of data segment): the picture may be garbled; use an intact copy of the file'
    """
    return (f"{name}: its JPEG data is corrupt (libjpeg: {message}): the picture may be garbled; use an intact "
            f"copy of the file")


__all__ = ["CHECK_SCALE", "QUALITIES", "CORRUPT_DATA_WORDS", "JPEG_FORMATS", "JPEG_SUFFIXES", "MAX_JPEG_SCANS",
           "MAX_WALKED_SEGMENTS", "STANDARD_LUMINANCE_TABLE", "check_jpeg_scans", "corrupt_jpeg_data",
           "corrupt_jpeg_warning", "ijg_luminance_table", "is_jpeg_name", "jpeg_quality", "jpeg_round_trip",
           "jpeg_scans", "stored_quality"]
