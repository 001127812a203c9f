import pytest
import torch

from defusion.data.cud import CUDConfig, degrade, make_masks, make_targets, make_views


def _views(seed=0, size=(64, 96), batch=4):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(batch, 3, *size, generator=g)
    return x, make_views(x, CUDConfig(), generator=g)


def test_masks_are_binary_and_cover_every_pixel():
    for seed in range(20):
        g = torch.Generator().manual_seed(seed)
        m1, m2 = make_masks(3, (64, 64), CUDConfig(), generator=g)
        assert set(m1.unique().tolist()) <= {0.0, 1.0} and set(m2.unique().tolist()) <= {0.0, 1.0}
        assert ((m1 + m2) > 0).all(), "cover constraint M1 + M2 > 0"


def test_masks_differ_and_both_views_have_unique_regions_on_average():
    g = torch.Generator().manual_seed(1)
    m1, m2 = make_masks(16, (128, 128), CUDConfig(), generator=g)
    assert (m1 * (1 - m2)).sum() > 0 and ((1 - m1) * m2).sum() > 0 and (m1 * m2).sum() > 0


def test_views_keep_x_where_seen_and_noise_elsewhere():
    x, v = _views()
    assert torch.equal(v.x1 * v.mask1, x * v.mask1)
    assert torch.equal(v.x2 * v.mask2, x * v.mask2)
    assert v.x1.min() >= 0 and v.x1.max() <= 1
    hidden = (1 - v.mask1).bool().expand_as(x)
    assert not torch.allclose(v.x1[hidden], x[hidden])  # noise, not the image


def test_targets_partition_the_image():
    x, v = _views()
    t = make_targets(x, v.mask1, v.mask2)
    assert torch.allclose(t.common + t.unique1 + t.unique2, x)  # regions partition x
    both = (v.mask1 * v.mask2).bool().expand_as(x)
    only1 = (v.mask1 * (1 - v.mask2)).bool().expand_as(x)
    assert torch.equal(t.common[both], x[both]) and (t.common[~both] == 0).all()
    assert torch.equal(t.unique1[only1], x[only1]) and (t.unique1[~only1] == 0).all()
    assert torch.equal(t.full, x)


def test_same_generator_seed_gives_same_views():
    _, a = _views(seed=3)
    _, b = _views(seed=3)
    assert torch.equal(a.x1, b.x1) and torch.equal(a.mask2, b.mask2)


def test_host_rng_for_grid_sizes_gives_valid_reproducible_masks():
    import random

    def masks(seed):
        g = torch.Generator().manual_seed(seed)
        return make_masks(4, (56, 56), CUDConfig(), generator=g, cells_rng=random.Random(seed))

    m1, m2 = masks(3)
    assert ((m1 + m2) > 0).all()
    a1, a2 = masks(3)
    assert torch.equal(m1, a1) and torch.equal(m2, a2)


def test_degraded_views_fill_unseen_parts_with_a_worse_copy_of_x_not_noise():
    x = torch.full((8, 3, 48, 48), 0.5)  # flat: any rendition of it is flat, noise is not
    v = make_views(x, CUDConfig(degrade_prob=1.0), generator=torch.Generator().manual_seed(0))
    fills = set()
    for view, mask in ((v.x1, v.mask1), (v.x2, v.mask2)):
        assert torch.equal(view * mask, x * mask)  # the seen part is still x
        for i in range(len(x)):
            hidden = view[i][(mask[i] == 0).expand(3, -1, -1)]
            if hidden.numel():
                assert torch.allclose(hidden, hidden[0])  # one flat rendition, no noise
                fills.add(round(float(hidden[0]), 3))
    assert len(fills) > 1  # exposure changes the grey level, blur and flattening keep it


def test_degrade_blurs_reexposes_or_flattens_and_stays_in_range():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(32, 3, 32, 32, generator=g)
    y = degrade(x, generator=g)
    assert y.shape == x.shape and y.min() >= 0 and y.max() <= 1
    detail = lambda t: (t[..., 1:] - t[..., :-1]).abs().mean(dim=(1, 2, 3))  # noqa: E731
    assert (detail(y) < detail(x)).all()  # each kind loses detail or contrast


def test_degrade_prob_zero_is_the_papers_pretext_bit_for_bit():
    _, paper = _views(seed=5)
    g = torch.Generator().manual_seed(5)
    x = torch.rand(4, 3, 64, 96, generator=g)
    same = make_views(x, CUDConfig(degrade_prob=0.0), generator=g)
    assert torch.equal(paper.x1, same.x1) and torch.equal(paper.x2, same.x2)


def test_degrade_kinds_pick_the_renditions_and_unknown_ones_are_refused():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(6, 3, 32, 32, generator=g)
    blurred = degrade(x, generator=g, kinds=("blur",))
    assert torch.allclose(blurred.mean(dim=(1, 2, 3)), x.mean(dim=(1, 2, 3)), atol=0.02)  # blur keeps the level
    flat = degrade(x, generator=g, kinds=("flat",))
    assert (flat.std(dim=(1, 2, 3)) < 0.61 * x.std(dim=(1, 2, 3))).all()
    with pytest.raises(ValueError, match="degrade_kinds"):
        CUDConfig(degrade_kinds=("sharpen",))


def test_numpy_scalars_count_as_the_numbers_they_stand_for_and_are_kept_as_python_ones():
    """A sweep over ``np.arange`` gives NumPy scalars: taken as fusion's options take them, and stored
    as Python numbers, so that the config still saves as JSON."""
    import json
    from dataclasses import asdict

    import numpy as np

    cfg = CUDConfig(coarse_cells=(np.int64(13), np.int32(14)), fine_cells=[np.int64(26), 28],
                    keep_prob=(np.float32(0.25), np.float64(0.5)), degrade_prob=np.float32(0.5))
    assert cfg == CUDConfig(coarse_cells=(13, 14), fine_cells=(26, 28), keep_prob=(0.25, 0.5), degrade_prob=0.5)
    assert all(type(v) is int for v in cfg.coarse_cells + cfg.fine_cells)
    assert all(type(v) is float for v in cfg.keep_prob) and type(cfg.degrade_prob) is float
    json.dumps(asdict(cfg))
    for bad in ({"coarse_cells": (np.True_, 3)}, {"coarse_cells": (np.float64(13.0), 14)},
                {"degrade_prob": np.bool_(True)}, {"keep_prob": (np.float32("nan"), 0.5)}):
        with pytest.raises(ValueError):
            CUDConfig(**bad)


def test_exposure_gains_are_drawn_from_the_named_ranges():
    from defusion.data.cud import BRIGHT_GAIN, DARK_GAIN

    g = torch.Generator().manual_seed(0)
    x = torch.full((64, 1, 4, 4), 0.2)  # bright gains (up to 4x) stay under 1: no clipping
    gain = (degrade(x, generator=g, kinds=("exposure",)) / x)[:, 0, 0, 0]
    dark = (gain >= DARK_GAIN[0] - 1e-6) & (gain <= DARK_GAIN[1] + 1e-6)
    bright = (gain >= BRIGHT_GAIN[0] - 1e-6) & (gain <= BRIGHT_GAIN[1] + 1e-6)
    assert (dark | bright).all() and dark.any() and bright.any()
