"""The image readers' and writer's errors, without their dependencies (OpenCV, Pillow, numpy): the
command line names them among its expected errors while building its parser (fast ``--help``);
:mod:`defusion.io.images` raises them (and its subclasses of them), :mod:`defusion.io.writing` the
writer's."""

from __future__ import annotations

from defusion.errors import DefusionError


class ImageReadError(DefusionError, ValueError):
    """An input image that cannot be used; the message says which file and why."""


class ImageWriteError(DefusionError, ValueError):
    """Pixels or settings that :func:`~defusion.io.writing.write_image` refuses: a shape, a float range,
    a format, a quality or a bit depth it cannot write (a ValueError, as before this class existed)."""


class ImageWriteTypeError(DefusionError, TypeError):
    """Pixels of a type :func:`~defusion.io.writing.write_image` cannot write (not uint8, uint16 or
    float: int64, bool, ...); a TypeError, as before this class existed."""


class PixelValueError(DefusionError, ValueError):
    """Float pixels that are no image in [0, 1] (not finite, or outside it) where pixels are taken as
    fusion takes them (:func:`~defusion.io.display.in_eight_bits`); a ValueError, as fusion's
    :class:`~defusion.fusion.errors.FusionInputError` that said it before."""


class PixelTypeError(DefusionError, TypeError):
    """Pixels of a type other than uint8, uint16 or float where pixels are taken as fusion takes them
    (:func:`~defusion.io.display.in_eight_bits`); a TypeError, as fusion's
    :class:`~defusion.fusion.errors.FusionTypeError` that said it before."""


__all__ = ["ImageReadError", "ImageWriteError", "ImageWriteTypeError", "PixelTypeError", "PixelValueError"]
