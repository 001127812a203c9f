"""Any-size inference: padding to the network's stride and overlapping, feathered tiles.

Tiles overlap and are blended with weights that ramp linearly across the overlap, so
there is no hard edge anywhere in the result; memory is bounded by the tile size.
"""

from __future__ import annotations

import math
import numbers
from typing import TYPE_CHECKING, Callable, Sequence, Tuple, Union

import torch
import torch.nn.functional as F

from defusion.fusion.errors import OptionsError
from defusion.model.denet import SIZE_MULTIPLE

if TYPE_CHECKING:
    from defusion.fusion.options import FuseOptions

PairFn = Callable[[torch.Tensor, torch.Tensor], Sequence[torch.Tensor]]


def pad_to_multiple(x: torch.Tensor, multiple: int = SIZE_MULTIPLE) -> torch.Tensor:
    """Pad (B, C, H, W) at the bottom/right to multiples of ``multiple`` (mirror padding).

    Example:
        >>> pad_to_multiple(torch.rand(1, 3, 5, 9)).shape
        torch.Size([1, 3, 8, 16])
    """
    h, w = x.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    if not (ph or pw):
        return x
    mode = "reflect" if ph < h and pw < w else "replicate"
    return F.pad(x, (0, pw, 0, ph), mode=mode)


def padded_side(length: int, multiple: int = SIZE_MULTIPLE) -> int:
    """``length`` rounded up to a multiple of ``multiple``: the side :func:`pad_to_multiple` makes of
    it, so what a network pass over it costs (a 1-pixel row runs as 8).

    Example:
        >>> padded_side(1), padded_side(480), padded_side(1225)
        (8, 480, 1232)
    """
    return -(-length // multiple) * multiple


def run_padded(fn: PairFn, x1: torch.Tensor, x2: torch.Tensor) -> list[torch.Tensor]:
    """Apply ``fn`` to padded inputs and crop every output back to the input size."""
    h, w = x1.shape[-2:]
    return [y[..., :h, :w] for y in fn(pad_to_multiple(x1), pad_to_multiple(x2))]


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Evenly spread offsets of the fewest tiles that cover ``length`` with >= ``overlap``.

    Example:
        >>> tile_starts(1000, 512, 64)
        [0, 244, 488]
    """
    if length <= tile:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


#: Tile sides are whole multiples of this (the network's down-sampling: no padding inside a tile).
TILE_MULTIPLE = 8

#: A tile size: N (an N x N square) or (height, width).
TileSize = Union[int, Tuple[int, int]]


def tile_shape(tile: TileSize) -> tuple[int, int]:
    """``tile`` as (height, width): an int is a square.

    Example:
        >>> tile_shape(384), tile_shape((256, 336))
        ((384, 384), (256, 336))
    """
    if isinstance(tile, numbers.Integral):
        return int(tile), int(tile)
    height, width = tile
    return int(height), int(width)


def _smallest_side(length: int, tile: int, overlap: int) -> int:
    """The smallest side (a multiple of TILE_MULTIPLE, at most ``tile``, at least
    2 * ``overlap`` + TILE_MULTIPLE) that covers ``length`` in as few tiles as ``tile`` does."""
    count = len(tile_starts(length, tile, overlap))
    needed = math.ceil((length + (count - 1) * overlap) / count)  # count sides, count - 1 overlaps
    smallest = math.ceil(needed / TILE_MULTIPLE) * TILE_MULTIPLE
    return min(tile, max(smallest, 2 * overlap + TILE_MULTIPLE))


def smallest_covering_shape(height: int, width: int, tile: int, overlap: int) -> tuple[int, int]:
    """The smallest (height, width) tile that covers an image with as few tiles as ``tile`` squares
    do, each side chosen on its own axis (a multiple of TILE_MULTIPLE, at most ``tile``): ``tile``
    squares just over an image's size overlap far more than ``overlap``, and each pass costs its
    pixels. A 640x480 image in 384 px squares: 2x2 tiles covering 1.92x its pixels; in 336 px
    squares (the larger of these sides), still 2x2, 1.47x; in tiles 256 high and 336 wide, 2x2, 1.12x.

    Example:
        >>> smallest_covering_shape(480, 640, 384, 32), smallest_covering_shape(3000, 4000, 384, 32)
        ((256, 336), (368, 368))
    """
    return _smallest_side(height, tile, overlap), _smallest_side(width, tile, overlap)


def automatic_tile_shape(height: int, width: int, tile: int, overlap: int) -> tuple[int, int]:
    """The (height, width) of automatic tiles for an image, with ``tile`` x ``tile`` (padded) as the
    bound on what one pass may cost: :func:`smallest_covering_shape`, except for a thin image, one with
    a side shorter than the smallest tile that layout makes (2 x ``overlap`` + TILE_MULTIPLE): a tile
    spans that side (padded: one tile on that axis, so no overlap there), and the other side may grow
    until the tile's padded area reaches ``tile`` squared, then shrinks to the smallest that keeps its
    count. A 200000x1 image at scale 2 (``tile`` 384) runs 11 passes of 18216x8 image px (W x H), where
    the smallest tiles would run 569 of 384x72, each padding its one row to 8.

    Example:
        >>> automatic_tile_shape(1, 200000, 384, 32), automatic_tile_shape(3000, 4000, 384, 32)
        ((8, 18216), (368, 368))
        >>> automatic_tile_shape(300, 4000, 384, 32)  # not thin: as before
        (304, 368)
    """
    smallest = 2 * overlap + TILE_MULTIPLE
    thin = [padded_side(length) < smallest for length in (height, width)]
    if not any(thin):
        return smallest_covering_shape(height, width, tile, overlap)
    if all(thin):
        return padded_side(height), padded_side(width)
    short, long = (height, width) if thin[0] else (width, height)
    across = padded_side(short)
    longest = max(tile, tile * tile // across // TILE_MULTIPLE * TILE_MULTIPLE)  # padded area <= tile squared
    along = _smallest_side(long, longest, overlap)
    return (across, along) if thin[0] else (along, across)


def _ramp(size: int, overlap: int, fade_start: bool, fade_end: bool, device: torch.device) -> torch.Tensor:
    weight = torch.ones(size, device=device)
    n = min(overlap, size)
    if n > 0:
        up = torch.linspace(1.0 / (n + 1), n / (n + 1), n, device=device)
        if fade_start:
            weight[:n] = torch.minimum(weight[:n], up)
        if fade_end:
            weight[size - n:] = torch.minimum(weight[size - n:], up.flip(0))
    return weight


def run_tiled(fn: PairFn, x1: torch.Tensor, x2: torch.Tensor, tile: TileSize, overlap: int,
              on_tile: Callable[[], None] | None = None) -> list[torch.Tensor]:
    """Apply ``fn`` tile by tile and blend; outputs have x1's height and width. ``tile`` is N
    (N x N squares) or (height, width); weights ramp linearly over every overlap, on both axes.
    A side must be over twice ``overlap`` where its axis takes more than one tile (a tile spanning
    its axis overlaps nothing there).

    ``on_tile`` is called after each tile (progress reporting).

    Example:
        >>> x = torch.rand(1, 3, 100, 150)
        >>> torch.allclose(run_tiled(lambda a, b: [a], x, x, (48, 80), 16)[0], x)
        True
    """
    tile_h, tile_w = tile_shape(tile)
    h, w = x1.shape[-2:]
    if any(overlap * 2 >= side for side, length in ((tile_h, h), (tile_w, w)) if length > side):
        size = tile if isinstance(tile, numbers.Integral) else f"{tile_w}x{tile_h}"  # W x H, as elsewhere
        raise OptionsError(f"overlap ({overlap}) must be under half the tile size ({size})")
    ys, xs = tile_starts(h, tile_h, overlap), tile_starts(w, tile_w, overlap)
    sums: list[torch.Tensor] | None = None
    total_weight = torch.zeros(1, 1, h, w, device=x1.device)
    for y in ys:
        for x in xs:
            window = (..., slice(y, y + tile_h), slice(x, x + tile_w))
            outs = run_padded(fn, x1[window], x2[window])
            th, tw = outs[0].shape[-2:]
            weight = (_ramp(th, overlap, y > 0, y + th < h, x1.device)[:, None]
                      * _ramp(tw, overlap, x > 0, x + tw < w, x1.device)[None, :])
            if sums is None:
                sums = [torch.zeros(*o.shape[:2], h, w, device=x1.device, dtype=torch.float32) for o in outs]
            for acc, o in zip(sums, outs):
                acc[window] += o.float() * weight
            total_weight[window] += weight
            if on_tile:
                on_tile()
    for acc in sums:  # in place: a second set of whole-image sums would double the tiler's memory
        acc.div_(total_weight)
    return sums


def count_tiles(height: int, width: int, tile: TileSize, overlap: int) -> int:
    """How many tiles of ``tile`` (N or (height, width)) :func:`run_tiled` runs on an image.

    Example:
        >>> count_tiles(480, 640, 384, 32), count_tiles(480, 640, (256, 336), 32)
        (4, 4)
    """
    tile_h, tile_w = tile_shape(tile)
    return len(tile_starts(height, tile_h, overlap)) * len(tile_starts(width, tile_w, overlap))


def tile_layout(options: "FuseOptions", height: int, width: int) -> tuple[TileSize, int]:
    """Tile size and overlap in image pixels for an image of height x width fused with ``options``
    (tile 0: one pass). Both options count network input pixels, so with ``scale`` s an image tile is
    1/s of that: the network's memory per pass is bounded the same way at every scale. Whether to tile
    is decided on the pass one would run, a side under the network's stride (SIZE_MULTIPLE) counted as
    padded to it (a 200000x1 image at scale 2 is a 16x400000 pass, not 2x400000; a side of 8 or more
    as it is: its padding costs under 2x). Automatic tiles are (height, width)
    (:func:`automatic_tile_shape`: each side the smallest that keeps its axis's tile count, a thin
    image's short side spanned in one); a tile asked for (``tile`` N) stays N x N, the layout that
    option documents. Options alone: what a fusion will take is known before a network loads.

    Example:
        >>> from defusion.fusion.options import FuseOptions
        >>> tile_layout(FuseOptions(tile=0), 300, 400), tile_layout(FuseOptions(scale=1, tile=256), 300, 400)[0]
        ((0, 0), 256)
        >>> tile_layout(FuseOptions(), 480, 640), tile_layout(FuseOptions(), 1, 200000)
        (((256, 336), 32), ((8, 18216), 32))
    """
    s = options.scale
    tile = options.tile_for(max(height, SIZE_MULTIPLE) * s, max(width, SIZE_MULTIPLE) * s) // s  # a row runs as 8
    overlap = min(options.overlap // s, max(tile - 1, 0) // 2)  # under half a tile
    if options.tile is None and tile:  # automatic: as few tiles, but no larger than they need be
        return automatic_tile_shape(height, width, tile, overlap), overlap
    return tile, overlap


def passes_for(options: "FuseOptions", height: int, width: int) -> int:
    """How many network passes fusing a pair of height x width takes with ``options`` (:func:`tile_layout`).

    Example:
        >>> from defusion.fusion.options import FuseOptions
        >>> passes_for(FuseOptions(tile=0), 4000, 6000), passes_for(FuseOptions(scale=1, tile=512), 4000, 6000) > 1
        (1, True)
    """
    tile, overlap = tile_layout(options, height, width)
    return count_tiles(height, width, tile, overlap) if tile else 1
