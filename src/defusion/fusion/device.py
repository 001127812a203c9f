"""The device a Fuser runs on: ``auto`` resolved to CUDA where PyTorch sees one, and the settings
refused that cannot run (an absent CUDA, an unknown name, fp16 off CUDA) with one clear error.

Example:
    >>> resolve_device("cpu")
    device(type='cpu')
"""

from __future__ import annotations

import torch

from defusion.fusion.errors import OptionsError


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA when present; asking for an absent CUDA is an error."""
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise OptionsError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N") from None
    if device.type == "cuda" and not torch.cuda.is_available():
        raise OptionsError("device cuda (--device cuda) was asked for, but PyTorch sees no CUDA device")
    return device


def check_half(half: bool, device: torch.device) -> None:
    """Refuse fp16 off CUDA.

    Example:
        >>> check_half(False, torch.device("cpu"))  # fp32 runs anywhere
        >>> check_half(True, torch.device("cpu"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.fusion.errors.OptionsError: half precision (half=True, --half) needs a CUDA device (fp16 on the CPU ...
    """
    if half and device.type != "cuda":
        raise OptionsError("half precision (half=True, --half) needs a CUDA device (fp16 on the CPU is slower and "
                           "less accurate)")


__all__ = ["check_half", "resolve_device"]
