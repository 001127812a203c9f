"""Image-fusion quality metrics: small, vectorised numpy functions of ``(fused, a, b)``.

Every metric takes the fused image and the two source images (``a`` = first source, e.g. the
visible image in VIFB; ``b`` = second source, e.g. infrared) as numpy arrays or torch tensors,
``HxW`` or ``HxWx3`` (channels last), all three of one height and width whatever metrics are asked (else ``ValueError``),
scored **on the 0..255 scale** (``uint8`` and 0..255 floats as they are; ``uint16`` as the 8-bit
image it rounds to; floats in [0, 1] times 255; other float ranges raise ``ValueError``), and
returns a Python float. The 13 VIFB metrics reproduce VIFB's MATLAB code, quirks included; every definition and
convention is in ``docs/metrics.md``.

>>> import numpy as np
>>> from defusion.metrics import METRICS, compute_metrics
>>> x = np.random.default_rng(0).integers(0, 256, (32, 32)).astype(np.uint8)
>>> compute_metrics(x, x, x, names=["SSIM", "CE"])  # a "fusion" that copies both sources
{'SSIM': 2.0, 'CE': 0.0}
>>> METRICS["CE"].higher_is_better
False
"""

from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np
from numpy.typing import ArrayLike

from defusion.errors import DefusionWarning, caller_stacklevel
from defusion.io.arrays import holds_eight_bit_values, is_tensor, not_pixels
from defusion.metrics._cache import one_call, shared_inputs
from defusion.metrics._errors import MetricInputError, MetricNameError, size_mismatch, source_labels
from defusion.metrics._inputs import as_image
from defusion.metrics.gradient import average_gradient, edge_intensity, nabf, qabf, spatial_frequency
from defusion.metrics.information import cross_entropy, entropy, mutual_information, mutual_information_bits
from defusion.metrics.mefb import nmi, qncie, qy
from defusion.metrics.mefb_information import fmi, te
from defusion.metrics.mefb_structural import qc, qw
from defusion.metrics.phase_congruency import qp
from defusion.metrics.perceptual import qcb, qcv, vif, vifp
from defusion.metrics.statistics import (
    correlation_coefficient,
    psnr,
    psnr_standard,
    rmse,
    rmse_standard,
    scd,
    standard_deviation,
)
from defusion.metrics.structural import mef_ssim, ms_mef_ssim, ms_ssim, ssim, ssim_mean

MetricFn = Callable[[ArrayLike, ArrayLike, ArrayLike], float]


@dataclass(frozen=True)
class MetricSpec:
    """A registered metric: the function, its direction, and a one-line description."""

    fn: MetricFn
    higher_is_better: bool
    description: str
    #: Another metric this one is a rescaling of (same ranking of any methods on any images), so
    #: that counts and mean ranks over several metrics weigh that measure once (:func:`distinct`).
    same_as: str | None = None
    #: Whether :func:`compute_metrics` computes it when no names are given (False for a metric
    #: too slow for that: over a second on a 512x512 RGB image).
    in_default: bool = True


#: The 13 metrics of VIFB (Zhang et al. 2020), reproducing its MATLAB values.
VIFB_METRICS: tuple[str, ...] = (
    "EN", "SD", "SF", "AG", "EI", "MI", "CE", "PSNR", "RMSE", "Qabf", "Qcb", "Qcv", "SSIM",
)

#: Short name -> metric. The first 13 follow VIFB; the rest are documented in docs/metrics.md.
METRICS: dict[str, MetricSpec] = {
    "EN": MetricSpec(entropy, True, "entropy of the fused image (bits)"),
    "SD": MetricSpec(standard_deviation, True, "standard deviation of the fused image (VIFB 'Variance')"),
    "SF": MetricSpec(spatial_frequency, True, "spatial frequency (VIFB: channels side by side)"),
    "AG": MetricSpec(average_gradient, True, "average gradient"),
    "EI": MetricSpec(edge_intensity, True, "edge intensity (mean Sobel magnitude)"),
    "MI": MetricSpec(mutual_information, True, "MI(A,F) + MI(B,F), nats, VIFB min-max stretch"),
    "CE": MetricSpec(cross_entropy, False, "VIFB 'cross entropy', really KL(A||F), KL(B||F) mean (bits, can be < 0)"),
    "PSNR": MetricSpec(psnr, True, "VIFB PSNR (dB) from its sqrt(SSE)/(H*W) 'mse'"),
    "RMSE": MetricSpec(rmse, False, "VIFB RMSE: mean over sources of sqrt(SSE)/(H*W)"),
    "Qabf": MetricSpec(qabf, True, "Xydeas-Petrovic edge information transfer"),
    "Qcb": MetricSpec(qcb, True, "Chen-Blum CSF contrast preservation"),
    "Qcv": MetricSpec(qcv, False, "Chen-Varshney CSF-weighted regional distortion"),
    "SSIM": MetricSpec(ssim, True, "SSIM(A,F) + SSIM(B,F) (VIFB sum, max 2)"),
    "SSIM-mean": MetricSpec(ssim_mean, True, "(SSIM(A,F) + SSIM(B,F)) / 2", same_as="SSIM"),
    "MS-SSIM": MetricSpec(ms_ssim, True, "MS-SSIM(A,F) + MS-SSIM(B,F), Wang 2003, 5 scales"),
    "MEF-SSIM": MetricSpec(mef_ssim, True, "MEF-SSIM, Ma-Zeng-Wang 2015, single scale, grey"),
    "MS-MEF-SSIM": MetricSpec(ms_mef_ssim, True, "multi-scale MEF-SSIM (3 scales; MEFB's 'MEF-SSIM')"),
    "MI-bits": MetricSpec(mutual_information_bits, True, "MI(A,F) + MI(B,F), bits, raw grey levels"),
    "PSNR-standard": MetricSpec(psnr_standard, True, "10 log10(255^2 / mean of MSE(A,F), MSE(B,F)) (dB)"),
    "RMSE-standard": MetricSpec(rmse_standard, False, "mean of RMSE(A,F) and RMSE(B,F)"),
    "CC": MetricSpec(correlation_coefficient, True, "mean of the correlations r(A,F), r(B,F)"),
    "SCD": MetricSpec(scd, True, "sum of the correlations of differences"),
    "VIF": MetricSpec(vif, True, "VIFF (Han et al. 2013), as MEFB"),
    "VIFp": MetricSpec(vifp, True, "pixel-domain VIF(A,F) + VIF(B,F) (Sheikh-Bovik)"),
    "Nabf": MetricSpec(nabf, False, "fusion artifacts, Shreyamsha Kumar's modified N_abf"),
    "NMI": MetricSpec(nmi, True, "Hossny's normalised MI, 2 sum MI(S,F)/(H(S)+H(F)), bits, max 2 (MEFB)"),
    "Qncie": MetricSpec(qncie, True, "nonlinear correlation information entropy of A, B, F (MEFB)"),
    "Qy": MetricSpec(qy, True, "Yang's SSIM-based metric, 7x7 windows, max 1 (MEFB)"),
    "Qp": MetricSpec(qp, True, "Zhao's phase-congruency metric (pc, M, m correlations), max 1 (MEFB); slow",
                     in_default=False),
    "FMI": MetricSpec(fmi, True, "Haghighat's feature MI of Sobel edge maps, 3x3 windows, max 1 (MEFB)"),
    "TE": MetricSpec(te, True, "Tsallis MI (q = 1.85) of A,F plus B,F, images stretched (MEFB)"),
    "Qc": MetricSpec(qc, True, "Cvejic's covariance-weighted SSIM(7x7) metric, max 1 (MEFB)"),
    "Qw": MetricSpec(qw, True, "Piella's weighted fusion quality index on edge images, max 1 (MEFB)"),
}


#: What :func:`compute_metrics` computes when no names are given: every metric but the slow ones
#: (``MetricSpec.in_default`` False: Qp, about 3 s on a 512x512 RGB image), which are computed when named.
DEFAULT_METRICS: tuple[str, ...] = tuple(name for name, spec in METRICS.items() if spec.in_default)

#: The 20 metrics of MEFB (Zhang 2021), as its paper groups them: information theory, image feature,
#: structural similarity, human perception. MEFB's "MEF-SSIM" is the 3-scale index, ``MS-MEF-SSIM`` here.
MEFB_METRICS: tuple[str, ...] = (
    "CE", "EN", "FMI", "NMI", "PSNR", "Qncie", "TE",
    "AG", "EI", "Qabf", "Qp", "SD", "SF",
    "Qc", "Qw", "Qy", "MS-MEF-SSIM",
    "Qcb", "Qcv", "VIF",
)
#: Names that stand for a benchmark's whole set in :func:`metric_names`.
METRIC_SETS: dict[str, tuple[str, ...]] = {"vifb": VIFB_METRICS, "mefb": MEFB_METRICS}

#: Metrics defined for any number of sources: the no-reference ones (the fused image alone),
#: MEF-SSIM, which compares it with a whole exposure bracket, and Qabf, whose edge-strength weights
#: extend to any number of sources. The others compare it with a pair.
ANY_SOURCE_METRICS: tuple[str, ...] = ("EN", "SD", "SF", "AG", "EI", "MEF-SSIM", "MS-MEF-SSIM", "Qabf")
#: Those of them that compare the fused image with the sources, so take every source.
_EVERY_SOURCE_METRICS = ("MEF-SSIM", "MS-MEF-SSIM", "Qabf")


def _described(value: object) -> str:
    """What a refused argument is, for a message: ``one ndarray of shape (40, 50, 3)``, ``one int``."""
    shape = getattr(value, "shape", None)
    return f"one {type(value).__name__}" + (f" of shape {tuple(shape)}" if shape is not None else "")


def _source_list(sources: object, call: str, names: bool = False) -> list[ArrayLike]:
    """``sources`` (what ``call`` was given as its list of sources) as a list, refused with a
    :class:`MetricInputError` where it is no list or tuple: the sources passed as separate arguments
    (``compute_stack_metrics(fused, a, b)`` would score ``a``'s rows as sources and take ``b`` as the
    metric names) or an array stacking them; the call the message shows takes ``names`` with ``names``.

    Example:
        >>> import numpy as np
        >>> _source_list(np.zeros((4, 5, 3)), "compute_stack_metrics")
        Traceback (most recent call last):
        ...
        defusion.metrics._errors.MetricInputError: compute_stack_metrics got one ndarray of shape (4, 5, 3) as its sources: pass the sources as one list: compute_stack_metrics(fused, [a, b]) (an array stacking them: list(array))
    """
    if isinstance(sources, (list, tuple)):
        return list(sources)
    raise MetricInputError(f"{call} got {_described(sources)} as its sources: pass the sources as one list: "
                           f"{call}(fused, [a, b]{', names' if names else ''}) (an array stacking them: list(array))")


def _source_count(sources: object, call: str) -> int:
    """``sources``, the number of sources ``call`` takes, refused (:class:`MetricInputError`) where it is
    no whole number: the list of sources itself, say.

    Example:
        >>> _source_count([1, 2], "check_source_count")
        Traceback (most recent call last):
        ...
        defusion.metrics._errors.MetricInputError: check_source_count takes the number of sources, got one list: pass len(sources)
    """
    if isinstance(sources, numbers.Integral) and not isinstance(sources, bool):
        return int(sources)
    raise MetricInputError(f"{call} takes the number of sources, got {_described(sources)}: pass len(sources)")


def _name_items(spec: str | Iterable[str]) -> list[str]:
    """The items of a names ``spec`` (:func:`metric_names`): a string's comma-separated parts, a
    list's strings. Anything else (an image, where ``compute_metrics(fused, a, b, c)`` took a third
    source as the names) is refused with a :class:`MetricNameError` that says what names are and how
    to pass more sources, not one that prints the image's pixels as an unknown name.

    Example:
        >>> import numpy as np
        >>> _name_items("EN, SD"), _name_items(["EN"])
        (['EN', ' SD'], ['EN'])
        >>> _name_items(np.zeros((2, 2), np.uint8))
        Traceback (most recent call last):
        ...
        defusion.metrics._errors.MetricNameError: metric names are strings (a list of them, or one comma-separated string: "EN,Qabf"), got one ndarray of shape (2, 2): a source passed as the names? pass the sources as one list: compute_stack_metrics(fused, [a, b, c], names)
    """
    if isinstance(spec, str):
        return spec.split(",")
    items = list(spec) if isinstance(spec, Iterable) and getattr(spec, "shape", None) is None else None
    if items is None or not all(isinstance(item, str) for item in items):
        wrong = spec if items is None else next(item for item in items if not isinstance(item, str))
        raise MetricNameError(f'metric names are strings (a list of them, or one comma-separated string: "EN,Qabf"), '
                              f"got {_described(wrong)}: a source passed as the names? pass the sources as one "
                              "list: compute_stack_metrics(fused, [a, b, c], names)")
    return items


def metric_names(spec: str | Iterable[str]) -> list[str]:
    """Metric names as ``METRICS`` spells them, from a comma-separated string or a list, matched
    case-insensitively; ``vifb`` stands for the 13 VIFB metrics and ``mefb`` for MEFB's 20
    (:data:`METRIC_SETS`). Unknown names raise ``MetricNameError`` (a ``KeyError``) naming the known ones.

    Names that are no strings (an image passed where the names go) raise ``MetricNameError`` too,
    saying how to pass the sources.

    Example:
        >>> metric_names("qabf, ssim-mean,EN")
        ['Qabf', 'SSIM-mean', 'EN']
        >>> len(metric_names("MEFB")), metric_names("mefb")[-4:]
        (20, ['MS-MEF-SSIM', 'Qcb', 'Qcv', 'VIF'])
    """
    items = _name_items(spec)
    by_lower = {name.lower(): name for name in METRICS}
    names: list[str] = []
    unknown = []
    for item in (str(s).strip() for s in items):
        if not item:
            continue
        if item.lower() in METRIC_SETS:
            names.extend(METRIC_SETS[item.lower()])
        elif item.lower() in by_lower:
            names.append(by_lower[item.lower()])
        else:
            unknown.append(item)
    if unknown:
        raise MetricNameError(f"unknown metric(s) {', '.join(unknown)}; known: {', '.join([*METRIC_SETS, *METRICS])}")
    if not names:
        raise MetricNameError(f"no metric named; known: {', '.join([*METRIC_SETS, *METRICS])}")
    return list(dict.fromkeys(names))


def names_for_sources(spec: str | Iterable[str], sources: int) -> tuple[list[str], list[str]]:
    """:func:`metric_names` for a fusion of ``sources`` images: ``(names, left_out)``. With more than
    two sources a set (``vifb``, ``mefb``) keeps only its metrics defined for any number
    (:data:`ANY_SOURCE_METRICS`) and ``left_out`` lists the rest, since asking for a set means
    "what applies"; a pairwise metric named on its own is still refused (:func:`check_source_count`).

    Example:
        >>> names, left_out = names_for_sources("mefb", 3)
        >>> names, len(left_out)
        (['EN', 'AG', 'EI', 'Qabf', 'SD', 'SF', 'MS-MEF-SSIM'], 13)
        >>> names_for_sources("mefb", 2)[1]
        []
    """
    sources = _source_count(sources, "names_for_sources")
    items = _name_items(spec)
    named = metric_names(items)
    if sources <= 2:
        check_source_count(named, sources)
        return named, []
    own_items = [s for s in items if s.strip() and s.strip().lower() not in METRIC_SETS]
    own = metric_names(own_items) if own_items else []
    check_source_count(own, sources)  # a pairwise metric asked for by name: an error
    names = [n for n in named if n in ANY_SOURCE_METRICS or n in own]
    return names, [n for n in named if n not in names]


def distinct(names: Iterable[str]) -> list[str]:
    """``names`` less each metric that rescales another of them (``MetricSpec.same_as``): what a
    count such as "better on 8 of 11 metrics" or a mean rank should run over.

    Example:
        >>> distinct(["MEF-SSIM", "SSIM", "SSIM-mean", "EN"]), distinct(["SSIM-mean", "EN"])
        (['MEF-SSIM', 'SSIM', 'EN'], ['SSIM-mean', 'EN'])
    """
    names = list(names)
    return [n for n in names if n not in METRICS or METRICS[n].same_as not in names]


def check_source_count(names: Iterable[str], sources: int) -> None:
    """Refuse fewer than two sources, and metrics that compare with a pair when there are more
    (``ValueError`` naming what can be asked for).

    Example:
        >>> check_source_count(["EN", "Qabf"], 3)  # any number of sources: fine
        >>> check_source_count(["SSIM"], 3)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.metrics._errors.MetricInputError: SSIM compares the fused image with two sources; with 3 sources ask for EN, ...
    """
    sources = _source_count(sources, "check_source_count")
    if sources < 2:
        raise MetricInputError(f"need at least two sources, got {sources}")
    pairwise = list(dict.fromkeys(n for n in names if n not in ANY_SOURCE_METRICS))
    if sources > 2 and pairwise:
        raise MetricInputError(f"{', '.join(pairwise)} compare{'s' if len(pairwise) == 1 else ''} the fused image "
                         f"with two sources; with {sources} sources ask for {', '.join(ANY_SOURCE_METRICS)}")


def compute_stack_metrics(fused: ArrayLike, sources: list[ArrayLike], names: Iterable[str] | None = None
                          ) -> dict[str, float]:
    """The named metrics (default: those of ``ANY_SOURCE_METRICS`` the images are large enough
    for, see :func:`compute_metrics`) of a fusion of any number of sources, e.g. an exposure
    bracket; a metric that compares with a pair raises ``ValueError`` when named with more than
    two sources, while a set (``mefb``, ``vifb``) gives those of its metrics that apply
    (:func:`names_for_sources`) and a ``DefusionWarning`` (a ``UserWarning``) names the ones it leaves out.

    ``sources`` is one list (or tuple) of images, unlike :meth:`defusion.Fuser.fuse`'s separate
    arguments: ``compute_stack_metrics(fused, a, b)`` is refused (``MetricInputError``) saying so.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(3).integers(0, 256, (24, 24)).astype(np.uint8)
        >>> round(compute_stack_metrics(x, [x, x, x], ["MEF-SSIM"])["MEF-SSIM"], 6)
        1.0
    """
    sources = _source_list(sources, "compute_stack_metrics")
    if names is None:
        return _defaults_that_fit(fused, sources, ANY_SOURCE_METRICS)
    names, left_out = names_for_sources(names, len(sources))
    if left_out:
        warnings.warn(f"{len(left_out)} metrics of the set compare with a pair and are left out for "
                      f"{len(sources)} sources: {', '.join(left_out)}", DefusionWarning, stacklevel=caller_stacklevel())
    fused, sources = _held_all(fused, sources)
    with one_call():  # checked and converted once for all metrics, each warning said once
        check_images(fused, sources)
        return _computed(fused, sources, names)


def _held_all(fused: ArrayLike, sources: list[ArrayLike]) -> tuple[ArrayLike, list[ArrayLike]]:
    """The inputs as the metrics of one call share them (:func:`_held`), each named as in errors."""
    labels = source_labels(len(sources))
    return _held(fused, "fused"), [_held(x, label) for x, label in zip(sources, labels)]


def _held(image: ArrayLike, label: str) -> ArrayLike:
    """An input as the metrics of one call share it: a numpy array, converted once, or a torch tensor
    as it is (read by :func:`~defusion.metrics._inputs.as_image`, which knows its float precision). What is
    no pixel array (a path, a list of bools, ...) is refused first, as what it is
    (:func:`~defusion.io.arrays.not_pixels`), not as the array NumPy makes of it.

    Example:
        >>> _held("fused.png", "fused")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.metrics._errors.MetricInputError: fused is a path (fused.png); pass pixel arrays: read files with ...
    """
    problem = not_pixels(image, label, levels=True)
    if problem:
        raise MetricInputError(problem)
    return image if is_tensor(image) else np.asarray(image)


def check_images(fused: ArrayLike, sources: list[ArrayLike]) -> None:
    """Refuse, with ``ValueError``, inputs no metric can take: an image of the wrong shape, dtype or
    value range, or images whose heights and widths differ. Checked whatever metrics are asked, so
    that a no-reference metric (EN, which reads the fused image alone) cannot score a fused image
    against sources of another size. A ``uint16`` image whose values are all <= 255 (8-bit values in
    16 bits, scored near black) is no error: a ``UserWarning`` names it, once per call. ``sources``
    is one list of images.

    Example:
        >>> import numpy as np
        >>> grey = np.zeros((4, 4), np.uint8)
        >>> check_images(grey, [grey, np.zeros((4, 5), np.uint8)])
        Traceback (most recent call last):
        ...
        defusion.metrics._errors.MetricInputError: size mismatch (W x H): fused 4x4, a 4x4, b 5x4
    """
    sources = _source_list(sources, "check_images")
    labels = ["fused", *source_labels(len(sources))]
    shapes = {label: as_image(image, label).shape for label, image in zip(labels, [fused, *sources])}
    mismatch = size_mismatch(shapes)
    if mismatch:
        raise MetricInputError(mismatch)


def _computed(fused: np.ndarray, sources: list[np.ndarray], names: list[str]) -> dict[str, float]:
    """The named metrics of inputs already checked (:func:`check_images`): a metric defined for any
    number of sources that compares with them takes every source, the others the first two."""
    return {n: METRICS[n].fn(fused, *(sources if n in _EVERY_SOURCE_METRICS else sources[:2])) for n in names}


def compute_each(fused: ArrayLike, sources: list[ArrayLike], names: Iterable[str]
                 ) -> tuple[dict[str, float], dict[str, str]]:
    """The named metrics one by one, so that one an image cannot take (too small for a multi-scale
    metric or SSIM's window) leaves the others: ``({name: value}, {name: why not computed})``.
    Inputs no metric can take (:func:`check_images`, :func:`check_source_count`) raise ``ValueError``.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).integers(0, 256, (8, 8)).astype(np.uint8)
        >>> values, skipped = compute_each(x, [x, x], ["EN", "SSIM"])
        >>> list(values), list(skipped)
        (['EN'], ['SSIM'])
    """
    sources = _source_list(sources, "compute_each", names=True)
    names = metric_names(names)
    check_source_count(names, len(sources))
    fused, sources = _held_all(fused, sources)
    values: dict[str, float] = {}
    skipped: dict[str, str] = {}
    with one_call():  # the inputs converted once for all of them, each warning said once
        check_images(fused, sources)  # a bad input is an error, not a metric skipped
        for name in names:
            try:
                values[name] = _computed(fused, sources, [name])[name]
            except ValueError as exc:
                skipped[name] = str(exc)
    return values, skipped


def _defaults_that_fit(fused: ArrayLike, sources: list[ArrayLike], names: Iterable[str]) -> dict[str, float]:
    """A default set of metrics, less those the images are too small for (:func:`compute_each`).

    Inputs no metric can take (dtype, shape, value range, sizes that differ) still raise
    ``ValueError``: only a metric's own refusal is skipped, never a bad image."""
    values, _ = compute_each(fused, sources, names)
    return values


def compute_metrics(
    fused: ArrayLike, a: ArrayLike, b: ArrayLike, names: Iterable[str] | None = None
) -> dict[str, float]:
    """Compute the named metrics (default: those of ``DEFAULT_METRICS`` that fit, i.e. all of
    ``METRICS`` but the slow Qp) and return ``{name: value}``.

    ``names``: short names from ``METRICS``, ``vifb`` or ``mefb``, a list or one comma-separated string,
    any case (:func:`metric_names`); an unknown name raises ``MetricNameError`` (a ``KeyError``
    subclass, printed without quotes) listing the known ones.
    A named metric the images are too small for raises ``ValueError``; the default set instead
    leaves it out: MS-SSIM under 176 pixels a side, MS-MEF-SSIM under 44, VIF and VIFp under 41,
    SSIM, SSIM-mean, MEF-SSIM, Qy, Qc, Qw and Qp under 11, FMI under 3.
    Images: numpy arrays or torch tensors, HxW or HxWx3 (HxWx1 as grey; alpha refused: drop it,
    ``x[..., :3]``), uint8, uint16, float on 0..255 or in [0, 1], other integers on 0..255
    (scored on the 0..255 scale, as VIFB; a uint16 image as the 8-bit image it rounds to, with a
    ``UserWarning`` naming it, once per call, where its values are all <= 255: 8-bit values
    in 16 bits, near black so, to be passed as uint8; a float16
    or float32 copy of an 8-bit image as that image; floats clipped to [0, 1], or read on 0..255
    while under 2, with a ``DefusionWarning`` once per call; other float ranges raise ``ValueError``;
    a path, or a type no image has, ``ValueError`` in the Fuser's words), all of
    the same height and width whatever ``names`` asks for (else ``ValueError``, sizes as W x H);
    they are converted once for all metrics.

    Example:
        >>> import numpy as np
        >>> x = np.random.default_rng(0).integers(0, 256, (64, 64)).astype(np.uint8)
        >>> sorted(set(DEFAULT_METRICS) - set(compute_metrics(x, x, x)))  # what a 64x64 image cannot take
        ['MS-SSIM']
        >>> sorted(set(DEFAULT_METRICS) - set(compute_metrics(x[:40], x[:40], x[:40])))  # nor 64x40
        ['MS-MEF-SSIM', 'MS-SSIM', 'VIF', 'VIFp']
    """
    if names is None:
        return _defaults_that_fit(fused, [a, b], list(DEFAULT_METRICS))
    return compute_stack_metrics(fused, [a, b], names)


__all__ = [
    "ANY_SOURCE_METRICS",
    "DEFAULT_METRICS",
    "METRICS",
    "VIFB_METRICS",
    "MEFB_METRICS",
    "METRIC_SETS",
    "MetricInputError",
    "MetricNameError",
    "MetricSpec",
    "compute_each",
    "compute_metrics",
    "compute_stack_metrics",
    "check_images",
    "check_source_count",
    "distinct",
    "holds_eight_bit_values",
    "metric_names",
    "names_for_sources",
    "shared_inputs",
    "source_labels",
    "average_gradient",
    "correlation_coefficient",
    "cross_entropy",
    "edge_intensity",
    "entropy",
    "fmi",
    "mef_ssim",
    "ms_mef_ssim",
    "ms_ssim",
    "mutual_information",
    "mutual_information_bits",
    "nabf",
    "nmi",
    "psnr",
    "psnr_standard",
    "qabf",
    "qc",
    "qcb",
    "qcv",
    "qncie",
    "qp",
    "qw",
    "qy",
    "rmse",
    "rmse_standard",
    "scd",
    "spatial_frequency",
    "ssim",
    "ssim_mean",
    "standard_deviation",
    "te",
    "vif",
    "vifp",
]
