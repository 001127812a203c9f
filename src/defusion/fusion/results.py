"""What a :class:`~defusion.fusion.fuser.Fuser` returns beside the fused image: :class:`Fusion` (the
sources as fused, their order, what registration found), :class:`Selection` (with pixels="sources",
each source's share) and :class:`Decomposition` (a pair's common and unique projections).

Example:
    >>> import numpy as np
    >>> Selection(np.zeros((2, 2)), [np.ones((2, 2)), np.zeros((2, 2))]).weights[0].tolist()
    [[1.0, 1.0], [1.0, 1.0]]
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Selection(NamedTuple):
    """A fusion with pixels="sources": the fused image and each source's share of it."""

    fused: np.ndarray
    #: One HxW float32 map in [0, 1] per source, in the order the sources were given; they sum
    #: to 1 at every pixel (:func:`defusion.fusion.selection.source_map` draws them as one map).
    weights: list[np.ndarray]


class Fusion(NamedTuple):
    """A fusion with what a viewer or a scorer needs beside it (:meth:`~defusion.fusion.fuser.Fuser.fusion`)."""

    fused: np.ndarray
    #: The sources as they were fused, float32 in [0, 1] in the order given (raw thermal frames
    #: stretched, mapped by the rig, aligned, deghosted): what to show beside the fused image and
    #: to score it against; the files as given may not line up with it.
    sources: list[np.ndarray]
    #: The indices of the images in the order they were fused (``options.order``).
    order: list[int]
    #: With pixels="sources", each source's HxW share of the result, as in :class:`Selection`;
    #: None when the fused image is the network's reconstruction.
    weights: list[np.ndarray] | None = None
    #: The indices of the images stretched as raw thermal frames before fusing (``options.stretch``):
    #: worth telling the user, as ``defusion fuse`` does.
    stretched: tuple[int, ...] = ()
    #: The index (as given) of the source the others were registered onto (``options.align``) and
    #: deghosted against, whose framing the fused image keeps: the first, but for a bracket sorted by
    #: brightness (with align or deghost on) the best exposed.
    frame: int = 0
    #: With ``options.align``, each source's warp onto the frame (:func:`defusion.fusion.align.
    #: estimate_motion`; :func:`~defusion.fusion.align.warp_extent` says how far it moved), None for
    #: the frame itself, in the order given; () without alignment. What registration found.
    warps: tuple[np.ndarray | None, ...] = ()
    #: With ``options.deghost``, the share of each source's pixels replaced as having moved (0 to 1;
    #: 0 for deghost's reference), in the order given; () without deghosting.
    ghosts: tuple[float, ...] = ()


class Decomposition(NamedTuple):
    """DeFusion's explanation of a fusion: fused = Pr(f_c, f_u^a, f_u^b); with pixels="sources",
    fused = weight_a * a + (1 - weight_a) * b, the weight read from the unique projections."""

    fused: np.ndarray
    common: np.ndarray
    unique_a: np.ndarray
    unique_b: np.ndarray
    #: With pixels="sources": HxW float32 in [0, 1], a's share of each fused pixel (the decision
    #: map); None when the fused image is the network's reconstruction.
    weight_a: np.ndarray | None = None
    #: The pair as it was fused (float32 in [0, 1], ``a`` first), as in :attr:`Fusion.sources`.
    sources: list[np.ndarray] | None = None
    #: The source the other was registered onto (0: ``a``, 1: ``b``), as in :attr:`Fusion.frame`.
    frame: int = 0
    #: Each source's warp onto the frame and share replaced as having moved, as in :attr:`Fusion.warps`
    #: and :attr:`Fusion.ghosts`.
    warps: tuple[np.ndarray | None, ...] = ()
    ghosts: tuple[float, ...] = ()


__all__ = ["Decomposition", "Fusion", "Selection"]
