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
from defusion.metrics._histograms import TOP_LEVEL, joint_histogram, shannon, source_levels, stretch_levels
from defusion.metrics._matlab import Float, hist256

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


def _mi_nats_vifb(qx: np.ndarray, qf: np.ndarray) -> Float:
    """``H(x) + H(f) - H(x, f)`` in nats per plane of two quantised stacks (broadcast)."""
    return np.array([_mi_from_joint(joint.astype(np.float64), np.log) for joint in joint_histogram(qx, qf)])


def _mi_from_joint(joint: Float, log: Callable[[Float], Float]) -> float:
    """Mutual information of a joint histogram, in the unit of ``log`` (``np.log``: nats, ``np.log2``: bits).

    The marginals are sums of the normalised joint histogram (MEFB's NMI takes them from the counts:
    :func:`~defusion.metrics._histograms.joint_entropies`, which can differ in the last bit)."""
    p = joint / joint.sum()
    return shannon(p.sum(axis=1), log) + shannon(p.sum(axis=0), log) - shannon(p.ravel(), log)


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
    qf = stretch_levels(F)
    mi = _mi_nats_vifb(source_levels(A), qf) + _mi_nats_vifb(source_levels(B), qf)
    return float(mi.mean())


def _floor_levels(x: Float) -> np.ndarray:
    """Grey levels as :func:`~defusion.metrics._matlab.hist256` bins them: floored, clipped to 0..255."""
    return np.clip(np.floor(x), 0, TOP_LEVEL).astype(np.int64)


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
    lf = _floor_levels(F)
    total = np.zeros(F.shape[0])
    for src in (A, B):
        total += [_mi_from_joint(joint.astype(np.float64), np.log2)
                  for joint in joint_histogram(_floor_levels(collapse_repeated_planes(src)), lf)]
    return float(total.mean())


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
