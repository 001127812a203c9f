"""The notes a folder run (--a/--b, --stacks) says for its first pair or group only, as a line per pair
would bury the progress bar: their names in the set ``once`` that :func:`~defusion.cli.fuse.folder_run.fuse_jobs`
passes down to each fusion (:func:`~defusion.cli.fuse.fusing.fuse_one`), added as each is said."""

from __future__ import annotations

#: Float sources stretched by their range when read.
FLOATS = "floats"
#: An infrared + visible pair given infrared first.
ORDER = "order"
#: Sources --resize brought to the first's size.
RESIZE = "resize"
#: Raw frames --stretch none leaves nearly flat.
UNSTRETCHED = "unstretched"
#: Raw frames --stretch auto maps onto the full range.
STRETCHED = "stretched"
#: Which image --palette colours as the infrared one.
INFRARED = "infrared"
#: 16-bit results reduced to an 8-bit --format.
EIGHT_BITS = "eight-bits"
#: 16-bit results whose --palette colours step as an 8-bit image's.
PALETTE_STEPS = "palette-steps"
#: Not a note: --legend's key was written (a flat infrared image has none), which the last line names.
LEGEND = "legend"

__all__ = ["EIGHT_BITS", "FLOATS", "INFRARED", "LEGEND", "ORDER", "PALETTE_STEPS", "RESIZE", "STRETCHED",
           "UNSTRETCHED"]
