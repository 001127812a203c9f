"""The sources on their way through a :class:`~defusion.fusion.fuser.Fuser`: the sources the others
are registered by (:class:`Anchors`), the registered sources (:class:`Registered`), and the network
inputs with the colour plan that turns the network's output back into the fused image
(:class:`Prepared`: :meth:`~Prepared.finish`, :meth:`~Prepared.finish_selected`).

Example:
    >>> import numpy as np
    >>> grey = np.full((2, 3), 0.5, np.float32)
    >>> plan = Prepared("grey", [np.dstack([grey] * 3)], None, np.dtype(np.uint8), (2, 3), [grey])
    >>> plan.finish(np.dstack([grey] * 3)).tolist()
    [[128, 128, 128], [128, 128, 128]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from defusion.fusion import color
from defusion.fusion.selection import weighted_sum


class Anchors(NamedTuple):
    """The sources (indices as given) that registration and ghost removal go by."""

    #: The source the others are registered onto, whose framing the fused image keeps.
    frame: int = 0
    #: Deghost's reference; None: deghost picks the best exposed itself, after registration.
    reference: int | None = None


class Registered(NamedTuple):
    """The sources as fused (floats in [0, 1]), which were stretched, the one registered onto, and
    what registration and deghosting did to each (Fusion.warps, Fusion.ghosts, Fusion.correlations)."""

    floats: list[np.ndarray]
    stretched: tuple[int, ...]
    frame: int
    warps: tuple[np.ndarray | None, ...] = ()
    ghosts: tuple[float, ...] = ()
    correlations: tuple[float | None, ...] = ()


@dataclass
class Prepared:
    """The sources prepared for the network, and what turns its output into the fused image."""

    mode: str
    inputs: list[np.ndarray]  # HxWx3 float network inputs (grey ones: one plane seen as three, read-only)
    chroma: np.ndarray | None  # the sources' blended YCbCr (colour.blend_chroma), where the fused image takes it
    dtype: np.dtype
    size: tuple[int, int]
    sources: list[np.ndarray]  # the float sources (registered), for pixels="sources" (else may be empty)
    palette: np.ndarray | None = None  # HxWx3 false colours of the infrared image (options.palette; x4: a rig's)
    stretched: tuple[int, ...] = ()  # the sources stretched as raw thermal frames
    frame: int = 0  # the source the others were registered onto (Fusion.frame)
    warps: tuple[np.ndarray | None, ...] = ()  # each source's warp onto the frame (Fusion.warps)
    ghosts: tuple[float, ...] = ()  # each source's share replaced by deghost (Fusion.ghosts)
    correlations: tuple[float | None, ...] = ()  # how well each matched the frame once registered (Fusion.correlations)

    def finish(self, rgb: np.ndarray) -> np.ndarray:
        """The fused image from the network's HxWx3 reconstruction ``rgb``: over the palette's
        colours, as RGB, as grey, or as grey with the blended chroma, in the sources' type. Made a
        band of rows at a time (:func:`~defusion.fusion.color.by_rows`; the palette's detail, a blur,
        from the whole): no whole-image float copies beside the result."""
        if self.palette is not None:
            return color.from_float(color.with_detail(self.palette, rgb.mean(axis=2)), self.dtype)
        return color.by_rows(self._finish_rows, rgb, *([self.chroma] if self.mode == "luma" else []))

    def _finish_rows(self, rgb: np.ndarray, chroma: np.ndarray | None = None) -> np.ndarray:
        """:meth:`finish` of some rows of the reconstruction (and of the blended chroma)."""
        if self.mode == "rgb":
            out = rgb
        else:
            y = rgb.mean(axis=2)
            out = y if self.mode == "grey" else color.with_chroma(y, chroma)
        return color.from_float(out, self.dtype)

    def finish_selected(self, weights: list[np.ndarray]) -> np.ndarray:
        """The sources' own pixels weighed by ``weights`` (one HxW map per source, in the caller's
        order): colour comes with them, except that a grey source among colour ones takes the
        colour sources' chroma, as in luminance fusion. Made a band of rows at a time, as :meth:`finish`."""
        sources = self.sources
        count = len(weights)
        # whether a source is grey is a whole image's property, told before the bands
        grey_among = self.mode == "luma" and any(color.is_grey(s) for s in sources)
        planes = self.mode == "grey" or grey_among

        def rows(*arrays: np.ndarray) -> np.ndarray:
            weighed, images = arrays[:count], arrays[count:2 * count]
            if planes:
                out = weighted_sum(weighed, [color.luminance(s) for s in images])
                if grey_among:
                    out = color.with_chroma(out, arrays[-1])
            else:
                out = weighted_sum(weighed, [color.as_rgb(s)[..., :3] for s in images])
            return color.from_float(out, self.dtype)

        return color.by_rows(rows, *weights, *sources, *([self.chroma] if grey_among else []))

    def component(self, rgb: np.ndarray) -> np.ndarray:
        """A projection as an image: RGB in rgb mode, else the grey plane that was fused."""
        return color.from_float(rgb if self.mode == "rgb" else rgb.mean(axis=2), self.dtype)


__all__ = ["Anchors", "Prepared", "Registered"]
