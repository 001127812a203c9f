"""Moving things in a bracket: ghost removal before fusing.

A person walking or a branch swaying between exposures is in a different place in each, and a
fusion that mixes the exposures shows it twice, half transparent: a ghost. :func:`deghost`
removes it before fusing. One source is the reference (:func:`reference_index`: the best
exposed); every other source is compared with the reference mapped into its exposure (an
intensity mapping from their histograms, which a small moving object barely changes); where they
disagree by more than ``GHOST_THRESHOLD`` in any colour channel (a red thing on a grey ground of
the same luminance moves too) the other source's pixels are replaced by that mapped reference, so
the moving thing is fused where the reference shows it, once. Where either is clipped (black or
white, channel by channel) the comparison tells nothing, and no motion is found there; a region
found moving is closed, its enclosed holes filled, grown and feathered, and replaced whole, so a
moving thing the reference shows blown out, or with a near-black part, is replaced entirely rather
than letting the old scene show through.
Measured on MEFB pairs with a moved block: docs/benchmarks.md, "Ghosts".
"""

from __future__ import annotations

from typing import Callable, Sequence

import cv2
import numpy as np

from defusion.fusion.color import luminance
from defusion.io.notes import listed

#: Difference (of [0, 1]) between a source and the mapped reference, in any channel, that counts as motion.
GHOST_THRESHOLD = 0.1
#: A channel is clipped, and says nothing, below and above these values.
CLIP_LOW, CLIP_HIGH = 0.02, 0.98
#: Opening (speckle of noise away) and then growing of the motion mask, in pixels (odd sizes).
MASK_OPEN, MASK_GROW = 5, 15
#: Closing of the motion mask (gaps across a moving thing, where it matched the reference or was
#: clipped), as a fraction of the image's short side, and at least MASK_OPEN pixels.
MASK_CLOSE_FRACTION = 0.03
#: Largest closing (pixels) run with an elliptical kernel, whose cost grows with its area (a 12 MP
#: mask's 91-pixel closing took 1.8 s); a larger one runs with an octagon of the same width, made
#: of a square and two diagonal lines run one after the other (0.08 s there: :func:`_closed`).
MAX_ELLIPSE_CLOSE = 31
#: Holes enclosed by the motion mask up to this fraction of the image's area are part of the moving
#: thing (a near-black or blown-out part of it) and are filled; larger ones are left, as static
#: scene (a frame of motion found along the borders would otherwise replace the whole image).
MAX_HOLE_FRACTION = 0.1
#: Gaussian sigma (pixels) of the mask's soft edge.
FEATHER_SIGMA = 4.0
#: Times the intensity mapping is learnt again without the pixels found to move (a large moving
#: object shifts the histograms it is first learnt from).
REFINEMENTS = 2
#: Below this share of static pixels the sources are too different to map one onto the other.
MIN_STATIC = 0.5
_LEVELS = 256


def reference_index(images: Sequence[np.ndarray]) -> int:
    """The best-exposed source: mean luminance closest to mid-grey (the first on a tie). Also the
    shot a bracket is registered onto (the Fuser's frame, ``Fusion.frame``), so its framing follows
    its content, not its files' order.

    Example:
        >>> dark, mid, bright = (np.full((2, 2), v, np.float32) for v in (0.1, 0.45, 0.9))
        >>> reference_index([dark, mid, bright])
        1
    """
    return int(np.argmin([abs(float(np.mean(luminance(im))) - 0.5) for im in images]))


def intensity_mapping(source: np.ndarray, target: np.ndarray, static: np.ndarray | None = None) -> np.ndarray:
    """A monotonic look-up table (``_LEVELS`` entries in [0, 1]) taking ``source``'s values to
    ``target``'s, by matching their cumulative histograms (images in [0, 1]; only where the HxW
    boolean ``static`` is true, if given). Above the levels the source shows there, it goes on as
    a change of exposure (:func:`_as_gain_above`), so a moving thing brighter than the static
    scene is not flattened onto the scene's brightest value.

    Example:
        >>> x = np.linspace(0, 0.5, 1000, dtype=np.float32)
        >>> lut = intensity_mapping(x, 2 * x)  # the target is twice as bright
        >>> abs(float(lut[64]) - 0.5) < 0.01  # source level 0.25 goes to 0.5
        True
    """
    def cdf(image: np.ndarray) -> np.ndarray:
        values = image if static is None else image[static]
        hist = np.bincount(_quantise(values).ravel(), minlength=_LEVELS).astype(np.float64)
        return np.cumsum(hist) / max(hist.sum(), 1.0)

    source_cdf = cdf(source)
    matched = np.searchsorted(cdf(target), source_cdf, side="left")
    return _as_gain_above(np.clip(matched, 0, _LEVELS - 1).astype(np.float32) / (_LEVELS - 1), source_cdf)


def _as_gain_above(lut: np.ndarray, source_cdf: np.ndarray) -> np.ndarray:
    """``lut`` above the brightest level its source showed (where ``source_cdf`` last rises)
    continued as the gain at that level, rather than flat: the static scene's histogram says nothing
    there, and a flat table maps a moving thing brighter than the static scene (a red thing's red)
    onto the scene's brightest value, hiding the motion. Below the darkest level the table stays
    at 0, which shows a darker moving thing as different already.

    Example:
        >>> cdf = np.r_[np.zeros(64), np.ones(_LEVELS - 64)]  # the source showed only level 64
        >>> lut = _as_gain_above(np.full(_LEVELS, 0.5, np.float32), cdf)  # ... and it went to 0.5
        >>> float(lut[64]), float(lut[96]), float(lut[-1])  # 1.5 times as bright, then clipped
        (0.5, 0.75, 1.0)
    """
    seen = np.flatnonzero(np.diff(source_cdf, prepend=0.0) > 0)
    if not seen.size or seen[-1] == 0:
        return lut
    high = int(seen[-1])
    out = lut.copy()
    out[high + 1:] = np.minimum(1.0, lut[high] * np.arange(high + 1, _LEVELS, dtype=np.float32) / high)
    return out


def mapped_reference(reference: np.ndarray, image: np.ndarray, static: np.ndarray | None = None) -> np.ndarray:
    """``reference`` as it would look at ``image``'s exposure (per channel for colour), the
    mapping learnt where the HxW boolean ``static`` is true (everywhere by default)."""
    if reference.ndim == 2:
        return _apply(intensity_mapping(reference, image, static), reference)
    return np.dstack([_apply(intensity_mapping(reference[..., c], image[..., c], static), reference[..., c])
                      for c in range(reference.shape[2])])


def ghost_mask(reference: np.ndarray, image: np.ndarray, static: np.ndarray | None = None) -> np.ndarray:
    """HxW weight in [0, 1] of where ``image`` shows something other than ``reference`` does.

    They are compared channel by channel in the reference's exposure (``image`` mapped onto it),
    where a difference of ``GHOST_THRESHOLD`` means the same whatever the other exposure; colour
    counts, not only luminance. The mapping is learnt where ``static`` is true (everywhere by
    default). What is found is cleaned (:func:`_whole`), grown and feathered.

    Example:
        >>> ground = np.repeat(np.linspace(0.3, 0.5, 64, dtype=np.float32)[None, :, None], 64, axis=0)
        >>> grey = np.repeat(ground, 3, axis=2)
        >>> moved = grey.copy()
        >>> moved[24:40, 24:40] += np.array([0.3, -0.12, -0.17], np.float32)  # red walked in, as light as grey
        >>> bool(ghost_mask(grey, moved)[24:40, 24:40].min() > 0.9), float(ghost_mask(grey, grey).max())
        (True, 0.0)
    """
    ref, own = _planes(reference), _planes(image)
    seen = _planes(mapped_reference(image, reference, static))
    valid = (ref > CLIP_LOW) & (ref < CLIP_HIGH) & (own > CLIP_LOW) & (own < CLIP_HIGH)
    mask = np.any((np.abs(seen - ref) > GHOST_THRESHOLD) & valid, axis=2).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (MASK_OPEN,) * 2))
    mask = _whole(mask)
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (MASK_GROW,) * 2))
    return np.clip(cv2.GaussianBlur(mask.astype(np.float32), (0, 0), FEATHER_SIGMA), 0.0, 1.0)


def _planes(image: np.ndarray) -> np.ndarray:
    """``image`` as HxWxC (a grey image as one plane)."""
    return image[..., None] if image.ndim == 2 else image


def _whole(mask: np.ndarray) -> np.ndarray:
    """The uint8 motion ``mask`` closed (:data:`MASK_CLOSE_FRACTION`) and with its enclosed holes up
    to :data:`MAX_HOLE_FRACTION` of the image filled: parts of a moving thing that matched the
    reference or were clipped are replaced with the rest of it, so the old scene cannot show through.

    Example:
        >>> ring = np.zeros((128, 128), np.uint8)
        >>> ring[40:88, 40:88] = 1
        >>> ring[48:80, 48:80] = 0  # a moving thing with a near-black middle: not found there
        >>> int(_whole(ring)[48:80, 48:80].min()), int(_whole(ring)[:30].max())
        (1, 0)
    """
    height, width = mask.shape
    mask = _closed(mask, max(MASK_OPEN, int(round(MASK_CLOSE_FRACTION * min(height, width))) | 1))
    count, labels, stats, _ = cv2.connectedComponentsWithStats((mask == 0).astype(np.uint8), connectivity=4)
    left, top, w, h, area = (stats[:, i] for i in range(5))
    enclosed = (left > 0) & (top > 0) & (left + w < width) & (top + h < height)
    hole = enclosed & (area <= MAX_HOLE_FRACTION * height * width)
    hole[0] = False  # label 0: the mask itself
    return np.maximum(mask, hole[labels].astype(np.uint8))


def _closed(mask: np.ndarray, size: int) -> np.ndarray:
    """``mask`` closed by a disk ``size`` pixels wide (odd): an elliptical kernel up to
    :data:`MAX_ELLIPSE_CLOSE`, above it a regular octagon as wide (:func:`_octagon_parts`), whose
    parts each cost a pass of a line or a separable square rather than the disk's area.

    Example:
        >>> gap = np.ones((200, 200), np.uint8)
        >>> gap[:, 90:110] = 0  # a moving thing found on either side of a 20-pixel gap
        >>> int(_closed(gap, 41).min()), int(_closed(gap, 15)[:, 100].max())
        (1, 0)
    """
    if size <= MAX_ELLIPSE_CLOSE:
        return cv2.morphologyEx(mask, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))
    parts = _octagon_parts(size)
    for part in parts:
        mask = cv2.dilate(mask, part)
    for part in parts:
        mask = cv2.erode(mask, part)
    return mask


def _octagon_parts(size: int) -> list[np.ndarray]:
    """Kernels whose dilations one after another dilate by a regular octagon ``size`` pixels wide
    (odd): a square and the two diagonals, each odd-sized so that it is centred on its pixel.

    Example:
        >>> [part.shape for part in _octagon_parts(41)]
        [(17, 17), (13, 13), (13, 13)]
    """
    step = 2 * int(round((size - 1) / (2 + np.sqrt(2)) / 2))  # each diagonal's reach, even
    diagonal = np.eye(step + 1, dtype=np.uint8)
    return [np.ones((size - 2 * step,) * 2, np.uint8), diagonal, np.ascontiguousarray(diagonal[::-1])]


def deghost(images: Sequence[np.ndarray], reference: int | None = None,
            on_replaced: Callable[[int, float], object] | None = None) -> list[np.ndarray]:
    """``images`` (float in [0, 1], registered, one size) with what moved relative to the
    reference (default :func:`reference_index`) replaced by the reference in their exposure.
    ``on_replaced(index, share)`` is told, for each image but the reference, the share of its
    pixels replaced (the mean of its feathered mask, in [0, 1]): whether deghosting did anything.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> scene = rng.random((64, 64)).astype(np.float32) * 0.5 + 0.25
        >>> moved = scene * 0.5
        >>> moved[20:40, 20:40] = 0.05                 # something dark walked in
        >>> kept, cleaned = deghost([scene, moved], reference=0)
        >>> bool(np.abs(cleaned - scene * 0.5)[25:35, 25:35].max() < 0.02), kept is scene
        (True, True)
        >>> shares = {}
        >>> _ = deghost([scene, moved], reference=0, on_replaced=shares.__setitem__)
        >>> list(shares), 0.1 < shares[1] < 0.25  # the 20 x 20 block of 64 x 64 (10%), grown and feathered
        ([1], True)
    """
    images = list(images)
    if len(images) < 2:
        return images
    reference = reference_index(images) if reference is None else reference
    out = []
    for i, image in enumerate(images):
        if i == reference:
            out.append(image)
            continue
        ref = _like(images[reference], image)
        mask = ghost_mask(ref, image)
        static = None
        for _ in range(REFINEMENTS):  # the mappings again, from what did not move
            if (mask < 0.5).mean() < MIN_STATIC:
                break
            static = mask < 0.5
            mask = ghost_mask(ref, image, static)
        predicted = mapped_reference(ref, image, static)
        if on_replaced is not None:
            on_replaced(i, float(mask.mean()))
        weight = mask[..., None] if image.ndim == 3 else mask
        out.append((weight * predicted + (1 - weight) * image).astype(np.float32))
    return out


def _like(reference: np.ndarray, image: np.ndarray) -> np.ndarray:
    """The reference with ``image``'s channels: grey for a grey image, three equal planes for colour."""
    if reference.ndim == image.ndim:
        return reference
    return luminance(reference) if image.ndim == 2 else np.repeat(reference[..., None], image.shape[2], axis=2)


def _quantise(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image * (_LEVELS - 1)), 0, _LEVELS - 1).astype(np.int64)


def _apply(lut: np.ndarray, image: np.ndarray) -> np.ndarray:
    return np.interp(image, np.linspace(0.0, 1.0, _LEVELS), lut).astype(np.float32)


#: Why deghosting does not suit a focus stack, said after the option's name by the CLI and the web
#: page alike (the audit: on a focus stack it changed 7.8% of the pixels, by up to 202 levels).
FOCUS_CHANGE_IS_MOTION = ("takes a focus change for motion: on a focus stack (or with pixels from the sources) it "
                          "replaces what is sharp in one image by another's blur; it is for exposure brackets with "
                          "something moving")


def deghost_focus_note(option: str, task: str | None, pixels: str) -> str | None:
    """The line that says deghosting (the option named ``option``, as the caller names it) blurs a
    focus stack, where the task is ``"mff"`` or the pixels come from the sources; None otherwise.

    Example:
        >>> deghost_focus_note("--deghost", "mff", "sources")[:46]
        '--deghost takes a focus change for motion: on '
        >>> deghost_focus_note("--deghost", "mef", "network") is None
        True
    """
    if task != "mff" and pixels != "sources":
        return None
    return f"{option} {FOCUS_CHANGE_IS_MOTION}"


#: Why deghosting does not suit an infrared + visible pair, said after the option's name by the CLI and
#: the web page alike (the web UI's audit: on TNO's pair 01, --task ivf, it replaced 77.9% of the visible
#: image's pixels and the fusion came out blotchy).
CONTENT_NOT_SHARED = ("compares the images' content, which an infrared and a visible image do not share, so it "
                      "replaces much of one; it is for exposure brackets with something moving")


def deghost_infrared_warning(option: str, task: str | None) -> str | None:
    """The line that warns that deghosting (the option named ``option``, as the caller names it) ruins
    an infrared + visible pair (``task`` ``"ivf"``); None for any other task.

    Example:
        >>> deghost_infrared_warning("--deghost", "ivf")[:49]
        "--deghost compares the images' content, which an "
        >>> deghost_infrared_warning("--deghost", "mef") is None
        True
    """
    return f"{option} {CONTENT_NOT_SHARED}" if task == "ivf" else None


def describe_ghosts(names: Sequence[str], ghosts: tuple[float, ...]) -> str | None:
    """One line on how much of each image (``names``, in the order given) deghosting replaced, the
    most first, in words that name no option, for the CLI and the web page alike; None without
    deghosting. A share that rounds to 0.0% is not named.

    Example:
        >>> describe_ghosts(["ev-2.jpg", "ev0.jpg", "ev+2.jpg"], (0.012, 0.0, 0.041))
        "deghost replaced 4.1% of ev+2.jpg's pixels, 1.2% of ev-2.jpg's (what moved)"
        >>> describe_ghosts(["a.png", "b.png"], (0.0, 0.0001))
        'deghost found nothing that moved among a.png, b.png'
    """
    if not ghosts:
        return None
    shares = sorted(((share, name) for name, share in zip(names, ghosts) if f"{share:.1%}" != f"{0:.1%}"),
                    reverse=True)  # what rounds to 0.0% is not worth a name
    if not shares:  # named, as each note is said once per process: another fusion's must not hide this one
        return f"deghost found nothing that moved among {listed(list(names))}"
    said = [f"{share:.1%} of {name}'s" + (" pixels" if i == 0 else "") for i, (share, name) in enumerate(shares)]
    return f"deghost replaced {listed(said)} (what moved)"
