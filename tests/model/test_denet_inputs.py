"""DeNet and its configuration refuse what they cannot run with a message saying what to pass,
instead of an error from deep inside torch (the audit's reshape, conv and IndexError failures)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from defusion.model.denet import DeNet, DeNetConfig
from defusion.model.registry import create_model, model_config

SIZE = (32, 32)


@pytest.fixture(scope="module")
def net() -> DeNet:
    torch.manual_seed(0)
    return create_model("defusion-tiny").eval()


def batch(*shape: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.rand(*shape).to(dtype)


BAD_INPUTS = {
    "unbatched": ((batch(3, *SIZE), batch(3, *SIZE)), ValueError, r"Bx3xHxW.*\(3, 32, 32\).*unsqueeze\(0\)"),
    "five dims": ((batch(1, 1, 3, *SIZE), batch(1, 1, 3, *SIZE)), ValueError, r"Bx3xHxW.*\(1, 1, 3, 32, 32\)"),
    "grey": ((batch(1, 1, *SIZE), batch(1, 1, *SIZE)), ValueError, r"1 channels.*expand\(-1, 3, -1, -1\)"),
    "four channels": ((batch(1, 3, *SIZE), batch(1, 4, *SIZE)), ValueError, r"x2 with 4 channels"),
    "uint8": ((batch(1, 3, *SIZE, dtype=torch.uint8),) * 2, TypeError, r"torch.uint8.*x.float\(\) / 255"),
    "int64": ((batch(1, 3, *SIZE, dtype=torch.int64),) * 2, TypeError, r"torch.int64.*scaled to \[0, 1\]"),
    "float64": ((batch(1, 3, *SIZE, dtype=torch.float64),) * 2, TypeError, r"weights' dtype torch.float32"),
    "one float64": ((batch(1, 3, *SIZE), batch(1, 3, *SIZE, dtype=torch.float64)), TypeError, r"got x2 of dtype"),
    "numpy": ((np.zeros((1, 3, *SIZE), np.float32),) * 2, TypeError, r"type ndarray.*torch.as_tensor"),
    "sizes differ": ((batch(1, 3, *SIZE), batch(1, 3, 40, 32)), ValueError, r"differ in shape"),
    "batches differ": ((batch(2, 3, *SIZE), batch(1, 3, *SIZE)), ValueError, r"differ in shape"),
    "not multiple of 8": ((batch(1, 3, 30, 32), batch(1, 3, 30, 32)), ValueError, r"multiples of 8.*pad"),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_inputs_get_a_clear_error(net, case):
    inputs, error, message = BAD_INPUTS[case]
    with pytest.raises(error, match=message):
        net(*inputs)
    with pytest.raises(error, match=message):
        net.embed(*inputs)


def test_checks_follow_the_configured_channels():
    net = create_model("defusion-tiny", in_channels=1).eval()
    with pytest.raises(ValueError, match=r"Bx1xHxW.*3 channels"):
        net(batch(1, 3, *SIZE), batch(1, 3, *SIZE))
    with torch.no_grad():
        assert net(batch(1, 1, *SIZE), batch(1, 1, *SIZE)).fused.shape == (1, 3, *SIZE)


def test_dtypes_that_run_are_accepted(net):
    x1, x2 = batch(1, 3, *SIZE), batch(1, 3, *SIZE)
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        # autocast casts float32 inputs and weights alike; bf16 inputs run too
        assert net(x1, x2).fused.dtype == torch.bfloat16
        assert net(x1.bfloat16(), x2.bfloat16()).fused.dtype == torch.bfloat16
        with pytest.raises(TypeError, match="float64"):  # autocast leaves float64 alone: conv would fail
            net(x1.double(), x2.double())
    double = create_model("defusion-tiny").double().eval()
    with torch.no_grad():
        assert double(x1.double(), x2.double()).fused.dtype == torch.float64
    with pytest.raises(TypeError, match=r"weights' dtype torch.float64.*x.to\(torch.float64\)"):
        double(x1, x2)


def test_traced_network_keeps_batch_and_size_dynamic(net):
    """The checks are Python tests on shapes: tracing evaluates them once and records nothing, so
    a trace at one size runs others (what the ONNX and TorchScript exports rely on)."""
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(net, (batch(1, 3, *SIZE), batch(1, 3, *SIZE)))
        other = (batch(2, 3, 48, 40), batch(2, 3, 48, 40))
        for ours, theirs in zip(net(*other), traced(*other)):
            assert torch.allclose(ours, theirs, atol=1e-5)


BAD_CONFIGS = {
    "too few stages": (dict(encoder_widths=(4, 8)), r"encoder_widths must be 4 positive integers.*\(4, 8\)"),
    "too many stages": (dict(unique_blocks=(1, 1, 1, 1, 1)), r"unique_blocks must be 4 positive integers"),
    "zero blocks": (dict(encoder_blocks=(1, 0, 1, 1)), r"encoder_blocks must be 4 positive integers"),
    "scalar per stage": (dict(common_widths=8), r"common_widths must be 4 positive integers"),
    "float width": (dict(stem_channels=8.0), r"stem_channels must be a positive integer; got 8.0"),
    "bool radix": (dict(radix=True), r"radix must be a positive integer"),
    "zero ensembler": (dict(ensembler_blocks=0), r"ensembler_blocks must be a positive integer"),
    "width vs radix": (dict(radix=3), r"multiple of radix \(3\).*encoder_widths=\(4, 8, 8, 16\)"),
    "ensembler vs radix": (dict(ensembler_width=33), r"multiple of radix \(2\).*ensembler_width=33"),
    "embeddings differ": (dict(common_widths=(16, 8, 4, 8)), r"end with the same width.*8 and 4"),
    "unknown setting": (dict(encoder_width=(4, 8, 8, 16)), r"unknown DeNet setting\(s\) encoder_width \(did you mean "
                                                           r"encoder_widths\?\); settings: "),
}


@pytest.mark.parametrize("case", list(BAD_CONFIGS))
def test_bad_configurations_get_a_clear_error(case):
    overrides, message = BAD_CONFIGS[case]
    with pytest.raises(ValueError, match=message):
        create_model("defusion-tiny", **overrides)


def test_configurations_from_json_lists_are_tuples_and_round_trip():
    cfg = model_config("defusion-tiny", encoder_widths=[4, 8, 8, 16])
    assert cfg.encoder_widths == (4, 8, 8, 16) and cfg == model_config("defusion-tiny")
    assert DeNetConfig.from_dict(cfg.to_dict()) == cfg
    assert DeNetConfig(**{**DeNetConfig().to_dict(), "radix": np.int64(2)}).radix == 2
