import torch

import pytest

from defusion.data.cud import CUDConfig, make_targets, make_views, region_masks
from defusion.model.registry import create_model
from defusion.training.loss import cud_losses, ssim_error


def test_loss_ignores_samples_with_zero_weight():
    x = torch.rand(2, 3, 8, 8)
    targets = make_targets(x, torch.ones(2, 1, 8, 8), torch.ones(2, 1, 8, 8))
    pred = targets._replace(common=x * 0)
    from defusion.model.denet import DeNetOutput
    out = DeNetOutput(pred.common, targets.unique1, targets.unique2, x.clone())
    out.common[1] = x[1]  # sample 1 is perfect
    weighted = cud_losses(out, targets, torch.tensor([0.0, 1.0]))
    assert weighted["total"].item() == 0.0
    assert cud_losses(out, targets)["total"].item() > 0


def test_region_masks_partition_the_image_under_the_cover_constraint():
    views = make_views(torch.rand(4, 3, 32, 32), CUDConfig(), generator=torch.Generator().manual_seed(1))
    regions = torch.stack(region_masks(views.mask1, views.mask2))
    assert torch.equal(regions.sum(0), torch.ones_like(views.mask1))  # every pixel in exactly one region


def test_outside_weight_scales_only_the_error_outside_each_region():
    from defusion.model.denet import DeNetOutput

    x = torch.rand(2, 3, 8, 8)
    m1 = torch.zeros(2, 1, 8, 8)
    m1[..., :6] = 1
    m2 = torch.zeros(2, 1, 8, 8)
    m2[..., 2:] = 1
    targets = make_targets(x, m1, m2)
    out = DeNetOutput(x, x, x, x)  # every projection shows the whole image: wrong only outside its region
    paper = cud_losses(out, targets, masks=(m1, m2))
    assert paper["common"].item() == pytest.approx(cud_losses(out, targets)["common"].item())
    half = cud_losses(out, targets, masks=(m1, m2), outside_weight=0.5)
    for term in ("common", "unique1", "unique2"):
        assert half[term].item() == pytest.approx(0.5 * paper[term].item(), rel=1e-6) and paper[term] > 0
    assert half["fused"].item() == paper["fused"].item() == 0.0
    assert cud_losses(out, targets, masks=(m1, m2), outside_weight=0.0)["total"].item() == 0.0
    inside_wrong = DeNetOutput(x * 0, x * 0, x * 0, x)  # zero everywhere: wrong only inside
    assert cud_losses(inside_wrong, targets, masks=(m1, m2), outside_weight=0.0)["common"] > 0
    with pytest.raises(ValueError, match="masks"):
        cud_losses(out, targets, outside_weight=0.5)


def test_gradient_term_penalises_a_blurred_reconstruction_but_not_a_shift_in_grey_level():
    from defusion.model.denet import DeNetOutput

    torch.manual_seed(0)
    x = torch.rand(2, 3, 16, 16)
    targets = make_targets(x, torch.ones(2, 1, 16, 16), torch.ones(2, 1, 16, 16))
    blurred = torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    offset = x + 0.1
    paper = cud_losses(DeNetOutput(x, x, x, blurred), targets)
    assert "fused_gradient" not in paper  # 0, the default, is the paper's loss
    sharp = cud_losses(DeNetOutput(x, x, x, blurred), targets, gradient_weight=2.0)
    assert sharp["fused_gradient"].item() > 0.1
    assert sharp["total"].item() == pytest.approx(paper["total"].item() + sharp["fused_gradient"].item())
    half = cud_losses(DeNetOutput(x, x, x, blurred), targets, gradient_weight=1.0)
    assert sharp["fused_gradient"].item() == pytest.approx(2 * half["fused_gradient"].item())
    shifted = cud_losses(DeNetOutput(x, x, x, offset), targets, gradient_weight=1.0)
    assert shifted["fused_gradient"].item() == pytest.approx(0.0, abs=1e-6) and shifted["fused"].item() > 0.09
    dropped = cud_losses(DeNetOutput(x, x, x, torch.stack([blurred[0], x[1]])), targets,
                         torch.tensor([0.0, 1.0]), gradient_weight=1.0)
    assert dropped["fused_gradient"].item() == pytest.approx(0.0, abs=1e-6)  # the blurred sample is dropped


def test_overfits_one_image_within_a_few_dozen_steps():
    torch.manual_seed(0)
    net = create_model("defusion-tiny")
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    yy, xx = torch.meshgrid(torch.linspace(0, 1, 32), torch.linspace(0, 1, 32), indexing="ij")
    x = torch.stack([yy, xx, 0.5 * (yy + xx)])[None]  # a smooth image, learnable by a tiny net
    views = make_views(x, CUDConfig(), generator=torch.Generator().manual_seed(0))
    targets = make_targets(x, views.mask1, views.mask2)
    history = []
    for _ in range(40):
        loss = cud_losses(net(views.x1, views.x2), targets)["total"]
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(loss.item())
    assert history[-1] < 0.7 * history[0], history[::10]


def test_term_weights_weigh_the_total_and_the_terms_are_logged_unweighted():
    from defusion.model.denet import DeNetOutput

    torch.manual_seed(0)
    x = torch.rand(2, 3, 16, 16)
    targets = make_targets(x, torch.ones(2, 1, 16, 16), torch.ones(2, 1, 16, 16))
    out = DeNetOutput(x * 0.5, x * 0.8, x * 0.9, x * 0.7)
    paper = cud_losses(out, targets)
    weighted = cud_losses(out, targets, term_weights=(0.2, 0.1, 1.0))
    for name in ("common", "unique1", "unique2", "fused"):
        assert weighted[name].item() == pytest.approx(paper[name].item())
    expected = 0.2 * paper["common"] + 0.1 * (paper["unique1"] + paper["unique2"]) + paper["fused"]
    assert weighted["total"].item() == pytest.approx(expected.item())


def test_ssim_term_is_zero_for_the_image_and_grows_with_blur_but_barely_with_a_small_offset():
    from defusion.model.denet import DeNetOutput

    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32)
    blurred = torch.nn.functional.avg_pool2d(x, 5, stride=1, padding=2, count_include_pad=False)
    assert ssim_error(x, x).abs().max().item() < 1e-5
    assert ssim_error(blurred, x).min().item() > 0.3
    assert ssim_error((x + 0.02).clamp(0, 1), x).max().item() < 0.01
    targets = make_targets(x, torch.ones(2, 1, 32, 32), torch.ones(2, 1, 32, 32))
    exact = DeNetOutput(targets.common, targets.unique1, targets.unique2, blurred)  # only the fused term errs
    losses = cud_losses(exact, targets, ssim_weight=0.25)
    assert losses["fused_ssim"].item() == pytest.approx(0.25 * ssim_error(blurred, x).mean().item(), rel=1e-5)
    assert losses["total"].item() == pytest.approx(losses["fused"].item() + losses["fused_ssim"].item(), rel=1e-5)
    pred = blurred.clone().requires_grad_()
    ssim_error(pred, x).sum().backward()  # differentiable: it can train the reconstruction
    assert pred.grad.abs().sum() > 0


def test_mfm_term_needs_the_masked_reconstruction_and_measures_it_against_the_image():
    from defusion.model.denet import DeNetOutput

    x = torch.rand(2, 3, 8, 8)
    targets = make_targets(x, torch.ones(2, 1, 8, 8), torch.ones(2, 1, 8, 8))
    out = DeNetOutput(targets.common, targets.unique1, targets.unique2, x)  # the CUD terms are all 0
    with pytest.raises(ValueError, match="masked"):
        cud_losses(out, targets, mfm_weight=0.5)
    losses = cud_losses(out, targets, masked_recon=x + 0.2, mfm_weight=0.5)
    assert losses["mfm"].item() == pytest.approx(0.1, rel=1e-5)
    assert losses["total"].item() == pytest.approx(0.1, rel=1e-5)
    assert "mfm" not in cud_losses(out, targets, masked_recon=x + 0.2)  # weight 0: the paper's loss
