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
from defusion.fusion.stretch import measure_stretch


@dataclass
class _SteadyFuser(Fuser):
    """A Fuser that registers onto, and deghosts against, the sources ``anchors`` names whatever
    the frame: a stream's first frames' choice, so that its framing cannot flip between frames."""

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
    again on the frame the stretch is fixed on (it measures the stretched infrared). ``fuser``, the
    one given, says what the caller fixed and how raw frames are stretched (``FuseOptions.
    stretch_shared``: its order, which the steady fuser's "given" replaces)."""
    if any(_flat(frame) for frame in frames):  # a shutter (NUC) frame tells neither its band nor its kind:
        return steady                           # fix nothing on it (each frame measured until a normal one)
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


def _flat(frame: np.ndarray) -> bool:
    """Whether ``frame`` holds one value only (a thermal camera's shutter frame, a blank frame)."""
    return frame.size == 0 or bool(frame.min() == frame.max())


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


__all__ = ["fixed_for_stream", "steady_fuser"]
