"""What a :class:`~defusion.fusion.fuser.Fuser` returns beside the fused image: :class:`Fusion` (the
sources as fused, their order, what registration found), :class:`Selection` (with pixels="sources",
each source's share) and :class:`Decomposition` (a pair's common and unique projections).

Each is a NamedTuple (``fused, sources, order, *rest = fuser.fusion(a, b)`` unpacks it) whose repr
names each field's shape, dtype and range rather than printing its pixels (:func:`described`): a
notebook cell ending in a fusion shows ten lines, not a hundred of numbers.

Example:
    >>> import numpy as np
    >>> from defusion.fusion.results import Selection
    >>> Selection(np.zeros((2, 2)), [np.ones((2, 2)), np.zeros((2, 2))]).weights[0].tolist()
    [[1.0, 1.0], [1.0, 1.0]]
    >>> Selection(np.zeros((2, 3), np.uint8), [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)])
    Selection(
        fused=(2, 3) uint8 [0, 0],
        weights=[(2, 3) float32 [1, 1], (2, 3) float32 [0, 0]],
    )
"""

from __future__ import annotations

import warnings
from typing import Any, NamedTuple

import numpy as np

#: Significant digits of the range a repr gives of a float array: enough to tell 0 from 0.0039
#: (one 8-bit level) and 1 from 0.998, short enough to keep a field on one line.
_RANGE_DIGITS = 4


def described(value: Any) -> str:
    """A field of a result as its repr shows it: an array as its shape, dtype and range
    (``(300, 400, 3) uint8 [0, 255]``), a list or tuple of them item by item, anything else as its repr.

    Example:
        >>> import numpy as np
        >>> from defusion.fusion.results import described
        >>> described(np.array([[0.0, 0.5], [0.25, 1.0]], np.float32)), described([np.zeros(2, np.uint16), None])
        ('(2, 2) float32 [0, 1]', '[(2,) uint16 [0, 0], None]')
        >>> described(np.zeros((0, 3))), described((0, 1)), described(None)
        ('(0, 3) float64 (empty)', '(0, 1)', 'None')
    """
    if isinstance(value, np.ndarray):
        if not value.size:
            return f"{value.shape} {value.dtype} (empty)"
        try:
            with warnings.catch_warnings():  # NaN in a float array: its range says nan
                warnings.simplefilter("ignore", RuntimeWarning)
                low, high = (float(x) for x in (value.min(), value.max()))
        except (TypeError, ValueError):  # no range to give (an object or complex array): its shape and dtype
            return f"{value.shape} {value.dtype}"
        return f"{value.shape} {value.dtype} [{low:.{_RANGE_DIGITS}g}, {high:.{_RANGE_DIGITS}g}]"
    if isinstance(value, (list, tuple)) and any(isinstance(item, np.ndarray) for item in value):
        items = ", ".join(described(item) for item in value)
        return f"[{items}]" if isinstance(value, list) else f"({items}{',' if len(value) == 1 else ''})"
    return repr(value)


def _compact_repr(result: tuple) -> str:
    """``result`` as its type's name and one line a field, ``    name=`` and the field :func:`described`."""
    lines = "".join(f"    {name}={described(value)},\n" for name, value in zip(result._fields, result))
    return f"{type(result).__name__}(\n{lines})"


class Selection(NamedTuple):
    """A fusion with pixels="sources": the fused image and each source's share of it."""

    fused: np.ndarray
    #: One HxW float32 map in [0, 1] per source, in the order the sources were given; they sum
    #: to 1 at every pixel (:func:`defusion.fusion.selection.source_map` draws them as one map).
    weights: list[np.ndarray]

    __repr__ = _compact_repr  # shapes, dtypes and ranges, not every pixel


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
    #: With pixels="sources", the indices (as given) of the flat shots (a misfire: one value) left out of
    #: the focus choice (:func:`~defusion.fusion.stacking.without_flat`), each weighing zero: worth a warning.
    left_out: tuple[int, ...] = ()
    #: With ``options.align``, how well each source matched the frame once registered (ECC's
    #: correlation, -1 to 1; None for the frame itself, or where registration measured none), in the
    #: order given; () without alignment. Under :data:`~defusion.fusion.align.LOW_CORRELATION` it
    #: may be another scene (:func:`~defusion.fusion.align.describe_correlation` says so).
    correlations: tuple[float | None, ...] = ()

    __repr__ = _compact_repr


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
    #: How well each source matched the frame once registered, as in :attr:`Fusion.correlations`.
    correlations: tuple[float | None, ...] = ()

    __repr__ = _compact_repr


__all__ = ["Decomposition", "Fusion", "Selection", "described"]
