import torch

from defusion.fusion.tiling import count_tiles, pad_to_multiple, run_padded, run_tiled, tile_starts


def _identity_pair(x1, x2):
    return (x1, 0.5 * (x1 + x2))


def test_tile_starts_cover_everything_with_overlap():
    for length in (100, 512, 513, 1999):
        starts = tile_starts(length, 256, 32)
        assert starts[0] == 0 and starts[-1] + 256 >= length
        assert all(b - a <= 256 - 32 for a, b in zip(starts, starts[1:]))
    assert count_tiles(1000, 1000, 512, 64) == 9
    assert count_tiles(900, 900, 512, 64) == 4


def test_padding_and_cropping():
    x = torch.rand(1, 3, 13, 29)
    assert pad_to_multiple(x).shape[-2:] == (16, 32)
    assert pad_to_multiple(torch.rand(1, 3, 1, 1)).shape[-2:] == (8, 8)  # too small to mirror
    out = run_padded(_identity_pair, x, x)
    assert out[0].shape == x.shape and torch.equal(out[0], x)


def test_blending_a_pointwise_function_is_exact():
    """Feathered weights sum to one everywhere: a per-pixel function is reproduced exactly."""
    x1, x2 = torch.rand(1, 3, 150, 230), torch.rand(1, 3, 150, 230)
    tiled = run_tiled(_identity_pair, x1, x2, tile=64, overlap=16)
    assert torch.allclose(tiled[0], x1, atol=1e-6) and torch.allclose(tiled[1], 0.5 * (x1 + x2), atol=1e-6)


def test_tiles_are_reported():
    calls = []
    run_tiled(_identity_pair, torch.rand(1, 3, 100, 100), torch.rand(1, 3, 100, 100), 64, 16,
              on_tile=lambda: calls.append(1))
    assert len(calls) == count_tiles(100, 100, 64, 16)


def test_automatic_tiles_are_no_larger_than_they_need_be():
    """Performance audit: a 640x480 pair at scale 2 went through 2x2 tiles of 384 px covering 1.92x its
    pixels; square tiles of 336 px keep 2x2 and cover 1.47x, 256x336 tiles (each axis on its own) 1.12x.
    The count never changes, nor does a tile given."""
    from defusion.fusion.fuser import Fuser
    from defusion.fusion.options import FuseOptions
    from defusion.fusion.tiling import smallest_covering_shape, tile_starts

    for h, w in [(480, 640), (600, 800), (1000, 1500), (385, 385), (4000, 6000), (9, 2000)]:
        shape = smallest_covering_shape(h, w, 384, 32)
        assert all(side % 8 == 0 and 2 * 32 < side <= 384 for side in shape)
        assert [len(tile_starts(n, side, 32)) for n, side in zip((h, w), shape)] == [
            len(tile_starts(n, 384, 32)) for n in (h, w)]
    fuser = Fuser.__new__(Fuser)
    fuser.options = FuseOptions(scale=2)
    assert fuser.tile_layout(480, 640) == ((256, 336), 32)
    assert fuser.tiles_for(480, 640) == 4
    fuser.options = FuseOptions(scale=2, tile=768)  # a tile asked for is kept as it is: N x N
    assert fuser.tile_layout(480, 640) == (384, 32)


_LAYOUTS = [(h, w, tile, overlap) for h, w in [(480, 640), (640, 480), (1225, 1633), (3000, 4000), (9, 2000),
                                               (385, 385), (1000, 1500), (353, 705), (2000, 17)]
            for tile, overlap in [(384, 32), (384, 0), (256, 64), (129, 64)]]


def test_rectangular_tiles_cover_each_axis_in_as_few_tiles_with_the_overlap():
    """Per axis: the side is a multiple of TILE_MULTIPLE (or the bound), at most the bound, never under
    2 * overlap + TILE_MULTIPLE (or the bound), the tile count is the bound's, the tiles reach both ends
    and neighbours share at least ``overlap`` pixels; a tile's pixels are never more than the bound's square's."""
    from defusion.fusion.tiling import TILE_MULTIPLE, smallest_covering_shape

    for h, w, tile, overlap in _LAYOUTS:
        shape = smallest_covering_shape(h, w, tile, overlap)
        for length, side in zip((h, w), shape):
            assert side == tile or side % TILE_MULTIPLE == 0
            assert min(tile, 2 * overlap + TILE_MULTIPLE) <= side <= tile
            starts = tile_starts(length, side, overlap)
            assert len(starts) == len(tile_starts(length, tile, overlap))
            assert starts[0] == 0 and starts[-1] + side >= length
            assert all(side - (b - a) >= overlap for a, b in zip(starts, starts[1:]))
        assert count_tiles(h, w, shape, overlap) == count_tiles(h, w, tile, overlap)
        assert shape[0] * shape[1] <= tile * tile
    assert smallest_covering_shape(480, 640, 384, 32) == (256, 336)  # 1.12x the pixels, not 1.47x


def test_blending_on_a_rectangular_layout_is_exact_and_passes_stay_within_the_tile():
    x1, x2 = torch.rand(1, 3, 150, 230), torch.rand(1, 3, 150, 230)
    seen = []

    def recording(a, b):
        seen.append(tuple(a.shape[-2:]))
        return _identity_pair(a, b)

    tiled = run_tiled(recording, x1, x2, tile=(48, 80), overlap=16)
    assert torch.allclose(tiled[0], x1, atol=1e-6) and torch.allclose(tiled[1], 0.5 * (x1 + x2), atol=1e-6)
    assert len(seen) == count_tiles(150, 230, (48, 80), 16) == len(tile_starts(150, 48, 16)) * len(
        tile_starts(230, 80, 16)) and set(seen) == {(48, 80)}
    # a square tile is the same as (N, N): the old call form blends identically
    assert all(torch.equal(a, b) for a, b in zip(run_tiled(_identity_pair, x1, x2, 64, 16),
                                                 run_tiled(_identity_pair, x1, x2, (64, 64), 16)))


def test_rectangular_tiles_need_each_side_over_twice_the_overlap():
    import pytest

    from defusion.fusion.errors import OptionsError

    x = torch.rand(1, 3, 100, 100)
    with pytest.raises(OptionsError, match=r"overlap \(16\) must be under half the tile size \(80x32\)"):  # W x H
        run_tiled(_identity_pair, x, x, (32, 80), 16)


def test_fusing_in_automatic_rectangular_tiles_is_close_to_one_pass(lively_weights, one_torch_thread):
    """A real (tiny) network through the automatic layout, rectangles on a non-square image, against
    one pass: the tiles' borders see less context, so close, not equal."""
    import numpy as np

    from defusion.fusion.fuser import Fuser
    from tests.conftest import smooth_image

    rng = np.random.default_rng(0)
    a, b = smooth_image(rng, 150, 300) / 255.0, smooth_image(rng, 150, 300) / 255.0
    tiled = Fuser.from_pretrained(lively_weights, device="cpu", runtime="torch", scale=1,
                                  auto_tile_pixels=64 * 64, auto_tile_size=128, overlap=32)
    (tile_h, tile_w), overlap = tiled.tile_layout(150, 300)
    assert (tile_h, tile_w, overlap) == (96, 128, 32) and tiled.tiles_for(150, 300) == 6
    whole = Fuser.from_pretrained(lively_weights, device="cpu", runtime="torch", scale=1, tile=0)
    difference = np.abs(tiled.fuse(a, b) - whole.fuse(a, b))
    # the outermost pixels differ by padding, not tiling (one pass mirrors 150 rows to 152; the last
    # tile, 96 rows from row 54, needs none): the tiny random network's corner swings by 0.46 either way
    assert difference.mean() < 0.02 and difference[2:-2, 2:-2].max() < 0.1
