"""Discrete-wavelet-transform fusion (Li, Manjunath & Mitra 1995).

Both sources are decomposed with a 2-D DWT (PyWavelets); detail sub-bands are
fused by choosing the coefficient with the larger absolute value, the
approximation band is averaged, and the inverse DWT is cropped back to the
input size (H. Li, B. S. Manjunath and S. K. Mitra, "Multisensor image fusion
using the wavelet transform", Graphical Models and Image Processing 1995).
For RGB the choice is made on the luma of the coefficients and applied to all
three channels, and no pixel comes out more colourful than both sources
(:func:`~defusion.baselines._common.cap_chroma`).
"""

from __future__ import annotations

import numpy as np

from defusion.baselines._common import BaselineRunError, cap_chroma, check_pair, choose_max_abs, finish


def fuse_dwt(a: np.ndarray, b: np.ndarray, wavelet: str = "db2", levels: int = 3) -> np.ndarray:
    """DWT fusion: max-abs on detail sub-bands, mean on the approximation.

    ``levels`` is lowered to what the image size allows for ``wavelet``
    (plain averaging when no level fits).

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).random((37, 51, 3)).astype(np.float32)
        >>> y = fuse_dwt(x, x)
        >>> y.shape, bool(np.allclose(y, x, atol=1e-5))
        ((37, 51, 3), True)
    """
    try:
        import pywt
    except ImportError as exc:  # pragma: no cover - PyWavelets is a declared dependency
        raise BaselineRunError("fuse_dwt needs PyWavelets: pip install PyWavelets") from exc
    a, b, dtype = check_pair(a, b)
    h, w = a.shape[:2]
    filter_len = pywt.Wavelet(wavelet).dec_len
    levels = min(levels, pywt.dwt_max_level(min(h, w), filter_len))
    if levels < 1:
        return finish(0.5 * (a + b), dtype)
    ca = pywt.wavedec2(a, wavelet, mode="symmetric", level=levels, axes=(0, 1))
    cb = pywt.wavedec2(b, wavelet, mode="symmetric", level=levels, axes=(0, 1))
    fused: list = [0.5 * (ca[0] + cb[0])]
    for bands_a, bands_b in zip(ca[1:], cb[1:]):
        fused.append(tuple(choose_max_abs(da, db) for da, db in zip(bands_a, bands_b)))
    out = pywt.waverec2(fused, wavelet, mode="symmetric", axes=(0, 1))
    return finish(cap_chroma(out[:h, :w], a, b), dtype)
