"""The images a user passes to fusion, checked and converted to the pixel arrays it fuses.

Fusion takes NumPy arrays, torch tensors and Pillow images (HxW or HxWxC, C 1 to 4); a path,
another shape, no pixels, too few images or images of different sizes are refused with one
library error (:mod:`defusion.fusion.errors`) that says what to do instead.

Example:
    >>> import numpy as np
    >>> [im.shape for im in checked_images((np.zeros((4, 6, 2), np.uint8), np.zeros((4, 6), np.uint8)))]
    [(4, 6), (4, 6)]
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import TYPE_CHECKING, Sequence

import numpy as np

from defusion.errors import caller_stacklevel, channels_first_hint
from defusion.fusion import color
from defusion.fusion.errors import FusionInputError, FusionTypeError, SizeMismatchError
from defusion.io.arrays import MAX_8BIT, holds_eight_bit_values, is_tensor, tensor_pixels

if TYPE_CHECKING:
    from defusion.fusion.rig import Rig

#: Channels an HxWxC image may have: grey, grey + alpha, RGB, RGBA (alpha is dropped).
_CHANNELS = (1, 2, 3, 4)
#: Grey + alpha (a Pillow image in mode LA, as an array): fused as its grey plane.
_GREY_ALPHA = 2
#: Pillow modes whose values are no grey or RGB levels (palette indices, another colour space, 1-bit
#: booleans), and the mode each is converted to before fusing (palettes by RGBA, as read_image does:
#: Pillow warns when a palette's transparency is dropped straight to RGB; alpha is dropped later).
_PILLOW_CONVERSIONS = {"P": "RGBA", "PA": "RGBA", "1": "L", "CMYK": "RGB", "YCbCr": "RGB", "LAB": "RGB",
                       "HSV": "RGB"}
#: Pillow modes of 32-bit numbers (a 16-bit PNG opened by older Pillow, a float TIFF), read as
#: read_image reads such a file (io.images.pillow_levels), since their arrays are no uint8/uint16 levels.
_PILLOW_NUMBER_MODES = ("I", "F")


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
                                "images of one size (the CLI's --resize, or defusion.io.resize.resize_to "
                                "in Python, resizes the others to the first)")
    return images


def _as_image(image: object, name: str) -> np.ndarray:
    """``image`` as a pixel array fusion takes (grey + alpha as its grey plane, as RGBA's alpha is
    dropped later; a torch tensor as its values on the CPU, :func:`~defusion.io.arrays.tensor_pixels`;
    a Pillow image whose values are no levels, a palette one, converted: ``_PILLOW_CONVERSIONS``; one of
    32-bit integers or floats read as read_image reads such a file: ``_PILLOW_NUMBER_MODES``); a
    path, or an array that is not HxW or HxWxC, is refused with a library error."""
    if isinstance(image, (str, os.PathLike)):
        raise FusionTypeError(f"{name} is a path ({image}); fuse takes pixel arrays: read files with "
                              "defusion.io.images.read_image")
    array = np.asarray(_pixel_values(image, name))
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in _CHANNELS)):
        got = f"shape {array.shape}" if array.ndim else type(image).__name__  # None, a number: no array at all
        raise FusionInputError(f"{name} must be HxW or HxWxC with C in {', '.join(map(str, _CHANNELS))} (grey, "
                               f"grey + alpha, RGB, RGBA); got {got}{channels_first_hint(array.shape, _CHANNELS)}")
    if array.shape[0] == 0 or array.shape[1] == 0:
        raise FusionInputError(f"{name} has no pixels (shape {array.shape})")
    return array[..., 0] if array.ndim == 3 and array.shape[2] == _GREY_ALPHA else array


def _pixel_values(image: object, name: str) -> object:
    """A torch tensor as its NumPy values (detached, on the CPU, bfloat16 as float32), and a Pillow
    image in a mode whose values are no levels (``_PILLOW_CONVERSIONS``) converted; anything else as it is."""
    if is_tensor(image):
        try:
            return tensor_pixels(image)
        except TypeError:
            raise FusionTypeError(f"images must be uint8, uint16 or float in [0, 1]; got {name} of dtype "
                                  f"{str(image.dtype).removeprefix('torch.')}") from None
    pillow = sys.modules.get("PIL.Image")
    if pillow is not None and isinstance(image, pillow.Image):
        if image.mode in _PILLOW_CONVERSIONS:
            return image.convert(_PILLOW_CONVERSIONS[image.mode])
        if image.mode in _PILLOW_NUMBER_MODES:
            from defusion.io.images import ImageReadError, pillow_levels  # only here: fusion needs no Pillow
            try:
                return pillow_levels(image, name)
            except ImageReadError as exc:
                raise FusionInputError(str(exc)) from None
    return image


def _warn_eight_bit_values(image: np.ndarray, name: str) -> None:
    """Warn that colour source ``name`` holds 8-bit values in 16 bits (:func:`~defusion.io.arrays.
    holds_eight_bit_values`): read as 16-bit data it fuses near black. A grey one is left alone: it is
    stretched as a raw sensor frame (``options.stretch``), as its narrow band of values suggests.
    Colour as its 8-bit values show it (R, G and B more than a few levels of 255 apart): measured
    against 65535, such values all look grey."""
    if holds_eight_bit_values(image) and not color.is_grey(image, scale=MAX_8BIT):
        warnings.warn(f"{name}: a colour uint16 image whose values are all <= {MAX_8BIT} (8-bit values in 16 "
                      "bits?) is fused as 16-bit data, near black; pass it as uint8 (.astype(np.uint8)), or scaled "
                      "to 16 bits (.astype(np.uint16) * 257)", UserWarning, stacklevel=caller_stacklevel())


__all__ = ["checked_images"]
