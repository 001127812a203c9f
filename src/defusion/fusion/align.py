"""Registering sources to one another before fusion: handheld brackets and focus stacks.

DeNet fuses pixel by pixel, so its sources must be registered; a bracket or focus stack shot by
hand is off by a few pixels, a small rotation, or (focus breathing) a small change of scale.
Each source is warped onto a reference (the first, or a bracket's best-exposed shot) by the
motion that maximises the enhanced correlation coefficient (ECC; Evangelidis and Psarakis, 2008,
OpenCV's ``findTransformECC``) between their histogram-equalised luminances: ECC is blind to a
change of gain and offset, equalisation largely undoes the rest of a change of exposure (a
monotonic, clipped tone curve; on 8 MEFB pairs it took affine registration's residual error from
0.027 to 0.010, ``benchmarks/alignment.py``). It is estimated coarse to fine over an image
pyramid, so shifts of tens of pixels converge. Infrared and visible images are different
modalities whose intensities do not correlate: register those with the camera rig's calibration
(:mod:`defusion.fusion.rig`, ``defusion calibrate``), not here. The correlation ECC ends at is told
(``on_correlation``) and may be noted (:func:`describe_correlation`), never refused on: a photo of another
scene that a shift registers mostly correlates little, but so do one scene's infrared and visible images.
"""

from __future__ import annotations

import re
from typing import Callable, NamedTuple, Sequence

import cv2
import numpy as np

from defusion.errors import DefusionError
from defusion.fusion.choices import MOTIONS, Motion  # defined there, for the CLI's fast --help
from defusion.fusion.errors import FusionInputError, OptionsError
from defusion.fusion.color import luminance, to_uint8
from defusion.io.notes import plural

# Motion and MOTIONS, the motion models simplest first (a shift; shift and rotation; + scale and
# shear; + perspective), are defined in defusion.fusion.choices.

_ECC_MOTION = {"translation": cv2.MOTION_TRANSLATION, "euclidean": cv2.MOTION_EUCLIDEAN,
               "affine": cv2.MOTION_AFFINE, "homography": cv2.MOTION_HOMOGRAPHY}
#: The pyramid's coarsest level has at least this many pixels on its short side.
COARSEST_SIDE = 64
#: ECC iterations and convergence threshold per pyramid level.
ECC_ITERATIONS = 100
ECC_EPS = 1e-5
#: Gaussian pre-blur of ECC (pixels), which widens its basin of convergence.
ECC_BLUR = 5
#: A motion that moves the image's centre further than this fraction of its size is refused:
#: the sources then barely overlap, and ECC has most likely locked onto the wrong content.
MAX_SHIFT_FRACTION = 0.25
#: Degrees of turn beyond which a motion is refused: 2.5 times the 2 degrees of a handheld shot that
#: ``benchmarks/alignment.py`` simulates. ECC registered pairs of different MEFB and MFIFB photos as
#: turns of up to 90 degrees (a user's audit: 13.8); of shots simulated within 2 degrees, 3% zoom and 12 px
#: (MEFB and MFIFB, 4 motions: 820), these bounds refused 6, each registered further off than unaligned.
MAX_TURN_DEGREES = 5.0
#: Change of scale (the zoom a note says, ``scale - 1``) beyond which a motion is refused: about 4 times the
#: 3.6-4% of focus breathing documented and tested (8% registered on MEFB and MFIFB); different photos
#: registered, with affine, as zooms of 25 to 200%.
MAX_ZOOM = 0.15
#: How far the corners may move about the centre, as a fraction of the half-diagonal: the largest turn and
#: zoom allowed together move them 0.24 (2 sin 2.5 degrees + 15%); handheld shots moved them under 0.1, a
#: shear or perspective (homography) no handheld shot has, further.
MAX_CORNER_FRACTION = 0.25
#: ECC's final correlation (in [-1, 1], between the equalised, blurred luminances it registers; blind to
#: gain and offset) under which a registered image is said to correlate little with the reference: a note
#: (:func:`describe_correlation`), never a refusal, for no threshold separates one scene from two. Measured
#: (``benchmarks/alignment.py --scenes --limit 1000 --shots 1``, full size), translation: MEFB's and MFIFB's
#: 205 pairs moved by hand correlated 0.40 at the least (5th percentile 0.72 to 0.75), as did the pairs as
#: given and 98 ImageNet photos moved by hand with up to 2 EV, a tone curve and noise (0.44 at the least);
#: pairs of different MEFB/MFIFB photos that pass :func:`check_handheld` (82 of 205) 0.10 to 0.88 (median
#: 0.32), 36 of them under 0.3 (euclidean: one scene 0.42 at the least; other scenes 10 of the 28 passed
#: under 0.3; affine 2 of 7). Infrared and visible pairs correlate as little: TNO's 18, registered right,
#: 0.21; VIFB's 0.10 to 0.70, most registered wrong.
LOW_CORRELATION = 0.3
#: What a refused motion means, and what to do, after what was found.
_CHECK = "check them, or fuse them without alignment"
_NOT_ONE_SCENE = f"the images do not seem to show one scene, or could not be registered; {_CHECK}"


class AlignmentError(DefusionError, ValueError):
    """The sources could not be registered (too little overlap or shared structure)."""


def check_motion(motion: str) -> None:
    """ValueError unless ``motion`` is one of MOTIONS."""
    if motion not in MOTIONS:
        raise OptionsError(f"unknown alignment motion {motion!r}; use one of {', '.join(MOTIONS)}")


def _grey(image: np.ndarray) -> np.ndarray:
    """Luminance, histogram-equalised: exposures differ by a monotonic tone curve (clipped at
    both ends), which equalisation largely undoes, where ECC alone is blind only to gain and offset."""
    return cv2.equalizeHist(to_uint8(luminance(image))).astype(np.float32) / 255.0


def _identity(motion: str) -> np.ndarray:
    return np.eye(3 if motion == "homography" else 2, 3, dtype=np.float32)


def _to_finer_level(warp: np.ndarray, factor: float = 2.0) -> np.ndarray:
    """The same motion in coordinates ``factor`` times as fine (below 1: as coarse)."""
    warp = np.array(warp, np.float32)
    warp[:2, 2] *= factor
    if warp.shape[0] == 3:
        warp[2, :2] /= factor
    return warp


def estimate_motion(reference: np.ndarray, moving: np.ndarray, motion: Motion = "affine") -> np.ndarray:
    """The warp (2x3, or 3x3 for a homography) that maps ``reference``'s pixel coordinates to
    ``moving``'s, such that ``warp_onto(moving, warp)`` lies on ``reference``.

    Both are HxW or HxWx3 float images in [0, 1] of one size (``"none"``: the identity).
    AlignmentError if ECC does not converge, or finds a motion no handheld shot has (:func:`check_handheld`).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> scene = cv2.GaussianBlur(rng.random((96, 128)).astype(np.float32), (0, 0), 2)
        >>> shifted = np.roll(scene, (3, -5), axis=(0, 1))
        >>> np.round(estimate_motion(scene, shifted, "translation")[:, 2]).tolist()
        [-5.0, 3.0]
    """
    check_motion(motion)
    if motion == "none":
        return _identity(motion)
    warp, _ = _registration(reference, moving, motion)
    check_handheld(warp, *reference.shape[:2])
    return warp


def _registration(reference: np.ndarray, moving: np.ndarray, motion: Motion,
                  start: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """:func:`estimate_motion`'s warp, unchecked, ECC started from ``start`` (a neighbouring shot's
    warp, at full resolution; None: the identity), which is nearer a deep stack's far shots; and the
    correlation ECC ended at on the finest level (see :data:`LOW_CORRELATION`)."""
    levels = [(_grey(reference), _grey(moving))]
    while min(levels[-1][0].shape) >= 2 * COARSEST_SIDE:
        levels.append(tuple(cv2.pyrDown(im) for im in levels[-1]))
    warp = _identity(motion) if start is None else _to_finer_level(start, 0.5 ** (len(levels) - 1))
    criteria = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, ECC_ITERATIONS, ECC_EPS)
    correlation = float("nan")
    for depth, (ref, mov) in enumerate(reversed(levels)):
        if depth:
            warp = _to_finer_level(warp)
        try:
            correlation, warp = cv2.findTransformECC(ref, mov, warp, _ECC_MOTION[motion], criteria, None, ECC_BLUR)
        except cv2.error as exc:
            cause = re.search(r"error: \(-?\d+:([^)]*)\)", str(exc))
            raise AlignmentError("the images share too little structure to be registered"
                                 + (f" ({cause.group(1).strip().lower()})" if cause else "")) from None
    return warp, float(correlation)


def _moved(warp: np.ndarray, points: np.ndarray) -> np.ndarray:
    """``points`` (Nx2, x and y) where ``warp`` (2x3, or 3x3 with its perspective divide) takes them;
    NaN where a homography takes them to or behind the horizon."""
    moved = np.c_[points, np.ones(len(points))] @ np.asarray(warp, np.float64).T
    if moved.shape[1] == 3:
        depth = np.where(moved[:, 2:] > 0, moved[:, 2:], np.nan)
        moved = moved[:, :2] / depth
    return moved


def check_handheld(warp: np.ndarray, height: int, width: int) -> None:
    """AlignmentError, saying what was found, unless ``warp`` (:func:`estimate_motion`'s) is a motion a
    handheld bracket or focus stack has: its centre moved up to a quarter of the image, a turn of up to
    MAX_TURN_DEGREES, a zoom of up to MAX_ZOOM, its corners moved about its centre up to
    MAX_CORNER_FRACTION of the half-diagonal (a homography's turn and zoom are those of the affine nearest
    it). ECC registers two different photos too, as whatever motion fits them best: a large turn, zoom,
    shear or perspective.

    Example:
        >>> check_handheld(cv2.getRotationMatrix2D((180, 120), 2.0, 1.03), 240, 360)  # a handheld shot
        >>> check_handheld(cv2.getRotationMatrix2D((180, 120), 13.8, 1.0), 240, 360)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.fusion.align.AlignmentError: the registration found a turn (or skew) of 13.8° (a handheld shot turns 5° ...
    """
    check_overlap(warp, height, width)
    corners = np.array([[0, 0], [width, 0], [0, height], [width, height]], np.float64)
    centre = np.array([width / 2, height / 2])
    frame = np.vstack([corners, centre])
    moved = _moved(warp, frame)
    nearest = warp if warp.shape == (2, 3) else np.linalg.lstsq(np.c_[frame, np.ones(5)], moved, rcond=None)[0].T
    extent = warp_extent(nearest, height, width)  # a homography's turn and zoom: its nearest affine's
    if abs(extent.rotation) > MAX_TURN_DEGREES:
        raise AlignmentError(f"the registration found a turn (or skew) of {abs(extent.rotation):.1f}\N{DEGREE SIGN} (a handheld "
                             f"shot turns {MAX_TURN_DEGREES:g}\N{DEGREE SIGN} at most): {_NOT_ONE_SCENE}")
    if abs(extent.scale - 1) > MAX_ZOOM:
        raise AlignmentError(f"the registration found a zoom of {signed_percent(extent.scale - 1)} (focus breathing "
                             f"and a handheld shot zoom {MAX_ZOOM:.0%} at most): {_NOT_ONE_SCENE}")
    half_diagonal = np.hypot(width, height) / 2
    about_centre = float(np.linalg.norm((moved[:4] - moved[4]) - (corners - centre), axis=1).max())
    if about_centre > MAX_CORNER_FRACTION * half_diagonal:
        raise AlignmentError(f"the registration turned, zoomed or skewed it enough to move its corners "
                             f"{about_centre:.1f} px besides the shift (a handheld shot moves them "
                             f"{MAX_CORNER_FRACTION * half_diagonal:.1f} px at most here): {_NOT_ONE_SCENE}")


def check_overlap(warp: np.ndarray, height: int, width: int) -> None:
    """AlignmentError unless ``warp`` keeps the image in front of the camera and moves its centre up to
    MAX_SHIFT_FRACTION of its size: :func:`check_handheld`'s first check, the one a deep focus stack's
    far shot must pass against the reference itself (the others are judged between neighbours).

    Example:
        >>> check_overlap(np.array([[1.2, 0, -0.1 * 360], [0, 1.2, -0.1 * 240]]), 240, 360)  # a 20% zoom
        >>> check_overlap(np.array([[1.0, 0, 100], [0, 1.0, 0]]), 240, 360)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.fusion.align.AlignmentError: the registration found a shift of over a quarter of the image: ...
    """
    centre = np.array([width / 2, height / 2])
    corners = np.array([[0, 0], [width, 0], [0, height], [width, height]], np.float64)
    moved = _moved(warp, np.vstack([corners, centre]))
    if not np.all(np.isfinite(moved)):
        raise AlignmentError("the registration put part of the image behind the camera (a perspective no "
                             f"handheld shot has): {_NOT_ONE_SCENE}")
    if np.any(np.abs(moved[4] - centre) > MAX_SHIFT_FRACTION * np.array([width, height])):
        raise AlignmentError("the registration found a shift of over a quarter of the image: the images "
                             f"barely overlap, or show different scenes; {_CHECK}")


#: Resampling of a registered shot: Lanczos (8x8 taps). On a focus stack of 8 shots breathing 0.8% each
#: (1000x667; its truth known), the sharpest shot per pixel, warped, came within 35.38 dB of the truth
#: (bicubic 35.23, bilinear 34.49) and kept most of its detail (Laplacian std 14.6-27.5 per band of rows;
#: bilinear 11.6-19.5): bilinear softened every aligned stack.
INTERPOLATION = cv2.INTER_LANCZOS4


def warp_onto(moving: np.ndarray, warp: np.ndarray) -> np.ndarray:
    """``moving`` resampled onto the reference's pixel grid (:data:`INTERPOLATION`, its overshoot at
    edges clipped to ``moving``'s own range); pixels it does not cover repeat its nearest edge, so no
    black border enters the fusion (:func:`align_images` fills them from a shot that covers them,
    :func:`coverage`)."""
    height, width = moving.shape[:2]
    image = np.ascontiguousarray(moving, dtype=np.float32)
    out = _warped(image, warp, INTERPOLATION, cv2.BORDER_REPLICATE)
    low, high = (float(image.min()), float(image.max())) if image.size else (0.0, 1.0)
    return np.clip(out, max(low, 0.0), min(high, 1.0))


def _warped(image: np.ndarray, warp: np.ndarray, interpolation: int, border: int) -> np.ndarray:
    height, width = image.shape[:2]
    flags = interpolation | cv2.WARP_INVERSE_MAP
    if warp.shape[0] == 3:
        return cv2.warpPerspective(image, warp, (width, height), flags=flags, borderMode=border)
    return cv2.warpAffine(image, warp, (width, height), flags=flags, borderMode=border)


def coverage(warp: np.ndarray, height: int, width: int) -> np.ndarray:
    """HxW float32 in [0, 1]: how much of each reference pixel the shot warped by ``warp`` covers
    (1 inside, 0 where the warp had to invent it, a one-pixel ramp between).

    Example:
        >>> shifted = np.array([[1.0, 0.0, 2.0], [0.0, 1.0, 0.0]])  # the shot shows the scene 2 px to the left
        >>> coverage(shifted, 1, 6).round(2).tolist()
        [[1.0, 1.0, 1.0, 1.0, 0.0, 0.0]]
    """
    ones = np.ones((height, width), np.float32)
    # the pixels' centres at 0..width-1: a sample past width - 1 (or below 0) is outside the shot
    inside = _warped(np.pad(ones, 1), _pad_shift(warp), cv2.INTER_LINEAR, cv2.BORDER_CONSTANT)
    return np.clip(inside[1:-1, 1:-1] * 2.0 - 1.0, 0.0, 1.0)


def _pad_shift(warp: np.ndarray) -> np.ndarray:
    """``warp`` between images each padded by one pixel all round."""
    full = np.vstack([np.asarray(warp, np.float64), [0.0, 0.0, 1.0]])[:3]
    shift = np.array([[1.0, 0.0, 1.0], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0]])
    padded = shift @ full @ np.linalg.inv(shift)
    return padded[: warp.shape[0]].astype(np.float32)


def _step(neighbour: np.ndarray, warp: np.ndarray) -> np.ndarray:
    """The motion from a neighbouring shot to this one (``warp``: the reference onto this one,
    ``neighbour``: the reference onto the neighbour), in ``warp``'s shape."""
    def full(w: np.ndarray) -> np.ndarray:
        return np.vstack([np.asarray(w, np.float64), [0.0, 0.0, 1.0]])[:3]
    return (full(warp) @ np.linalg.inv(full(neighbour)))[: warp.shape[0]]


def align_images(images: list[np.ndarray], motion: Motion = "affine", reference: int = 0,
                 on_warp: Callable[[int, np.ndarray], object] | None = None,
                 chain: Sequence[int] | None = None,
                 on_correlation: Callable[[int, float], object] | None = None) -> list[np.ndarray]:
    """``images`` (float, [0, 1], one size) with each other one warped onto ``images[reference]``
    (the first by default), whose frame the result keeps.

    A bracket takes its best-exposed shot (:func:`defusion.fusion.deghost.reference_index`), so its
    framing does not hang on its files' order. ``motion="none"`` returns them as they are.
    The shots are registered outward from the reference, in the order given (or ``chain``'s, the
    indices in the order the shots lie: a bracket by brightness, so that the result does not hang on
    its files' order), each onto the reference
    (ECC started from its neighbour's warp), and each judged against its neighbour nearer the reference
    (:func:`check_handheld` of the step between them): a focus stack on a rail breathes a little per
    shot, and 20 shots of 1% add up to a zoom of 20% no one shot has, while a photo of another scene is
    far from its neighbour. Edges a shot does not cover once warped (a more magnified shot's) are
    filled from its neighbour (itself filled so), not with streaks of its edge that focus selection
    would read as detail. AlignmentError names the image that failed (and the neighbour it was judged
    against). ``on_warp(index, warp)`` is told each warped image's warp (:func:`estimate_motion`), so a
    caller can say what registration found (:func:`warp_extent`); ``on_correlation(index, correlation)``
    how well it then matched the reference (:func:`describe_correlation`).

    Example:
        >>> rng = np.random.default_rng(0)
        >>> scene = cv2.GaussianBlur(rng.random((96, 128)).astype(np.float32), (0, 0), 2)
        >>> shots = [np.roll(scene, 4, axis=1), scene]
        >>> aligned = align_images(shots, "translation", reference=1)
        >>> aligned[1] is scene, bool(np.abs(aligned[0] - scene)[8:-8, 8:-8].max() < 0.01)
        (True, True)
    """
    check_motion(motion)
    if not 0 <= reference < len(images):
        raise FusionInputError(f"reference image {reference + 1} was asked for, but {len(images)} images were given")
    if motion == "none":
        return list(images)
    aligned: list[np.ndarray] = list(images)
    warps = {reference: _identity(motion)}
    height, width = images[reference].shape[:2]
    chain = list(range(len(images))) if chain is None else list(chain)
    if sorted(chain) != list(range(len(images))):
        raise FusionInputError(f"chain {chain} does not order the {len(images)} images")
    at = chain.index(reference)
    # each shot after the reference in the chain, then each before it, with its neighbour nearer the reference
    outward = [(chain[k], chain[k - 1]) for k in range(at + 1, len(chain))] + \
              [(chain[k], chain[k + 1]) for k in range(at - 1, -1, -1)]
    for index, neighbour in outward:
        judged = ""
        try:
            warp, correlation = _registration(images[reference], images[index], motion,
                                              None if neighbour == reference else warps[neighbour])
            check_overlap(warp, height, width)
            judged = "" if neighbour == reference else f" (judged against image {neighbour + 1}, its neighbour)"
            check_handheld(_step(warps[neighbour], warp), height, width)
        except AlignmentError as exc:
            raise AlignmentError(f"cannot register image {index + 1} to image {reference + 1} ({motion}){judged}: "
                                 f"{exc}") from None
        warps[index] = warp
        if on_warp is not None:
            on_warp(index, warp)
        if on_correlation is not None:
            on_correlation(index, correlation)
        aligned[index] = _filled(warp_onto(images[index], warp), coverage(warp, height, width), aligned[neighbour])
    return aligned


def _filled(image: np.ndarray, covered: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """``image`` where ``covered`` (HxW in [0, 1]) says it is, ``fill`` (a neighbouring shot) elsewhere,
    brought to ``image``'s brightness (:func:`_exposure_gain`): a bracket's neighbour is another
    exposure, whose pixels as they are would draw a dark or bright band along the frame's edge."""
    if covered.min() >= 1.0:
        return image
    fill = np.asarray(fill, np.float32)
    if image.ndim == 2 and fill.ndim == 3:  # a grey shot among colour ones
        fill = luminance(fill)
    elif image.ndim == 3 and fill.ndim == 2:
        fill = np.repeat(fill[..., None], image.shape[2], axis=2)
    if fill.shape != image.shape:  # RGB beside RGBA: its own edge, repeated, as before
        return image
    gain = _exposure_gain(image, fill, covered >= 1.0)
    if gain != 1.0:
        fill = np.clip(fill * np.float32(gain), 0.0, 1.0)
    weight = covered[..., None] if image.ndim == 3 else covered
    return (weight * image + (1.0 - weight) * fill).astype(np.float32)


#: Brightness ratios of two shots within this of 1 count as one exposure (a focus stack's shots, a
#: handheld pair): the fill is taken as it is. A bracket's steps are a stop (2x) or more apart.
SAME_EXPOSURE = 0.02


#: Values within this of 0 or 1 are clipped (a bracket's bright shot's highlights, its dark shot's
#: shadows): they say nothing of the exposure ratio and are left out of it.
CLIPPED = 0.02


def _exposure_gain(image: np.ndarray, fill: np.ndarray, both: np.ndarray) -> float:
    """The factor that brings ``fill``'s brightness to ``image``'s, measured where ``image`` covers the
    frame (``both``) on the colour channels (not alpha) and on values clipped in neither (a +2 EV
    shot's blown sky would halve it); 1 within :data:`SAME_EXPOSURE`, or where nothing is measurable.

    Example:
        >>> shot = np.full((4, 4), 0.6, np.float32)
        >>> _exposure_gain(shot, shot * 0.5, np.ones((4, 4), bool)), _exposure_gain(shot, shot, np.ones((4, 4), bool))
        (2.0, 1.0)
    """
    ours, theirs = image[both], fill[both]
    if ours.ndim == 2:  # pixels x channels: the colour ones
        ours, theirs = ours[:, :3], theirs[:, :3]
    usable = (ours > CLIPPED) & (ours < 1 - CLIPPED) & (theirs > CLIPPED) & (theirs < 1 - CLIPPED)
    if not usable.any():
        return 1.0
    gain = float(ours[usable].mean()) / float(theirs[usable].mean())
    return 1.0 if abs(gain - 1.0) <= SAME_EXPOSURE else gain


def describe_fill(names: Sequence[str], warps: tuple[np.ndarray | None, ...], size: tuple[int, int]) -> str | None:
    """One line saying which aligned shots (``names``, as :func:`describe_alignment`'s) do not cover the
    whole frame (``size``) and had their edges filled from a neighbouring shot that does; None where all
    cover it.

    Example:
        >>> breathed = np.array([[1.05, 0.0, -0.05 * 150], [0.0, 1.05, -0.05 * 100]])  # 5% more magnified
        >>> describe_fill(["near.jpg", "far.jpg"], (None, breathed), (200, 300))
        'the frame edges far.jpg does not cover (up to 8 px) were filled from the shots that cover them'
    """
    height, width = size
    bands = {}
    for name, warp in zip(names, warps):
        if warp is None:
            continue
        uncovered = coverage(warp, height, width) < 1.0
        if uncovered.any():  # how far in from the frame's edge the uncovered pixels reach
            rows, cols = np.nonzero(uncovered)
            inward = np.minimum(np.minimum(rows, height - 1 - rows), np.minimum(cols, width - 1 - cols))
            bands[name] = int(inward.max()) + 1
    if not bands:
        return None
    which = plural(len(bands), "shot") if len(bands) > 2 else " and ".join(bands)
    does = "does" if len(bands) == 1 else "do"
    return (f"the frame edges {which} {does} not cover (up to {max(bands.values())} px) were filled from "
            "the shots that cover them")


def describe_correlation(names: Sequence[str], correlations: Sequence[float | None], frame: int) -> str | None:
    """One line naming the registered images (``names``) whose correlation with the frame's image
    (``correlations``, :func:`align_images`' ``on_correlation``; None: not registered) is under
    :data:`LOW_CORRELATION`, as a photo of another scene's often is; None where all correlate more.
    A note, not an error: an infrared image beside a visible one of the same scene correlates as little.

    Example:
        >>> describe_correlation(["a.png", "b.png"], (None, 0.12), 0)  # doctest: +NORMALIZE_WHITESPACE
        'b.png correlates little with a.png once registered (0.12; shots of one scene correlate 0.3 or more,
        unless infrared beside visible): check that it shows the same scene'
        >>> describe_correlation(["a.png", "b.png", "c.png"], (0.21, None, 0.15), 1)  # doctest: +NORMALIZE_WHITESPACE
        'a.png and c.png correlate little with b.png once registered (down to 0.15; shots of one scene correlate
        0.3 or more, unless infrared beside visible): check that they show the same scene'
        >>> describe_correlation(["a.png", "b.png"], (None, 0.95), 0) is None
        True
    """
    low = {name: value for name, value in zip(names, correlations)
           if value is not None and value < LOW_CORRELATION}
    if not low:
        return None
    many = len(low) > 1
    which = plural(len(low), "image") if len(low) > 2 else " and ".join(low)
    return (f"{which} {'correlate' if many else 'correlates'} little with {names[frame]} once registered "
            f"({'down to ' if many else ''}{min(low.values()):.2f}; shots of one scene correlate "
            f"{LOW_CORRELATION:g} or more, unless infrared beside visible): check that "
            f"{'they show' if many else 'it shows'} the same scene")


class WarpExtent(NamedTuple):
    """How far a warp moves an image: what registration found, in words a photographer reads."""

    #: Pixels (at the reference's resolution) the image's centre moved, or for a homography its
    #: farthest corner: a rotation or change of scale about the centre is not counted as a shift.
    shift: float
    #: Degrees it turned (counter-clockwise in the image): the rotation of the nearest similarity,
    #: shear and scale left out; None for a homography, which has no one angle.
    rotation: float | None
    #: Pixels its farthest-moved corner moved: how far the warp moved anything in the frame, shift,
    #: turn, scale (a focus stack's breathing) and shear together.
    corners: float = 0.0
    #: How much larger (or, below 1, smaller) it was drawn: the square root of the area's scale; None
    #: for a homography, whose scale differs across the frame.
    scale: float | None = None


def warp_extent(warp: np.ndarray, height: int, width: int) -> WarpExtent:
    """How far ``warp`` (:func:`estimate_motion`'s, 2x3 or 3x3) moves an image of ``height`` x ``width``.

    A 2x3 warp's shift is its centre's, not the translation column's, which for a rotation about the
    centre also holds the rotation's pull on the origin (0.4 degrees at 24 MP: 25 px); a homography's
    is its farthest corner's, whose perspective moves the corners most. Its rotation is the nearest
    similarity's, so a shear reads as a turn of about half its angle, not all of it; its scale is the area's. ``corners`` is what moved
    most, whatever the motion: a 3% zoom about the centre of a 300x200 image moves its corners 5.4 px.

    Example:
        >>> turn = np.array([[np.cos(0.01), -np.sin(0.01), 3.0], [np.sin(0.01), np.cos(0.01), 4.0]])
        >>> extent = warp_extent(turn, 2, 2)  # centre (1, 1): about 5 px, turned 0.57 degrees
        >>> round(extent.shift, 2), round(extent.rotation, 2), round(extent.scale, 3)
        (5.0, 0.57, 1.0)
        >>> zoom = np.array([[1.03, 0.0, -0.03 * 150], [0.0, 1.03, -0.03 * 100]])  # about the centre
        >>> extent = warp_extent(zoom, 200, 300)
        >>> round(extent.shift, 2), round(extent.rotation, 2), round(extent.corners, 1), round(extent.scale, 3)
        (0.0, 0.0, 5.4, 1.03)
        >>> warp_extent(np.diag([1.0, 1.0, 1.0]) + [[0, 0, 2], [0, 0, 0], [0, 0, 0]], 10, 10)
        WarpExtent(shift=2.0, rotation=None, corners=2.0, scale=None)
    """
    warp = np.asarray(warp, np.float64)
    corners = np.array([[0, 0, 1], [width, 0, 1], [0, height, 1], [width, height, 1]], np.float64)
    moved = corners @ warp.T
    if warp.shape == (3, 3):
        moved = moved[:, :2] / moved[:, 2:]
    farthest = float(np.linalg.norm(moved - corners[:, :2], axis=1).max())
    if warp.shape == (3, 3):
        return WarpExtent(farthest, None, farthest, None)
    centre = np.array([width / 2, height / 2, 1.0])
    shift = float(np.linalg.norm(warp @ centre - centre[:2]))
    (a, b), (c, d) = warp[:, :2]
    rotation = float(np.degrees(np.arctan2(c - b, a + d)))  # the nearest similarity's: shear cancels out
    scale = float(np.sqrt(abs(a * d - b * c)))
    return WarpExtent(shift, rotation, farthest, scale)


def signed_percent(value: float) -> str:
    """``value`` (a fraction) as a signed percentage of one decimal, unsigned where it rounds to
    zero: a pure shift's zoom, 1 - 1e-9, is "0.0%", not "-0.0%".

    Example:
        >>> signed_percent(0.036), signed_percent(-0.012), signed_percent(-1e-9), signed_percent(0.0)
        ('+3.6%', '-1.2%', '0.0%', '0.0%')
    """
    said = f"{value:+.1%}"
    return said[1:] if float(said[1:-1]) == 0 else said


def describe_alignment(names: Sequence[str], warps: tuple[np.ndarray | None, ...], frame: int,
                       size: tuple[int, int], motion: str) -> str | None:
    """One line on how far alignment moved the images (``names``, in the order given) onto the frame
    (``size``: its height and width), in words that name no option, for the CLI and the web page
    alike; None without alignment. Beyond a shift, how far the farthest corner moved says it all (a
    turn, a focus stack's breathing, a shear), with the centre's shift, the turn and (affine) the
    zoom after it.

    Example:
        >>> shift, less = (np.array([[1.0, 0.0, dx], [0.0, 1.0, 0.0]]) for dx in (3.2, 1.6))
        >>> describe_alignment(["ev-2.jpg", "ev0.jpg", "ev+2.jpg"], (shift, None, less), 1, (40, 60), "euclidean")
        'aligned 2 images onto ev0.jpg: corners moved up to 3.2 px (shifts up to 3.2 px, rotation up to 0.0°)'
        >>> describe_alignment(["a.png", "b.png"], (None, shift), 0, (40, 60), "translation")
        'aligned b.png onto a.png: shift 3.2 px'
        >>> breathed = np.array([[1.036, 0.0, -0.036 * 150], [0.0, 1.036, -0.036 * 100]])  # about the centre
        >>> describe_alignment(["near.jpg", "far.jpg"], (None, breathed), 0, (200, 300), "affine")
        'aligned far.jpg onto near.jpg: corners moved 6.5 px (shift 0.0 px, rotation 0.0°, zoom +3.6%)'
        >>> shrunk = np.array([[1.0 - 1e-9, 0.0, 3.2], [0.0, 1.0 - 1e-9, 0.0]])  # a shift, as affine found it
        >>> describe_alignment(["a.png", "b.png"], (None, shrunk), 0, (40, 60), "affine")
        'aligned b.png onto a.png: corners moved 3.2 px (shift 3.2 px, rotation 0.0°, zoom 0.0%)'
    """
    moved = [(name, warp_extent(warp, *size)) for name, warp in zip(names, warps) if warp is not None]
    if not moved:
        return None
    many = len(moved) > 1
    up_to = "up to " if many else ""
    extents = [extent for _, extent in moved]
    shift = max(extent.shift for extent in extents)
    if motion == "translation":
        found = f"{'shifts' if many else 'shift'} {up_to}{shift:.1f} px"
    else:
        found = f"corners moved {up_to}{max(extent.corners for extent in extents):.1f} px"
        if motion != "homography":  # a homography has no one shift, angle or scale
            turn = max(abs(extent.rotation) for extent in extents)
            found += (f" ({'shifts' if many else 'shift'} {up_to}{shift:.1f} px, "
                      f"rotation {up_to}{turn:.1f}\N{DEGREE SIGN}")
            if motion == "affine":
                zoom = max((extent.scale - 1 for extent in extents), key=abs)
                found += f", zoom {up_to}{signed_percent(zoom)}"
            found += ")"
    what = plural(len(moved), "image") if many else moved[0][0]
    return f"aligned {what} onto {names[frame]}: {found}"


__all__ = ["MOTIONS", "Motion", "AlignmentError", "check_motion", "estimate_motion", "check_handheld", "check_overlap",
           "LOW_CORRELATION", "INTERPOLATION", "warp_onto", "coverage", "align_images", "describe_fill",
           "describe_correlation", "WarpExtent", "warp_extent", "signed_percent", "describe_alignment"]
