"""Two slips with thermal frames that give a plausible picture and no error, said alike by every
front end (``defusion fuse``'s stderr, the API's notes header):

* a raw 16-bit thermal frame fused with the stretch switched off (``--stretch none``,
  ``?stretch=none``): its counts fill a narrow band of 0..65535, so it reads nearly flat and the
  fused image is close to the visible one alone (:func:`describe_unstretched`);
* an infrared + visible pair given infrared first: the output takes the first image's size (and
  ``--resize`` brings the second to it), so a 320x240 visible image is shrunk to a 160x120 thermal
  frame's size (:func:`describe_order`). Visible first is the convention, as benchmarked and as a
  rig is calibrated.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from defusion.fusion.color import is_grey
from defusion.fusion.stretch import is_narrow, measure_stretch
from defusion.io.arrays import MAX_16BIT

#: What the note on the order tells the CLI's user to do (the API says its fields instead).
GIVE_VISIBLE_FIRST = "give the visible image first"


def describe_unstretched(names: Sequence[str], images: Sequence[np.ndarray], option: str = "--stretch ",
                         shared: bool | None = None) -> list[str]:
    """One sentence per raw sensor frame among ``images`` (named ``names``; a grey 16-bit band under
    a quarter of the range: :func:`~defusion.fusion.stretch.is_narrow`) that a fusion without the
    stretch takes as it is, nearly flat, and the automatic stretch would map. ``option`` spells the
    stretch option as the front end takes it (``"--stretch "``, ``"stretch="``); ``shared`` is the
    options' ``stretch_shared`` (True for a bracket: its dark shot beside brighter ones that fill the
    range is an exposure, which the automatic stretch leaves as it is, so it is not named).

    Example:
        >>> raw = np.array([[7000, 7500], [8000, 9000]], np.uint16)
        >>> describe_unstretched(["ir.png", "vis.png"], [raw, raw.astype(np.uint8)])
        ['ir.png spans only 7002..8997 of 0..65535 (3% of the range) and reads nearly flat unstretched; drop --stretch none (or use --stretch auto) to see its content']
        >>> describe_unstretched(["ev-2.tif", "ev0.tif"], [raw // 8, raw * 7], shared=True)
        []
    """
    auto = measure_stretch(images, shared)
    stretched = set(auto.sources) if auto is not None else set()
    return [f"{flat_band(names[index], low, high)}; drop {option}none (or use {option}auto) to see its content"
            for index, low, high in raw_bands(images) if index in stretched]


def raw_bands(images: Sequence[np.ndarray]) -> list[tuple[int, float, float]]:
    """``(index, low, high)`` of each raw sensor frame among ``images``: its band of 0..65535, as the
    stretch would map it on its own (:func:`~defusion.fusion.stretch.measure_stretch`).

    Example:
        >>> raw_bands([np.array([[7000, 9000]], np.uint16), np.zeros((1, 2), np.uint8)])
        [(0, 7002.0, 8998.0)]
    """
    fixed = measure_stretch(images, shared=False)
    bands = []
    for index in fixed.sources if fixed is not None else ():
        low, high = (bound * MAX_16BIT for bound in fixed.mapping(index))
        bands.append((index, low, high))
    return bands


def flat_band(name: str, low: float, high: float) -> str:
    """What a raw frame ``name`` whose values span ``low``..``high`` of 0..65535 looks like unstretched,
    the start of each note on one (how to see its content is the front end's to add).

    Example:
        >>> flat_band("ir.png", 7002, 8997)
        'ir.png spans only 7002..8997 of 0..65535 (3% of the range) and reads nearly flat unstretched'
    """
    return (f"{name} spans only {low:.0f}..{high:.0f} of 0..{MAX_16BIT} "
            f"({100 * (high - low) / MAX_16BIT:.2g}% of the range) and reads nearly flat unstretched")


def infrared_first(images: Sequence[np.ndarray]) -> bool:
    """Whether a pair looks given infrared first: the first a raw thermal frame and the second not,
    or the first grey and the second colour. Only for pairs an infrared + visible fusion is asked
    of (a palette, ``task="ivf"``): a grey image alone says nothing of infrared.

    Example:
        >>> grey, colour = np.zeros((4, 4), np.uint8), np.dstack([np.arange(16).reshape(4, 4)] * 3).astype(np.uint8)
        >>> colour[..., 0] = 255
        >>> infrared_first([grey, colour]), infrared_first([colour, grey]), infrared_first([grey, grey])
        (True, False, False)
    """
    if len(images) != 2:
        return False
    first, second = images
    if is_narrow(first) and not is_narrow(second):
        return True
    return is_grey(first) and not is_grey(second)


def describe_order(names: Sequence[str], images: Sequence[np.ndarray], resize: str | None = None,
                   fix: str = GIVE_VISIBLE_FIRST, infrared: int | None = None) -> str | None:
    """The sentence on a pair given infrared first (:func:`infrared_first`; ``images`` as read, named
    ``names``), else None: visible first is the convention, and the output takes the first image's
    size; ``resize`` (the option that brings the second to it, where it is given) adds what it does
    to the second. ``fix`` says how to give the pair the other way round. ``infrared``: the index of
    the source the user named as the infrared image (``FuseOptions.infrared``), which settles it; else
    a raw thermal frame first is said as such, and a grey image before a colour one as a possibility
    (a mono visible camera beside a false-colour thermal one is given rightly so). An ``infrared`` that
    names no image of the pair is an error for the caller to say, not a note: None.

    Example:
        >>> ir, vis = np.zeros((120, 160), np.uint8), np.zeros((240, 320, 3), np.uint8)
        >>> vis[..., 0] = 255
        >>> describe_order(["ir.png", "vis.jpg"], [ir, vis], resize="--resize")
        "ir.png is grey and vis.jpg colour: if ir.png is the infrared image, visible first is the convention (as benchmarked, and as a rig is calibrated); the output takes the first image's size, 160x120, and --resize shrinks vis.jpg from 320x240 to it; give the visible image first (a grey visible image beside a colour thermal one is given rightly so)"
        >>> describe_order(["vis.png", "ironbow.png"], [ir, vis], infrared=1) is None  # named: settled
        True
        >>> describe_order(["ir.png", "vis.jpg"], [ir, vis], infrared=2) is None  # no third image: an error, not a note
        True
    """
    if len(images) != 2 or infrared is not None and infrared != 0:
        return None  # named second (the convention), or out of range (the caller's error to say)
    if infrared is None and not infrared_first(images):
        return None
    first, second = images
    (h, w), (sh, sw) = first.shape[:2], second.shape[:2]
    size = f"the output takes the first image's size, {w}x{h}"
    if resize is not None and (sh, sw) != (h, w):
        how = "shrinks" if sh * sw > h * w else "enlarges" if sh * sw < h * w else "reshapes"
        size += f", and {resize} {how} {names[1]} from {sw}x{sh} to it"
    convention = f"visible first is the convention (as benchmarked, and as a rig is calibrated); {size}; {fix}"
    if infrared == 0:
        return f"{names[0]} (named the infrared image) comes before {names[1]}: {convention}"
    if is_narrow(first) and not is_narrow(second):
        return f"{names[0]} (a raw thermal frame) comes before {names[1]} (not one): {convention}"
    return (f"{names[0]} is grey and {names[1]} colour: if {names[0]} is the infrared image, {convention} "
            "(a grey visible image beside a colour thermal one is given rightly so)")


__all__ = ["describe_unstretched", "flat_band", "infrared_first", "describe_order", "raw_bands", "GIVE_VISIBLE_FIRST"]
