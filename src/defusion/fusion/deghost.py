"""Moving things in a bracket: ghost removal before fusing.

A person walking or a branch swaying between exposures is in a different place in each, and a
fusion that mixes the exposures shows it twice, half transparent: a ghost. :func:`deghost`
removes it before fusing. One source is the reference (:func:`reference_index`: the best
exposed); every other source is compared with the reference mapped into its exposure (an
intensity mapping from their histograms, which a small moving object barely changes); where they
disagree by more than ``GHOST_THRESHOLD`` the other source's pixels are replaced by that mapped
reference, so the moving thing is fused where the reference shows it, once. Where either is
clipped (black or white) the comparison tells nothing, and no motion is found there; a region
found moving is grown and feathered and replaced whole, so a moving thing the reference shows
blown out stays blown out in every source rather than letting the old scene show through.
Measured on MEFB pairs with a moved block: docs/benchmarks.md, "Ghosts".
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from defusion.fusion.color import luminance

#: Luminance difference (of [0, 1]) between a source and the mapped reference that counts as motion.
GHOST_THRESHOLD = 0.1
#: The reference is clipped, and says nothing, below and above these luminances.
CLIP_LOW, CLIP_HIGH = 0.02, 0.98
#: Opening (speckle of noise away) and then growing of the motion mask, in pixels (odd sizes).
MASK_OPEN, MASK_GROW = 5, 15
#: Gaussian sigma (pixels) of the mask's soft edge.
FEATHER_SIGMA = 4.0
#: Times the intensity mapping is learnt again without the pixels found to move (a large moving
#: object shifts the histograms it is first learnt from).
REFINEMENTS = 2
#: Below this share of static pixels the sources are too different to map one onto the other.
MIN_STATIC = 0.5
_LEVELS = 256


def reference_index(images: Sequence[np.ndarray]) -> int:
    """The best-exposed source: mean luminance closest to mid-grey (the first on a tie).

    Example:
        >>> dark, mid, bright = (np.full((2, 2), v, np.float32) for v in (0.1, 0.45, 0.9))
        >>> reference_index([dark, mid, bright])
        1
    """
    return int(np.argmin([abs(float(np.mean(luminance(im))) - 0.5) for im in images]))


def intensity_mapping(source: np.ndarray, target: np.ndarray, static: np.ndarray | None = None) -> np.ndarray:
    """A monotonic look-up table (``_LEVELS`` entries in [0, 1]) taking ``source``'s values to
    ``target``'s, by matching their cumulative histograms (images in [0, 1]; only where the HxW
    boolean ``static`` is true, if given).

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

    matched = np.searchsorted(cdf(target), cdf(source), side="left")
    return np.clip(matched, 0, _LEVELS - 1).astype(np.float32) / (_LEVELS - 1)


def mapped_reference(reference: np.ndarray, image: np.ndarray, static: np.ndarray | None = None) -> np.ndarray:
    """``reference`` as it would look at ``image``'s exposure (per channel for colour), the
    mapping learnt where the HxW boolean ``static`` is true (everywhere by default)."""
    if reference.ndim == 2:
        return _apply(intensity_mapping(reference, image, static), reference)
    return np.dstack([_apply(intensity_mapping(reference[..., c], image[..., c], static), reference[..., c])
                      for c in range(reference.shape[2])])


def ghost_mask(reference: np.ndarray, image: np.ndarray, static: np.ndarray | None = None) -> np.ndarray:
    """HxW weight in [0, 1] of where ``image`` shows something other than ``reference`` does.

    They are compared in the reference's exposure (``image`` mapped onto it), where a difference
    of ``GHOST_THRESHOLD`` means the same whatever the other exposure; the mapping is learnt where
    ``static`` is true (everywhere by default)."""
    ref, own = luminance(reference), luminance(image)
    seen = luminance(mapped_reference(image, reference, static))
    differs = np.abs(seen - ref) > GHOST_THRESHOLD
    differs &= (ref > CLIP_LOW) & (ref < CLIP_HIGH) & (own > CLIP_LOW) & (own < CLIP_HIGH)
    mask = differs.astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (MASK_OPEN,) * 2))
    mask = cv2.dilate(mask, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (MASK_GROW,) * 2))
    return np.clip(cv2.GaussianBlur(mask.astype(np.float32), (0, 0), FEATHER_SIGMA), 0.0, 1.0)


def deghost(images: Sequence[np.ndarray], reference: int | None = None) -> list[np.ndarray]:
    """``images`` (float in [0, 1], registered, one size) with what moved relative to the
    reference (default :func:`reference_index`) replaced by the reference in their exposure.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> scene = rng.random((64, 64)).astype(np.float32) * 0.5 + 0.25
        >>> moved = scene * 0.5
        >>> moved[20:40, 20:40] = 0.05                 # something dark walked in
        >>> kept, cleaned = deghost([scene, moved], reference=0)
        >>> bool(np.abs(cleaned - scene * 0.5)[25:35, 25:35].max() < 0.02), kept is scene
        (True, True)
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
