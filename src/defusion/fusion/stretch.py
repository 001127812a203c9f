"""Raw sensor frames to images: a contrast stretch for 16-bit data that uses little of its range.

Thermal cameras write 14-bit counts in a 16-bit file, and a scene fills only a narrow band of them:
read as it is, such a frame is a flat dark grey that a fusion would all but drop. So, as every
thermal viewer does, :func:`stretch_sources` maps grey 16-bit sources whose values span under
``NARROW_SPAN`` of the range from their ``TAIL_PERCENT`` to their ``100 - TAIL_PERCENT`` percentile
onto [0, 1] (:func:`value_range`): one mapping for one sensor's frames, so that they keep their
relation, or one each for two cameras' (``shared``: ``FuseOptions.stretch_shared``). 8-bit and colour
images are display images already and never touched. A stream keeps one mapping, lest a hot object
entering the view darken the rest: :func:`measure_stretch` measures a :class:`FixedStretch` once, and
``FuseOptions(stretch=...)`` applies it to every frame. How each case is decided, and what it did on
TNO: docs/features.md, "Raw thermal frames".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np

from defusion.fusion.choices import STRETCHES, Stretch  # torch-free: the command line offers them
from defusion.fusion.color import is_grey, native
from defusion.fusion.errors import FusionInputError, OptionsError
from defusion.io.arrays import MAX_8BIT, MAX_16BIT, holds_eight_bit_values
from defusion.io.front_end import current_front_end
from defusion.io.notes import listed, note, warn

#: Whether raw frames share one mapping: True (one sensor), False (each its own), None (by their values).
Sharing = bool | None
#: A 16-bit grey source is raw sensor data when its values span under this share of 0..65535.
NARROW_SPAN = 0.25
#: Percent of the values cut off at each end of the stretch (hot or dead pixels, outliers).
TAIL_PERCENT = 0.1
#: What :func:`describe_stretch` says was done to a raw frame (a training run words it its own way).
STRETCHED_BEFORE_FUSING = "stretched to the full range before fusing"
#: Frames whose sharing the options leave to their values share one mapping where each band sticks out
#: of the widest one by under this share of its own span (:func:`bands_nested`): one sensor at one
#: exposure. Measured: simulated 14-bit focus stacks 0.0-0.02 (10 scenes, 3 slices); 12-bit MRI, CT
#: and PET pairs of the medical audit 0.0-0.45 (0.45 MRI 0-900 beside CT 0-4095, whose MRI shared one
#: mapping kept 20% of its contrast); simulated raw brackets 0.0-1.2 by the scene's dynamic range, so
#: values cannot tell a bracket: ``--task mef`` shares its mapping (``FuseOptions.stretch_shared``).
NEST_TOLERANCE = 0.1
#: A band under this share of the widest band's span is near flat (a black misfire's noise, 61 counts
#: beside a focus stack's 8000): :func:`bands_nested` leaves it out, as it has no shape to judge by.
FLAT_BAND = 0.05
#: The note on a stretch says a frame's whole range, and what the stretch clips, where its values
#: reach past the stretched band by over this share of the band's span (a bright lesion at 4000 past an
#: MRI's 96-2500: 0.62); a sensor's tails beyond its percentiles (a few counts) are not worth a word.
CLIP_SAID = 0.1
#: ... and where at least this share of its readings lie that far out: a lesion of 36 of 65,536 pixels
#: (0.055%) is said, one stuck or dead pixel (0.0015% of a 256x256 frame) or a 9-pixel hot spot is not.
CLIP_SAID_SHARE = 0.0002
#: At most this many values (evenly strided) estimate the percentiles: quick on any size.
_SAMPLE = 1_000_000
#: :func:`value_range` looks for even rows and columns in every this-many-th value of each line
#: first (a 64-byte cache line apart in 16-bit data), keeping at least ``_LINE_KEEP`` of them.
_LINE_STEP = 32
_LINE_KEEP = 64
#: :func:`value_range` leaves out a run of lines of one value at an edge of a frame (a camera's blank or
#: telemetry lines, padding) only where it takes at most this share of the frame's rows or columns at
#: that edge: a FLIR Lepton's 3 telemetry rows below its 60 (4.8%), a 480-row frame padded to 512 (6.25%).
#: A longer run, or an even line within the frame, is the scene's (a noise-free ramp whose every column
#: holds one value, a flat sky): dropped, it took 44% of a ramp's values out of its percentiles. One
#: line is left out at an edge of any frame (one of under 16 lines: a small sensor's telemetry row).
EDGE_LINES = 1 / 16
#: Float data that is 8-bit data divided by 255 (each value within this of a multiple of 1/255) is a
#: display image, not raw counts: no warning that it is narrow.
_EIGHT_BIT_TOLERANCE = 1e-4


@dataclass(frozen=True)
class FixedStretch:
    """One stretch, measured once and applied as it is: ``sources`` (indices, in the order the
    images are given to the fuser: the stretch runs before ``FuseOptions.order`` sorts them)
    mapped from ``low`` to ``high`` (floats in [0, 1]: the value over 65535) onto [0, 1], whatever
    each frame's own range. One ``low`` and ``high`` map every source alike (one sensor's frames);
    tuples of them, one per source in ``sources``' order, map each its own way (two cameras'). For
    streams, so that the mapping cannot change, and flicker, between frames (:func:`measure_stretch`).

    Example:
        >>> FixedStretch([1], 0.1, 0.2)
        FixedStretch(sources=(1,), low=0.1, high=0.2)
        >>> FixedStretch([0, 1], (0.0, 0.1), (0.06, 0.14)).mapping(1)
        (0.1, 0.14)
    """

    sources: tuple[int, ...]
    low: float | tuple[float, ...]
    high: float | tuple[float, ...]

    def __post_init__(self) -> None:
        sources = _indices(self.sources)
        if not sources or any(isinstance(i, bool) or not isinstance(i, (int, np.integer)) or i < 0 for i in sources):
            raise OptionsError(f"a fixed stretch's sources must be source indices (0 the first), got {self.sources!r}")
        if len(set(sources)) != len(sources):
            raise OptionsError(f"a fixed stretch names each source once, got {self.sources!r}")
        lows, highs = _per_source(self.low, len(sources), "low"), _per_source(self.high, len(sources), "high")
        for low, high in zip(lows, highs):
            if not (math.isfinite(low) and math.isfinite(high) and 0.0 <= low < high <= 1.0):
                raise OptionsError(f"a fixed stretch maps low to high, 0 <= low < high <= 1, got {self.low!r} to "
                                   f"{self.high!r}")
        object.__setattr__(self, "sources", tuple(int(i) for i in sources))
        object.__setattr__(self, "low", lows if isinstance(self.low, (tuple, list, np.ndarray)) else lows[0])
        object.__setattr__(self, "high", highs if isinstance(self.high, (tuple, list, np.ndarray)) else highs[0])

    def mapping(self, source: int) -> tuple[float, float]:
        """The (low, high) that ``source`` (an index in ``sources``) is mapped from."""
        k = self.sources.index(source)
        pick = lambda bound: bound[k] if isinstance(bound, tuple) else bound  # noqa: E731
        return pick(self.low), pick(self.high)

    def groups(self) -> list[tuple[tuple[int, ...], float, float]]:
        """The sources that share a mapping, and its low and high: one group for one sensor's
        frames, one per source for several cameras'.

        Example:
            >>> FixedStretch([0, 2], (0.0, 0.1), (0.06, 0.14)).groups()
            [((0,), 0.0, 0.06), ((2,), 0.1, 0.14)]
        """
        groups: dict[tuple[float, float], list[int]] = {}
        for i in self.sources:
            groups.setdefault(self.mapping(i), []).append(i)
        return [(tuple(sources), low, high) for (low, high), sources in groups.items()]


def _per_source(bound: object, count: int, name: str) -> tuple[float, ...]:
    """A FixedStretch's low or high as one float per source: a number for all, or one each."""
    if isinstance(bound, (tuple, list, np.ndarray)):
        if len(bound) != count:
            raise OptionsError(f"a fixed stretch's {name} is one number for all its sources or one per source "
                               f"({count}), got {len(bound)}")
        return tuple(_as_float(v) for v in bound)
    return (_as_float(bound),) * count


def _indices(sources: Any) -> tuple:
    """A FixedStretch's sources as a tuple; () where they are no sequence (its check refuses it)."""
    try:
        return tuple(sources)
    except TypeError:
        return ()


def _as_float(value: Any) -> float:
    """A FixedStretch's low or high as a float; NaN where it is no number (its range check refuses it)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def check_stretch(stretch: "Stretch | FixedStretch") -> None:
    """Refuse a stretch that is not one of ``STRETCHES`` or a :class:`FixedStretch`."""
    if isinstance(stretch, FixedStretch):
        return
    if not isinstance(stretch, str) or stretch not in STRETCHES:
        raise OptionsError(f"unknown stretch {stretch!r}; use one of {', '.join(STRETCHES)} or a FixedStretch")


def value_range(image: np.ndarray) -> tuple[float, float]:
    """The ``TAIL_PERCENT`` and ``100 - TAIL_PERCENT`` percentiles of an image's values (a grey
    image's: the first channel), leaving out what is no reading of the scene: rows and columns at
    its edges that hold one value from end to end (blank or telemetry lines, padding:
    :func:`_scene_lines`) and values of exactly 0 (a dead pixel, a blanked line); all of them when
    nothing else is left (a flat frame). One such row of a 256-row frame is 0.4% of its values:
    over ``TAIL_PERCENT``, it would stretch the range down to 0. Even lines within the frame, or
    more than ``EDGE_LINES`` of them at an edge, are the scene's, and count.

    Example:
        >>> [round(v, 6) for v in value_range(np.arange(1000, 2001, dtype=np.uint16))]
        [1001.0, 1999.0]
        >>> frame = (7000 + np.arange(64 * 64).reshape(64, 64) % 2000).astype(np.uint16)
        >>> frame[0] = 100  # a telemetry row
        >>> [round(v) for v in value_range(frame)]
        [7002, 8997]
        >>> ramp = np.tile(np.linspace(7000, 9000, 64), (48, 1)).astype(np.uint16)  # each column one value
        >>> [round(v) for v in value_range(ramp)]
        [7000, 9000]
    """
    values = _first_channel(image)
    if values.ndim == 2 and values.size:
        rows, cols = _scene_lines(values, axis=1), _scene_lines(values, axis=0)
        if not (rows.all() and cols.all()):
            values = values[np.ix_(rows, cols)]
    values = values.reshape(-1)  # a view of a channel of an interleaved image (ravel would copy it)
    values = values[:: max(1, values.size // _SAMPLE)]
    readings = values[values != 0]
    values = readings if readings.size else values
    lo, hi = np.percentile(values, [TAIL_PERCENT, 100 - TAIL_PERCENT])
    return float(lo), float(hi)


def _scene_lines(values: np.ndarray, axis: int) -> np.ndarray:
    """Whether each row (``axis`` 1) or column (``axis`` 0) of HxW ``values`` is a reading of the
    scene: all but a run of lines of one value (:func:`_varied_lines`) at an edge that takes at most
    ``EDGE_LINES`` of them (blank or telemetry lines, padding). Even lines within the frame, or a
    longer run (a noise-free ramp, a flat sky), are the scene's; so are all lines of a flat frame.

    Example:
        >>> frame = np.tile(np.arange(20.0), (32, 1)); frame[0] = frame[-2:] = 0; frame[9] = 5
        >>> np.flatnonzero(~_scene_lines(frame, 1)).tolist(), bool(_scene_lines(frame, 0).all())
        ([0, 30, 31], True)
    """
    varied = _varied_lines(values, axis)
    scene = np.ones_like(varied)
    if not varied.any():  # every line even: a flat frame, or a scene's (a ramp along the other axis)
        return scene
    most = max(1, int(EDGE_LINES * varied.size))  # a small frame's one telemetry line too
    head, tail = int(np.argmax(varied)), int(np.argmax(varied[::-1]))  # even lines before the first varied one
    if head <= most:
        scene[:head] = False
    if tail <= most:
        scene[varied.size - tail:] = False
    return scene


def _varied_lines(values: np.ndarray, axis: int) -> np.ndarray:
    """Whether each row (``axis`` 1) or column (``axis`` 0) of HxW ``values`` holds more than one
    value, as ``values.min(axis) != values.max(axis)`` gives it, from every ``_LINE_STEP``-th value
    of each line first (a line that varies there varies): only the lines even there are read whole.

    Example:
        >>> frame = np.arange(12.0).reshape(3, 4); frame[:, 2] = 5; frame[1] = 5
        >>> _varied_lines(frame, 1).tolist(), _varied_lines(frame, 0).tolist()
        ([True, False, True], [True, True, False, True])
    """
    step = max(1, min(_LINE_STEP, values.shape[axis] // _LINE_KEEP))
    few = np.ascontiguousarray(values[:, ::step] if axis == 1 else values[::step])
    varied = few.min(axis=axis) != few.max(axis=axis)
    even = np.flatnonzero(~varied)
    if even.size:
        lines = values[even] if axis == 1 else values[:, even]
        varied[even] = lines.min(axis=axis) != lines.max(axis=axis)
    return varied


def is_narrow(image: np.ndarray) -> bool:
    """Whether ``image`` looks like a raw sensor frame: 16-bit (any byte order), its values
    (:func:`value_range`) spanning under ``NARROW_SPAN`` of the 16-bit range (and not flat), grey
    (HxW, HxWx1 or R = G = B) at that span's contrast: the stretch would bring out any colour.

    Example:
        >>> thermal = (7000 + np.arange(64 * 64).reshape(64, 64) % 2000).astype(np.uint16)
        >>> is_narrow(thermal), is_narrow(thermal.astype(np.uint8)), is_narrow(thermal * 0)
        (True, False, False)
        >>> is_narrow(thermal[..., None]), is_narrow(np.dstack([thermal] * 3))
        (True, True)
    """
    return _narrow_range(image) is not None


def _narrow_range(image: np.ndarray) -> tuple[float, float] | None:
    """``image``'s :func:`value_range` where it is a raw sensor frame (:func:`is_narrow`), else None:
    the test and the range :func:`measure_stretch` maps from, measured once."""
    band = _grey_band(image)
    return band if band is not None and _narrow(band) else None


def _grey_band(image: np.ndarray) -> tuple[float, float] | None:
    """``image``'s :func:`value_range` where it is a grey 16-bit frame that is not flat (at that
    range's contrast, as :func:`is_narrow` tells grey), else None: a band a sensor's frame fills,
    narrow or not."""
    image = native(np.asarray(image))
    if image.dtype != np.uint16 or image.size == 0:
        return None
    lo, hi = value_range(image)
    return (lo, hi) if hi > lo and is_grey(image, scale=hi - lo) else None


def _grey_display(image: np.ndarray) -> bool:
    """Whether ``image`` is a grey frame of display values: 8-bit or float (a bracket's shot beside
    16-bit ones), not a 16-bit frame that may hold raw counts.

    Example:
        >>> _grey_display(np.zeros((2, 2), np.uint8)), _grey_display(np.zeros((2, 2), np.uint16))
        (True, False)
    """
    image = native(np.asarray(image))
    return image.dtype != np.uint16 and image.size > 0 and is_grey(image)


def _narrow(band: tuple[float, float]) -> bool:
    """Whether a band (low, high) of 16-bit values spans under ``NARROW_SPAN`` of the range."""
    return band[1] - band[0] < NARROW_SPAN * MAX_16BIT


def measure_stretch(images: Sequence[np.ndarray], shared: Sharing = None) -> FixedStretch | None:
    """The mapping ``stretch="auto"`` gives ``images`` (in the order they are given to the fuser,
    before ``FuseOptions.order`` sorts them, as :class:`FixedStretch` indexes them): the narrow
    sources (:func:`is_narrow`), all from the lowest ``TAIL_PERCENT`` percentile to the highest
    ``100 - TAIL_PERCENT`` one (one sensor's frames), or each from its own :func:`value_range`
    (several cameras' or modalities' frames): ``shared`` True or False says which, None decides by
    the values, one mapping only where the bands nest (:func:`bands_nested`: a focus stack; an MRI
    beside a CT that overlaps it in part is stretched on its own); None when no source is narrow. ``shared`` True (the options say the
    sources are one sensor's: a bracket, ``FuseOptions.stretch_shared``) measures the band over all
    its grey 16-bit frames, the wide ones too, and stretches none where that band is not narrow or a
    grey frame is 8-bit or float (display values; a colour frame is another camera's): a
    bracket's brighter shots fill the range, so its darkest one's narrow band is an exposure, not raw
    counts, and stretched alone it would outshine the others (the exposures reordered). Measure it on
    a stream's first frames that hold a narrow source (a flat shutter frame holds none) and fuse every
    frame with it (``FuseOptions(stretch=...)``).

    Example:
        >>> raw = np.array([[7000, 7500], [8000, 9000]], np.uint16)
        >>> fixed = measure_stretch([raw, raw.astype(np.uint8)])
        >>> fixed.sources, round(fixed.low * 65535), round(fixed.high * 65535)
        ((0,), 7002, 8997)
        >>> visible12 = np.array([[10, 1000], [3000, 4000]], np.uint16)  # another camera's band
        >>> [round(v * 65535) for v in measure_stretch([visible12, raw]).high]
        [3997, 8997]
        >>> [round(v * 65535) for v in measure_stretch([visible12, raw], shared=True).groups()[0][1:]]
        [13, 8997]
        >>> dimmer = raw // 2 + 3500                                    # the same sensor, bands nest
        >>> len(measure_stretch([raw, dimmer]).groups()), len(measure_stretch([raw, dimmer], False).groups())
        (1, 2)
        >>> len(measure_stretch([raw, raw // 2 + 3000]).groups())  # 6501-7498 sticks out of 7002-8997: its own
        2
        >>> measure_stretch([raw.astype(np.uint8)]) is None
        True
        >>> ev0 = np.array([[1000, 20000], [40000, 60000]], np.uint16)  # a bracket: EV 0 fills the range,
        >>> bracket = [ev0 // 4, ev0]                                    # EV -2 a narrow band of it
        >>> measure_stretch(bracket).sources, measure_stretch(bracket, shared=True) is None
        ((0,), True)
    """
    bands = {i: band for i, image in enumerate(images) if (band := _grey_band(image)) is not None}
    found = {i: band for i, band in bands.items() if _narrow(band)}
    if not found:
        return None
    if shared is True and (any(_grey_display(image) for image in images)
                           or not _narrow((min(lo for lo, _ in bands.values()), max(hi for _, hi in bands.values())))):
        # one sensor's grey frames that fill the range between them, or beside an 8-bit or float grey one:
        # display images, not raw counts (a colour frame is another camera's)
        return None
    narrow, ranges = list(found), list(found.values())
    if shared is None:
        shared = bands_nested(ranges)
    if shared or len(narrow) == 1:
        low, high = min(r[0] for r in ranges), max(r[1] for r in ranges)
        return FixedStretch(tuple(narrow), low / MAX_16BIT, high / MAX_16BIT)
    return FixedStretch(tuple(narrow), tuple(r[0] / MAX_16BIT for r in ranges),
                        tuple(r[1] / MAX_16BIT for r in ranges))


def bands_apart(ranges: Sequence[tuple[float, float]]) -> bool:
    """Whether the value bands (low, high) overlap nowhere: the raw frames of different cameras
    (a thermal camera's 7,000-9,000 counts, a visible one's 0-4,095), where one sensor's frames (a
    bracket, a focus stack) overlap.

    Example:
        >>> bands_apart([(0, 4095), (7000, 9000)]), bands_apart([(7000, 9000), (3500, 7500)])
        (True, False)
    """
    ordered = sorted(ranges)
    return len(ordered) > 1 and all(high < low for (_, high), (low, _) in zip(ordered, ordered[1:]))


def bands_nested(ranges: Sequence[tuple[float, float]]) -> bool:
    """Whether every value band (low, high) lies within the widest one, to within ``NEST_TOLERANCE``
    of its own span: one sensor's frames at one exposure (a focus stack's slices, a dim one's band
    inside a bright one's), where frames of different modalities (an MRI's 49-865 beside a CT's
    416-4095) or cameras overlap in part, or not at all.

    A near-flat band (under :data:`FLAT_BAND` of the widest's span: a misfire's or a shutter frame's
    noise) has no shape to tell a modality by: it is left out of the decision, and shares the mapping.

    Example:
        >>> bands_nested([(9000, 10500), (9000, 9500)]), bands_nested([(49, 865), (416, 4095)])
        (True, False)
        >>> bands_nested([(0, 4095), (7000, 9000)]), bands_nested([(1000, 2000)])
        (False, True)
        >>> bands_nested([(1000, 9000), (969, 1030)])  # a black misfire frame's noise beside a focus stack's
        True
    """
    widest_low, widest_high = max(ranges, key=lambda band: band[1] - band[0])
    floor = FLAT_BAND * (widest_high - widest_low)
    return all(max(0.0, widest_low - low) + max(0.0, high - widest_high) < NEST_TOLERANCE * (high - low)
               for low, high in ranges if high - low >= floor)


def describe_stretch(names: Sequence[str], images: Sequence[np.ndarray], shared: Sharing = None) -> list[str]:
    """One sentence per mapping :func:`measure_stretch` gives ``images`` (named ``names``): which
    sources are stretched as raw sensor frames, from which values, whether each on its own (and why,
    where their bands overlap in part) or ``shared`` by one sensor's bracket, and, where a frame's values
    reach well past the stretched band (``CLIP_SAID``), its whole range and what clips. Every front end
    says it in these words.

    Example:
        >>> raw = np.array([[7000, 7500], [8000, 9000]], np.uint16)
        >>> describe_stretch(["ir.png", "vis.png"], [raw, raw.astype(np.uint8)])
        ['ir.png holds 16-bit values 7002-8997 (3% of the range, as raw sensor frames do): stretched to the full range before fusing']
        >>> mri = (96 + np.arange(60 * 40)).astype(np.uint16).reshape(60, 40); mri[-1, -2:] = 4000  # a lesion
        >>> describe_stretch(["mri.png"], [mri])
        ['mri.png holds 16-bit values 96-4000 (6% of the range, as raw sensor frames do): stretched to the full range before fusing, from 98-2493 (its 0.1-99.9th percentiles): 0.12% of its values, 2493-4000, clip to white']
    """
    fixed = measure_stretch(images, shared)
    in_part = (shared is None and fixed is not None and len(fixed.groups()) > 1
               and not bands_apart([fixed.mapping(i) for i in fixed.sources]))
    return describe_fixed(names, fixed, images, in_part)


def describe_fixed(names: Sequence[str], fixed: FixedStretch | None, images: Sequence[np.ndarray] | None = None,
                   in_part: bool = False) -> list[str]:
    """:func:`describe_stretch` of a stretch already measured (``fixed``; None: nothing stretched),
    for a front end that keeps the measurement it says. ``images`` (the sources as given): say a
    frame's whole range where the stretch clips much of it (:func:`_clipped`); ``in_part``: the frames
    were stretched each on its own because their bands overlap only in part (:func:`bands_nested`).

    Example:
        >>> describe_fixed(["a.png", "b.png"], FixedStretch([1], 0.1, 0.2))
        ['b.png holds 16-bit values 6554-13107 (10% of the range, as raw sensor frames do): stretched to the full range before fusing']
    """
    said = []
    for sources, low, high in fixed.groups() if fixed is not None else []:
        lo, hi = low * MAX_16BIT, high * MAX_16BIT
        one = len(sources) == 1
        clipped = _clipped([images[i] for i in sources], lo, hi, "its" if one else "their") if images else None
        first, last = clipped[0] if clipped else (lo, hi)
        values = (f"16-bit values {first:.0f}-{last:.0f} ({100 * (last - first) / MAX_16BIT:.2g}% of the range, "
                  "as raw sensor frames do)")
        if one:
            alone = ", on its own" if len(fixed.sources) > 1 else ""
            if alone and in_part:
                alone += (" (the bands overlap only in part, as different modalities' or cameras' do; the mef "
                          "task stretches a raw exposure bracket by one mapping)")
            line = f"{names[sources[0]]} holds {values}: {STRETCHED_BEFORE_FUSING}{alone}"
            said.append(line + (f", {clipped[1]}" if clipped else ""))
        else:
            line = (f"{listed([names[i] for i in sources])} hold {values} together: one sensor's frames, "
                    "stretched by one mapping onto the full range, so that they keep their relation")
            said.append(line + (f"; {clipped[1]}" if clipped else ""))
    return said


def _clipped(images: Sequence[np.ndarray], lo: float, hi: float, whose: str
             ) -> tuple[tuple[float, float], str] | None:
    """Where ``images``' readings (first channel, values of 0 left out as :func:`value_range` leaves
    them) reach past the stretched band ``lo``-``hi`` by over ``CLIP_SAID`` of its span: their whole
    range, and the clause saying what the stretch clips (``whose``: "its" or "their"); else None.

    Only where at least ``CLIP_SAID_SHARE`` of the readings lie that far out: a stuck pixel is no finding.

    Example:
        >>> frame = np.array([[100, 200, 300, 900]], np.uint16)
        >>> _clipped([frame], 100, 300, "its")
        ((100.0, 900.0), 'from 100-300 (its 0.1-99.9th percentiles): 25% of its values, 300-900, clip to white')
        >>> _clipped([frame], 100, 900, "its") is None
        True
    """
    values = np.concatenate([_first_channel(image).reshape(-1) for image in images])
    readings = values[values != 0]
    readings = readings if readings.size else values
    first, last = float(readings.min()), float(readings.max())
    reach = CLIP_SAID * (hi - lo)
    sides = []
    for far, share, bounds, to in ((readings < lo - reach, readings < lo, (first, lo), "black"),
                                   (readings > hi + reach, readings > hi, (hi, last), "white")):
        if np.mean(far) >= CLIP_SAID_SHARE:
            sides.append((100 * float(np.mean(share)), bounds, to))
    if not sides:
        return None
    parts = [f"{share:.2g}%{f' of {whose} values' if k == 0 else ''}, {a:.0f}-{b:.0f}, "
             f"{'clip ' if k == 0 else ''}to {to}" for k, (share, (a, b), to) in enumerate(sides)]
    return (first, last), (f"from {lo:.0f}-{hi:.0f} ({whose} {TAIL_PERCENT:g}-{100 - TAIL_PERCENT:g}th percentiles): "
                           + " and ".join(parts))


def _first_channel(image: np.ndarray) -> np.ndarray:
    """A grey frame's values in native byte order: HxW, or the first channel of HxWxC."""
    values = native(np.asarray(image))
    return values[..., 0] if values.ndim == 3 else values


def stretch_sources(images: Sequence[np.ndarray], floats: Sequence[np.ndarray],
                    stretch: Stretch | FixedStretch = "auto", shared: Sharing = None, *, say: bool = False
                    ) -> tuple[list[np.ndarray], list[int]]:
    """``floats`` (the sources in [0, 1]) with the narrow ones (:func:`is_narrow` on ``images``,
    the sources as given) stretched onto [0, 1], each by its own mapping or all by one, as
    ``shared`` says (:func:`measure_stretch`); and their indices. A :class:`FixedStretch` is applied to its sources
    as it is, whatever their own range. With ``auto``, grey float sources in a narrow band of
    [0, 1] (raw counts divided by 65535) are fused as they are, with a warning. ``say``: tell a Python
    caller what ``auto`` stretched (:func:`_say_stretched`), asked only by a fusion, once per call: not
    by the steps a caller may run before it on the same frame (``Fuser.measure_palette``), which
    said it again.

    Example:
        >>> raw = np.array([[7000, 7500], [8000, 9000]], np.uint16)
        >>> floats, stretched = stretch_sources([raw], [raw / 65535.0])
        >>> stretched, float(floats[0].min()), float(floats[0].max())
        ([0], 0.0, 1.0)
        >>> floats, _ = stretch_sources([raw], [raw / 65535.0], FixedStretch((0,), 7000 / 65535, 11000 / 65535))
        >>> float(floats[0].max())
        0.5
    """
    check_stretch(stretch)
    auto = isinstance(stretch, str) and stretch == "auto"
    if auto:
        _warn_narrow_floats(images)
    fixed = stretch if isinstance(stretch, FixedStretch) else measure_stretch(images, shared) if auto else None
    floats = list(floats)
    if fixed is None:
        return floats, []
    if auto and say:
        _say_stretched(images, fixed, shared)
    if max(fixed.sources) >= len(floats):
        raise FusionInputError(f"the fixed stretch maps source {max(fixed.sources) + 1}, but {len(floats)} images "
                               "were given")
    for i in fixed.sources:
        low, high = fixed.mapping(i)
        floats[i] = np.clip((floats[i] - low) / (high - low), 0.0, 1.0).astype(np.float32)
    return floats, list(fixed.sources)


#: How a Python caller fusing a stream frame by frame keeps one stretch for all (docs/features.md, "Raw
#: thermal frames"): each frame's own counts moved its mapping, and the note said it again each time.
_ONE_MAPPING = ("each frame of a stream is stretched by its own counts: fuser.with_options(stretch="
                "measure_stretch([a0, b0])) keeps its first frames' mapping for all, defusion.fusion.stretch")


def _say_stretched(images: Sequence[np.ndarray], fixed: FixedStretch, shared: Sharing = None) -> None:
    """Tell a Python caller, in one line, which sources ``stretch="auto"`` stretched as raw sensor
    frames (``fixed``, measured on ``images``), from which counts, how to keep them as they are
    (``stretch='none'``) and a stream's frames by one mapping (:data:`_ONE_MAPPING`): a 16-bit frame's
    values no longer mean its counts. A note (a
    :class:`~defusion.errors.DefusionNote`); a warning where a stretched frame holds 8-bit values in
    16 bits (values up to 255: an 8-bit image saved as 16-bit, more likely than a sensor's counts).
    ``defusion fuse`` and the web UI say it in their own words (--stretch none), not twice: said only
    for a Python caller (:func:`~defusion.io.front_end.current_front_end`), as reading says a float
    file's stretch.

    Example:
        >>> import warnings
        >>> raw = np.array([[7000, 7500], [8000, 9000]], np.uint16)
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     _say_stretched([raw.astype(np.uint8), raw], measure_stretch([raw.astype(np.uint8), raw]))
        >>> print(caught[0].message)
        image 2 holds 16-bit values 7002-8997 (3% of the range, as raw sensor frames do): stretched to the full range before fusing (stretch='none' keeps the values as they are; each frame of a stream is stretched by its own counts: fuser.with_options(stretch=measure_stretch([a0, b0])) keeps its first frames' mapping for all, defusion.fusion.stretch)
    """
    if current_front_end() != "python":
        return
    in_part = (shared is None and len(fixed.groups()) > 1
               and not bands_apart([fixed.mapping(i) for i in fixed.sources]))
    said = "; ".join(describe_fixed([f"image {i + 1}" for i in range(len(images))], fixed, images, in_part))
    eight = [f"image {i + 1}" for i in fixed.sources if holds_eight_bit_values(np.asarray(images[i]))]
    said += f" (stretch='none' keeps the values as they are; {_ONE_MAPPING})"
    if not eight:
        note(said)
        return
    one = len(eight) == 1
    warn(f"{said}; {listed(eight)} {'holds' if one else 'hold'} only values up to {MAX_8BIT}, 8-bit values in 16 "
         f"bits?: pass {'it' if one else 'them'} as 8-bit (.astype(np.uint8)) to fuse {'its' if one else 'their'} "
         "own levels")


def _warn_narrow_floats(images: Sequence[np.ndarray]) -> None:
    """Warn of grey float sources whose values span under ``NARROW_SPAN`` of [0, 1] and are not
    8-bit data divided by 255: raw counts divided by their full scale, most likely, fused as they
    are (float data is never stretched: it may as well be a dim display image)."""
    for index, image in enumerate(images):
        image = np.asarray(image)
        if not np.issubdtype(image.dtype, np.floating) or image.size == 0 or not np.isfinite(image).all():
            continue
        lo, hi = value_range(image)
        if not 0 < hi - lo < NARROW_SPAN or not is_grey(image, scale=hi - lo):
            continue
        sample = np.asarray(image, np.float64).ravel()[:: max(1, image.size // _SAMPLE)] * 255
        if np.abs(sample - np.round(sample)).max() <= _EIGHT_BIT_TOLERANCE * 255:
            continue
        warn(f"image {index + 1} is grey float data spanning under {NARROW_SPAN:.0%} of [0, 1], as raw sensor "
             "counts divided by 65535 do: it is fused as it is, nearly flat; give the uint16 counts to have them "
             "stretched, or stretch it with a FixedStretch (defusion.fusion.stretch)")


__all__ = ["CLIP_SAID", "NARROW_SPAN", "STRETCHED_BEFORE_FUSING", "NEST_TOLERANCE", "STRETCHES", "TAIL_PERCENT",
           "FixedStretch", "Sharing", "Stretch", "bands_apart", "bands_nested", "check_stretch", "describe_fixed",
           "describe_stretch", "is_narrow", "measure_stretch", "stretch_sources", "value_range"]
