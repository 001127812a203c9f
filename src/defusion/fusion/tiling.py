"""Any-size inference: padding to the network's stride and overlapping, feathered tiles.

Tiles overlap and are blended with weights that ramp linearly across the overlap, so
there is no hard edge anywhere in the result; memory is bounded by the tile size.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import torch
import torch.nn.functional as F

from defusion.fusion.errors import OptionsError
from defusion.model.denet import SIZE_MULTIPLE

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


def smallest_covering_tile(height: int, width: int, tile: int, overlap: int) -> int:
    """The smallest square tile (a multiple of TILE_MULTIPLE, at most ``tile``) that covers an image
    with as few tiles as ``tile`` does: ``tile`` squares just over an image's size overlap far more
    than ``overlap`` (a 640x480 image in 384 px tiles: 2x2 tiles covering 1.92x its pixels; in 336 px
    tiles, still 2x2, 1.47x), and each pass costs its pixels.

    Example:
        >>> smallest_covering_tile(480, 640, 384, 32), smallest_covering_tile(4000, 6000, 384, 32)
        (336, 384)
    """
    needed = 0
    for length in (height, width):
        count = len(tile_starts(length, tile, overlap))
        needed = max(needed, math.ceil((length + (count - 1) * overlap) / count))
    smallest = math.ceil(needed / TILE_MULTIPLE) * TILE_MULTIPLE
    return min(tile, max(smallest, 2 * overlap + TILE_MULTIPLE))


def _ramp(size: int, overlap: int, fade_start: bool, fade_end: bool, device) -> torch.Tensor:
    weight = torch.ones(size, device=device)
    n = min(overlap, size)
    if n > 0:
        up = torch.linspace(1.0 / (n + 1), n / (n + 1), n, device=device)
        if fade_start:
            weight[:n] = torch.minimum(weight[:n], up)
        if fade_end:
            weight[size - n:] = torch.minimum(weight[size - n:], up.flip(0))
    return weight


def run_tiled(fn: PairFn, x1: torch.Tensor, x2: torch.Tensor, tile: int, overlap: int,
              on_tile: Callable[[], None] | None = None) -> list[torch.Tensor]:
    """Apply ``fn`` tile by tile and blend; outputs have x1's height and width.

    ``on_tile`` is called after each tile (progress reporting).
    """
    if overlap * 2 >= tile:
        raise OptionsError(f"overlap ({overlap}) must be under half the tile size ({tile})")
    h, w = x1.shape[-2:]
    ys, xs = tile_starts(h, tile, overlap), tile_starts(w, tile, overlap)
    sums: list[torch.Tensor] | None = None
    total_weight = torch.zeros(1, 1, h, w, device=x1.device)
    for y in ys:
        for x in xs:
            window = (..., slice(y, y + tile), slice(x, x + tile))
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
    return [acc / total_weight for acc in sums]


def count_tiles(height: int, width: int, tile: int, overlap: int) -> int:
    return len(tile_starts(height, tile, overlap)) * len(tile_starts(width, tile, overlap))
