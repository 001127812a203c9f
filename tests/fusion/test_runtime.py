"""Inference runtimes of the fusion core: choices, errors, and torch.compile agreeing with eager."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from defusion.fusion.fuser import Fuser
from defusion.fusion.runtime import RUNTIMES, CompiledNet, check_runtime
from defusion.model.registry import create_model
from tests.conftest import smooth_image


def test_cli_offers_exactly_the_runtimes():
    from defusion.cli.options import RUNTIMES as CLI_RUNTIMES

    assert CLI_RUNTIMES == RUNTIMES


def test_bad_runtime_choices_are_value_errors():
    with pytest.raises(ValueError, match="unknown runtime"):
        check_runtime("tensorrt")
    for runtime in RUNTIMES[1:]:
        with pytest.raises(ValueError, match="--half"):
            check_runtime(runtime, half=True)
    check_runtime("torch", half=True)


@pytest.mark.slow
def test_compiled_bf16_net_returns_fp32_and_changes_no_global_setting():
    from torch._inductor import config as inductor

    torch.manual_seed(0)
    net = create_model("defusion-tiny").eval()
    x1, x2 = torch.rand(1, 3, 32, 40), torch.rand(1, 3, 32, 40)
    with torch.inference_mode():
        ref, out = net(x1, x2), CompiledNet(net, bf16=True)(x1, x2)
    assert all(o.dtype == torch.float32 and o.shape == r.shape for o, r in zip(out, ref))
    assert float((out.fused - ref.fused).abs().max()) < 0.05
    assert inductor.freezing is False  # frozen only inside the call


@pytest.mark.slow
@pytest.mark.parametrize("runtime, tolerance", [("compile", 1), ("compile-bf16", 8)])
def test_compiled_fuser_matches_eager(lively_weights, runtime, tolerance):
    """torch.compile needs a C++ compiler and tens of seconds per size: slow."""
    rng = np.random.default_rng(2)
    a, b = smooth_image(rng, 40, 48), smooth_image(rng, 40, 48, 1)
    expected = Fuser.from_pretrained(lively_weights, device="cpu").fuse(a, b)
    got = Fuser.from_pretrained(lively_weights, device="cpu", runtime=runtime).fuse(a, b)
    assert 10 < expected.mean() < 245
    assert np.abs(got.astype(int) - expected.astype(int)).max() <= tolerance
