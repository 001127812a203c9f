"""Information-theory metrics: entropy (EN), mutual information (MI) and cross entropy (CE).

All follow VIFB's MATLAB code (``metricsEntropy.m``, ``metricsMutinf.m``,
``metricsCross_entropy.m``): 256-bin histograms of 0..255 grey levels, computed per colour
channel of the fused image and averaged. ``MI-bits`` is the textbook variant (see below).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from defusion.metrics._channels import collapse_repeated_planes, planes, triplet
from defusion.metrics._matlab import Float, hist256, matlab_round

__all__ = ["entropy", "mutual_information", "mutual_information_bits", "cross_entropy"]


def _entropy_bits(counts: np.ndarray) -> np.ndarray:
    """Shannon entropy in bits of each row of a histogram."""
    p = counts / counts.sum(axis=-1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -np.where(p > 0, p * np.log2(p), 0.0).sum(axis=-1)


def entropy(fused: ArrayLike, a: ArrayLike | None = None, b: ArrayLike | None = None) -> float:
    """EN: Shannon entropy (bits) of the fused image's 256-level histogram; sources unused.

    Why: more grey levels used evenly = more information (Van Aardt 2008). Values are floored to
    integers first, as VIFB does. RGB: mean over channels.

    >>> import numpy as np
    >>> entropy(np.full((8, 8), 7, np.uint8))
    0.0
    >>> entropy(np.arange(256, dtype=np.uint8).reshape(16, 16))
    8.0
    """
    return float(_entropy_bits(hist256(planes(fused))).mean())


def _stretch_levels(x: Float) -> np.ndarray:
    """VIFB ``mutinf`` quantisation per plane: min-max stretch to 0..255, MATLAB-rounded."""
    lo = x.min(axis=(-2, -1), keepdims=True)
    hi = x.max(axis=(-2, -1), keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        norm = np.where(hi != lo, (x - lo) / (hi - lo), 0.0)
    return matlab_round(norm * 255.0).astype(np.int64)


def _mi_nats_vifb(qx: np.ndarray, qf: np.ndarray) -> np.ndarray:
    """``H(x) + H(f) - H(x, f)`` in nats per plane of two quantised stacks (broadcast)."""
    qx, qf = np.broadcast_arrays(qx, qf)
    out = np.empty(qx.shape[0])
    for k in range(qx.shape[0]):
        joint = np.bincount((qx[k] * 256 + qf[k]).ravel(), minlength=65536).astype(np.float64)
        out[k] = _mi_from_joint(joint.reshape(256, 256), np.log)
    return out


def _mi_from_joint(joint: np.ndarray, log: Callable[[np.ndarray], np.ndarray]) -> float:
    """Mutual information of a joint histogram, in the unit of ``log`` (``np.log``: nats, ``np.log2``: bits)."""
    p = joint / joint.sum()
    pa, pb = p.sum(axis=1), p.sum(axis=0)

    def h(q: np.ndarray) -> float:
        q = q[q > 0]
        return float(-(q * log(q)).sum())

    return h(pa) + h(pb) - h(p.ravel())


def mutual_information(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """MI (VIFB): ``MI(A, F) + MI(B, F)`` in **nats**, each image min-max stretched to 0..255 first.

    Why: how much information the fused image carries about each source (Qu et al. 2002).
    VIFB's ``mutinf`` stretches each image to the full 0..255 range and rounds before the
    256x256 joint histogram and uses the natural log; RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    >>> round(mutual_information(x, x, x), 6)  # 2 * ln(256)
    11.090355
    """
    F, A, B = triplet(fused, a, b)
    qf = _stretch_levels(F)
    mi = _mi_nats_vifb(_stretch_levels(collapse_repeated_planes(A)), qf) + _mi_nats_vifb(_stretch_levels(collapse_repeated_planes(B)), qf)
    return float(mi.mean())


def mutual_information_bits(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """MI-bits: textbook ``MI(A, F) + MI(B, F)`` in bits on the raw grey levels (no stretching).

    The common definition in many Python evaluation scripts; differs from VIFB's MI by the log
    base (bits vs nats) and the absence of the min-max stretch. RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    >>> mutual_information_bits(x, x, x) == 2 * entropy(x)
    True
    """
    F, A, B = triplet(fused, a, b)
    vals = []
    for k in range(F.shape[0]):
        f = np.clip(np.floor(F[k]), 0, 255).astype(np.int64).ravel()
        tot = 0.0
        for s in (A[k], B[k]):
            s = np.clip(np.floor(s), 0, 255).astype(np.int64).ravel()
            joint = np.bincount(s * 256 + f, minlength=65536).astype(np.float64).reshape(256, 256)
            tot += _mi_from_joint(joint, np.log2)
        vals.append(tot)
    return float(np.mean(vals))


def _kl_bits(ps: np.ndarray, pf: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where((ps > 0) & (pf > 0), ps * np.log2(ps / pf), 0.0)
    return t.sum(axis=-1)


def cross_entropy(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """CE (VIFB): mean of the two histogram cross entropies ``sum p_S log2(p_S / p_F)``, S = A, B.

    Why: lower = the fused grey-level distribution is closer to each source's (Bulanon 2009).
    This is really a KL divergence over the bins where both histograms are non-zero, exactly as
    VIFB computes it. Lower is better; RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.arange(256, dtype=np.uint8).reshape(16, 16)
    >>> cross_entropy(x, x, x)
    0.0
    """
    F, A, B = triplet(fused, a, b)
    n = F.shape[-1] * F.shape[-2]
    pf = hist256(F) / n
    ce = (_kl_bits(hist256(collapse_repeated_planes(A)) / n, pf) + _kl_bits(hist256(collapse_repeated_planes(B)) / n, pf)) / 2.0
    return float(ce.mean())
