"""``count_macs`` counts on a shapes-only (meta) copy: the count a real pass gives, for every registered
architecture, without running the caller's network (a real pass took 12.8 s of ``defusion info`` on 2 cores)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from defusion.model.profile import count_macs, count_parameters
from defusion.model.registry import create_model, list_models
from defusion.model.weights import load_weights, shipped_weights_path

#: The published model's MACs per 256x256 pair, as a real pass counted them before the count moved to
#: the meta device (``defusion info``: 15.15 GMACs).
PUBLISHED_MACS_256 = 15_151_038_464


def real_pass_macs(model: nn.Module, height: int, width: int) -> int:
    """The convolutions' MACs counted on a real pass of ``model`` (what count_macs did before)."""
    total = 0

    def hook(module: nn.Conv2d, _inputs: tuple, output: torch.Tensor) -> None:
        nonlocal total
        kh, kw = module.kernel_size
        total += output.numel() * (module.in_channels // module.groups) * kh * kw

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        x = torch.zeros(1, model.cfg.in_channels, height, width)
        with torch.no_grad():
            model(x, x)
    finally:
        for handle in handles:
            handle.remove()
    return total


@pytest.mark.parametrize("name", list_models())
def test_the_count_is_a_real_passs_for_each_architecture(name):
    model = create_model(name).eval()
    for height, width in ((64, 40), (24, 88)):
        assert count_macs(model, height, width) == real_pass_macs(model, height, width)


def test_the_tiny_networks_count_at_256_is_a_real_passs():
    model = create_model("defusion-tiny").eval()
    assert count_macs(model, 256, 256) == real_pass_macs(model, 256, 256)


def test_the_published_models_count_is_unchanged():
    assert count_macs(create_model("defusion"), 256, 256) == PUBLISHED_MACS_256
    assert count_macs(load_weights(shipped_weights_path()), 256, 256) == PUBLISHED_MACS_256


def test_counting_runs_none_of_the_callers_network_and_leaves_it_as_it_was():
    model = create_model("defusion-tiny").train()
    before = {key: value.clone() for key, value in model.state_dict().items()}
    convolutions = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    ran = []  # the devices the convolutions' outputs are on (a hook of the caller's runs on the copy too)
    handles = [m.register_forward_hook(lambda _m, _i, out: ran.append(out.device.type)) for m in convolutions]
    try:
        assert count_macs(model, 64, 64) > 0
    finally:
        for handle in handles:
            handle.remove()
    assert ran and set(ran) == {"meta"}  # no real pass: shapes only
    assert model.training and all(p.device.type == "cpu" for p in model.parameters())
    assert all(not m._forward_hooks for m in convolutions)  # count_macs's own hooks were on the copy
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())


def test_count_parameters_counts_every_parameters_values():
    assert count_parameters(nn.Conv2d(3, 8, 3)) == 8 * 3 * 3 * 3 + 8
    assert 7.5e6 < count_parameters(create_model("defusion")) < 8.5e6
