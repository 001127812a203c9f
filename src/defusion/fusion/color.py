"""Colour handling: which planes the network fuses, and how colour comes back.

DeNet fuses 3-channel images. Modes:

- ``rgb``: both sources in colour, fused in RGB (the paper's setting; ``color="rgb"``).
- ``luma``: fuse the luminance Y (fed as grey RGB) and take chroma (Cb, Cr) from the
  sources: from the colour source when one is grey (infrared + visible), or blended
  by saturation when both are colour (``color="ycbcr"``, and the ``auto`` default for two
  colour sources: on MEFB and MFIFB it scores higher than fusing RGB and keeps natural
  colours, where RGB fusion drifts towards brown; docs/benchmarks.md).
- ``grey``: both sources grey; the output is grey.

A thermal ``palette`` (:func:`thermal_colours`, :func:`with_detail`) shows the infrared image in
false colour, as thermal cameras do, with the fused image's fine detail drawn over it: the colour
says how warm each place is, the edges (of both images) what is there.
"""

from __future__ import annotations

import functools
from typing import Callable, Literal, Sequence

import numpy as np

# the colour modes and palettes are choices of the command line too: defined where --help reads them
from defusion.fusion.choices import COLOR_MODES, PALETTES, ColorMode
from defusion.fusion.errors import FusionInputError, FusionTypeError, OptionsError
# [0, 1] floats' tolerance, the lines refusing other pixels and the rounding to 16 bits are io's
# (write_image and io.display take pixels as fusion does)
from defusion.io import unit_floats
from defusion.io.arrays import MAX_8BIT, MAX_16BIT, is_uint16
from defusion.io.eight_bits import as_uint8, float_to_uint8
from defusion.io.levels import opaque_alpha
from defusion.io.notes import warn
from defusion.io.unit_floats import pixel_type_problem, unit_float_problem, unit_float_to_uint16

#: The infrared image's values between these percentiles span the palette (hot and dead pixels
#: do not set its range).
PALETTE_PERCENTILES = (1.0, 99.0)
#: The fused image's detail drawn over the palette: finer than a Gaussian of this fraction of the
#: image's short side (3 px on a 640x576 frame), weighed this much.
PALETTE_DETAIL_SIGMA = 0.005
PALETTE_DETAIL_GAIN = 1.5
#: A pixel is the infrared camera's own (a rig's coverage weight, :func:`thermal_colours`) where its
#: weight is within this of 1: the feathered edge of a rig's view is left out of the palette's range.
PALETTE_WHOLE_TOLERANCE = 1e-3
#: What a palette over a colour image says (:func:`thermal_colours`): a pseudo-colour picture's (a PET in
#: jet) luminance does not follow its colour map's scale (jet's hottest dark red is darker than its cool
#: cyan), so its hottest places come out in the palette's cold colours.
PALETTE_OF_COLOUR = ("the image the palette colours is in colour, not grey: its own colours are dropped and its "
                     "luminance is what the palette maps, which does not follow a colour map's scale (a jet "
                     "picture's hottest red reads cold); give the grey image its colours were made from, or keep "
                     "its colours without a palette")
#: What a colour source drawn in a thermal palette (:func:`palette_like`, the map's name in ``{name}``)
#: says beside a colour photo: blended by saturation, the map's strong colours would tint the photo
#: (the audit's colour checker with an inferno infrared: hues 55 degrees off, its greys purple), so its
#: chroma is left out and its luminance alone is fused.
PALETTE_SOURCE = ("its colours look like a thermal camera's palette ({name}): they would tint the fused photo, so "
                  "only its brightness is fused, which may not follow the temperature; give the camera's grey "
                  "(radiometric) export instead")
#: Largest spread between a pixel's channels (a share of the scale :func:`is_grey` measures against: 4
#: levels of 8 bits) that a grey image stored in three channels may show: a lossy codec (mp4, JPEG) that
#: stores chroma at 8 bits puts R = G = B frames off by up to about 3 levels when its chroma is one level off.
GREY_SPREAD = 4 / 255
#: How far (in levels of 8 bits) a float value may lie from a multiple of 1 / 255 and still be 8-bit data
#: divided by 255: float32 holds k / 255 to within about 3e-5 levels, and a resampled image strays further.
_EIGHT_BIT_GRID_TOLERANCE = 1e-3
#: :func:`is_grey` looks at about this many rows first: a colour image shows its colour there.
_GREY_SAMPLE_ROWS = 64
#: :func:`is_grey` compares channels in bands of rows of about this many bytes (they stay in cache).
_GREY_BAND_BYTES = 1 << 20
#: The dtypes whose channel differences :func:`is_grey` takes from OpenCV (exactly, or rounded to
#: float32 and checked again near the limit); others (signed, 32-bit integers, float16) from NumPy.
_GREY_FAST_DTYPES = (np.dtype(np.uint8), np.dtype(np.uint16), np.dtype(np.float32), np.dtype(np.float64))

#: Pixels per band of rows that :func:`by_rows` computes a whole-image conversion in (a 3-channel
#: float32 band of them is 3 MB): the conversions' temporaries stay that size, whatever the image's.
BAND_PIXELS = 1 << 18

#: Rec. 601 luma weights of R, G and B: Y of :func:`rgb_to_ycbcr`, and the classical baselines' luma
#: (:func:`defusion.baselines._common.luma`).
LUMA_WEIGHTS = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# ITU-R BT.601 full-range (JPEG) conversion, on [0, 1] data.
_RGB_TO_YCBCR = np.array([LUMA_WEIGHTS,
                          [-0.168736, -0.331264, 0.5],
                          [0.5, -0.418688, -0.081312]], dtype=np.float32)
_YCBCR_TO_RGB = np.linalg.inv(_RGB_TO_YCBCR).astype(np.float32)
_CHROMA_OFFSET = np.array([0.0, 0.5, 0.5], dtype=np.float32)
#: Keeps the saturation weights of two nearly grey sources from dividing by zero.
_SATURATION_EPS = 1e-3
#: The colour maps whose pictures :func:`palette_like` recognises (OpenCV's maps of these names, which
#: matplotlib's match): those thermal cameras and their software export images in.
THERMAL_MAPS = ("inferno", "magma", "plasma", "hot", "jet", "turbo", "rainbow", "viridis", "parula")
#: :func:`palette_like` looks at a grid of about this many pixels on the long side (16k pixels in all)...
_PALETTE_GRID = 128
#: ... and fits the colour maps to at most this many of its coloured pixels (a few ms).
_PALETTE_FIT_PIXELS = 1024
#: Chroma (distance of (Cb, Cr) from grey) over which a pixel counts as coloured: a colour map's black
#: and white ends are grey, and so are a photo's white backdrop and its shadows, which lie on any map.
_PALETTE_CHROMA = 0.05
#: A palette picture has colour over at least this share of its pixels (a mostly grey photo is none;
#: THERMAL_MAPS' grey ends are their extremes only).
_PALETTE_COLOURED_SHARE = 0.25
#: Median RGB distance (0-1) of the coloured pixels from the nearest entry of one map, under which they
#: lie on it: VIFB's and TNO's 46 infrared images mapped by THERMAL_MAPS and saved as JPEG at quality 75
#: lie within 0.024 (hot) to 0.041 (turbo; one of 46 missed), lossless within 0.001; of the bench's and
#: the training set's 1337 colour photos only one does (red LED digits on black: 0.012 from hot).
_PALETTE_DISTANCE = 0.04
#: The coloured pixels span at least this share of the map (5th to 95th percentile of their entries):
#: a photo's few colours near one stretch of a map are no palette picture.
_PALETTE_SPAN = 0.1
#: Thermal cameras' own maps :func:`palette_like` recognises too, piecewise-linear in RGB (0-255) through
#: anchor colours in the order FLIR's palette descriptions give them (ironbow black-blue-purple-red-
#: orange-yellow-white; rainbow high-contrast black-purple-blue-cyan-green-yellow-orange-red-white), at
#: places read off their swatches: near a camera's own table, not its exact entries.
CAMERA_MAPS: dict[str, tuple[tuple[float, tuple[int, int, int]], ...]] = {
    "ironbow": ((0.0, (0, 0, 0)), (0.15, (30, 0, 120)), (0.32, (130, 0, 155)), (0.5, (210, 30, 90)),
                (0.65, (240, 100, 10)), (0.82, (255, 190, 30)), (1.0, (255, 255, 255))),
    "rainbow-hc": ((0.0, (0, 0, 0)), (0.1, (90, 0, 130)), (0.22, (0, 0, 255)), (0.36, (0, 220, 255)),
                   (0.5, (0, 210, 40)), (0.64, (255, 255, 0)), (0.76, (255, 130, 0)), (0.88, (230, 0, 0)),
                   (1.0, (255, 255, 255))),
}
#: A palette's coloured pixels turn in hue along its map as the map does: 90% of their hues span an arc
#: of at least this share of the arc the map's own colours span over the same entries (5th to 95th
#: percentile of the pixels' nearest ones; JPEG narrows it, 20% of a map's span rarely more than this).
_PALETTE_HUE_FOLLOW = 0.3
#: ... and both arcs are at least this many degrees. A photo in one colour of light (a red darkroom, a
#: deep orange sunset, a violet stage light: the scene's colours times one colour, or its luminance)
#: keeps one hue: the tints of 12 bench photos that lay along a map spanned at most 2 degrees. A map's
#: stretch in one hue (hot's black to red) is left to the photo it looks like, and a photo whose hues
#: vary off a one-hue stretch is no palette: the two of the 1337 colour photos that lay along one
#: (red LED digits on black, hot; a museum hall, ironbow) spanned 15 and 6 degrees there.
_PALETTE_HUE_ARC = 5.0
#: The hues are measured on this share of the coloured pixels (the rest: JPEG's stray chroma at edges).
_PALETTE_HUE_SHARE = 0.9
#: :func:`palette_like` remembers the answer for this many recent grids of pixels: :func:`plan_mode`
#: and :func:`blend_chroma` ask about the same sources in one fusion.
_PALETTE_MEMORY = 8
#: How far outside [0, 1] a float input may stray (rounding of a conversion) before it is refused:
#: io's rule (:mod:`defusion.io.unit_floats`, which write_image follows too), still named here.
FLOAT_RANGE_TOLERANCE = unit_floats.FLOAT_RANGE_TOLERANCE


def native(image: np.ndarray) -> np.ndarray:
    """``image`` in the machine's byte order: big-endian data read from a file (``'>u2'``, raw
    frames of some cameras) converted, anything else as it is.

    Example:
        >>> native(np.array([1, 2], dtype=">u2")).dtype == np.uint16
        True
    """
    if image.dtype.isnative:
        return image
    return image.astype(image.dtype.newbyteorder("="))


def to_float(image: np.ndarray) -> np.ndarray:
    """uint8 / uint16 / float in [0, 1] (any byte order) -> float32 in [0, 1]. Other pixel types
    raise FusionTypeError (a TypeError), float values outside [0, 1] or not finite FusionInputError.

    Example:
        >>> to_float(np.array([0, 255], dtype=np.uint8)).tolist()
        [0.0, 1.0]
        >>> to_float(np.array([0, 65535], dtype=">u2")).tolist()
        [0.0, 1.0]
    """
    image = native(image)
    if image.dtype in (np.uint8, np.uint16):  # divided in place: one float32 copy, not two
        floats = image.astype(np.float32)
        floats /= 255.0 if image.dtype == np.uint8 else MAX_16BIT
        return floats
    if np.issubdtype(image.dtype, np.floating):
        problem = unit_float_problem(image)
        if problem is not None:
            raise FusionInputError(problem)
        return np.clip(image, 0.0, 1.0).astype(np.float32, copy=False)
    raise FusionTypeError(pixel_type_problem(image.dtype))


def from_float(image: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """float in [0, 1] -> ``dtype`` (rounded for integer types, as write_image rounds: uint8 by
    :func:`~defusion.io.eight_bits.float_to_uint8`, uint16 by :func:`~defusion.io.unit_floats.unit_float_to_uint16`)."""
    if dtype == np.uint8:  # a band at a time: no whole-image float temporaries beside the result
        return by_rows(float_to_uint8, image)
    if dtype == np.uint16:
        return by_rows(unit_float_to_uint16, image)
    return np.clip(image, 0.0, 1.0).astype(dtype)


def to_uint8(image: np.ndarray) -> np.ndarray:
    """uint8 / uint16 (either byte order) / float in [0, 1] -> uint8 (metrics and display work on 8 bits),
    by the one rounding rule of :func:`defusion.io.eight_bits.as_uint8`; refused as :func:`to_float` refuses
    (other pixel types: FusionTypeError; floats not finite or outside [0, 1]: FusionInputError).

    Example:
        >>> to_uint8(np.array([0, 257, 65535], dtype=np.uint16)).tolist()
        [0, 1, 255]
    """
    return as_uint8(image if image.dtype == np.uint8 or is_uint16(image) else to_float(image))


def output_dtype(*images: np.ndarray) -> np.dtype:
    """The deepest integer type among the inputs (in the machine's byte order), or float32 if any
    input is float.

    Example:
        >>> output_dtype(np.zeros(1, np.uint8), np.zeros(1, ">u2"))
        dtype('uint16')
    """
    dtypes = {np.dtype(im.dtype).newbyteorder("=") for im in images}
    if any(np.issubdtype(d, np.floating) for d in dtypes):
        return np.dtype(np.float32)
    return np.dtype(np.uint16) if np.dtype(np.uint16) in dtypes else np.dtype(np.uint8)


def is_grey(image: np.ndarray, scale: float | None = None) -> bool:
    """True for HxW, HxWx1, or 3 channels with R = G = B everywhere, to within ``GREY_SPREAD`` of
    ``scale``, so that a grey video decoded from a lossy codec, its channels a few levels apart,
    counts as grey. ``scale`` by default: the full scale (255, 65535 or 1) for 8-bit data, where the
    codec's rounding lies (uint8, and 8-bit levels scaled to 16 bits or divided by 255); for any
    other 16-bit or float data the image's own brightest value (:func:`_own_scale`), so that a dim
    colour image (linear 16-bit values up to 1000, a dark float frame) is not taken for grey: measured
    against the full scale, all of its colour lay within the codec's few levels. A caller may pass
    its own (a narrow band stretched onto the full range passes its span).

    Example:
        >>> grey = np.full((2, 2, 3), 100, np.uint8)
        >>> grey[0, 0, 2] = 103  # an mp4's rounding
        >>> is_grey(grey), is_grey(np.dstack([grey[..., 0], grey[..., 1], grey[..., 2] + 20]))
        (True, False)
        >>> dim = np.dstack([np.full((2, 2), v, np.uint16) for v in (900, 500, 100)])  # linear, 16 bits
        >>> is_grey(dim), is_grey(dim, scale=MAX_16BIT)  # its colour is 800 of its 900, not of 65535
        (False, True)
    """
    if image.ndim == 2 or image.shape[2] == 1:
        return True
    image = native(image)
    if scale is not None:
        return _grey_within(image, GREY_SPREAD * scale)[0]
    full = opaque_alpha(image.dtype)  # white's value: the type's full scale, as an opaque alpha's
    grey, equal = _grey_within(image, GREY_SPREAD * full)
    if not grey or equal:  # colour even at the full scale, or R = G = B exactly: no more to measure
        return grey
    own = _own_scale(image[..., :3], full)
    return own >= full or _grey_within(image, GREY_SPREAD * own)[0]


def _own_scale(rgb: np.ndarray, full: float) -> float:
    """What :func:`is_grey` measures the channels' spread of ``rgb`` (channels without alpha) against:
    ``full`` for 8-bit data (a codec's output: its rounding is levels of 8 bits, however bright the image);
    255 for 8-bit values held in 16 bits; for other unsigned or float data its brightest value, where
    under ``full`` (a dim image's colour is as large a share of its own white as a bright one's).

    Example:
        >>> dim = np.array([[[0.2, 0.1, 0.05]]], np.float32)
        >>> round(_own_scale(dim, 1.0), 3), _own_scale(np.round(dim * 255) / np.float32(255), 1.0)
        (0.2, 1.0)
    """
    if rgb.dtype.itemsize == 1 or rgb.dtype.kind not in "uf" or rgb.size == 0:
        return full
    top = float(rgb.max())
    if not np.isfinite(top) or top <= 0 or top >= full:
        return full
    if rgb.dtype.kind == "u" and top <= MAX_8BIT:  # 8-bit values in 16 bits: levels of 8 bits as they are
        return float(MAX_8BIT)
    return full if _eight_bit_levels(rgb, full) else top


def _eight_bit_levels(rgb: np.ndarray, full: float) -> bool:
    """Whether ``rgb`` holds 8-bit data on its own scale: unsigned integers all multiples of
    ``full / 255`` (257 in 16 bits), floats all within _EIGHT_BIT_GRID_TOLERANCE of a multiple of 1 /
    255. Measured a band of rows at a time, stopping at the first band that is not."""
    step = max(1, _GREY_BAND_BYTES // max(1, rgb.shape[1] * rgb.shape[2] * max(rgb.itemsize, 4)))
    for top in range(0, rgb.shape[0], step):
        band = rgb[top:top + step]
        if rgb.dtype.kind == "u":
            if np.any(band % (int(full) // MAX_8BIT)):
                return False
            continue
        levels = band.astype(np.float32) * np.float32(MAX_8BIT)
        if np.abs(levels - np.rint(levels)).max() > _EIGHT_BIT_GRID_TOLERANCE:
            return False
    return True


def _grey_within(image: np.ndarray, limit: float) -> tuple[bool, bool]:
    """(whether ``image``'s first three channels are nowhere more than ``limit`` apart, whether they
    are equal everywhere): :func:`is_grey`'s measure at one limit."""
    if image.shape[2] < 3 or image.dtype not in _GREY_FAST_DTYPES or image.size == 0:
        rgb = image[..., :3]
        if np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]):
            return True, True
        for part in (rgb[::max(1, rgb.shape[0] // _GREY_SAMPLE_ROWS)], rgb):  # a colour image fails on a few rows
            if _exact_spread(part) > limit:
                return False, False
        return True, False
    # the same answers, from OpenCV's pairwise channel differences a band of rows at a time (the
    # spread max - min is the largest of |R - G|, |G - B|, |R - B|): no HxW float64 temporaries
    sample, _ = _channel_spread(image[::max(1, image.shape[0] // _GREY_SAMPLE_ROWS)], limit)
    if sample > limit and limit >= 0:  # a colour image fails on a few rows
        return False, False
    spread, equal = _channel_spread(image, limit)
    return equal or not (sample > limit or spread > limit), equal


def _exact_spread(rgb: np.ndarray) -> float:
    """Largest spread max - min between a pixel's first three channels, in float64 (NaN where a
    value is NaN, or where two are the same infinity)."""
    rgb = rgb[..., :3]
    return float((rgb.max(axis=2).astype(np.float64) - rgb.min(axis=2)).max())


def _channel_spread(image: np.ndarray, limit: float) -> tuple[float, bool]:
    """(:func:`_exact_spread` of ``image``, whether its first three channels are equal everywhere),
    as :func:`is_grey` compares them with ``limit``: OpenCV's differences of float32 data are rounded
    to float32, so a spread that close to ``limit`` is measured again exactly, and a band of rows
    holding a NaN or an infinity is measured exactly too (their spread is NaN, or infinite)."""
    import cv2

    floating = image.dtype.kind == "f"
    step = max(1, _GREY_BAND_BYTES // max(1, image.shape[1] * image.shape[2] * image.itemsize))
    spreads, equal = [], True
    for top in range(0, image.shape[0], step):
        band = np.ascontiguousarray(image[top:top + step])
        if floating and not cv2.checkRange(band)[0]:
            rgb = band[..., :3]
            spreads.append(_exact_spread(rgb))
            equal = equal and np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2])
            continue
        r, g, b = cv2.split(band)[:3]
        spread = max(cv2.norm(r, g, cv2.NORM_INF), cv2.norm(g, b, cv2.NORM_INF), cv2.norm(r, b, cv2.NORM_INF))
        if image.dtype == np.float32 and abs(spread - limit) <= 1e-6 * abs(limit):
            spread = _exact_spread(band)
        spreads.append(float(spread))
        equal = equal and spread == 0
    return float(np.max(spreads)) if spreads else 0.0, equal


def as_rgb(image: np.ndarray) -> np.ndarray:
    """HxWx3 float view of a grey or colour image (alpha dropped)."""
    if image.ndim == 2:
        return np.repeat(image[..., None], 3, axis=2)
    if image.shape[2] == 1:
        return np.repeat(image, 3, axis=2)
    return image[..., :3]


def grey_rgb(grey: np.ndarray) -> np.ndarray:
    """An HxW plane as HxWx3 without copying it: a read-only view repeating it in three channels (the
    network's grey input, a third of :func:`as_rgb`'s memory). Its values are :func:`as_rgb`'s.

    Example:
        >>> view = grey_rgb(np.arange(6, dtype=np.float32).reshape(2, 3))
        >>> view.shape, view.strides[2], bool((view == as_rgb(view[..., 0])).all())
        ((2, 3, 3), 0, True)
    """
    return np.broadcast_to(grey[..., None], (*grey.shape, 3))


def by_rows(function: Callable[..., np.ndarray], *images: np.ndarray) -> np.ndarray:
    """``function(*images)`` computed on bands of :data:`BAND_PIXELS` pixels' rows and written into one
    array: the same values (per-pixel arithmetic, and a matrix product done a row at a time), with
    temporaries the size of a band rather than of the image.

    Example:
        >>> x = np.random.default_rng(0).random((300, 500, 3), dtype=np.float32)
        >>> bool(np.array_equal(by_rows(rgb_to_ycbcr, x), rgb_to_ycbcr(x)))
        True
    """
    if images[0].ndim < 2:  # no rows: a value or a line of them, as it is
        return function(*images)
    height, width = images[0].shape[:2]
    rows = max(1, BAND_PIXELS // max(1, width))
    out: np.ndarray | None = None
    for top in range(0, max(height, 1), rows):
        band = function(*(image[top:top + rows] for image in images))
        if out is None:
            if rows >= height:  # one band: the result, not a view keeping a larger temporary alive
                return band if band.base is None else band.copy()
            out = np.empty((height, *band.shape[1:]), band.dtype)
        out[top:top + rows] = band
    return out


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """HxWx3 RGB in [0, 1] -> YCbCr in [0, 1] (chroma centred on 0.5)."""
    return rgb @ _RGB_TO_YCBCR.T + _CHROMA_OFFSET


def ycbcr_to_rgb(ycbcr: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_ycbcr`, brought into the RGB cube by a luma-preserving gamut clip: Y is
    clipped to [0, 1], and where Y with its chroma lies outside the cube the chroma (Cb - .5, Cr - .5)
    shrinks towards grey just enough to fit (:func:`gamut_factor`), so Y and the hue stay as they were.
    Clipping each channel on its own instead turns a bright colour's hue (a skin tone on a warm infrared
    target went yellow, its red channel flat at 255).

    Example:
        >>> x = np.random.rand(4, 4, 3).astype(np.float32)
        >>> bool(np.allclose(ycbcr_to_rgb(rgb_to_ycbcr(x)), x, atol=1e-5))
        True
        >>> skin = rgb_to_ycbcr(np.array([[[0.76, 0.59, 0.51]]], np.float32))
        >>> skin[..., 0] = 0.9  # brighter than any skin-coloured RGB can be: R would be 1.11
        >>> out = ycbcr_to_rgb(skin)
        >>> round(float(out.max()), 4), round(float(luminance(out)[0, 0]), 4)  # R at 1, Y kept
        (1.0, 0.9)
    """
    y = np.clip(ycbcr[..., :1], 0.0, 1.0)
    chroma = (ycbcr[..., 1:] - _CHROMA_OFFSET[1:]) * gamut_factor(y[..., 0], ycbcr[..., 1:])[..., None]
    return np.clip(y + chroma @ _YCBCR_TO_RGB[:, 1:].T, 0.0, 1.0)  # the clip: float rounding alone


def gamut_factor(y: np.ndarray, chroma: np.ndarray) -> np.ndarray:
    """HxW: the largest factor in [0, 1] that the chroma ``chroma`` (HxWx2, Cb and Cr centred on 0.5)
    may be scaled by for luminance ``y`` (HxW, in [0, 1]) to give RGB inside [0, 1]; 1 where it fits.
    Each channel is Y + d with d linear in the chroma (the matrix's Y column is 1): a channel with
    d > 0 allows a factor up to (1 - Y) / d, one with d < 0 up to Y / -d.

    Example:
        >>> [round(float(f), 3) for f in gamut_factor(np.array([0.5, 0.9]), np.array([[0.5, 0.5], [0.5, 0.7]]))]
        [1.0, 0.357]
    """
    d = (chroma - _CHROMA_OFFSET[1:]) @ _YCBCR_TO_RGB[:, 1:].T  # HxWx3: each channel's offset from Y
    y = y[..., None]
    with np.errstate(divide="ignore", invalid="ignore"):
        room = np.where(d > 0, (1.0 - y) / d, np.where(d < 0, y / -d, np.inf))
    return np.clip(room.min(axis=-1), 0.0, 1.0).astype(np.float32, copy=False)


def luminance(image: np.ndarray) -> np.ndarray:
    """HxW luminance of a grey or colour float image."""
    if image.ndim == 2:
        return image
    if image.shape[2] == 1:
        return image[..., 0]
    return by_rows(lambda rgb: rgb_to_ycbcr(rgb)[..., 0], image[..., :3])  # no HxWx3 temporaries


def blend_chroma(sources: list[np.ndarray]) -> np.ndarray:
    """HxWx3 (Y, Cb, Cr): the colour sources' YCbCr, each weighted by its saturation.

    Grey sources carry no colour and get no weight. Saturation |Cb - .5| + |Cr - .5|
    favours the better-exposed, more colourful source at every pixel (DeepFuse's chroma
    rule); the luminance blended with the same weights lets :func:`with_chroma` put that
    colour on a fused luminance at the saturation it had. A source drawn in a thermal palette
    (:func:`palette_like`) gets no weight either where another colour source is no palette: its
    saturated false colours would win and tint the photo (:func:`plan_mode` warns of it).

    Example:
        >>> red = np.zeros((1, 1, 3), np.float32); red[..., 0] = 1.0
        >>> [round(float(v), 3) for v in blend_chroma([np.full((1, 1), 0.5, np.float32), red])[0, 0]]
        [0.299, 0.331, 1.0]
    """
    colour = [s[..., :3] for s in sources if not is_grey(s)]
    if not colour:
        raise FusionInputError("blend_chroma needs at least one colour source")
    photos = [s for s in colour if palette_like(s) is None]
    colour = photos or colour  # a thermal palette's colours left out where a photo gives the colour
    return by_rows(_blend_chroma, *colour)  # a band at a time: no HxWx3 YCbCr copy of every source


def _blend_chroma(*rgbs: np.ndarray) -> np.ndarray:
    """:func:`blend_chroma` of colour sources (or the same rows of each)."""
    colours = [rgb_to_ycbcr(rgb) for rgb in rgbs]
    weights = [np.abs(c[..., 1:] - 0.5).sum(axis=2, keepdims=True) + _SATURATION_EPS for c in colours]
    return sum(w * c for w, c in zip(weights, colours)) / sum(weights)


def with_chroma(luma: np.ndarray, blended: np.ndarray) -> np.ndarray:
    """HxWx3 RGB of a fused luminance ``luma`` in the colour of ``blended`` (:func:`blend_chroma`).

    Where the fused image is darker than the sources its colour came from, the chroma shrinks
    with the luminance, so the colour keeps its saturation: in gamma-encoded images an exposure
    change scales Y, Cb - .5 and Cr - .5 alike, and the brightest shot of a bracket (the most
    chroma) would otherwise put its colour on a darker fused pixel, about 30% more saturated than
    any shot. Where the fused image is brighter (a warm target over a dark visible scene) the
    chroma stays as it is, never growing beyond the sources'.

    Example:
        >>> bright = np.array([[[0.8, 0.4, 0.2]]], np.float32)   # the colour of a well-lit shot
        >>> fused = with_chroma(np.full((1, 1), luminance(bright)[0, 0] / 2), blend_chroma([bright]))
        >>> np.allclose(fused, bright / 2, atol=1e-6)            # the same colour, half as bright
        True
    """
    return by_rows(_with_chroma, luma, blended)  # a band at a time: temporaries of a band, not the image


def _with_chroma(luma: np.ndarray, blended: np.ndarray) -> np.ndarray:
    """:func:`with_chroma` of an image (or the same rows of both)."""
    scale = np.clip(luma / np.maximum(blended[..., 0], _SATURATION_EPS), 0.0, 1.0)[..., None]
    chroma = 0.5 + (blended[..., 1:] - 0.5) * scale
    return ycbcr_to_rgb(np.dstack([luma, chroma]))


def check_color_mode(mode: str) -> None:
    """OptionsError (a ValueError) unless ``mode`` is one of COLOR_MODES."""
    if mode not in COLOR_MODES:
        raise OptionsError(f"unknown colour mode {mode!r}; use one of {', '.join(COLOR_MODES)}")


def check_palette(palette: str) -> None:
    """OptionsError (a ValueError) unless ``palette`` is one of PALETTES."""
    if palette not in PALETTES:
        raise OptionsError(f"unknown palette {palette!r}; use one of {', '.join(PALETTES)}")


def thermal_source(sources: list[np.ndarray], raw: Sequence[int] = ()) -> tuple[int, bool]:
    """Which source is the infrared image, and whether that is certain: the one raw thermal frame
    among them (``raw``: the indices stretched as such), else the only grey one, else (a guess)
    the last grey one, or the last where none or all are grey, as infrared + visible pairs are given
    visible first (the benchmarks' order, and a rig's: the visible camera's grid). Never a colour
    source where a grey one was given.

    Example:
        >>> visible, infrared = np.zeros((2, 2, 3)), np.zeros((2, 2))
        >>> visible[..., 0] = 1
        >>> thermal_source([visible, infrared]), thermal_source([infrared, infrared]), thermal_source([infrared] * 2, [0])
        ((1, True), (1, False), (0, True))
        >>> thermal_source([infrared, infrared, visible])  # two grey, one colour: a grey one, a guess
        (1, False)
    """
    if len(raw) == 1:
        return raw[0], True
    greys = [i for i, s in enumerate(sources) if is_grey(s)]
    if len(greys) == 1:
        return greys[0], True
    return (greys[-1] if greys else len(sources) - 1), False


def palette_range(thermal: np.ndarray, seen: np.ndarray | None = None) -> tuple[float, float]:
    """The infrared values (``thermal``, float in [0, 1]) that span a palette: its
    PALETTE_PERCENTILES, measured where the infrared camera sees the scene itself (``seen``, a
    rig's HxW coverage weight: where it is whole), not where the visible image stands in for it.

    Example:
        >>> ramp = np.tile(np.linspace(0, 1, 101, dtype=np.float32), (2, 1))
        >>> [round(v, 2) for v in palette_range(ramp)]
        [0.01, 0.99]
        >>> seen = (ramp < 0.5).astype(np.float32)
        >>> [round(v, 2) for v in palette_range(ramp, seen)]
        [0.0, 0.49]
    """
    grey = luminance(thermal)
    if seen is not None:
        whole = seen >= 1.0 - PALETTE_WHOLE_TOLERANCE
        grey = grey[whole] if whole.any() else grey
    low, high = np.percentile(grey, PALETTE_PERCENTILES)
    return float(low), float(high)


def thermal_colours(thermal: np.ndarray, palette: str, span: tuple[float, float] | None = None,
                    seen: np.ndarray | None = None) -> np.ndarray:
    """HxWx3 RGB: ``palette`` applied to the infrared image ``thermal`` (float in [0, 1]), its
    values from ``span`` (low, high; default :func:`palette_range`, measured on this image: a
    stream keeps one) stretched onto the palette. With ``seen`` (a rig's HxW weight of the
    infrared camera's own view, 0 where it sees nothing and the visible image stands in), HxWx4:
    that weight in the fourth channel, for :func:`with_detail` to leave uncoloured what no
    infrared reading covers.
    A colour ``thermal`` (a pseudo-colour picture) is mapped by its luminance: its own colours are
    dropped (the Fuser warns of it: ``PALETTE_OF_COLOUR``).

    Example:
        >>> ramp = np.tile(np.linspace(0, 1, 16, dtype=np.float32), (4, 1))
        >>> colours = thermal_colours(ramp, "hot")
        >>> colours.shape, colours[0, 0].tolist(), colours[0, -1].tolist()  # black to white through red
        ((4, 16, 3), [0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    """
    import cv2

    check_palette(palette)
    if palette == "none":
        raise OptionsError("palette 'none' has no colours")
    grey = luminance(thermal)
    low, high = span if span is not None else palette_range(grey, seen)
    scaled = np.clip((grey - low) / max(float(high - low), 1e-6), 0.0, 1.0)
    bgr = cv2.applyColorMap((scaled * 255 + 0.5).astype(np.uint8), getattr(cv2, f"COLORMAP_{palette.upper()}"))
    rgb = bgr[..., ::-1].astype(np.float32) / 255.0
    return rgb if seen is None else np.dstack([rgb, seen.astype(np.float32)])


def with_detail(colours: np.ndarray, fused: np.ndarray) -> np.ndarray:
    """The palette's ``colours`` (HxWx3) with the fused luminance's fine detail added, as thermal
    cameras overlay the visible camera's edges (FLIR's MSX): the colour reads as warmth, the edges
    (of both images, from the fusion) show what is where. Detail: what a Gaussian of
    PALETTE_DETAIL_SIGMA of the short side removes, weighed PALETTE_DETAIL_GAIN. Colours with a
    fourth channel (:func:`thermal_colours` with ``seen``) weigh the palette by it and the fused
    grey by the rest: where no infrared camera sees the scene, the fusion shows uncoloured.

    Example:
        >>> flat, edge = np.full((8, 8, 3), 0.5, np.float32), np.zeros((8, 8), np.float32)
        >>> edge[:, 4:] = 1.0
        >>> out = with_detail(flat, edge)
        >>> bool(out[0, 3, 0] < 0.5 < out[0, 4, 0])  # the edge shows, dark then bright
        True
    """
    import cv2

    luma = luminance(fused).astype(np.float32)
    sigma = max(1.0, PALETTE_DETAIL_SIGMA * min(luma.shape[:2]))
    detail = luma - cv2.GaussianBlur(luma, (0, 0), sigma)
    coloured = np.clip(colours[..., :3] + PALETTE_DETAIL_GAIN * detail[..., None], 0.0, 1.0)
    if colours.shape[-1] == 3:
        return coloured
    seen = colours[..., 3:]
    return seen * coloured + (1.0 - seen) * np.clip(luma, 0.0, 1.0)[..., None]


@functools.lru_cache(maxsize=None)
def _map_colours() -> dict[str, np.ndarray]:
    """THERMAL_MAPS' 256 colours each (RGB float32 in [0, 1]), as OpenCV's applyColorMap draws them,
    then CAMERA_MAPS' 256 each, drawn through their anchors."""
    import cv2

    steps = np.arange(256, dtype=np.uint8)[:, None]
    maps = {name: cv2.applyColorMap(steps, getattr(cv2, f"COLORMAP_{name.upper()}"))[:, 0, ::-1].astype(np.float32)
            / MAX_8BIT for name in THERMAL_MAPS}
    for name, anchors in CAMERA_MAPS.items():
        places, colours = zip(*anchors)
        entries = np.linspace(0.0, 1.0, 256)
        maps[name] = np.stack([np.interp(entries, places, channel) for channel in zip(*colours)], axis=1
                              ).astype(np.float32) / MAX_8BIT
    return maps


def _hue_arc(chroma: np.ndarray) -> float:
    """Degrees of the narrowest arc of hues holding _PALETTE_HUE_SHARE of these (Cb, Cr) offsets."""
    hues = np.sort(np.mod(np.degrees(np.arctan2(chroma[:, 1], chroma[:, 0])), 360.0))
    held = max(1, int(np.ceil(_PALETTE_HUE_SHARE * len(hues))))
    around = np.concatenate([hues, hues + 360.0])  # arcs across 0 degrees too
    return float((around[held - 1:held - 1 + len(hues)] - hues).min())


def palette_like(image: np.ndarray) -> str | None:
    """The colour map (one of THERMAL_MAPS or CAMERA_MAPS) whose colours ``image`` (float in [0, 1]) is
    drawn in, as a thermal camera's false-colour export is, else None: its coloured pixels (a grid of
    about _PALETTE_GRID on the long side) lie along that map's line of colours, spanning a good part of
    it, and turn in hue along it as the map does. Photos have colours off any one line, and a photo in
    one colour of light (a red darkroom, a violet stage) keeps one hue: none of the bench's and
    training set's 1337 colour photos is taken for one (red LED digits on black were). Cheap: a grid of
    pixels, whatever the image's size, and the last few grids' answers remembered.

    Example:
        >>> import cv2
        >>> ramp = np.tile(np.arange(256, dtype=np.uint8), (32, 1))
        >>> palette_like(cv2.applyColorMap(ramp, cv2.COLORMAP_INFERNO)[..., ::-1] / np.float32(255))
        'inferno'
        >>> palette_like(np.random.default_rng(0).random((32, 32, 3), dtype=np.float32)) is None
        True
        >>> red_light = np.zeros((32, 256, 3), np.float32); red_light[..., 0] = ramp / 255  # black to red
        >>> palette_like(red_light) is None                                     # one hue: a photo's
        True
    """
    if image.ndim < 3 or image.shape[2] < 3 or image.size == 0:
        return None
    step = max(1, -(-max(image.shape[:2]) // _PALETTE_GRID))
    pixels = np.ascontiguousarray(image[::step, ::step, :3], np.float32).reshape(-1, 3)
    return _palette_of(pixels.tobytes())


@functools.lru_cache(maxsize=_PALETTE_MEMORY)
def _palette_of(grid: bytes) -> str | None:
    """:func:`palette_like` of a grid of pixels (float32 RGB, its bytes: the same grid, one answer)."""
    pixels = np.frombuffer(grid, np.float32).reshape(-1, 3)
    chroma = pixels @ _RGB_TO_YCBCR[1:].T
    coloured_at = np.hypot(chroma[:, 0], chroma[:, 1]) > _PALETTE_CHROMA
    if coloured_at.sum() < _PALETTE_COLOURED_SHARE * len(pixels):
        return None
    arc = _hue_arc(chroma[coloured_at])
    if arc < _PALETTE_HUE_ARC:
        return None  # one hue: a photo in one colour of light, or a map's one-hue stretch
    coloured = pixels[coloured_at]
    coloured = coloured[::max(1, len(coloured) // _PALETTE_FIT_PIXELS)]
    squares = (coloured * coloured).sum(axis=1)[:, None]
    # the map the colours lie closest to on average, of those that pass: jet's upper half shares hot's
    # yellow and reds exactly (the median says both fit), but its cyan lies on jet's map alone
    best, best_distance = None, np.inf
    for name, colours in _map_colours().items():
        distances = squares + (colours * colours).sum(axis=1)[None] - 2.0 * coloured @ colours.T
        nearest = np.sqrt(np.maximum(distances.min(axis=1), 0.0))
        distance = float(nearest.mean())
        if float(np.median(nearest)) > _PALETTE_DISTANCE or distance >= best_distance:
            continue
        low, high = np.percentile(distances.argmin(axis=1), (5, 95))
        if high - low < _PALETTE_SPAN * (len(colours) - 1):
            continue
        turn = _map_hue_arc(colours[int(low):int(high) + 1])
        if turn >= _PALETTE_HUE_ARC and arc >= _PALETTE_HUE_FOLLOW * turn:
            best, best_distance = name, distance
    return best


def _map_hue_arc(colours: np.ndarray) -> float:
    """:func:`_hue_arc` of a stretch of a map's colours (its coloured ones; 0 where none is)."""
    chroma = colours @ _RGB_TO_YCBCR[1:].T
    coloured = chroma[np.hypot(chroma[:, 0], chroma[:, 1]) > _PALETTE_CHROMA]
    return _hue_arc(coloured) if len(coloured) else 0.0


def plan_mode(sources: list[np.ndarray], color: ColorMode = "auto",
              palette_sources: bool = True) -> Literal["rgb", "luma", "grey"]:
    """Which planes to fuse for these sources (see the module docstring). A colour source drawn in a
    thermal palette (:func:`palette_like`) beside a colour photo is warned of, "image N" by its place
    (``palette_sources``: False where a palette colours the fusion, whose own warning of a colour
    infrared image says it): its chroma is left out of the blend (:func:`blend_chroma`). Where it is the
    only colour source (a PET in jet beside an MRI) its colours are the fusion's, as before, and nothing
    is said."""
    check_color_mode(color)
    greys = [is_grey(s) for s in sources]
    if all(greys):
        return "grey"
    mode: Literal["rgb", "luma"] = "rgb" if color == "rgb" and not any(greys) else "luma"
    if palette_sources and mode == "luma" and len(greys) - sum(greys) > 1:  # two colour sources: one a palette's?
        palettes = {i: palette_like(s) for i, s in enumerate(sources) if not greys[i]}
        if any(name is None for name in palettes.values()):
            for index, name in palettes.items():
                if name is not None:
                    warn(f"image {index + 1}: {PALETTE_SOURCE.format(name=name)}")
    return mode
