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
    pixels; tiles of 336 px keep 2x2 and cover 1.47x. The count never changes, nor does a tile given."""
    from defusion.fusion.fuser import Fuser
    from defusion.fusion.options import FuseOptions
    from defusion.fusion.tiling import smallest_covering_tile, tile_starts

    for h, w in [(480, 640), (600, 800), (1000, 1500), (385, 385), (4000, 6000), (9, 2000)]:
        tile = smallest_covering_tile(h, w, 384, 32)
        assert tile % 8 == 0 and 2 * 32 < tile <= 384
        assert [len(tile_starts(n, tile, 32)) for n in (h, w)] == [len(tile_starts(n, 384, 32)) for n in (h, w)]
    fuser = Fuser.__new__(Fuser)
    fuser.options = FuseOptions(scale=2)
    assert fuser.tile_layout(480, 640) == (336, 32)
    fuser.options = FuseOptions(scale=2, tile=768)  # a tile asked for is kept as it is
    assert fuser.tile_layout(480, 640) == (384, 32)
