"""The network a pretext step trains: DeNet alone (CUD, the paper) or DeNet with DeFusion++'s
masked-feature decoder beside it (CUD + MFM), behind one ``forward`` so that DDP and
``torch.compile`` see every trained parameter."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import nn

from defusion.model.denet import DeNet, DeNetOutput
from defusion.model.mfm import MaskedFeatureDecoder


class PretextOutput(NamedTuple):
    """The CUD projections and the image Pr renders from the masked-feature prediction."""

    cud: DeNetOutput
    masked_recon: torch.Tensor


class CUDWithMFM(nn.Module):
    """DeNet and an MFM decoder trained together: the fused embedding f_c + f_u^1 + f_u^2 with
    the patches ``keep`` hides replaced is predicted back by the decoder and rendered by DeNet's
    own fusion head Pr, which the fused image shares.

    Example:
        >>> from defusion import create_model
        >>> from defusion.model.mfm import MFMConfig, random_patch_keep
        >>> net = create_model("defusion-tiny")
        >>> both = CUDWithMFM(net, MaskedFeatureDecoder(net.fusion_head.in_channels, MFMConfig(width=8)))
        >>> x = torch.rand(1, 3, 32, 32)
        >>> out = both(x, x, random_patch_keep(1, 32, 32, 16, 0.75))
        >>> out.masked_recon.shape == out.cud.fused.shape
        True
    """

    def __init__(self, denet: DeNet, decoder: MaskedFeatureDecoder) -> None:
        super().__init__()
        self.denet = denet
        self.decoder = decoder

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, keep: torch.Tensor) -> PretextOutput:
        f_c, f_u1, f_u2 = self.denet.embed(x1, x2)
        predicted = self.decoder(f_c + f_u1 + f_u2, keep)
        return PretextOutput(self.denet.project(f_c, f_u1, f_u2), self.denet.fusion_head(predicted))


__all__ = ["CUDWithMFM", "PretextOutput"]
