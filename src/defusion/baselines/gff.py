"""Guided-filtering fusion, GFF (Li, Kang & Hu, IEEE TIP 2013).

S. Li, X. Kang and J. Hu, "Image fusion with guided filtering", IEEE Trans.
Image Process. 22(7), 2013.  Each source is split into a base layer (31x31
mean filter) and a detail layer; saliency is the Gaussian-smoothed absolute
Laplacian; binary weight maps mark the most salient source per pixel and are
refined by a guided filter (He, Sun & Tang, ECCV 2010 / TPAMI 2013) guided by
the source itself — coarsely for the base layers (r1=45, eps1=0.3), finely for
the detail layers (r2=7, eps2=1e-6) — then the layers are recombined.

For RGB, saliency and guidance use the Rec. 601 luma of each source (as the
authors' reference code does with the grey image); the weight maps are shared
by the three channels.
"""

from __future__ import annotations

import cv2
import numpy as np

from defusion.baselines._common import check_pair, finish, luma
from defusion.fusion.filters import guided_filter

#: The radius r_g of the Gaussian low-pass that smooths the saliency: 5 in Li, Kang & Hu 2013 (section
#: III-B, weight map construction), whose window is (2 r_g + 1) x (2 r_g + 1).
SALIENCY_RADIUS = 5
#: That Gaussian's standard deviation sigma_g: 5 there too.
SALIENCY_SIGMA = 5.0
#: That Gaussian's window, (2 r_g + 1) a side: 11x11.
SALIENCY_WINDOW = (2 * SALIENCY_RADIUS + 1,) * 2


def fuse_gff(
    a: np.ndarray,
    b: np.ndarray,
    r1: int = 45,
    eps1: float = 0.3,
    r2: int = 7,
    eps2: float = 1e-6,
    base_size: int = 31,
) -> np.ndarray:
    """GFF with the paper's parameters (r1=45, eps1=0.3, r2=7, eps2=1e-6, 31x31 base filter).

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).random((37, 51)).astype(np.float32)
        >>> bool(np.allclose(fuse_gff(x, x), x, atol=1e-4))
        True
    """
    a, b, dtype = check_pair(a, b)
    sources = (a, b)
    guides = [np.ascontiguousarray(luma(s)) for s in sources]
    # Two-scale decomposition: base = mean filter, detail = residual.
    bases = [cv2.blur(s, (base_size, base_size), borderType=cv2.BORDER_REFLECT) for s in sources]
    details = [s - base for s, base in zip(sources, bases)]
    # Saliency: |Laplacian| smoothed by the paper's Gaussian (SALIENCY_WINDOW, SALIENCY_SIGMA).
    laplacians = [cv2.Laplacian(g, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REPLICATE) for g in guides]
    saliency = [cv2.GaussianBlur(np.abs(lap), SALIENCY_WINDOW, SALIENCY_SIGMA) for lap in laplacians]
    take_a = (saliency[0] >= saliency[1]).astype(np.float32)
    masks = (take_a, 1.0 - take_a)
    # Guided-filter refinement of the binary maps, then normalisation to sum 1.  The
    # filter can overshoot below 0; such weights are clipped (the paper only normalises),
    # and where both vanish the two layers are averaged.
    w_base = [np.maximum(guided_filter(g, p, r1, eps1), 0.0) for g, p in zip(guides, masks)]
    w_detail = [np.maximum(guided_filter(g, p, r2, eps2), 0.0) for g, p in zip(guides, masks)]
    fused = np.zeros_like(a)
    for weights, layers in ((w_base, bases), (w_detail, details)):
        total = weights[0] + weights[1]
        degenerate = total < 1e-6
        w_a = np.where(degenerate, 0.5, weights[0] / np.where(degenerate, 1.0, total))
        for w, layer in zip((w_a, 1.0 - w_a), layers):
            fused += (w[..., None] if a.ndim == 3 else w) * layer
    return finish(fused, dtype)
