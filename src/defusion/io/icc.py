"""Sources in different colour spaces brought into one before they are fused.

An ICC profile says what a colour image's numbers mean: the same (200, 40, 40) is a deeper red in
Display P3 than in sRGB. Fused as raw numbers, an sRGB shot and a Display P3 shot mix two colour
spaces, and the fused image, tagged with one of the two profiles, shows the other's part in wrong
colours (a colour audit measured mean dE 2.6-3.4, max 9-9.8, against converting first).
:func:`match_colour_spaces` converts every colour source whose profile differs from the first colour
source's into that one (the profile the fused image carries, as its EXIF is the first source's), says
so in one note, and warns where it cannot. An untagged colour image is sRGB (as browsers and viewers
read it), so an untagged and an sRGB-tagged source are in one space. Grey images are left alone:
their profiles are grey ones, and a grey source fused with colour ones (an infrared frame) is
brightness, not colour.

Two profiles are one space where their bytes are equal, where both are matrix/TRC profiles (what
sRGB, Display P3, Adobe RGB and ProPhoto profiles are) with the same colorants and tone curves
(:data:`COLORANT_TOLERANCE`, :data:`CURVE_TOLERANCE`: profiles of one space written by different
tools differ by rounding), or where they bear the same description. 8-bit images are converted by
littleCMS (Pillow's :mod:`PIL.ImageCms`), whatever the profiles; Pillow has no 16-bit colour mode
(its transforms take 8-bit RGB only), so 16-bit images are converted here, at 16 bits, from the
profiles' colorants and tone curves, which needs matrix/TRC profiles (a LUT-based one is warned of).
Both use the relative colorimetric intent: the colours both spaces hold kept as they are, the
others clipped to the target's gamut.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from defusion.errors import DefusionError
from defusion.io import notes

if TYPE_CHECKING:
    from defusion.io.metadata import ImageMetadata

#: ICC.1 (ICC.1:2010, section 7): a 128-byte header, then the tag count and 12-byte tag entries
#: (signature, offset, size); the header's colour space is at bytes 16-20.
_HEADER, _TAG_ENTRY, _SPACE = 128, 12, slice(16, 20)
#: ICC's fixed-point numbers: s15Fixed16 (XYZ values, parametric curves) and u8Fixed8 (a curv's gamma).
_S15_FIXED16, _U8_FIXED8 = 65536.0, 256.0
#: How many parameters each parametric curve function type (0-4) has (ICC.1:2010, table 68).
_PARA_PARAMETERS = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}
#: The most a 16-bit code holds.
_MAX16 = 65535
#: What an untagged colour image is: sRGB (IEC 61966-2-1), its colorants adapted to D50 by Bradford
#: as the ICC's sRGB profiles hold them (columns red, green, blue; rows X, Y, Z).
SRGB_COLORANTS = ((0.4360747, 0.3850649, 0.1430804),
                  (0.2225045, 0.7168786, 0.0606169),
                  (0.0139322, 0.0971045, 0.7141733))
#: sRGB's tone curve as an ICC parametric curve of type 3 (g, a, b, c, d): IEC 61966-2-1's
#: ((x + 0.055) / 1.055) ** 2.4 above 0.04045, x / 12.92 below.
SRGB_CURVE = (3, (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045))
#: Colorants (XYZ) closer than this are the same: one space's profiles by different tools differ by
#: s15Fixed16 rounding and their chromatic adaptation (littleCMS's and HP's sRGB by under 2e-4);
#: sRGB's red and Display P3's differ by 0.08, Adobe RGB's green and sRGB's by 0.08.
COLORANT_TOLERANCE = 1e-3
#: How much three channels may differ, of their range, in an image that counts as grey (a grey infrared
#: frame stored as RGB, its JPEG's chroma noise): the fusion core's rule (defusion.fusion.color.GREY_SPREAD).
GREY_SPREAD = 4 / 255
#: Rows sampled to tell a grey image from a colour one: a colour photo differs in channels on most rows.
_GREY_SAMPLE_ROWS = 256
#: Tone curves closer than this everywhere (on 0..1) are the same: half an 8-bit level, which
#: converting no 8-bit value would change (a 1024-entry sRGB table and sRGB's formula are closer).
CURVE_TOLERANCE = 0.5 / 255
#: Entries of the inverted tone curves (:func:`_inverse_tables`), spaced by the fourth root of linear
#: light: its first step above black, linear 2.3e-21 ... 1.5e-5 at the 16th, is under one 16-bit code of a 2.2 gamma.
_INVERSE_STEPS = 1 << 16
#: Pixels of a 16-bit image converted at a time: the float working copies of a 24 MP
#: image whole would take about 1 GB.
_CHUNK_PIXELS = 1 << 20


class ProfileConversionError(DefusionError, ValueError):
    """A source that cannot be converted from its profile to another: no littleCMS in this Pillow,
    a broken profile, or a 16-bit image with a profile other than a matrix/TRC one."""


class ProfileTagError(DefusionError, ValueError):
    """A profile's colorant or tone curve tag that cannot be read: the profile is then no matrix/TRC
    one here (a 16-bit source in it is warned of, not converted)."""


@dataclass(frozen=True)
class _MatrixShaper:
    """A matrix/TRC RGB profile: its colorants (3x3, columns red, green, blue, as XYZ under D50) and
    its tone curves, each sampled at the 65536 16-bit codes (3x65536, linear light in 0..1)."""

    colorants: np.ndarray
    curves: np.ndarray


def is_rgb_profile(icc: bytes | None) -> bool:
    """Whether ``icc`` is an RGB profile (its header says so); a colour image with any other (a CMYK
    JPEG's, read as RGB) is taken as untagged.

    Example:
        >>> is_rgb_profile(b"." * 16 + b"RGB "), is_rgb_profile(b"." * 16 + b"GRAY"), is_rgb_profile(None)
        (True, False, False)
    """
    return bool(icc) and len(icc) >= _SPACE.stop and icc[_SPACE] == b"RGB "


def profile_name(icc: bytes | None) -> str:
    """What ``icc`` calls itself (its description tag); ``"sRGB"`` for none (an untagged image is
    read as sRGB), ``"an unnamed profile"`` where it has no description that can be read.

    Example:
        >>> profile_name(None), profile_name(b"not a profile")
        ('sRGB', 'an unnamed profile')
    """
    if not icc:
        return "sRGB"
    data = _tags(icc).get(b"desc")
    try:
        if data and data[:4] == b"desc":  # ICC v2: a count, then ASCII with its NUL
            (count,) = struct.unpack(">I", data[8:12])
            name = data[12:12 + count].split(b"\x00")[0].decode("latin-1")
        elif data and data[:4] == b"mluc":  # ICC v4: the first of its records, UTF-16BE
            length, offset = struct.unpack(">II", data[20:28])
            name = data[offset:offset + length].decode("utf-16-be")
        else:
            name = ""
    except (struct.error, UnicodeDecodeError):
        name = ""
    return name.strip() or "an unnamed profile"


def same_colour_space(a: bytes | None, b: bytes | None) -> bool:
    """Whether colour images with profiles ``a`` and ``b`` (None: untagged, sRGB) hold their colours
    in one space: equal bytes, matrix/TRC profiles with the same colorants and curves, or the same
    description.

    Example:
        >>> from PIL import ImageCms
        >>> srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        >>> same_colour_space(None, srgb), same_colour_space(srgb, b"." * 16 + b"RGB " + b"." * 200)
        (True, False)
    """
    if a == b:
        return True
    first, second = _matrix_shaper(a), _matrix_shaper(b)
    if first is not None and second is not None:
        return (np.allclose(first.colorants, second.colorants, rtol=0, atol=COLORANT_TOLERANCE)
                and np.allclose(first.curves, second.curves, rtol=0, atol=CURVE_TOLERANCE))
    return bool(a) and bool(b) and profile_name(a) == profile_name(b) != "an unnamed profile"


def convert_colours(image: np.ndarray, source: bytes | None, target: bytes | None) -> np.ndarray:
    """``image`` (HxWx3 RGB, uint8 or uint16) converted from profile ``source`` to ``target`` (None:
    sRGB), in its own type. 8-bit by littleCMS, 16-bit from the profiles' colorants and curves; a
    :class:`ProfileConversionError` says why where it cannot be.

    Example:
        >>> from PIL import ImageCms
        >>> srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        >>> convert_colours(np.array([[[200, 40, 40]]], np.uint8), None, srgb)[0, 0].tolist()  # one space: as it was
        [200, 40, 40]
        >>> convert_colours(np.zeros((2, 2), np.uint8), None, srgb)
        Traceback (most recent call last):
        ...
        defusion.io.icc.ProfileConversionError: only RGB images are converted between profiles; got shape (2, 2)
    """
    if image.ndim != 3 or image.shape[2] != 3:
        raise ProfileConversionError(f"only RGB images are converted between profiles; got shape {image.shape}")
    if image.dtype == np.uint8:
        return _convert_eight_bits(image, source, target)
    if image.dtype == np.uint16:
        return _convert_sixteen_bits(image, source, target)
    raise ProfileConversionError(f"only uint8 and uint16 images are converted between profiles; got {image.dtype}")


def match_colour_spaces(images: Sequence[np.ndarray], metadata: Sequence[ImageMetadata], names: Sequence[str],
                        carried: bool = True, unprofiled_by: str = "--no-metadata"
                        ) -> tuple[list[np.ndarray], list[ImageMetadata]]:
    """``images`` with every colour one (HxWx3, its channels not all equal) whose profile differs from
    the first colour image's converted to that profile, which the fused image carries (``carried``:
    False where it is written without one, as ``unprofiled_by`` asked: then every colour image is
    converted to sRGB, what an untagged image is read as), and their ``metadata`` with the profiles
    they now have (the output's, also where a conversion failed: :func:`matched_metadata`). One note
    names the images converted and the profiles; one warning where one cannot be (its colours then
    mix with the others' as they are). ``names``: how to call the images. Grey images and their
    profiles are left as they are.

    Example:
        >>> from PIL import ImageCms
        >>> from defusion.io.metadata import ImageMetadata
        >>> srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        >>> images = [np.full((2, 2, 3), (200, 40, 40), np.uint8), np.full((2, 2, 3), (90, 160, 40), np.uint8)]
        >>> with notes.collecting() as said:
        ...     converted, meta = match_colour_spaces(images, [ImageMetadata(), ImageMetadata(srgb)], ["a.png", "b.png"])
        >>> said, converted[1] is images[1]  # an untagged image is sRGB: one space, nothing converted
        ([], True)
    """
    images = list(images)
    plan = _matching(images, metadata, carried)
    if plan is None:
        return images, list(metadata)
    profiles, first, target = plan.profiles, plan.first, plan.target
    converted, failed = [], []
    for i in plan.converting:
        try:
            images[i] = convert_colours(images[i], profiles[i], target)
        except ProfileConversionError as exc:
            failed.append((i, str(exc)))
        else:
            converted.append(i)
    space = _said_target(target, names[first], carried, unprofiled_by)
    if converted:
        notes.note(f"{notes.listed([_with_profile(names[i], profiles[i]) for i in converted])} converted to {space}")
    if failed:
        why = "; ".join(dict.fromkeys(reason for _, reason in failed))
        notes.warn(f"{notes.listed([_with_profile(names[i], profiles[i]) for i, _ in failed])} cannot be converted to "
                   f"{profile_name(target)}, the colour space of {names[first]} ({why}): the fused colours mix two "
                   "colour spaces; convert the sources to one profile first")
    return images, plan.metadata


def read_matched(paths: Sequence[str | Path], carried: bool = True, **reading: Any
                 ) -> tuple[list[np.ndarray], list[ImageMetadata]]:
    """The images at ``paths`` (:func:`defusion.io.images.read_image`, ``reading`` its options) in one
    colour space, as ``defusion fuse`` reads its sources (:func:`match_colour_spaces`: colour ones of
    another profile than the first colour one's converted to it, said in one note), and their metadata
    (:func:`defusion.io.metadata.read_metadata`, with the profiles they now have): for the Python API,
    hand ``choose_metadata(metadata, colour=fused.ndim == 3)`` to ``write_image``. ``carried``: False
    where the fused image is written without a profile (every colour image made sRGB).

    Example:
        >>> import tempfile
        >>> from PIL import Image, ImageCms
        >>> srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        >>> folder = Path(tempfile.mkdtemp())
        >>> Image.new("RGB", (4, 4), (200, 40, 40)).save(folder / "a.png")
        >>> Image.new("RGB", (4, 4), (90, 160, 40)).save(folder / "b.png", icc_profile=srgb)
        >>> with notes.collecting() as said:
        ...     images, metadata = read_matched([folder / "a.png", folder / "b.png"])
        >>> said, images[1][0, 0].tolist(), metadata[1].icc_profile == srgb  # one space: read as it is
        ([], [90, 160, 40], True)
    """
    from defusion.io.images import read_image
    from defusion.io.metadata import read_metadata

    images = [read_image(path, **reading) for path in paths]
    return match_colour_spaces(images, [read_metadata(path) for path in paths], [Path(path).name for path in paths],
                               carried=carried)


def matched_metadata(images: Sequence[np.ndarray], metadata: Sequence[ImageMetadata],
                     carried: bool = True) -> list[ImageMetadata]:
    """``metadata`` as :func:`match_colour_spaces` gives it back for ``images`` (as read, or as it left
    them: a colour image converted stays a colour one), with nothing converted nor said: for a caller
    that keeps the matched pixels but reads the sources' metadata again, as the web UI's download does.

    Example:
        >>> from PIL import ImageCms
        >>> from defusion.io.metadata import ImageMetadata
        >>> srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
        >>> images = [np.full((2, 2, 3), (200, 40, 40), np.uint8), np.full((2, 2, 3), (90, 160, 40), np.uint8)]
        >>> metadata = matched_metadata(images, [ImageMetadata(srgb), ImageMetadata()])
        >>> [m.icc_profile == srgb for m in metadata]  # one space: nothing converted, each keeps its own
        [True, False]
    """
    plan = _matching(images, metadata, carried)
    return list(metadata) if plan is None else plan.metadata


@dataclass(frozen=True)
class _Matching:
    """What :func:`match_colour_spaces` does: the images it ``converting`` from their ``profiles`` (by
    index; None: sRGB) to ``target``, the profile of image ``first`` (the first colour one) or sRGB,
    and the ``metadata`` they then have."""

    profiles: dict[int, bytes | None]
    first: int
    target: bytes | None
    converting: list[int]
    metadata: list[ImageMetadata]


def _matching(images: Sequence[np.ndarray], metadata: Sequence[ImageMetadata], carried: bool) -> _Matching | None:
    """What matching ``images``' colour spaces takes (:class:`_Matching`), None where nothing does."""
    colour = [i for i, image in enumerate(images) if _is_colour(image)]
    if len(colour) < 2 and (carried or not colour):
        return None
    profiles = {i: _rgb_or_none(metadata[i].icc_profile) for i in colour}
    first = colour[0]
    target = profiles[first] if carried else None  # written without a profile: read as sRGB, so made sRGB
    carried_profile = metadata[first].icc_profile if carried and target else None
    converting = [i for i in (colour if not carried else colour[1:]) if not same_colour_space(profiles[i], target)]
    metadata = list(metadata)
    for i in converting:  # the output's, converted or not
        metadata[i] = replace(metadata[i], icc_profile=carried_profile)
    return _Matching(profiles, first, target, converting, metadata)


def _is_colour(image: np.ndarray) -> bool:
    """Whether ``image`` holds colour: three channels that differ by more than :data:`GREY_SPREAD` of its
    range somewhere (a grey infrared frame stored as RGB is brightness, not colour), on a sample of rows."""
    if image.ndim != 3 or image.shape[2] != 3:
        return False
    sample = image[::max(1, image.shape[0] // _GREY_SAMPLE_ROWS)]
    full = float(np.iinfo(image.dtype).max) if image.dtype.kind in "ui" else 1.0
    return float(np.ptp(sample, axis=2).max(initial=0)) > GREY_SPREAD * full


def _said_target(target: bytes | None, first: str, carried: bool, unprofiled_by: str) -> str:
    """The profile converted to, whose it is and what becomes of it, for the note."""
    if not carried:
        return f"sRGB, as the fused image is written without a profile ({unprofiled_by}), which is read as sRGB"
    if target is None:
        return f"sRGB, the colour space of {first} (the first colour image, untagged), which the fused image takes"
    return f"{profile_name(target)}, the profile of {first} (the first colour image), which the fused image carries"


def _with_profile(name: str, icc: bytes | None) -> str:
    return f"{name} ({profile_name(icc)}{'' if icc else ', untagged'})"


def _rgb_or_none(icc: bytes | None) -> bytes | None:
    """A colour image's profile, None where it has none or one that is not RGB (taken as sRGB)."""
    return icc if is_rgb_profile(icc) else None


def _convert_eight_bits(image: np.ndarray, source: bytes | None, target: bytes | None) -> np.ndarray:
    try:
        from PIL import Image, ImageCms
    except ImportError:  # Pillow built without littleCMS
        raise ProfileConversionError("this Pillow has no littleCMS, which converts 8-bit colours") from None
    try:
        # relative colorimetric: the colours both spaces hold kept as they are, the rest clipped, as the
        # 16-bit conversion does (matrix/TRC profiles hold no perceptual tables: littleCMS converts them
        # colorimetrically whatever intent is asked)
        transform = ImageCms.buildTransform(_cms_profile(source), _cms_profile(target), "RGB", "RGB",
                                            renderingIntent=ImageCms.Intent.RELATIVE_COLORIMETRIC)
        return np.array(ImageCms.applyTransform(Image.fromarray(image, "RGB"), transform))
    except (ImageCms.PyCMSError, OSError, ValueError) as exc:
        raise ProfileConversionError(f"littleCMS cannot use the profiles: {exc}") from None


def _cms_profile(icc: bytes | None) -> object:
    from PIL import ImageCms

    return ImageCms.createProfile("sRGB") if icc is None else ImageCms.ImageCmsProfile(io.BytesIO(icc))


def _convert_sixteen_bits(image: np.ndarray, source: bytes | None, target: bytes | None) -> np.ndarray:
    """16 bits kept: each code to linear light by ``source``'s curves, to ``target``'s RGB by the
    colorants (clipped to its gamut), and back by ``target``'s curves inverted (:func:`_inverse_tables`)."""
    models = _matrix_shaper(source), _matrix_shaper(target)
    if models[0] is None or models[1] is None:
        which = profile_name(source if models[0] is None else target)
        raise ProfileConversionError(f"16-bit colour is converted from matrix/TRC profiles only, and {which} is "
                                     "not one (Pillow's littleCMS converts 8-bit colour only)")
    into, out_of = models
    matrix = (np.linalg.inv(out_of.colorants) @ into.colorants).T.astype(np.float32)
    forward = into.curves.astype(np.float32)
    inverse = _inverse_tables(out_of.curves)
    flat = image.reshape(-1, 3)
    result = np.empty_like(flat)
    for start in range(0, len(flat), _CHUNK_PIXELS):
        part = flat[start:start + _CHUNK_PIXELS]
        linear = np.stack([forward[c][part[:, c]] for c in range(3)], axis=1) @ matrix
        np.clip(linear, 0.0, 1.0, out=linear)
        place = np.sqrt(np.sqrt(linear, out=linear), out=linear)  # the tables' spacing (_inverse_tables)
        place *= _INVERSE_STEPS
        below = np.minimum(place.astype(np.int32), _INVERSE_STEPS - 1)
        place -= below
        for c in range(3):
            low, high = inverse[c][below[:, c]], inverse[c][below[:, c] + 1]
            result[start:start + _CHUNK_PIXELS, c] = np.rint((low + (high - low) * place[:, c]) * _MAX16)
    return result.reshape(image.shape)


def _inverse_tables(curves: np.ndarray) -> np.ndarray:
    """Each of ``curves`` (sampled at the 16-bit codes) inverted: the code (0..1) of linear light
    ``(k / _INVERSE_STEPS) ** 4`` at k = 0.._INVERSE_STEPS. Spaced by the fourth root, as a tone curve's
    inverse is steep near black (a pure 2.2 gamma's without end): evenly spaced, the darkest codes would
    fall between two entries."""
    codes = np.linspace(0.0, 1.0, _MAX16 + 1)
    linear = np.linspace(0.0, 1.0, _INVERSE_STEPS + 1) ** 4
    return np.stack([np.interp(linear, np.maximum.accumulate(curve), codes) for curve in curves]).astype(np.float32)


def _tags(icc: bytes) -> dict[bytes, bytes]:
    """``icc``'s tags by signature (their data), empty where its tag table cannot be read."""
    tags = {}
    try:
        (count,) = struct.unpack(">I", icc[_HEADER:_HEADER + 4])
        for n in range(count):
            at = _HEADER + 4 + n * _TAG_ENTRY
            signature, offset, size = struct.unpack(">4sII", icc[at:at + _TAG_ENTRY])
            tags[signature] = icc[offset:offset + size]
    except struct.error:
        return tags
    return tags


def _matrix_shaper(icc: bytes | None) -> _MatrixShaper | None:
    """``icc`` as colorants and curves (None: sRGB's), None where it is not a matrix/TRC RGB profile
    or those tags cannot be read."""
    if icc is None:
        return _srgb()
    if not is_rgb_profile(icc):
        return None
    tags = _tags(icc)
    try:
        colorants = np.array([_xyz(tags[sig]) for sig in (b"rXYZ", b"gXYZ", b"bXYZ")]).T
        curves = np.stack([_sampled(_curve(tags[sig])) for sig in (b"rTRC", b"gTRC", b"bTRC")])
    except (KeyError, ValueError, struct.error):
        return None
    if not np.isfinite(curves).all() or abs(np.linalg.det(colorants)) < np.finfo(np.float32).eps:
        return None
    return _MatrixShaper(colorants, curves)


def _srgb() -> _MatrixShaper:
    kind, parameters = SRGB_CURVE
    curve = _sampled(_parametric(kind, parameters))
    return _MatrixShaper(np.array(SRGB_COLORANTS), np.stack([curve, curve, curve]))


def _sampled(curve: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    return np.clip(curve(np.linspace(0.0, 1.0, _MAX16 + 1)), 0.0, 1.0)


def _xyz(data: bytes) -> tuple[float, float, float]:
    if data[:4] != b"XYZ ":
        raise ProfileTagError("not an XYZ tag")
    return tuple(v / _S15_FIXED16 for v in struct.unpack(">3i", data[8:20]))


def _curve(data: bytes) -> Callable[[np.ndarray], np.ndarray]:
    """A TRC tag (curv or para) as a function on 0..1."""
    if data[:4] == b"curv":
        (count,) = struct.unpack(">I", data[8:12])
        if count == 0:
            return lambda x: x
        if count == 1:
            gamma = struct.unpack(">H", data[12:14])[0] / _U8_FIXED8
            return lambda x: x ** gamma
        if len(data) < 12 + 2 * count:
            raise ProfileTagError("a truncated curve")
        table = np.frombuffer(data[12:12 + 2 * count], ">u2").astype(np.float64) / _MAX16
        return lambda x: np.interp(x, np.linspace(0.0, 1.0, count), table)
    if data[:4] == b"para":
        (kind,) = struct.unpack(">H", data[8:10])
        if kind not in _PARA_PARAMETERS:
            raise ProfileTagError(f"an unknown parametric curve type {kind}")
        count = _PARA_PARAMETERS[kind]
        return _parametric(kind, [v / _S15_FIXED16 for v in struct.unpack(f">{count}i", data[12:12 + 4 * count])])
    raise ProfileTagError("not a curve")


def _parametric(kind: int, p: Sequence[float]) -> Callable[[np.ndarray], np.ndarray]:
    """ICC's parametric curve of type ``kind`` with parameters ``p`` (g, a, b, c, d, e, f)."""
    g = p[0]
    if kind == 0:
        return lambda x: x ** g
    a, b = p[1], p[2]
    power = lambda x: np.maximum(a * x + b, 0.0) ** g  # noqa: E731
    if kind == 1:
        return lambda x: np.where(x >= -b / a, power(x), 0.0)
    if kind == 2:
        return lambda x: np.where(x >= -b / a, power(x) + p[3], p[3])
    c, d = p[3], p[4]
    e, f = (p[5], p[6]) if kind == 4 else (0.0, 0.0)
    return lambda x: np.where(x >= d, power(x) + e, c * x + f)


__all__ = ["COLORANT_TOLERANCE", "CURVE_TOLERANCE", "SRGB_COLORANTS", "SRGB_CURVE",
           "ProfileConversionError", "ProfileTagError", "convert_colours", "is_rgb_profile", "match_colour_spaces",
           "matched_metadata", "profile_name", "read_matched", "same_colour_space"]
