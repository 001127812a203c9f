"""DeNet: the decomposition network of DeFusion (Liang et al., ECCV 2022, section 3.3).

Two source images go through a shared encoder E (three down-samplings to H/8). The
ensembler Ec turns [E(x1); E(x2)] into a common code. The common decoder Dc up-samples
that code into the common embedding f_c; the unique decoder Du, shared by both sources,
up-samples [E(x_i); Ec(...)] into the unique embedding f_u^i. Both decoders take skip
connections from the encoder stages. Three projection heads map embeddings to images:
Pc(f_c), Pu(f_u^i) and Pr(f_c + f_u^1 + f_u^2), the fused image (at inference, optionally with
the unique embeddings weighed up: see :meth:`DeNet.forward`).

Where the paper's text and the authors' code (erfect2020/DecompositionForFusion) differ, this
follows the code: the down-samplings are one max-pool and two stride-2 stages that average-pool (the
paper: "three maxpool layers"); both decoders take skips from the encoder at H/4 and H/2, Dc from
both encoders and Du from its own view's (the paper describes no skips: f_c "only takes" Ec's
output, and the network is "similar to the bottleneck structure, which can prevent a trivial
identity mapping"); each head is one 3x3 convolution (the paper: "upsample layers and ResNest
layers"); Pr takes the sum of the embeddings (the paper: P_r(f_c, f_u^1, f_u^2), "the combined
features"). It differs from the code in the heads' linear output (:class:`DeNet`), the bottlenecks'
biases and the encoder's first block (:class:`defusion.model.resnest.Bottleneck`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from numbers import Integral
from typing import NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from defusion.model.errors import ModelConfigError, ModelInputError, ModelInputTypeError  # re-exported: __all__
from defusion.model.filters import HighPass
from defusion.model.resnest import Bottleneck, ResNeStStage

#: Input sides must be a multiple of this (three 2x down-samplings); callers pad.
SIZE_MULTIPLE = 8
#: Stages of the encoder and of each decoder: every per-stage setting of DeNetConfig has this many.
STAGES = 4
#: DeNet's inputs are batches of images: (B, C, H, W).
INPUT_DIMS = 4
#: Initial scale of each residual branch's last convolution (see DeNet._init_weights).
RESIDUAL_INIT_GAIN = 0.2
#: Width (network pixels) of the Gaussian that splits the unique embeddings' contribution to the
#: fused image into local mean and fine detail, for a unique gain above 1 (DeNet.forward).
UNIQUE_DETAIL_SIGMA = 16.0
#: Upper bounds of DeNetConfig's settings, beyond any DeNet built: a config read from a file (weights' metadata,
#: an ONNX export's) is refused past them before it asks for a network of many GB or thousands of blocks. Blocks
#: a stage: ResNeSt-269, the deepest ResNeSt (Zhang et al., 2020), has 48 in its deepest stage; DeNet at most 6.
MAX_BLOCKS = 64
#: A bottleneck's inner width (and the stem's channels): ResNeSt's widest stage has 512, DeNet's 256 (the
#: ensembler); one block of 2048 holds 78 M parameters (310 MB) already.
MAX_WIDTH = 2048
#: Image channels in and out: an image has at most 4, a multispectral stack a few dozen.
MAX_CHANNELS = 64


def default_detail_gain(unique_gain: float) -> float:
    """The weight of the unique embeddings' fine detail when only the unique gain g is given:
    2g - 1 above 1 (the local mean weighed g, the detail twice as far from 1), else g (no
    separate detail term; g = 1 is the paper's Pr).

    Example:
        >>> default_detail_gain(1.25), default_detail_gain(1.0), default_detail_gain(0.5)
        (1.5, 1.0, 0.5)
    """
    return 2.0 * unique_gain - 1.0 if unique_gain > 1.0 else float(unique_gain)


@dataclass(frozen=True)
class DeNetConfig:
    """Widths and depths of DeNet. Defaults are those of the authors' DeFusion network.

    Every ``*_widths`` entry is a bottleneck's inner width; a stage outputs 4x that. Settings
    DeNet cannot be built from raise :class:`ModelConfigError` (a ValueError) here, naming the
    setting, rather than an ``IndexError`` or a convolution's error when the network is built; so do
    settings past the bounds of any DeNet (:data:`MAX_BLOCKS` a stage, :data:`MAX_WIDTH`,
    :data:`MAX_CHANNELS`), which a file's config could otherwise ask for (many GB, minutes to build).
    """

    in_channels: int = 3
    out_channels: int = 3
    stem_channels: int = 16
    encoder_widths: tuple[int, int, int, int] = (8, 16, 32, 64)
    encoder_blocks: tuple[int, int, int, int] = (6, 6, 4, 4)
    ensembler_width: int = 256
    ensembler_blocks: int = 4
    common_widths: tuple[int, int, int, int] = (64, 16, 4, 4)
    common_blocks: tuple[int, int, int, int] = (4, 4, 6, 6)
    unique_widths: tuple[int, int, int, int] = (96, 32, 16, 4)
    unique_blocks: tuple[int, int, int, int] = (4, 4, 6, 6)
    radix: int = 2

    def __post_init__(self) -> None:
        """Refuse a configuration DeNet cannot be built from, naming the setting to fix (lists,
        as JSON gives them, become tuples)."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(f.default, tuple):  # a per-stage setting
                if not isinstance(value, (tuple, list)) or len(value) != STAGES or not all(map(_positive, value)):
                    raise ModelConfigError(f"{f.name} must be {STAGES} positive integers, one per stage; got "
                                           f"{value!r}")
                object.__setattr__(self, f.name, tuple(int(v) for v in value))
            elif not _positive(value):
                raise ModelConfigError(f"{f.name} must be a positive integer; got {value!r}")
            else:
                object.__setattr__(self, f.name, int(value))  # a NumPy integer would not go to JSON
            _check_bound(f.name, getattr(self, f.name))
        for name in ("encoder_widths", "ensembler_width", "common_widths", "unique_widths"):
            value = getattr(self, name)
            if any(v % self.radix for v in (value if isinstance(value, tuple) else (value,))):
                raise ModelConfigError(f"every width must be a multiple of radix ({self.radix}): split-attention "
                                       f"convolutions split it into radix groups; got {name}={value!r}")
        if self.common_widths[-1] != self.unique_widths[-1]:
            raise ModelConfigError("common_widths and unique_widths must end with the same width (Pr sums the "
                                   f"common and unique embeddings); got {self.common_widths[-1]} and "
                                   f"{self.unique_widths[-1]}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "DeNetConfig":
        """A config from JSON (lists as tuples); unknown or bad settings raise ModelConfigError (a ValueError)."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ModelConfigError(f"unknown DeNet setting(s) {', '.join(unknown)}; known: "
                                   f"{', '.join(sorted(known))}")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})


#: The bound of each setting (radix has none of its own: every width is a multiple of it) and why, for messages.
_BOUNDS: dict[str, tuple[int, str]] = {
    **dict.fromkeys(("in_channels", "out_channels"), (MAX_CHANNELS, "an image's channels")),
    **dict.fromkeys(("stem_channels", "ensembler_width", "encoder_widths", "common_widths", "unique_widths"),
                    (MAX_WIDTH, "8 times DeNet's widest")),
    **dict.fromkeys(("ensembler_blocks", "encoder_blocks", "common_blocks", "unique_blocks"),
                    (MAX_BLOCKS, "the deepest ResNeSt stage has 48, DeNet's 6")),
}


def _check_bound(name: str, value: int | tuple[int, ...]) -> None:
    """Refuse a setting past its bound (:data:`MAX_BLOCKS`, :data:`MAX_WIDTH`, :data:`MAX_CHANNELS`), naming it.

    Example:
        >>> _check_bound("ensembler_width", 1_000_000)
        Traceback (most recent call last):
        ...
        defusion.model.errors.ModelConfigError: ensembler_width must be at most 2048 (8 times DeNet's widest); got 1000000
    """
    if name not in _BOUNDS:
        return
    bound, why = _BOUNDS[name]
    if max(value if isinstance(value, tuple) else (value,)) > bound:
        each = " each" if isinstance(value, tuple) else ""
        raise ModelConfigError(f"{name} must be at most {bound}{each} ({why}); got {value!r}")


def _positive(value: object) -> bool:
    """Whether ``value`` is an integer of at least 1 (bools are not sizes)."""
    return isinstance(value, Integral) and not isinstance(value, bool) and value >= 1


class DeNetOutput(NamedTuple):
    """The four projections in image space, each (B, out_channels, H, W)."""

    common: torch.Tensor
    unique1: torch.Tensor
    unique2: torch.Tensor
    fused: torch.Tensor


class Encoder(nn.Module):
    """Shared encoder E: returns the features at H/2, H/4 and H/8 (the last is E(x))."""

    def __init__(self, cfg: DeNetConfig) -> None:
        super().__init__()
        w, n = cfg.encoder_widths, cfg.encoder_blocks
        self.stem = nn.Conv2d(cfg.in_channels, cfg.stem_channels, 3, padding=1)
        self.stage0 = ResNeStStage(cfg.stem_channels, w[0], n[0], radix=cfg.radix)
        self.pool = nn.MaxPool2d(3, stride=2, padding=1)
        self.stage1 = ResNeStStage(self.stage0.out_channels, w[1], n[1], radix=cfg.radix)
        self.stage2 = ResNeStStage(self.stage1.out_channels, w[2], n[2], stride=2, radix=cfg.radix)
        self.stage3 = ResNeStStage(self.stage2.out_channels, w[3], n[3], stride=2, radix=cfg.radix)
        self.channels = (self.stage1.out_channels, self.stage2.out_channels, self.stage3.out_channels)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        f1 = self.stage1(self.pool(self.stage0(F.relu(self.stem(x)))))
        f2 = self.stage2(f1)
        return f1, f2, self.stage3(f2)


class Decoder(nn.Module):
    """Bilinear up-sampling decoder with encoder skips; returns a full-resolution embedding.

    ``skip_channels`` are the channels concatenated before stages 1 and 2 (H/4 and H/2).
    """

    def __init__(self, in_channels: int, skip_channels: tuple[int, int], widths: tuple[int, int, int, int],
                 blocks: tuple[int, int, int, int], radix: int) -> None:
        super().__init__()
        self.stage0 = ResNeStStage(in_channels, widths[0], blocks[0], radix=radix)
        self.stage1 = ResNeStStage(self.stage0.out_channels + skip_channels[0], widths[1], blocks[1], radix=radix)
        self.stage2 = ResNeStStage(self.stage1.out_channels + skip_channels[1], widths[2], blocks[2], radix=radix)
        self.stage3 = ResNeStStage(self.stage2.out_channels, widths[3], blocks[3], radix=radix)
        self.out_channels = self.stage3.out_channels

    def forward(self, x: torch.Tensor, skip4: torch.Tensor, skip2: torch.Tensor) -> torch.Tensor:
        y = _up(self.stage0(x))
        y = _up(self.stage1(torch.cat((y, skip4), dim=1)))
        y = _up(self.stage2(torch.cat((y, skip2), dim=1)))
        return self.stage3(y)


def _up(x: torch.Tensor) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2.0, mode="bilinear", align_corners=False)


class DeNet(nn.Module):
    """DeFusion's decomposition network with its three projection heads.

    Heads are linear 3x3 convolutions: a ReLU on their output (as in the authors' code)
    left every output at zero from initialisation in our CPU runs, so we drop it and clamp
    only at inference.

    Example:
        >>> net = DeNet(DeNetConfig(encoder_blocks=(1, 1, 1, 1), ensembler_blocks=1,
        ...                         common_blocks=(1, 1, 1, 1), unique_blocks=(1, 1, 1, 1)))
        >>> out = net(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32))
        >>> out.fused.shape
        torch.Size([1, 3, 32, 32])
    """

    def __init__(self, cfg: DeNetConfig | None = None) -> None:
        super().__init__()
        self.cfg = cfg = cfg or DeNetConfig()
        self.encoder = Encoder(cfg)
        c2, c4, c8 = self.encoder.channels
        self.ensembler = ResNeStStage(2 * c8, cfg.ensembler_width, cfg.ensembler_blocks, radix=cfg.radix)
        code = self.ensembler.out_channels
        self.common_decoder = Decoder(code, (2 * c4, 2 * c2), cfg.common_widths, cfg.common_blocks, cfg.radix)
        self.unique_decoder = Decoder(code + c8, (c4, c2), cfg.unique_widths, cfg.unique_blocks, cfg.radix)
        embed = self.common_decoder.out_channels
        self.common_head = nn.Conv2d(embed, cfg.out_channels, 3, padding=1)
        self.unique_head = nn.Conv2d(embed, cfg.out_channels, 3, padding=1)
        self.fusion_head = nn.Conv2d(embed, cfg.out_channels, 3, padding=1)
        # the unique detail's high-pass; a module, so that its kernel moves with the network, exports too
        self.unique_detail = HighPass(UNIQUE_DETAIL_SIGMA)
        self._init_weights()

    def _init_weights(self) -> None:
        self.reset_parameters(*DENET_PARTS)

    def reset_parameters(self, *parts: str) -> None:
        """Fresh initial weights for the named parts (names in ``DENET_PARTS``), as at creation:
        a fine-tune can relearn one part on top of the trained others."""
        unknown = [p for p in parts if p not in DENET_PARTS]
        if unknown:
            raise ModelConfigError(f"unknown DeNet part(s) {', '.join(unknown)}; parts: {', '.join(DENET_PARTS)}")
        chosen = [getattr(self, name) for name in parts]
        for m in (m for part in chosen for m in part.modules()):
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
        # Bound the residual branches' initial gain: without normalisation layers a deep
        # stack of un-scaled branches makes activations grow with depth.
        for m in (m for part in chosen for m in part.modules()):
            if isinstance(m, Bottleneck):
                m.expand.weight.data.mul_(RESIDUAL_INIT_GAIN)
        for head in (getattr(self, name) for name in parts if name in _HEADS):
            nn.init.normal_(head.weight, std=1e-3)
            nn.init.constant_(head.bias, 0.0)

    def embed(self, x1: torch.Tensor, x2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Return the embeddings (f_c, f_u^1, f_u^2) at full resolution.

        Raises :class:`ModelInputTypeError` (a TypeError) / :class:`ModelInputError` (a ValueError)
        for inputs other than two same-shape Bx3xHxW float tensors (the weights' dtype) with H and W
        multiples of SIZE_MULTIPLE."""
        _check_inputs(x1, x2, self.cfg.in_channels, self.encoder.stem.weight.dtype)
        a2, a4, a8 = self.encoder(x1)
        b2, b4, b8 = self.encoder(x2)
        code = self.ensembler(torch.cat((a8, b8), dim=1))
        f_c = self.common_decoder(code, torch.cat((a4, b4), dim=1), torch.cat((a2, b2), dim=1))
        f_u1 = self.unique_decoder(torch.cat((code, a8), dim=1), a4, a2)
        f_u2 = self.unique_decoder(torch.cat((code, b8), dim=1), b4, b2)
        return f_c, f_u1, f_u2

    def forward(self, x1: torch.Tensor, x2: torch.Tensor, unique_gain: float | torch.Tensor = 1.0,
                detail_gain: float | torch.Tensor | None = None) -> DeNetOutput:
        """The four projections. ``unique_gain`` g weighs the unique embeddings in the fused one,
        ``detail_gain`` d their fine detail: Pr(f_c + g u) + (d - g) HP(W u), u = f_u^1 + f_u^2,
        W u what u adds through Pr's (linear) convolution, HP its detail finer than
        UNIQUE_DETAIL_SIGMA. So the local mean of what only one source shows is weighed g and its
        detail d. g = d = 1 is the paper's Pr (and training's); d defaults to
        :func:`default_detail_gain` (2g - 1 above 1; see defusion.fusion.options.DEFAULT_UNIQUE_GAIN)."""
        return self.project(*self.embed(x1, x2), unique_gain=unique_gain, detail_gain=detail_gain)

    def project(self, f_c: torch.Tensor, f_u1: torch.Tensor, f_u2: torch.Tensor,
                unique_gain: float | torch.Tensor = 1.0,
                detail_gain: float | torch.Tensor | None = None) -> DeNetOutput:
        """The heads Pc, Pu and Pr applied to the embeddings (:meth:`forward` after :meth:`embed`)."""
        return DeNetOutput(
            common=self.common_head(f_c),
            unique1=self.unique_head(f_u1),
            unique2=self.unique_head(f_u2),
            fused=self._fuse(f_c, f_u1 + f_u2, unique_gain, detail_gain),
        )

    def _fuse(self, f_c: torch.Tensor, unique: torch.Tensor, gain: float | torch.Tensor,
              detail: float | torch.Tensor | None) -> torch.Tensor:
        fused = self.fusion_head(f_c + gain * unique)
        extra: float | torch.Tensor
        if isinstance(gain, torch.Tensor) or isinstance(detail, torch.Tensor):
            # A traced or exported graph: the gains are inputs, the term always computed.
            extra = (gain - 1.0).clamp(min=0.0) if detail is None else detail - gain
        else:
            extra = (default_detail_gain(gain) if detail is None else detail) - gain
            if extra == 0.0:
                return fused  # no separate detail term (g = d = 1 is the paper's Pr)
        head = self.fusion_head  # W u: the head's linear part, without its bias
        unique_image = F.conv2d(unique, head.weight, None, head.stride, head.padding, head.dilation, head.groups)
        return fused + extra * self.unique_detail(unique_image)


_HEADS = ("common_head", "unique_head", "fusion_head")
#: DeNet's parts by attribute name, in data-flow order.
DENET_PARTS: tuple[str, ...] = ("encoder", "ensembler", "common_decoder", "unique_decoder", *_HEADS)


def _runs_with(dtype: torch.dtype, weight_dtype: torch.dtype, device_type: str) -> bool:
    """Whether inputs of ``dtype`` run through weights of ``weight_dtype``: the same dtype, or any
    other under autocast, which casts both to its own, except float64 (which it leaves alone)."""
    if dtype == weight_dtype:
        return True
    return torch.is_autocast_enabled(device_type) and torch.float64 not in (dtype, weight_dtype)


def _check_inputs(x1: torch.Tensor, x2: torch.Tensor, channels: int, weight_dtype: torch.dtype) -> None:
    """Refuse inputs DeNet cannot run with a message saying what to pass, before torch fails deep
    inside (a reshape in resnest.py, a convolution's channel or dtype check).

    Every test is on the type, rank, dtype or size of the inputs, in Python: under tracing
    (TorchScript and ONNX export) they run once on the example inputs (the size tests with a
    TracerWarning, which the export silences) and record nothing in the graph, so the exported
    batch, height and width stay dynamic (and unchecked there: callers pad, see SIZE_MULTIPLE).
    """
    expected = f"DeNet takes two Bx{channels}xHxW float tensors in [0, 1]"
    for name, x in (("x1", x1), ("x2", x2)):
        if not isinstance(x, torch.Tensor):
            raise ModelInputTypeError(f"{expected}; got {name} of type {type(x).__name__}: convert it with "
                                      "torch.as_tensor")
        if x.dim() != INPUT_DIMS:
            hint = ": add the batch dimension with x.unsqueeze(0)" if x.dim() == INPUT_DIMS - 1 else ""
            raise ModelInputError(f"{expected}; got {name} of shape {tuple(x.shape)}{hint}")
        if x.shape[1] != channels:
            grey = x.shape[1] == 1 and channels > 1
            hint = f": repeat a grey image to {channels} channels with x.expand(-1, {channels}, -1, -1)" if grey else ""
            raise ModelInputError(f"{expected}; got {name} with {x.shape[1]} channels (shape {tuple(x.shape)})"
                                  f"{hint}")
        if not x.is_floating_point():
            hint = "x.float() / 255" if x.dtype == torch.uint8 else "x.float(), scaled to [0, 1]"
            raise ModelInputTypeError(f"{expected}; got {name} of dtype {x.dtype}: convert it with {hint}")
        if not _runs_with(x.dtype, weight_dtype, x.device.type):
            raise ModelInputTypeError(f"{expected} of the weights' dtype {weight_dtype}; got {name} of dtype "
                                      f"{x.dtype}: convert it with x.to({weight_dtype}) (or the model with "
                                      f"model.to({x.dtype}))")
    if x1.shape != x2.shape:
        raise ModelInputError(f"sources differ in shape: {tuple(x1.shape)} vs {tuple(x2.shape)}; "
                              "resize them to one size and batch them alike")
    if x1.shape[-1] % SIZE_MULTIPLE or x1.shape[-2] % SIZE_MULTIPLE:
        raise ModelInputError(f"height and width must be multiples of {SIZE_MULTIPLE}, got "
                              f"{tuple(x1.shape[-2:])}; pad the inputs (the Fuser does)")


__all__ = ["DENET_PARTS", "DeNet", "DeNetConfig", "DeNetOutput", "MAX_BLOCKS", "MAX_CHANNELS", "MAX_WIDTH",
           "ModelConfigError", "ModelInputError", "ModelInputTypeError", "SIZE_MULTIPLE", "STAGES",
           "default_detail_gain"]
