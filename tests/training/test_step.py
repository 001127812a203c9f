import copy

import pytest
import torch

from defusion.data.cud import CUDConfig
from defusion.model.registry import create_model
from defusion.training.step import autocast_for, make_optimizer, train_step


def _net_and_opt():
    torch.manual_seed(0)
    net = create_model("defusion-tiny")
    return net, torch.optim.Adam(net.parameters(), lr=1e-3)


def _step(net, opt, weight=None, channels_last=False):
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    return train_step(net, opt, x, weight, CUDConfig(), generator=torch.Generator().manual_seed(2),
                      channels_last=channels_last)


def test_a_step_updates_the_weights_and_returns_the_four_terms():
    net, opt = _net_and_opt()
    before = [p.detach().clone() for p in net.parameters()]
    result = _step(net, opt)
    assert set(result.losses) == {"common", "unique1", "unique2", "fused", "total"}
    assert torch.isclose(result.losses["total"], sum(v for k, v in result.losses.items() if k != "total"))
    assert result.output.fused.shape == (2, 3, 32, 32) and result.views.mask1.shape == (2, 1, 32, 32)
    assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_samples_with_zero_weight_do_not_move_the_weights():
    net, opt = _net_and_opt()
    before = [p.detach().clone() for p in net.parameters()]
    result = _step(net, opt, weight=torch.zeros(2))
    assert result.losses["total"].item() == 0.0
    assert all(torch.equal(a, b) for a, b in zip(before, net.parameters()))


def test_channels_last_computes_the_same_step():
    losses = []
    for channels_last in (False, True):
        net, opt = _net_and_opt()
        losses.append(_step(net, opt, channels_last=channels_last).losses["total"].item())
    assert abs(losses[0] - losses[1]) < 1e-5


@pytest.mark.filterwarnings("ignore:CUDA is not available")
@pytest.mark.parametrize("native", [True, False])
def test_autocast_is_bf16_where_the_hardware_has_bf16_units(monkeypatch, native):
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: native, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: native, raising=False)
    cpu = autocast_for(torch.device("cpu"), amp=True)()
    assert isinstance(cpu, torch.autocast) == native
    if native:
        assert cpu.fast_dtype == torch.bfloat16
    assert autocast_for(torch.device("cpu"), amp=False)().__class__.__name__ == "nullcontext"
    assert autocast_for(torch.device("cuda"), amp=False)().__class__.__name__ == "nullcontext"
    assert isinstance(autocast_for(torch.device("cuda"), amp=True)(), torch.autocast)



def test_the_fused_adam_takes_the_plain_adams_steps_and_resumes_its_state():
    torch.manual_seed(0)
    plain_net = create_model("defusion-tiny")
    fused_net = create_model("defusion-tiny")
    fused_net.load_state_dict(plain_net.state_dict())
    plain = torch.optim.Adam(plain_net.parameters(), lr=1e-3)
    fused = make_optimizer(fused_net.parameters(), lr=1e-3)

    def step_both(plain, fused, seed):
        grads = torch.Generator().manual_seed(seed)
        for a, b in zip(plain_net.parameters(), fused_net.parameters()):
            a.grad = torch.randn(a.shape, generator=grads)
            b.grad = a.grad.clone()
        plain.step()
        fused.step()
        for a, b in zip(plain_net.parameters(), fused_net.parameters()):
            assert torch.allclose(a, b, atol=1e-6)

    for seed in range(3):
        step_both(plain, fused, seed)
    resumed = make_optimizer(fused_net.parameters(), lr=1e-3)
    # A checkpoint written before the fused kernel (a copy: a live state dict shares its step counts).
    resumed.load_state_dict(copy.deepcopy(plain.state_dict()))
    step_both(plain, resumed, 3)


def test_a_defusion_plusplus_step_trains_denet_and_the_mfm_decoder_together():
    from defusion.model.mfm import MaskedFeatureDecoder, MFMConfig
    from defusion.training.pretext import CUDWithMFM

    torch.manual_seed(0)
    net = create_model("defusion-tiny")
    decoder = MaskedFeatureDecoder(net.fusion_head.in_channels, MFMConfig(width=8, blocks=1))
    both = CUDWithMFM(net, decoder)
    opt = make_optimizer(both.parameters(), lr=1e-3)
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    before = [p.detach().clone() for p in both.parameters()]
    result = train_step(both, opt, x, None, CUDConfig(), generator=torch.Generator().manual_seed(2),
                        mfm=decoder.cfg, term_weights=(0.2, 0.1, 1.0), ssim_weight=0.25, mfm_weight=0.01)
    assert set(result.losses) == {"common", "unique1", "unique2", "fused", "fused_ssim", "mfm", "total"}
    assert result.output.fused.shape == (2, 3, 32, 32)  # the CUD projections, as without MFM
    moved = [not torch.equal(a, b) for a, b in zip(before, both.parameters())]
    n_denet = len(list(net.parameters()))
    assert any(moved[:n_denet]) and any(moved[n_denet:])  # DeNet and the decoder both learn
