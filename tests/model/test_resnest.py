"""Split attention: the traced form (what ONNX and TorchScript exports run) equals the eager one."""

from __future__ import annotations

import pytest
import torch

from defusion.model.resnest import SplitAttentionConv


@pytest.mark.parametrize("radix", [1, 2, 3])
def test_traced_split_attention_equals_eager(radix):
    torch.manual_seed(radix)
    conv = SplitAttentionConv(12, radix=radix).eval()
    x = torch.rand(2, 12, 9, 14)
    with torch.no_grad():
        eager = conv(x)
        traced = torch.jit.trace(conv, x)(x)
        again = torch.jit.trace(conv, x)(torch.rand(1, 12, 5, 7))  # the trace keeps any size
    assert traced.shape == eager.shape == (2, 12, 9, 14) and again.shape == (1, 12, 5, 7)
    torch.testing.assert_close(traced, eager, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(conv._traced(x), eager, rtol=1e-5, atol=1e-6)


def test_split_attention_scripts():
    """torch.jit.script compiles both paths (a sum() of tensors in the traced one did not)."""
    conv = SplitAttentionConv(16).eval()
    x = torch.rand(1, 16, 6, 7)
    with torch.no_grad():
        torch.testing.assert_close(torch.jit.script(conv)(x), conv(x))
