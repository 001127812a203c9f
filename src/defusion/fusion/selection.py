"""Pixels from the sources: a decision map read from DeNet's unique projections.

The paper observes (Sec. 4.2, Fig. 8) that on a multi-focus pair the unique embeddings are
active where each source is in focus. :func:`decision_map` turns that into weights: the source
whose unique projection carries more fine detail (local energy of the Laplacian) at a pixel owns
it, small islands are voted away, and a guided filter lets the boundary follow the image's
edges. The fused image is then the sources' own pixels weighed by the map
(``FuseOptions.pixels = "sources"``), not the network's reconstruction, which is softer than the
sharper source (docs/model-card.md, "Known failure cases").

Measured on MFIFB (docs/benchmarks.md, "Pixels from the sources"): the same map computed on the
sources themselves picks the same pixels to three decimals of Qabf, because on a focus pair each
unique projection reproduces its source's detail. The network supplies the decision the paper
describes; the sharpness comes from the sources.
"""

from __future__ import annotations

from typing import Sequence

import cv2
import numpy as np

from defusion.fusion.choices import PIXEL_SOURCES, PixelSource  # defined there, for a fast --help
from defusion.fusion.errors import FusionInputError, OptionsError
from defusion.fusion.filters import guided_filter

# PixelSource and PIXEL_SOURCES, where the fused image's pixels come from (the network's
# reconstruction Pr, the paper's, or the sources themselves weighed by decision_map), are defined in
# defusion.fusion.choices.

#: Gaussian sigma (image pixels) of the window the detail energy is summed over.
ACTIVITY_SIGMA = 4.0
#: Side of the median filter that votes away islands of the other source (odd, image pixels).
CONSISTENCY_KERNEL = 15
#: Guided filter radius and regularisation that soften the map's boundary along image edges.
EDGE_RADIUS = 4
EDGE_EPS = 1e-3


def check_pixel_source(pixels: str) -> None:
    """Refuse a pixel source that is not one of ``PIXEL_SOURCES``."""
    if pixels not in PIXEL_SOURCES:
        raise OptionsError(f"unknown pixel source {pixels!r}; use one of {', '.join(PIXEL_SOURCES)}")


def activity(image: np.ndarray, sigma: float = ACTIVITY_SIGMA) -> np.ndarray:
    """Local energy of the Laplacian of an HxW float image: high where it has fine detail.

    Example:
        >>> flat, edge = np.zeros((16, 16), np.float32), np.zeros((16, 16), np.float32)
        >>> edge[:, 8:] = 1.0
        >>> bool(activity(edge)[8, 8] > activity(flat)[8, 8])
        True
    """
    laplacian = cv2.Laplacian(np.ascontiguousarray(image, dtype=np.float32), cv2.CV_32F, ksize=3)
    return cv2.GaussianBlur(laplacian * laplacian, (0, 0), sigma)


def decision_map(unique_a: np.ndarray, unique_b: np.ndarray, guide: np.ndarray) -> np.ndarray:
    """HxW weight of the first source in [0, 1], from two HxW unique projections.

    ``guide`` (HxW, e.g. the sources' mean luminance) shapes the boundary between the regions.

    Example:
        >>> sharp = np.zeros((32, 32), np.float32); sharp[::2] = 1.0   # stripes: all detail
        >>> soft = np.full((32, 32), 0.5, np.float32)                  # flat: none
        >>> float(decision_map(sharp, soft, soft).mean()), float(decision_map(soft, sharp, soft).mean())
        (1.0, 0.0)
    """
    if unique_a.shape != unique_b.shape or unique_a.shape != guide.shape or unique_a.ndim != 2:
        raise FusionInputError(f"decision_map takes three HxW arrays of one size, got {unique_a.shape}, "
                               f"{unique_b.shape}, {guide.shape}")
    return soften_choice(sharper_choice(unique_a, unique_b), guide)


def sharper_choice(unique_a: np.ndarray, unique_b: np.ndarray) -> np.ndarray:
    """:func:`decision_map`'s first step: HxW uint8, 255 where the first of two HxW unique projections
    carries more fine detail, 0 elsewhere, small islands voted away. A step of its own so that a
    caller can let the projections go before the second (:func:`soften_choice`)."""
    choice = (activity(unique_a) > activity(unique_b)).astype(np.uint8) * 255
    kernel = min(CONSISTENCY_KERNEL, _largest_odd(min(choice.shape)))
    if kernel > 1:
        choice = cv2.medianBlur(choice, kernel)
    return choice


def soften_choice(choice: np.ndarray, guide: np.ndarray) -> np.ndarray:
    """:func:`decision_map`'s second step: the first source's weight in [0, 1] from
    :func:`sharper_choice`'s map, its boundary following ``guide``'s edges (a guided filter)."""
    weights = guided_filter(guide, choice.astype(np.float32) / 255.0, EDGE_RADIUS, EDGE_EPS)
    return np.clip(weights, 0.0, 1.0)


def pair_weights(unique_a: np.ndarray, unique_b: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The first image's HxW weight, read from the pair's HxWx3 unique projections (the network's
    ``unique1``, ``unique2``), the boundary guided by the mean of the HxWx3 pair ``a``, ``b``.

    Example:
        >>> sharp = np.zeros((32, 32, 3), np.float32); sharp[::2] = 1.0
        >>> soft = np.full((32, 32, 3), 0.5, np.float32)
        >>> float(pair_weights(sharp, soft, soft, soft).mean())
        1.0
    """
    return decision_map(unique_a.mean(axis=2), unique_b.mean(axis=2), pair_guide(a, b))


def pair_guide(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The HxW guide :func:`pair_weights` shapes a pair's decision map by: the mean of the HxWx3 pair.

    Example:
        >>> pair_guide(np.zeros((1, 1, 3)), np.ones((1, 1, 3))).tolist()
        [[0.5]]
    """
    return (a.mean(axis=2) + b.mean(axis=2)) / 2


def weighted_sum(weights: Sequence[np.ndarray], images: Sequence[np.ndarray]) -> np.ndarray:
    """Σ w_i · image_i for HxW weights and HxW or HxWxC images.

    Example:
        >>> w = np.array([[1.0, 0.25]], np.float32)
        >>> weighted_sum([w, 1 - w], [np.zeros((1, 2)), np.ones((1, 2))]).tolist()
        [[0.0, 0.75]]
    """
    if len(weights) != len(images) or not images:
        raise FusionInputError(f"need one weight map per image, got {len(weights)} and {len(images)}")
    total = np.zeros(images[0].shape, dtype=np.float32)
    for w, image in zip(weights, images):
        total += (w[..., None] if image.ndim == 3 else w) * image
    return total


def source_map(weights: Sequence[np.ndarray]) -> np.ndarray:
    """HxW map in [0, 1] of which source each fused pixel comes from: 0 the first, 1 the last,
    (i / (N - 1)) the i-th, weighed by each source's share. For a focus stack shot from near to
    far it is a depth map (the focus-stacking tools' "depth map"); for a pair, 1 - weight_a.

    Example:
        >>> w = np.array([[1.0, 0.0, 0.5]], np.float32)
        >>> source_map([w, 1 - w]).tolist()
        [[0.0, 1.0, 0.5]]
        >>> source_map([np.eye(3, dtype=np.float32)[i][None] for i in range(3)]).tolist()
        [[0.0, 0.5, 1.0]]
    """
    if len(weights) < 2:
        raise FusionInputError(f"a source map needs the weights of two or more sources, got {len(weights)}")
    steps = np.linspace(0.0, 1.0, len(weights), dtype=np.float32)
    return np.clip(weighted_sum(weights, [np.full(weights[0].shape, s, np.float32) for s in steps]), 0.0, 1.0)


def _largest_odd(n: int) -> int:
    return n if n % 2 else n - 1


__all__ = ["PIXEL_SOURCES", "PixelSource", "ACTIVITY_SIGMA", "CONSISTENCY_KERNEL", "EDGE_RADIUS", "EDGE_EPS",
           "check_pixel_source", "activity", "decision_map", "pair_guide", "pair_weights", "sharper_choice",
           "soften_choice", "source_map", "weighted_sum"]
