"""The two scales a float image is scored on, [0, 1] and 0..255 (VIFB's MATLAB code works on 0..255
doubles): which one float values lie on (:func:`float_scale`), and the words for a range on neither.

Here in io, below both users: :func:`~defusion.metrics._inputs.as_image` reads a float array by it,
:func:`~defusion.io.images.read_image` a float file read to be scored (``floats="levels"``), and
:func:`~defusion.io.display.viewable` shows one, so that a float file scores and shows as its array
does. :mod:`defusion.metrics._scale` still exports these names.
"""

from __future__ import annotations

from defusion.io.arrays import MAX_8BIT

#: How far a float image may stray outside [0, 1] (an unclamped network output) and still be read
#: as a [0, 1] image (clipped): on the 0..255 scale such an image would be black.
FLOAT_SLACK = 0.5
#: How far (in grey levels) a float image on 0..255 may stray outside it and still be taken as
#: it is: half a grey level, i.e. values that round into 0..255. Anything further is on another
#: scale, or needs clipping by the caller.
LEVEL_SLACK = 0.5


def float_scale(lo: float, hi: float) -> float | None:
    """What float values from ``lo`` to ``hi`` are multiplied by to be on the 0..255 scale: 255
    where they lie in [0, 1] (give or take ``FLOAT_SLACK``: then clipped to it), 1 where they lie on
    0..255 (give or take ``LEVEL_SLACK``); None for any other range, which no one reading suits.
    The rule :func:`~defusion.metrics._inputs.as_image` applies, and
    :func:`defusion.io.images.read_image` for files read to be scored, so that a float file scores
    as its array does.

    Example:
        >>> float_scale(0.0, 1.0), float_scale(60.0, 187.0), float_scale(-5.0, 40.0)
        (255.0, 1.0, None)
    """
    if lo >= -FLOAT_SLACK and hi <= 1 + FLOAT_SLACK:
        return float(MAX_8BIT)
    if lo >= -LEVEL_SLACK and hi <= MAX_8BIT + LEVEL_SLACK:
        return 1.0
    return None


def float_range_problem(lo: float, hi: float) -> str:
    """Why float values from ``lo`` to ``hi`` (:func:`float_scale` None) cannot be scored, for an error line.

    Example:
        >>> float_range_problem(-5.0, 40.0).split(";")[0]
        'float values span -5..40, neither 0..1 nor 0..255 (the two float scales the metrics take)'
    """
    return (f"float values span {lo:.6g}..{hi:.6g}, neither 0..1 nor 0..255 (the two float scales the metrics "
            "take); rescale or clip the image to one of them")


__all__ = ["FLOAT_SLACK", "LEVEL_SLACK", "float_range_problem", "float_scale"]
