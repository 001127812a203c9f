import torch

from defusion.data.cud import CUDConfig, make_targets, make_views
from defusion.model.registry import create_model
from defusion.training.loss import cud_losses


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
