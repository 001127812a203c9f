"""The fusion core's errors, without PyTorch or OpenCV: the command line names them among its
expected errors while building its parser (fast ``--help``); :mod:`defusion.fusion.fuser` raises them."""

from __future__ import annotations

from defusion.errors import DefusionError


class FusionInputError(DefusionError, ValueError):
    """Images that fusion refuses: too few, not HxW or HxWxC, no pixels, float values outside
    [0, 1] or not finite, fewer than a FixedStretch names (a ValueError, as before these classes existed)."""


class FusionTypeError(DefusionError, TypeError):
    """An argument of the wrong type for fusion: a path instead of an array, pixels other than uint8,
    uint16 or float, options that are no FuseOptions (a TypeError, as before these classes existed)."""


class SizeMismatchError(FusionInputError):
    """Sources of different sizes; fusion needs registered images."""


class OptionsError(DefusionError, ValueError):
    """Options that fusion refuses: a FuseOptions field or task, a FixedStretch, a device, runtime
    or precision for Fuser.from_pretrained (a ValueError, as before this class existed)."""


class UnknownOptionError(OptionsError, TypeError):
    """A keyword that names no option (``uniq_gain``): an OptionsError, and a TypeError as Python's
    own refusal of an unknown keyword argument was before this class existed."""


__all__ = ["FusionInputError", "FusionTypeError", "OptionsError", "SizeMismatchError", "UnknownOptionError"]
