"""Split-attention (ResNeSt) residual blocks, the building unit of DeNet.

Zhang et al., "ResNeSt: Split-Attention Networks", 2020. DeFusion uses them without
normalisation layers (its published configuration), which also makes the network's
output independent of batch composition. Not of tiling: each split attention pools over its
whole feature map, so a tile's attention weights depend on the tile's extent (on a 256x256 crop,
128-px tiles moved the fused image by 0.2 grey levels on average; defusion.fusion.tiling blends them).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: Channel expansion of a bottleneck block's output over its inner width.
EXPANSION = 4


class SplitAttentionConv(nn.Module):
    """3x3 convolution whose ``radix`` parallel groups are mixed by channel attention.

    Example:
        >>> conv = SplitAttentionConv(16, radix=2)
        >>> conv(torch.rand(1, 16, 8, 8)).shape
        torch.Size([1, 16, 8, 8])
    """

    def __init__(self, channels: int, radix: int = 2, reduction: int = 4, min_attention: int = 32) -> None:
        super().__init__()
        self.radix = radix
        self.channels = channels
        self.conv = nn.Conv2d(channels, channels * radix, 3, padding=1, groups=radix)
        attention = max(channels * radix // reduction, min_attention)
        self.fc1 = nn.Conv2d(channels, attention, 1)
        self.fc2 = nn.Conv2d(attention, channels * radix, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if torch.jit.is_tracing():
            return self._traced(x)
        b = x.shape[0]
        splits = F.relu(self.conv(x))
        splits = splits.reshape(b, self.radix, self.channels, splits.shape[-2], splits.shape[-1])
        # CUDA autocast runs sum and softmax in float32; the explicit dtypes keep the full-size
        # maps in the convolution's precision (bf16 under amp), halving their memory traffic.
        # Without autocast they change nothing.
        pooled = splits.sum(dim=1, dtype=splits.dtype).mean(dim=(-2, -1), keepdim=True)
        weights = self.fc2(F.relu(self.fc1(pooled))).reshape(b, self.radix, self.channels, 1, 1)
        return (splits * weights.softmax(dim=1).to(splits.dtype)).sum(dim=1, dtype=splits.dtype)

    def _traced(self, x: torch.Tensor) -> torch.Tensor:
        """The same sums written per radix group, for exported graphs (ONNX, TorchScript).

        ONNX Runtime's ReduceSum over the radix axis of a 5-D map took a fifth of a CPU pass;
        slices and adds take a fraction of that (the default runtime 1.2x faster, outputs within
        0.002 grey levels). Eager PyTorch is faster with the sums, so only traces take this path.
        A trace freezes dtypes, so no autocast casts here (there is no autocast to undo).
        """
        splits = F.relu(self.conv(x))
        c = self.channels
        groups = [splits[:, i * c:(i + 1) * c] for i in range(self.radix)]
        pooled = groups[0].mean(dim=(-2, -1), keepdim=True)
        for group in groups[1:]:  # a loop, not sum(): torch.jit.script takes it too
            pooled = pooled + group.mean(dim=(-2, -1), keepdim=True)
        logits = self.fc2(F.relu(self.fc1(pooled)))
        weights = logits.reshape(logits.shape[0], self.radix, c, 1, 1).softmax(dim=1).unbind(1)
        fused = groups[0] * weights[0]
        for group, weight in zip(groups[1:], weights[1:]):
            fused = fused + group * weight
        return fused


class Bottleneck(nn.Module):
    """ResNeSt bottleneck: 1x1 reduce, split-attention 3x3, 1x1 expand, residual add.

    A stride of 2 down-samples by average pooling in both paths (ResNeSt's ``avd`` and
    ``avg_down``), which keeps every pixel's contribution instead of skipping pixels.

    Two differences from the authors' DeFusion code: the 1x1 reduce, expand and shortcut
    convolutions and the split-attention 3x3 have biases (the authors' have ``bias=False``;
    20,296 more parameters in DeNet), and a stride-1 block never pools, where the authors'
    first encoder block (ResNeSt's ``avd`` with ``is_first``) average-pools 3x3 at stride 1
    after its split attention.
    """

    def __init__(self, in_channels: int, width: int, stride: int = 1, radix: int = 2) -> None:
        super().__init__()
        out_channels = width * EXPANSION
        self.reduce = nn.Conv2d(in_channels, width, 1)
        self.attend = SplitAttentionConv(width, radix=radix)
        self.pool = nn.AvgPool2d(3, stride, padding=1) if stride > 1 else nn.Identity()
        self.expand = nn.Conv2d(width, out_channels, 1)
        shortcut: list[nn.Module] = []
        if stride > 1:
            shortcut.append(nn.AvgPool2d(stride, stride, ceil_mode=True, count_include_pad=False))
        if stride > 1 or in_channels != out_channels:
            shortcut.append(nn.Conv2d(in_channels, out_channels, 1))
        self.shortcut = nn.Sequential(*shortcut)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pool(self.attend(F.relu(self.reduce(x))))
        return F.relu(self.expand(y) + self.shortcut(x))


class ResNeStStage(nn.Sequential):
    """``blocks`` bottlenecks; the first adapts channels (and stride), the rest keep them.

    Example:
        >>> stage = ResNeStStage(32, width=16, blocks=2, stride=2)
        >>> stage(torch.rand(1, 32, 16, 16)).shape
        torch.Size([1, 64, 8, 8])
    """

    def __init__(self, in_channels: int, width: int, blocks: int, stride: int = 1, radix: int = 2) -> None:
        layers = [Bottleneck(in_channels, width, stride, radix)]
        layers += [Bottleneck(width * EXPANSION, width, 1, radix) for _ in range(blocks - 1)]
        super().__init__(*layers)
        self.out_channels = width * EXPANSION
