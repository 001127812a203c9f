"""The images a user passes to fusion, checked and converted to the pixel arrays it fuses.

Fusion takes NumPy arrays, torch tensors and Pillow images (HxW or HxWxC, C 1 to 4, alpha dropped with a
warning where some pixel is transparent; a Pillow image read as read_image reads its file: upright, 16-bit
colour kept); a path,
another shape, no pixels, too few images or images of different sizes are refused with one
library error (:mod:`defusion.fusion.errors`) that says what to do instead.

Example:
    >>> import numpy as np
    >>> [im.shape for im in checked_images((np.full((4, 6, 2), 255, np.uint8), np.zeros((4, 6), np.uint8)))]
    [(4, 6), (4, 6)]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from defusion.errors import channels_first_hint
from defusion.fusion import color
from defusion.fusion.errors import FusionInputError, FusionTypeError, SizeMismatchError
from defusion.io.arrays import MAX_8BIT, MAX_16BIT, holds_eight_bit_values, is_tensor, not_pixels, tensor_pixels
from defusion.io.front_end import transparent_warning
from defusion.io.levels import opaque_alpha
from defusion.io.notes import warn
from defusion.io.unit_floats import FLOAT_RANGE_TOLERANCE

if TYPE_CHECKING:
    from PIL import Image

    from defusion.fusion.rig import Rig

#: Channels an HxWxC image may have: grey, grey + alpha, RGB, RGBA (alpha is dropped, with a warning
#: where some pixel is transparent: :func:`_warn_transparent`).
_CHANNELS = (1, 2, 3, 4)
#: Grey + alpha (a Pillow image in mode LA, as an array): fused as its grey plane.
_GREY_ALPHA = 2
#: RGB + alpha: fused as its colour channels.
_RGBA = 4
#: Pillow modes of colour that Pillow decodes to 8 bits a channel whatever its file stores, and what a file's
#: raw mode (:func:`~defusion.io.pillow_decoding.stored_rawmode`: 'RGB;16B', 'RGBA;16L') says of 16 bits.
_EIGHT_BIT_COLOUR_MODES = ("RGB", "RGBA")
_SIXTEEN_BIT_RAWMODE = ";16"
#: Pillow's mode of 32-bit float pixels.
_FLOAT_MODE = "F"
#: What a Pillow image of 16-bit colour that fuse cannot decode from its file is told to do instead.
_KEEP_SIXTEEN = "read its file with defusion.io.images.read_image, which keeps 16 bits"
#: Float pixels this far outside [0, 1] at most are an image in [0, 1] that strayed (bicubic enlarging
#: overshoots at sharp edges: an image in [0, 1] came out -0.16 to 1.21), told to clip; farther out,
#: whole-number levels (8-bit's 0..255, 16-bit's 0..65535) are told to divide by their scale, other
#: values (degrees, say) to scale by their own minimum and maximum.
_SLIGHTLY_OUTSIDE = 0.5


def checked_images(images: Sequence, rig: Rig | None = None) -> list[np.ndarray]:
    """``images`` as arrays (grey + alpha as grey), refused with a library error (a ValueError
    or TypeError too) if they cannot be fused together: fewer than two, one list of them, or
    sizes that differ (without a ``rig``, which checks them itself); a colour uint16 image of
    8-bit values is warned about.

    Example:
        >>> checked_images((np.zeros((480, 640), np.uint8), np.zeros((512, 640), np.uint8)))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.fusion.errors.SizeMismatchError: images differ in size (640x480 vs 640x512, WxH); fusion needs ...
    """
    if len(images) == 1 and isinstance(images[0], (list, tuple)):
        raise FusionInputError(f"the images are passed as separate arguments: call fuse(*images), not "
                               f"fuse(images) (got one {type(images[0]).__name__} of {len(images[0])})")
    if len(images) < 2:
        raise FusionInputError("fusion needs at least two images")
    images = [_as_image(im, f"image {i + 1}") for i, im in enumerate(images)]
    for i, image in enumerate(images):
        _warn_eight_bit_values(image, f"image {i + 1}")
    sizes = {im.shape[:2] for im in images}
    if rig is not None:
        rig.check_images(images)
    elif len(sizes) > 1:
        described = " vs ".join(f"{im.shape[1]}x{im.shape[0]}" for im in images)
        raise SizeMismatchError(f"images differ in size ({described}, WxH); fusion needs registered "
                                "images of one size (the CLI's --resize, or defusion.io.resize.resize_to_first"
                                "(images) in Python, resizes the others to the first's size)")
    return images


def _as_image(image: object, name: str) -> np.ndarray:
    """``image`` as a pixel array fusion takes (grey + alpha as its grey plane, as RGBA's alpha is
    dropped later; a torch tensor as its values on the CPU, :func:`~defusion.io.arrays.tensor_pixels`;
    a Pillow image as read_image reads a file, upright: :func:`_pillow_pixels`); a path, or an array
    that is not HxW or HxWxC, is refused with a library error, in the words the metrics and the
    baselines use too (:func:`~defusion.io.arrays.not_pixels`)."""
    if isinstance(image, (str, os.PathLike)):
        raise FusionTypeError(not_pixels(image, name))
    values = _pixel_values(image, name)
    try:
        array = np.asarray(values)
    except (TypeError, ValueError):  # nested lists of unequal lengths: not_pixels says so, NumPy's words do not
        raise FusionInputError(not_pixels(image, name)) from None
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in _CHANNELS)):
        got = f"shape {array.shape}" if array.ndim else type(image).__name__  # None, a number: no array at all
        raise FusionInputError(f"{name} must be HxW or HxWxC with C in {', '.join(map(str, _CHANNELS))} (grey, "
                               f"grey + alpha, RGB, RGBA); got {got}{channels_first_hint(array.shape, _CHANNELS)}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise FusionInputError(f"{name} has no pixels (shape {array.shape})")
    _warn_transparent(array, name)
    array = array[..., 0] if array.ndim == 3 and array.shape[2] == _GREY_ALPHA else array
    # a Pillow image is refused, if at all, as the array it decoded to; the rest as passed (a list, a tensor)
    _check_pixels(array, name, array if _is_pillow(image) else image)
    return array


def _check_pixels(array: np.ndarray, name: str, given: object = None) -> None:
    """Refuse pixels fusion cannot take, naming the image (``name``) and what fits its values: a type
    other than uint8, uint16 or float (:func:`~defusion.io.arrays.not_pixels` of ``given``, what the
    caller passed as ``array``: a list of values, which NumPy made int64, is told to make an array, a
    tensor to convert itself; None: ``array`` itself), floats not finite or outside [0, 1] by more than
    rounding (:data:`~defusion.io.unit_floats.FLOAT_RANGE_TOLERANCE`: :func:`_range_advice`).

    Example:
        >>> _check_pixels(np.array([[0, 300]]), "image 1", given=[[0, 300]])  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.fusion.errors.FusionTypeError: ...; got image 1 as a list (int64 values as an array): pass ...
    """
    kind = array.dtype.kind
    if kind == "u" and array.dtype.itemsize in (1, 2):
        return
    if kind != "f":
        raise FusionTypeError(not_pixels(array if given is None else given, name))
    if not np.isfinite(array).all():
        raise FusionInputError(f"float images must be finite: {name} holds NaN or infinite values (mask them, or "
                               "np.nan_to_num(x) sets them to 0)")
    low, high = float(array.min()), float(array.max())
    if low < -FLOAT_RANGE_TOLERANCE or high > 1.0 + FLOAT_RANGE_TOLERANCE:
        raise FusionInputError(f"float images must be in [0, 1], got values from {low:.4g} to {high:.4g} in "
                               f"{name}; {_range_advice(low, high, array)}")


#: Whole-number float pixels spanning more than this many levels are 8-bit or 16-bit data held as floats
#: (OpenCV's astype(float)), told to divide by the full scale; fewer, or fractions, are measurements on a
#: scale of their own (a radiometric thermal frame's degrees: a scene spans tens of them, 20 to 45), told
#: to scale by their own minimum and maximum, as read_image reads a float file. 32: over the tens of degrees
#: a scene spans, under the levels an 8-bit picture's content spans (the example images: 123 to 255).
_LEVELS_SPAN = 32


def _range_advice(low: float, high: float, values: np.ndarray | None = None) -> str:
    """What to do with float pixels ``values`` from ``low`` to ``high``, outside [0, 1], by their scale: a
    little out (:data:`_SLIGHTLY_OUTSIDE`: a resampling's overshoot) clipped, [-1, 1] (a network's
    normalisation) mapped, 8-bit or 16-bit levels (whole numbers over :data:`_LEVELS_SPAN` apart, or all
    one; ``values`` None: not known to be) divided by their full scale, anything else (degrees) scaled by
    its own minimum and maximum.

    Example:
        >>> _range_advice(-0.1642, 1.207)
        'clip them, np.clip(x, 0, 1) (resampling, as a bicubic resize, overshoots a little at sharp edges)'
        >>> _range_advice(7000.0, 8972.0, np.array([7000.0, 8972.0]))
        'divide 16-bit data by 65535, or pass it as uint16 (x.astype(np.uint16)) to have raw counts stretched'
        >>> _range_advice(20.0, 45.0, np.linspace(20, 45, 256))  # degrees, not 8-bit levels
        'scale them into [0, 1] first, (x - x.min()) / (x.max() - x.min()), as read_image reads a float file'
    """
    if low >= -_SLIGHTLY_OUTSIDE and high <= 1.0 + _SLIGHTLY_OUTSIDE:
        return "clip them, np.clip(x, 0, 1) (resampling, as a bicubic resize, overshoots a little at sharp edges)"
    if low >= -1.0 - FLOAT_RANGE_TOLERANCE and high <= 1.0 + FLOAT_RANGE_TOLERANCE:
        return "values in [-1, 1] (as a network normalises them) map onto [0, 1] as (x + 1) / 2"
    # a flat image (one value, 200.0) has no span to scale by: levels, where whole
    wide = high - low > _LEVELS_SPAN or high == low
    levels = values is not None and wide and bool(np.all(values == np.round(values)))
    if levels and low >= 0 and high <= MAX_8BIT:
        return "divide 8-bit data by 255 (or pass the uint8 array itself)"
    if levels and low >= 0 and high <= MAX_16BIT:
        return (f"divide 16-bit data by {MAX_16BIT}, or pass it as uint16 (x.astype(np.uint16)) to have raw counts "
                "stretched")
    return "scale them into [0, 1] first, (x - x.min()) / (x.max() - x.min()), as read_image reads a float file"


def _warn_transparent(array: np.ndarray, name: str) -> None:
    """Warn, as read_image does of a file, that grey + alpha or RGBA ``array`` (named ``name``) has
    transparent pixels whose alpha fusion ignores: they fuse as their colour values. An alpha plane
    all opaque (255, 65535, 1.0: :func:`~defusion.io.levels.opaque_alpha`) says nothing, and nothing
    is said of it.

    Example:
        >>> import warnings
        >>> rgba = np.full((2, 2, 4), 255, np.uint8)
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     _warn_transparent(rgba, "image 1"); rgba[0, 0, 3] = 128; _warn_transparent(rgba, "image 2")
        >>> [str(w.message).split(";")[0] for w in caught]
        ['image 2 has transparent pixels (alpha)']
    """
    if array.ndim != 3 or array.shape[2] not in (_GREY_ALPHA, _RGBA):
        return
    if array.dtype.kind not in "uif":  # no pixel type fusion takes: refused later, in its own words
        return
    alpha = array[..., -1]
    # 8-bit values in 16 bits (warned of as such where in colour): their alpha is opaque at 255
    opaque = MAX_8BIT if array.dtype == np.uint16 and holds_eight_bit_values(array) else opaque_alpha(array.dtype)
    if alpha.min() < opaque:
        warn(transparent_warning(name))


def _pixel_values(image: object, name: str) -> object:
    """A torch tensor as its NumPy values (detached, on the CPU, bfloat16 as float32), and a Pillow
    image as read_image reads a file (:func:`_pillow_pixels`); anything else as it is."""
    if is_tensor(image):
        try:
            return tensor_pixels(image)
        except TypeError:  # a type NumPy cannot hold (quantized)
            raise FusionTypeError(not_pixels(image, name)) from None
    return _pillow_pixels(image, name) if _is_pillow(image) else image


def _is_pillow(image: object) -> bool:
    """Whether ``image`` is a Pillow image, asked of Pillow only where it is already imported (no
    Pillow image exists otherwise: fusion needs no Pillow)."""
    pillow = sys.modules.get("PIL.Image")
    return pillow is not None and isinstance(image, pillow.Image)


def _pillow_pixels(image: Image.Image, name: str) -> np.ndarray:
    """A Pillow image's pixels as :func:`~defusion.io.images.read_image` gives a file's, by its own
    decoding step (:func:`~defusion.io.pillow_decoding.from_pillow_or_opencv`), so that ``fuse(Image.open(p),
    ...)`` fuses what ``fuse(read_image(p), ...)`` does: upright by its EXIF orientation where it is a file's
    own image (a broken EXIF block warned of, as read_image does; an image made from one, by ``transpose``,
    ``convert`` or ``ImageOps.exif_transpose``, is taken as it is: turned by hand, it is never turned twice), palette,
    CMYK and 1-bit images as RGB or grey, 32-bit integers and a file's floats (a float TIFF) as levels, alpha
    dropped with a warning where some pixel is transparent. Float pixels made in memory (mode 'F': ``fromarray``,
    ``convert("F")``) are taken as the same NumPy array is: in [0, 1] fused as floats, any other range refused.
    16-bit colour, which Pillow decodes to 8 bits, is decoded from the file (by OpenCV, as read_image does) while
    the image is still unloaded; where its file cannot be (a file object, pixels already loaded) the 8 bits are
    fused with a warning."""
    from PIL import ImageFile

    from defusion.io.orientation import UPRIGHT, image_orientation  # only here: fusion needs no Pillow or OpenCV
    from defusion.io.pillow_decoding import from_pillow_or_opencv, stored_rawmode

    if image.mode == _FLOAT_MODE and not isinstance(image, ImageFile.ImageFile):
        # float pixels made in memory (Image.fromarray, convert("F")): the caller's values, taken as the same
        # NumPy array is (in [0, 1] fused as floats, other ranges refused); a file's (a float TIFF in degrees)
        # take read_image's rule below, stretched from their range
        return np.asarray(image, dtype=np.float32)
    filename = str(getattr(image, "filename", "") or "")  # a file's ImageFile; "" for a file object
    path = Path(filename) if filename else Path(name)  # what read_image's own lines name
    # how its file stores the pixels, only known before loading (an image made in memory has no tiles)
    rawmode = stored_rawmode(image) if getattr(image, "tile", None) else None
    try:
        # a file's own image (Image.open's) is turned as its file is; one made from it (transpose, rotate,
        # convert, ImageOps.exif_transpose) keeps the EXIF tag but is taken as it is, never turned twice
        orientation = image_orientation(path, image) if isinstance(image, ImageFile.ImageFile) else UPRIGHT
        array, transparent = from_pillow_or_opencv(path, image, rawmode if filename else None, orientation)
    except ValueError as exc:  # a float image holding NaN
        raise FusionInputError(f"{name}: {exc}") from None
    except OSError as exc:  # a truncated or corrupt file, decoded only now
        raise FusionInputError(f"{name}: cannot decode {filename or 'it'} ({exc}); is the file truncated or "
                               "corrupt?") from None
    said = f"{name} ({filename})" if filename else name
    if array.dtype == np.uint8 and _stores_sixteen_bit_colour(image.mode, rawmode, filename):
        warn(f"{said}: a 16-bit colour image that Pillow decoded to 8 bits, fused as 8-bit; {_KEEP_SIXTEEN}")
    if transparent:
        warn(transparent_warning(said))
    return array


def _stores_sixteen_bit_colour(mode: str, rawmode: str | None, filename: str) -> bool:
    """Whether a Pillow image in ``mode`` came from a file of 16-bit colour: its raw mode says so where
    it was still unloaded, else its file's header (``filename``, opened again, nothing decoded) does."""
    if mode not in _EIGHT_BIT_COLOUR_MODES:
        return False
    if rawmode is None and filename:
        from PIL import Image, UnidentifiedImageError

        from defusion.io.pillow_decoding import stored_rawmode

        try:
            with Image.open(filename) as stored:
                rawmode = stored_rawmode(stored) if stored.mode == mode else None
        except (OSError, UnidentifiedImageError, ValueError):  # gone or changed since: nothing to tell
            return False
    return _SIXTEEN_BIT_RAWMODE in (rawmode or "")


def _warn_eight_bit_values(image: np.ndarray, name: str) -> None:
    """Warn that colour source ``name`` holds 8-bit values in 16 bits (:func:`~defusion.io.arrays.
    holds_eight_bit_values`): read as 16-bit data it fuses near black. A grey one is left alone: it is
    stretched as a raw sensor frame (``options.stretch``), as its narrow band of values suggests.
    Colour as its 8-bit values show it (R, G and B more than a few levels of 255 apart): measured
    against 65535, such values all look grey."""
    if holds_eight_bit_values(image) and not color.is_grey(image, scale=MAX_8BIT):
        warn(f"{name}: a colour uint16 image whose values are all <= {MAX_8BIT} (8-bit values in 16 bits?) is fused "
             "as 16-bit data, near black; save or pass it as 8-bit (.astype(np.uint8)), or scaled to 16 bits "
             "(.astype(np.uint16) * 257)")


__all__ = ["checked_images"]
