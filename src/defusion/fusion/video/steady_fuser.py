"""The fuser a stream's frames are fused with, held steady: what :meth:`Fuser.fuse` chooses per call
(the order of the inputs, the frame the others are aligned onto, deghost's reference, the stretch
of raw thermal frames, a palette's infrared image and range) chosen once on the first frames that
tell it and kept, so that the fused video cannot flip, flicker or change its brightness between
frames (:func:`steady_fuser`, then :func:`fixed_for_stream` per frame)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from defusion.fusion.deghost import reference_index
from defusion.fusion.fuser import Fuser
from defusion.fusion.prepared import Anchors
from defusion.fusion.stretch import measure_stretch, value_range
from defusion.io.arrays import MAX_16BIT

#: A 16-bit frame whose values (:func:`value_range`: 0.1 to 99.9 percentile) span under this share of
#: 0..65535 (33 counts) is a thermal camera's shutter (NUC) frame, not a scene: a shutter frame is the
#: sensor's noise around one value, a few counts (NETD 50 mK at the ~30 counts per kelvin of a 14-bit
#: core: sigma ~1.5 counts, ~10 counts from percentile to percentile; the audit's camera: 2), while a
#: scene with anything in it spans over a kelvin. Stretched as a scene, such a band fixes a two-level
#: picture for the whole stream.
SHUTTER_SPAN = 0.0005


@dataclass(repr=False)  # Fuser's one line (weights by name, never a path), not every field's repr
class _SteadyFuser(Fuser):
    """A Fuser that registers onto, and deghosts against, the sources ``anchors`` names whatever
    the frame: a stream's first frames' choice, so that its framing cannot flip between frames.
    Equal to another with the same network, options and anchors (the dataclass's ``==``)."""

    anchors: Anchors = field(default_factory=Anchors)

    def _anchors(self, floats: list[np.ndarray]) -> Anchors:
        return self.anchors


def steady_fuser(fuser: Fuser, first: list[np.ndarray]) -> Fuser:
    """``fuser`` as it fuses every frame of a stream whose first frames are ``first`` (in the order
    they are fused): that order kept, and the frame the others are aligned onto and deghost's
    reference chosen on them as :meth:`Fuser.fuse` would (:func:`_first_anchors`) and kept, so
    that none of them can change between frames. The stretch: :func:`_with_fixed_stretch`."""
    steady = replace(fuser, options=replace(fuser.options, order="given"))
    if fuser.options.align == "none" and not fuser.options.deghost:
        return steady
    return _SteadyFuser(steady.model, steady.device, steady.half, steady.options, _first_anchors(fuser, first))


def _first_anchors(fuser: Fuser, first: list[np.ndarray]) -> Anchors:
    """The frame and deghost's reference for ``first`` (indices into it), as :meth:`Fuser.fuse`
    picks them; with order "given", where deghost picks its reference per call, its pick on
    ``first`` (the best exposed)."""
    floats, _ = fuser._mapped(first)
    anchors = fuser._anchors(floats)
    if fuser.options.deghost and anchors.reference is None:
        anchors = anchors._replace(reference=reference_index(floats))
    return anchors


def fixed_for_stream(fuser: Fuser, steady: Fuser, frames: list[np.ndarray]) -> Fuser:
    """``steady`` (the fuser of the stream's frames so far) with its stretch (:func:`_with_fixed_stretch`)
    and, with a palette, the infrared image it colours (the first frames') and its range
    (:func:`_with_fixed_palette`) fixed on ``frames`` where they are not yet; the range measured
    again on the frame the stretch is fixed on (it measures the stretched infrared). Nothing is fixed
    on frames that hold a shutter (NUC) or blank frame (:func:`holds_shutter_frame`): their band spans
    nothing, so the first frames with content fix it. ``fuser``, the one given, says what the caller
    fixed and how raw frames are stretched (``FuseOptions.stretch_shared``: its order, which the
    steady fuser's "given" replaces)."""
    if _settled(fuser, steady) or holds_shutter_frame(frames):  # a shutter (NUC) frame tells neither its band
        return steady  # nor its kind: fix nothing on it (each frame measured until one with content)
    before = steady.options.stretch
    steady = _with_fixed_stretch(steady, frames, fuser.options.stretch_shared)
    if fuser.options.palette == "none":
        return steady
    if steady.options.infrared is None:  # which one is the infrared image cannot flip between frames
        steady = replace(steady, options=replace(steady.options, infrared=steady.infrared_source(*frames)[0]))
    settled = steady.options.palette_range is not None and steady.options.stretch is before
    if fuser.options.palette_range is not None or settled:
        return steady
    return _with_fixed_palette(steady, frames)


def holds_shutter_frame(frames: list[np.ndarray]) -> bool:
    """Whether any of ``frames`` is a shutter (NUC) frame or a blank one (:func:`_shutter`): a stream's
    stretch and palette are not fixed on such a pair (:func:`fixed_for_stream`).

    Example:
        >>> scene = (7000 + np.arange(64 * 48).reshape(48, 64) % 2000).astype(np.uint16)
        >>> shutter = (8000 + np.arange(64 * 48).reshape(48, 64) % 3).astype(np.uint16)  # noise: 8000-8002
        >>> holds_shutter_frame([scene.astype(np.uint8), scene]), holds_shutter_frame([scene, shutter])
        (False, True)
    """
    return any(_shutter(frame) for frame in frames)


def _shutter(frame: np.ndarray) -> bool:
    """Whether ``frame`` holds one value only (a blank frame), or is 16-bit with every channel's
    values (:func:`value_range`: a hot or dead pixel left out) spanning under ``SHUTTER_SPAN`` of the
    range (a thermal camera's shutter frame: one value and its noise)."""
    if frame.size == 0 or frame.min() == frame.max():
        return True
    if frame.dtype.newbyteorder("=") != np.uint16:  # 8-bit and float frames: display values, no counts
        return False
    channels = [frame] if frame.ndim == 2 else [frame[..., c] for c in range(frame.shape[2])]
    return all(hi - lo < SHUTTER_SPAN * MAX_16BIT for lo, hi in map(value_range, channels))


def _settled(fuser: Fuser, steady: Fuser) -> bool:
    """Whether ``steady`` has all :func:`fixed_for_stream` fixes fixed already: its stretch (not
    "auto") and, with a palette, the infrared image and the palette's range."""
    stretch = steady.options.stretch
    if isinstance(stretch, str) and stretch == "auto":
        return False
    return fuser.options.palette == "none" or (steady.options.infrared is not None
                                                and steady.options.palette_range is not None)


def _with_fixed_stretch(fuser: Fuser, frames: list[np.ndarray], shared: bool | None = None) -> Fuser:
    """``fuser`` with a ``stretch="auto"`` measured on ``frames`` (in the order fused; ``shared``, a
    bracket's: one mapping for all) and kept as a FixedStretch, once one of them is a raw frame
    (:func:`measure_stretch`); until then still "auto", so a flat first frame (a shutter or NUC
    frame) cannot switch the stretch off for the whole stream. A stretch already fixed, or "none",
    stays."""
    stretch = fuser.options.stretch
    if not (isinstance(stretch, str) and stretch == "auto"):
        return fuser
    fixed = measure_stretch(frames, shared)
    return fuser if fixed is None else replace(fuser, options=replace(fuser.options, stretch=fixed))


def _with_fixed_palette(fuser: Fuser, frames: list[np.ndarray]) -> Fuser:
    """``fuser`` with its palette's range measured on ``frames`` (:meth:`Fuser.measure_palette`) and
    kept, once their infrared image is not flat; until then measured per frame, so that a flat
    first frame (a shutter frame) cannot fix a range that spans nothing."""
    span = fuser.measure_palette(*frames)
    return fuser if span is None else replace(fuser, options=replace(fuser.options, palette_range=span))


__all__ = ["SHUTTER_SPAN", "fixed_for_stream", "holds_shutter_frame", "steady_fuser"]
