"""MEFB's information metrics beyond NMI and Qncie: TE (Tsallis) and FMI (feature mutual information).

Both follow MEFB's MATLAB code (xingchenzhang/MEFB, ``metrics/``):

* ``TE``: Cvejic, Canagarajah & Bull (2006), ``metricsTE.m`` (Z. Liu's ``metricMI.m``, case 2):
  ``I_q(A,F) + I_q(B,F)``, q = 1.85, ``I_q = (1 - sum p(x,f)^q / (p(.)p(.))^(q-1)) / (1 - q)`` on the
  images stretched to 0..255 and rounded, 256x256 joint histogram. Liu's ``tsallis`` takes the two
  marginals from the wrong axes (``sum(h)`` is the fused image's), so cell (i, j) is divided by
  ``p_F(i) p_S(j)``; reproduced, as it decides the published values.
* ``FMI``: Haghighat, Aghagolzadeh & Seyedarabi (2011), the authors' Fast-FMI ``fmi.m`` as MEFB calls
  it, ``fmi(A, B, F)``: its default features, ``edge`` (MATLAB's ``edge(I)``: Sobel, automatic
  threshold, thinning), and 3x3 windows. Each window's normalised MI of (A, F) and of (B, F), from
  the Nelsen-copula joint pdf of the two windows' 9-value "pdfs", averaged.

Per colour channel of the fused image and averaged (the package's rule; see ``docs/metrics.md``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from defusion.metrics._cache import source_cached
from defusion.metrics._channels import collapse_repeated_planes, triplet
from defusion.metrics._filters import sobel
from defusion.metrics._histograms import joint_histogram, source_levels, stretch_levels
from defusion.metrics._matlab import Float
from defusion.metrics.structural import check_size

__all__ = ["te", "fmi", "matlab_sobel_edges"]

#: Cvejic's constant q of the Tsallis entropy (``metricMI.m``, case 2).
TE_Q = 1.85

#: FMI's window (``fmi.m``'s default w = 3) and its number of values.
FMI_WIN = 3
_CELLS = FMI_WIN * FMI_WIN
#: The window patterns of binary edge maps: 9 bits, 0 = no edge, 511 = all edges.
_NO_EDGE, _ALL_EDGE = 0, (1 << _CELLS) - 1
_PATTERNS = 1 << _CELLS
#: Window pairs scored at once (each takes 81 joint-pdf cells).
_CHUNK = 8192
#: MATLAB ``edge``'s Sobel: gradients of ``fspecial('sobel') / 8``, automatic cutoff ``4 mean(b)``,
#: and the tolerance ``100 eps`` of its thinning test.
SOBEL_NORM = 8.0
EDGE_SCALE = 4.0
_THIN_TOL = 100 * float(np.finfo(np.float64).eps)


# ------------------------------------------------------------------------------------------ TE


def _tsallis(counts: np.ndarray) -> float:
    """Liu's ``tsallis(x, f, q)`` from the joint histogram of two level images (:func:`joint_histogram`
    of the source's and the fused image's), marginals as the code takes them."""
    joint = counts / counts.sum()
    p_x, p_f = joint.sum(axis=1), joint.sum(axis=0)
    buff = np.outer(p_f, p_x)  # the code's im1_marg(i) * im2_marg(j): p_F(i) p_X(j)
    cells = (joint > 0) & (buff > 0)
    total = float((joint[cells] ** TE_Q / buff[cells] ** (TE_Q - 1)).sum())
    return (1 - total) / (1 - TE_Q)


def te(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """TE: Cvejic et al.'s Tsallis-entropy fusion metric (Electronics Letters 42(11), 2006), as MEFB's ``metricsTE.m``.

    Why: mutual information generalised with Tsallis' q = 1.85, which weighs the frequent grey-level
    pairs more: ``I_q(A,F) + I_q(B,F)``, ``I_q = (1 - sum p(s,f)^q / (p p)^(q-1)) / (1 - q)`` on images
    stretched to 0..255 and rounded. As Liu's code, cell (s, f) of the joint histogram is divided by
    ``p_F(s) p_S(f)`` (marginals from swapped axes: the same thing where S and F share a histogram);
    cells where that product is 0 are skipped. A flat image is taken as all 0 (as NMI). RGB: mean
    over channels.

    >>> import numpy as np
    >>> x = np.repeat(np.array([[0, 255]], np.uint8), 2, axis=0)  # two levels, half and half
    >>> round(te(x, x, x), 12) == round(2 * (1 - 2 * 0.5 ** (2 - TE_Q)) / (1 - TE_Q), 12)
    True
    """
    F, A, B = triplet(fused, a, b)
    lf = stretch_levels(F)
    total = np.zeros(F.shape[0])
    for src in (A, B):
        total += [_tsallis(counts) for counts in joint_histogram(source_levels(src), lf)]
    return float(total.mean())


# ----------------------------------------------------------------------------------------- FMI


def matlab_sobel_edges(x: Float) -> np.ndarray:
    """MATLAB ``edge(x)`` (Sobel, automatic threshold, thinning) of each ``HxW`` plane of a stack.

    Gradients ``bx, by`` of ``fspecial('sobel') / 8`` with replicated borders, ``b = bx^2 + by^2``,
    cutoff ``4 mean(b)`` per plane; a pixel is an edge where ``b > cutoff`` and it is a local maximum
    of ``b`` across the dominant gradient direction: left neighbour ``<=`` and right ``<`` where
    ``|bx| >= |by|`` (within 100 eps), upper ``<=`` and lower ``<`` where ``|by| >= |bx|``; a missing
    neighbour at the border counts as passed (Image Processing Toolbox's ``edge.m``).

    Example:
        >>> step = np.repeat(np.array([[0.0] * 6 + [1.0] * 6]), 5, axis=0)
        >>> matlab_sobel_edges(step)[2].astype(int)  # the right-hand one of the two equal maxima
        array([0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    """
    dx, dy = sobel(x, mode="nearest")
    bx, by = np.abs(dx / SOBEL_NORM), np.abs(dy / SOBEL_NORM)
    b = bx * bx + by * by
    cutoff = EDGE_SCALE * b.sum(axis=(-2, -1), keepdims=True) / (b.shape[-2] * b.shape[-1])
    across = bx >= by - _THIN_TOL
    step = b[..., :, :-1] > b[..., :, 1:]  # b(r, c) > b(r, c + 1)
    across[..., :, :-1] &= step  # right neighbour lower (none at the last column)
    across[..., :, 1:] &= ~step  # left neighbour not higher (none at the first column)
    along = by >= bx - _THIN_TOL
    step = b[..., :-1, :] > b[..., 1:, :]
    along[..., :-1, :] &= step
    along[..., 1:, :] &= ~step
    return (b > cutoff) & (across | along)


def window_codes(e: np.ndarray) -> np.ndarray:
    """Each 3x3 window ('valid') of boolean maps as a 9-bit code, bit ``k`` the window's ``k``-th
    value in MATLAB's column-major order (``sub(:)``), over the last two axes.

    Example:
        >>> window_codes(np.array([[1, 0, 0], [1, 0, 0], [0, 0, 1]], bool))
        array([[259]])
    """
    h, w = e.shape[-2] - FMI_WIN + 1, e.shape[-1] - FMI_WIN + 1
    code = np.zeros(e.shape[:-2] + (h, w), np.int64)
    for col in range(FMI_WIN):
        for row in range(FMI_WIN):
            code |= e[..., row:row + h, col:col + w].astype(np.int64) << (col * FMI_WIN + row)
    return code


def _seq_sum(x: Float) -> Float:
    """Sum over the last axis in index order (MATLAB's loops), by a running sum."""
    return np.cumsum(x, axis=-1)[..., -1]


def _bits_of(codes: np.ndarray) -> Float:
    """``(N, 9)`` 0/1 values of window codes; a constant window (no edge or all edges) as all 1s,
    which is what ``fmi.m``'s rescaling ``(x - min) / (max - min)`` (else ``ones``) leaves."""
    bits = ((codes[:, None] >> np.arange(_CELLS)) & 1).astype(np.float64)
    bits[(codes == _NO_EDGE) | (codes == _ALL_EDGE)] = 1.0
    return bits


def _plogp_sum(p: Float) -> Float:
    """``sum -p log2 |p|`` over the non-zero ``p`` of each row: MATLAB's ``real(-p .* log2(p))``
    (a negative joint-pdf value has a complex log whose real part this is)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p != 0, -p * np.log2(np.abs(p)), 0.0)
    return _seq_sum(terms)


def _fmi_pairs(src_codes: np.ndarray, fus_codes: np.ndarray) -> Float:
    """``fmi.m``'s normalised MI of each window pair (source window, fused window), by codes."""
    sp, fp = _bits_of(src_codes), _bits_of(fus_codes)
    sp = sp / sp.sum(axis=1, keepdims=True)
    fp = fp / fp.sum(axis=1, keepdims=True)
    sc, fc = np.cumsum(sp, axis=1), np.cumsum(fp, axis=1)
    # MATLAB's mean and sum (not running sums: a running sum of nine 1/9 is 1 + 2^-52, every
    # blocked or pairwise order gives exactly 1), so a uniform window's deviations are exactly 0
    # and its correlation with another uniform one is 0, not 1 from rounding noise.
    st = sp - (sp.sum(axis=1) / _CELLS)[:, None]
    ft = fp - (fp.sum(axis=1) / _CELLS)[:, None]
    num = (st * ft).sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        c = np.where(num == 0, 0.0, num / np.sqrt((st * st).sum(axis=1) * (ft * ft).sum(axis=1)))
    idx = np.arange(1, _CELLS + 1, dtype=np.float64)
    sd_s = np.sqrt(_seq_sum(idx * idx * sp) - _seq_sum(idx * sp) ** 2)
    sd_f = np.sqrt(_seq_sum(idx * idx * fp) - _seq_sum(idx * fp) ** 2)
    f_i, s_j = fc[:, :, None], sc[:, None, :]  # joint cells (i over F, j over the source)
    upper = 0.5 * (f_i + s_j - np.abs(f_i - s_j))  # Frechet bounds of the joint CDF
    lower = 0.5 * (f_i + s_j - 1 + np.abs(f_i + s_j - 1))
    positive = c >= 0
    bound = np.where(positive[:, None, None], upper, lower)
    cov = (bound - f_i * s_j).sum(axis=(1, 2))
    degenerate = (sd_s == 0) | (sd_f == 0) | (c == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mix = np.where(degenerate, 0.0, c / (cov / (sd_f * sd_s)))  # phi (c >= 0) or theta (c < 0)
    padded = np.pad(bound, ((0, 0), (1, 0), (1, 0)))
    cell = padded[:, 1:, 1:] - padded[:, :-1, 1:] - padded[:, 1:, :-1] + padded[:, :-1, :-1]
    m = mix[:, None, None]
    jpdf = m * cell + (1 - m) * (fp[:, :, None] * sp[:, None, :])
    joint = _plogp_sum(jpdf.reshape(len(jpdf), -1))
    h_s, h_f = _plogp_sum(sp), _plogp_sum(fp)
    mi = h_s + h_f - joint
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(mi == 0, 0.0, 2 * mi / (h_s + h_f))
    return np.where(src_codes == fus_codes, 1.0, out)


def _fmi_of_codes(*pairs: tuple[np.ndarray, np.ndarray]) -> list[Float]:
    """:func:`_fmi_pairs` of every window of each (source codes, fused codes) pair of maps, each
    distinct pair of codes scored once (a table of the 512 x 512 possible pairs, filled where they occur)."""
    keys = [src * _PATTERNS + fus for src, fus in pairs]
    present = np.zeros(_PATTERNS * _PATTERNS, bool)
    for k in keys:
        present[k.ravel()] = True
    occurring = np.flatnonzero(present)
    table = np.empty(_PATTERNS * _PATTERNS)
    for chunk in np.array_split(occurring, max(1, -(-len(occurring) // _CHUNK))):
        table[chunk] = _fmi_pairs(chunk // _PATTERNS, chunk % _PATTERNS)
    return [table[k] for k in keys]


@source_cached
def _source_codes(S: Float) -> np.ndarray:
    """A source stack's edge-map window codes (a repeated plane once): the same whatever fused image it is
    compared with, so computed once per source in a call (or ``shared_inputs(sources=True)``) block."""
    return window_codes(matlab_sobel_edges(collapse_repeated_planes(S)))


def fmi(fused: ArrayLike, a: ArrayLike, b: ArrayLike) -> float:
    """FMI: Haghighat et al.'s feature mutual information (Comput. Electr. Eng. 37(5), 2011), MEFB's ``metricsFMI.m``.

    Why: MI of image *features* rather than grey levels, window by window: MEFB calls the authors'
    Fast-FMI ``fmi(A, B, F)`` with its defaults, so the features are MATLAB ``edge`` maps (Sobel,
    automatic threshold, thinning: :func:`matlab_sobel_edges`) and the windows 3x3 ('valid'). In each
    window the 9 rescaled values of a source and of F are read as two pdfs, their joint pdf built
    from Nelsen's copula bounds, and ``2 MI / (H_S + H_F)`` taken (1 for identical windows); FMI is
    the mean of ``(FMI_AF + FMI_BF) / 2``. As the code, the (B, F) term sees F's window as the (A, F)
    term left it: a window without edges in F, unlike A's, becomes all ones, so that it no longer
    matches an edgeless B window (FMI is not symmetric in A and B there). Up to 1 (F = A = B).
    Needs 3x3 pixels. RGB: mean over channels.

    >>> import numpy as np
    >>> x = np.random.default_rng(0).integers(0, 256, (16, 16)).astype(np.uint8)
    >>> fmi(x, x, x)
    1.0
    """
    F, A, B = triplet(fused, a, b)
    check_size(*F.shape[-2:], FMI_WIN, "FMI")
    cf = window_codes(matlab_sobel_edges(F))
    ca, cb = np.broadcast_arrays(_source_codes(A), _source_codes(B), cf)[:2]
    # fmi.m rescales F's window in place in the (A, F) term: a constant one becomes all ones there.
    cf_b = np.where((ca != cf) & (cf == _NO_EDGE), _ALL_EDGE, cf)
    fmi_af, fmi_bf = _fmi_of_codes((ca, cf), (cb, cf_b))
    score = (fmi_af + fmi_bf) / 2
    return float(score.mean(axis=(-2, -1)).mean())
