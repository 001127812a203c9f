"""Images one pixel tall or wide cost what their pixels cost. An audit: a 200000x1 pair at the default
scale 2 took 177 s and 7.6 GB through the server, against 23.5 s and 1.3 GB for 448x448 of the same
pixels: the tiling decision counted 2x400000 network px, while a pass pads the 1 row to 8 (16x400000),
and where tiling did start, near-square tiles of 384 px ran hundreds of 8x384 passes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from defusion.fusion.network_pass import project
from defusion.fusion.options import FuseOptions
from defusion.fusion.tiling import (automatic_tile_shape, count_tiles, padded_side, passes_for, run_tiled,
                                    tile_layout)
from defusion.model.denet import SIZE_MULTIPLE


class _Recording:
    """A network that returns its inputs as its four projections and records each pass's input size."""

    def __init__(self) -> None:
        self.passes: list[tuple[int, int]] = []

    def __call__(self, x1: torch.Tensor, x2: torch.Tensor, **gains: float) -> list[torch.Tensor]:
        self.passes.append(tuple(x1.shape[-2:]))
        return [x1, x1, x2, x2]


def _passes(options: FuseOptions, height: int, width: int) -> list[tuple[int, int]]:
    """The network input size of every pass fusing a height x width pair with ``options``."""
    net = _Recording()
    image = np.full((height, width, 3), 0.5, np.float32)
    project(net, options, torch.device("cpu"), False, image, image)
    return net.passes


def test_padded_side_is_what_padding_makes():
    assert [padded_side(n) for n in (1, 7, 8, 9, 480)] == [8, 8, 8, 16, 480]
    assert padded_side(1) == SIZE_MULTIPLE


def test_tiling_is_decided_on_the_padded_pass():
    """2x400000 network px is 0.8 MP, under the 1 MP bound, but its pass runs 8 rows or more: tiled. A
    side of 8 or more counts as it is (its padding costs under 2x): the layouts of 0.1.0 there."""
    assert tile_layout(FuseOptions(), 1, 200_000)[0] != 0  # at scale 2 a 16x400000 pass
    assert tile_layout(FuseOptions(scale=1), 1, 200_000)[0] != 0  # 8x200000: 1.6 MP
    assert tile_layout(FuseOptions(scale=1), 1, 100_000)[0] == 0  # 8x100000: 0.8 MP, one pass
    assert tile_layout(FuseOptions(), 500, 524)[0] == 0  # 1000x1048, its sides counted as they are
    assert FuseOptions().tile_for(1024, 1024) == 0 and FuseOptions().tile_for(1024, 1025) != 0


@pytest.mark.parametrize("scale, height, width", [(2, 1, 200_000), (1, 1, 300_000), (2, 200_000, 1),
                                                  (2, 1, 600_000), (2, 3, 50_000), (1, 100, 30_000)])
def test_thin_images_run_few_passes_each_within_a_square_tiles_cost(scale, height, width):
    options = FuseOptions(scale=scale)
    passes = _passes(options, height, width)
    bound = options.auto_tile_size ** 2
    assert max(h * w for h, w in passes) <= bound  # the one pass of the old code ran 16x400000 for 200000x1
    needed = padded_side(height) * padded_side(width) * scale * scale
    assert len(passes) <= 2 * needed / bound + 1  # few passes: 1x600000 ran 1705 of 16x768 network px
    assert len(passes) == passes_for(options, height, width)  # counted as run


def test_a_thin_layout_spans_the_short_side_and_grows_the_long_one():
    assert tile_layout(FuseOptions(), 1, 200_000) == ((8, 18216), 32)
    assert tile_layout(FuseOptions(), 200_000, 1) == ((18216, 8), 32)
    assert passes_for(FuseOptions(), 1, 200_000) == 11
    assert tile_layout(FuseOptions(scale=1), 1, 300_000) == ((8, 60056), 64) and passes_for(
        FuseOptions(scale=1), 1, 300_000) == 5
    for h, w in [(1, 200_000), (5, 9_999), (300, 4_000), (200, 2_900), (383, 1_000), (384, 5_000)]:
        tile_h, tile_w = automatic_tile_shape(h, w, 384, 32)
        assert tile_h == padded_side(h) and tile_w % 8 == 0
        assert padded_side(min(h, tile_h)) * padded_side(min(w, tile_w)) <= 384 ** 2


def test_normal_layouts_are_unchanged():
    """The layouts the docs quote (performance.md, "Inference scale") and the tests pin."""
    options = FuseOptions()
    assert tile_layout(options, 480, 640) == ((256, 336), 32) and passes_for(options, 480, 640) == 4
    assert tile_layout(options, 1225, 1633) == ((336, 360), 32) and passes_for(options, 1225, 1633) == 20
    assert tile_layout(options, 3000, 4000) == ((368, 368), 32) and passes_for(options, 3000, 4000) == 108
    assert tile_layout(FuseOptions(scale=2, tile=768), 480, 640) == (384, 32)
    assert tile_layout(FuseOptions(tile=0), 1, 200_000) == (0, 0)  # never tiled where told so


def test_a_tile_spanning_its_axis_needs_no_room_for_overlap():
    """A tile 8 rows high on a 1-row image overlaps nothing vertically: the blend is exact, and a side
    that does need tiles still refuses an overlap of half of it."""
    x1, x2 = torch.rand(1, 3, 1, 500), torch.rand(1, 3, 1, 500)
    seen: list[tuple[int, int]] = []

    def recording(a, b):
        seen.append(tuple(a.shape[-2:]))
        return a, 0.5 * (a + b)

    out = run_tiled(recording, x1, x2, (8, 200), 32)
    assert torch.allclose(out[0], x1, atol=1e-6) and torch.allclose(out[1], 0.5 * (x1 + x2), atol=1e-6)
    assert len(seen) == count_tiles(1, 500, (8, 200), 32) == 3
    from defusion.fusion.errors import OptionsError

    with pytest.raises(OptionsError, match="under half the tile size"):
        run_tiled(recording, torch.rand(1, 3, 20, 500), torch.rand(1, 3, 20, 500), (8, 200), 32)


def test_a_thin_pair_fuses_in_tiles_close_to_one_pass(lively_weights, one_torch_thread):
    """The tiny network, automatic tiles on a 3x5000 image against one pass: tiled only along the row."""
    from defusion.fusion.fuser import Fuser
    from tests.conftest import smooth_image

    rng = np.random.default_rng(3)
    a, b = smooth_image(rng, 3, 5000) / 255.0, smooth_image(rng, 3, 5000) / 255.0
    tiled = Fuser.from_pretrained(lively_weights, device="cpu", runtime="torch", scale=1,
                                  auto_tile_pixels=64 * 64, auto_tile_size=128, overlap=32)
    assert tiled.tile_layout(3, 5000) == ((8, 1688), 32) and tiled.tiles_for(3, 5000) == 3
    whole = Fuser.from_pretrained(lively_weights, device="cpu", runtime="torch", scale=1, tile=0)
    difference = np.abs(tiled.fuse(a, b) - whole.fuse(a, b))
    assert difference.shape[:2] == (3, 5000) and difference.mean() < 0.02
