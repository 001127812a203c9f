"""Reading images as the metrics score them, and showing what was scored.

``defusion metrics`` reads every file as :func:`read_scored` reads it and ``defusion bench`` its
published results and sources (:func:`read_source`), so that both commands score a file alike:
floats as the values they are, integers in 8 bits (16-bit rounded by the metrics' one rule).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from defusion.benchmark.findings import Finding, finding_notes
from defusion.fusion.color import is_grey
from defusion.fusion.stretch import is_narrow, value_range
from defusion.io.arrays import MAX_8BIT, MAX_16BIT, holds_eight_bit_values
# defined there, below io.sheets that shows pixels by it too, and still importable from here
from defusion.io.display import in_eight_bits, viewable
from defusion.io.formats import DEFAULT_MAX_PIXELS
from defusion.io.images import read_image
from defusion.io.notes import note
from defusion.io.probes import stores_floats


def read_scored(path: str | Path, quiet: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """``path`` as the metrics score it: EXIF-upright; float pixels as the float32 values they are
    (``read_image(floats="levels")``: unquantised, where they lie in [0, 1] or on 0..255, the two scales
    :mod:`defusion.metrics` takes a float array on, so that the file scores as its array does with
    :func:`~defusion.metrics.compute_metrics`; any other range an ImageReadError); integer pixels in
    8 bits (16-bit rounded to 8 bits), with a note where a 16-bit file holds only 8-bit values
    (:func:`~defusion.io.arrays.holds_eight_bit_values`; ``quiet``: not said, for a file read again to be shown). ``defusion
    metrics`` reads every file so and ``defusion bench`` its published results and sources
    (:func:`read_source`), so that both commands score a file alike. Refused over ``max_pixels``
    (``--max-pixels`` of ``defusion metrics`` and ``bench``), as :func:`read_image` refuses.

    Example:
        >>> import tempfile, tifffile
        >>> path = Path(tempfile.mkdtemp()) / "fused.tif"
        >>> tifffile.imwrite(path, np.array([[60.5, 187.0], [90.0, 120.25]], np.float32))  # 0..255 floats
        >>> read_scored(path).tolist()  # as stored; fusion input would be stretched to 0..65535
        [[60.5, 187.0], [90.0, 120.25]]
    """
    return _read_scored(path, quiet, max_pixels)[1]


def read_scored_source(path: str | Path, max_pixels: int = DEFAULT_MAX_PIXELS
                       ) -> tuple[np.ndarray, tuple[float, float] | None]:
    """A source as :func:`read_scored` reads it, and the 16-bit values its file spans where it is a raw
    thermal frame (:func:`raw_thermal_band`, judged on the file as stored, not as rounded to 8 bits), for
    ``defusion metrics`` to say :func:`raw_thermal_note` of it as ``defusion bench`` does."""
    stored, scored = _read_scored(path, False, max_pixels)
    return scored, raw_thermal_band(stored)


def _read_scored(path: str | Path, quiet: bool, max_pixels: int) -> tuple[np.ndarray, np.ndarray]:
    """The file as stored (``read_image(floats="levels")``) and as :func:`read_scored` scores it, with
    the note on a 16-bit file of 8-bit values unless ``quiet``."""
    stored = read_image(path, max_pixels, floats="levels")
    image, eight_bit = as_scored(stored)
    if eight_bit and not quiet:  # bench's wording for one file, said here per file
        note(*finding_notes([Finding("eight-bit", str(Path(path).parent), str(path))]))
    return stored, image


def raw_thermal_band(image: np.ndarray) -> tuple[float, float] | None:
    """The 16-bit values (low, high; :func:`~defusion.fusion.stretch.value_range`) a source spans where
    it is a raw thermal frame (:func:`~defusion.fusion.stretch.is_narrow`: grey, 16-bit, a narrow band),
    which DeFusion stretches before fusing while the metrics take it as it is; else None.

    Example:
        >>> raw = (7000 + np.arange(64 * 64).reshape(64, 64) % 1000).astype(np.uint16)
        >>> [round(v) for v in raw_thermal_band(raw)], raw_thermal_band(raw.astype(np.uint8))
        ([7000, 7998], None)
    """
    return value_range(image) if is_narrow(image) else None


def raw_thermal_note(path: str | Path, low: float, high: float, takers: str = "the metrics") -> str:
    """The note on a raw thermal source (values ``low``-``high``, :func:`raw_thermal_band`), in the words
    ``defusion bench`` and ``defusion metrics`` share: DeFusion stretches it to the full range before
    fusing while ``takers`` (bench: the baselines and the metrics) take it as it is, a near-flat image
    once rounded to 8 bits, so that they compare different inputs.

    Example:
        >>> print(raw_thermal_note("ir.png", 7000, 7992))  # doctest: +NORMALIZE_WHITESPACE
        ir.png holds 16-bit values 7000-7992 (2% of the range, as raw thermal frames do): DeFusion stretches
        such a source to the full range before fusing, the metrics take it as it is, so they compare different
        inputs; stretch the sources first (e.g. to 8-bit) to compare like with like
    """
    share = 100 * (high - low) / MAX_16BIT
    return (f"{path} holds 16-bit values {low:.0f}-{high:.0f} ({share:.0f}% of the range, as raw thermal frames do): "
            f"DeFusion stretches such a source to the full range before fusing, {takers} take it as it is, so they "
            "compare different inputs; stretch the sources first (e.g. to 8-bit) to compare like with like")


def as_scored(image: np.ndarray) -> tuple[np.ndarray, bool]:
    """A decoded image as scored (floats as they are, integers in 8 bits: 16-bit rounded as the
    metrics round a uint16 array, :func:`~defusion.metrics._scale.eight_bit_levels`), and whether it
    holds 8-bit values in 16 bits (:func:`~defusion.io.arrays.holds_eight_bit_values`)."""
    if image.dtype.kind == "f":
        return image, False
    # 8-bit values saved as 16-bit (what ``uint16(img)`` writes) score as 16-bit data, near black (EN 0.99
    # and SSIM 0.03 for a fusion whose 8-bit file scores 7.1 and 1.25): said in a note, not converted,
    # since a 16-bit image that dark is also what some file may mean
    return in_eight_bits(image), holds_eight_bit_values(image)


def read_source(path: Path, max_pixels: int = DEFAULT_MAX_PIXELS) -> tuple[np.ndarray, np.ndarray, list[Finding]]:
    """A source as the methods fuse it (:func:`read_image`: floats stretched, as ``defusion fuse`` reads
    them), as the metrics score it (:func:`read_scored`), and what is worth a note: decoded once, or
    twice where it stores floats; refused over ``max_pixels`` (``defusion bench --max-pixels``). A float
    source whose two readings differ is noted; one on neither scale the metrics take (a radiometric
    frame in degrees or Kelvin) is scored as it is fused, stretched, and noted, rather than leaving its
    pair out."""
    from defusion.io.float_pixels import FloatRangeError, float_stretched
    from defusion.io.float_scales import float_scale

    image, folder = read_image(path, max_pixels), str(path.parent)
    if not stores_floats(path):
        scored, eight_bit = as_scored(image)
        return image, scored, [Finding("eight-bit", folder, str(path))] if eight_bit else []
    try:
        scored = read_image(path, max_pixels, floats="levels")
    except FloatRangeError as exc:
        return image, in_eight_bits(image), [Finding("float-stretched", folder, str(path),
                                                     f"{exc.low:.6g}..{exc.high:.6g}")]
    lo, hi = float(scored.min()), float(scored.max())
    on_levels = float_scale(lo, hi) == 1
    if not float_stretched(lo, hi) or (on_levels and lo == 0 and hi == MAX_8BIT):  # the stretch changes nothing
        return image, scored, []
    return image, scored, [Finding("float-scale", folder, str(path), "0..255" if on_levels else "[0, 1], clipped")]


def grey_stored_as_rgb(image: np.ndarray) -> bool:
    """Whether a result, as its file holds it (not as rounded to be scored: 8-bit values saved as
    16-bit round to near-black levels 0 and 1, grey whatever their colours), is grey in three channels:
    judged on the 8-bit scale where a 16-bit file holds only 8-bit values (:func:`~defusion.io.arrays.holds_eight_bit_values`),
    on its type's full scale otherwise (:func:`~defusion.fusion.color.is_grey`)."""
    return image.ndim == 3 and is_grey(image, MAX_8BIT if holds_eight_bit_values(image) else None)


#: A shown (8-bit) image whose every channel spans at most this many levels, once :data:`FLAT_TAIL` of its
#: pixels at each end are set aside, is (nearly) one value: room for a level's rounding and a little noise
#: (a flat frame, JPEG-compressed at quality 75 or not, spans none), while a fused image's detail spans tens
#: of levels even at night.
FLAT_LEVELS = 2
#: The share of pixels at each end of a channel's values set aside by :func:`nearly_flat`: a few stray
#: pixels (a timestamp, a dead pixel, JPEG ringing) do not make a failed result a fused image.
FLAT_TAIL = 0.005
#: The most pixels :func:`nearly_flat` looks at (every n-th beyond it): a 24 MP result is judged in 0.1 s
#: (2-core CPU), and a million pixels place its quantiles well within a level.
FLAT_SAMPLE = 1_000_000


def nearly_flat(image: np.ndarray) -> bool:
    """Whether a shown (uint8, :func:`viewable`) image is (nearly) one value: every channel within
    :data:`FLAT_LEVELS` levels, the :data:`FLAT_TAIL` of its pixels at each end aside. A fused result that
    is, of sources that are not, is a failed fusion (an all-black frame): its metrics score it, some not
    defined on it, so ``defusion bench`` warns of it by name.

    Example:
        >>> black = np.zeros((64, 64, 3), np.uint8)
        >>> nearly_flat(black), nearly_flat(np.tile(np.arange(64, dtype=np.uint8), (64, 1)))
        (True, False)
        >>> black[:4, :4] = 255  # a few stray pixels (0.4%): still one value
        >>> nearly_flat(black)
        True
    """
    values = image.reshape(-1, image.shape[2] if image.ndim == 3 else 1)
    values = values[::max(1, len(values) // FLAT_SAMPLE)]
    low, high = np.quantile(values, [FLAT_TAIL, 1 - FLAT_TAIL], axis=0)
    return bool(np.all(high - low <= FLAT_LEVELS))


__all__ = ["FLAT_LEVELS", "FLAT_SAMPLE", "FLAT_TAIL", "as_scored", "grey_stored_as_rgb", "in_eight_bits",
           "nearly_flat", "raw_thermal_band", "raw_thermal_note", "read_scored", "read_scored_source", "read_source",
           "viewable"]
