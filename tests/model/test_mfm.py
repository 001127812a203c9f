"""DeFusion++'s masked feature modelling adapted to DeNet: patch masks and the decoder."""

from __future__ import annotations

import pytest
import torch

from defusion.model.mfm import MaskedFeatureDecoder, MFMConfig, random_patch_keep


@pytest.mark.parametrize("size,patch,ratio", [((32, 48), 16, 0.75), ((40, 24), 16, 0.5), ((16, 16), 4, 0.0)])
def test_each_sample_hides_exactly_its_share_of_whole_patches(size, patch, ratio):
    h, w = size
    keep = random_patch_keep(3, h, w, patch, ratio, generator=torch.Generator().manual_seed(0))
    assert keep.shape == (3, 1, h, w) and set(keep.unique().tolist()) <= {0.0, 1.0}
    rows, cols = -(-h // patch), -(-w // patch)
    for sample in keep:
        # Each patch is all kept or all hidden, and the hidden count is the ratio's share.
        padded = torch.nn.functional.pad(sample, (0, cols * patch - w, 0, rows * patch - h), value=-1)
        cells = padded[0].unfold(0, patch, patch).unfold(1, patch, patch).reshape(rows * cols, -1)
        values = [set(c[c >= 0].tolist()) for c in cells]
        assert all(len(v) == 1 for v in values)
        assert sum(v == {0.0} for v in values) == round(ratio * rows * cols)
    # Samples draw their own patches; a seeded generator repeats them.
    assert not torch.equal(keep[0], keep[1]) or ratio == 0.0
    again = random_patch_keep(3, h, w, patch, ratio, generator=torch.Generator().manual_seed(0))
    assert torch.equal(keep, again)


def test_decoder_starts_as_the_masked_embedding_and_learns_its_token():
    dec = MaskedFeatureDecoder(channels=4, cfg=MFMConfig(width=8, blocks=1))
    z = torch.rand(2, 4, 32, 32)
    keep = random_patch_keep(2, 32, 32, 16, 0.75, generator=torch.Generator().manual_seed(1))
    out = dec(z, keep)
    # At initialisation the output convolution is zero: kept positions pass, hidden ones hold the token.
    assert torch.equal(out * keep, z * keep)
    assert torch.all(out[keep.expand_as(out) == 0] == 0)
    out.sum().backward()
    assert dec.mask_token.grad is not None and dec.mask_token.grad.abs().sum() > 0
    assert dec.out.weight.grad.abs().sum() > 0


def test_hidden_patches_are_predicted_from_their_neighbours():
    """A few hundred steps on one smooth map fill hidden patches far better than the token does."""
    torch.manual_seed(0)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    z = torch.stack([yy, xx, yy * xx, 1 - xx]).unsqueeze(0)
    dec = MaskedFeatureDecoder(channels=4, cfg=MFMConfig(width=16, blocks=1))
    opt = torch.optim.Adam(dec.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(2)

    def hidden_error() -> float:
        keep = random_patch_keep(1, 32, 32, 8, 0.5, generator=torch.Generator().manual_seed(99))
        with torch.no_grad():
            err = (dec(z, keep) - z).abs() * (1 - keep)
        return float(err.sum() / (1 - keep).sum() / 4)

    before = hidden_error()
    for _ in range(300):
        keep = random_patch_keep(1, 32, 32, 8, 0.5, generator=gen)
        loss = (dec(z, keep) - z).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert hidden_error() < 0.3 * before


@pytest.mark.parametrize("kwargs", [{"mask_ratio": 1.0}, {"mask_ratio": -0.1}, {"patch": 0}, {"width": 0},
                                    {"blocks": -1}])
def test_config_rejects_impossible_masks(kwargs):
    with pytest.raises(ValueError, match="mfm"):
        MFMConfig(**kwargs)
