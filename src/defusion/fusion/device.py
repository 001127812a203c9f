"""The device a Fuser runs on: ``auto`` resolved to CUDA where PyTorch sees one, and the settings
refused that cannot run (an absent CUDA or Apple GPU, an unknown name, fp16 off CUDA) with one
clear error.

``mps`` (an Apple silicon GPU, through PyTorch's Metal backend) is taken when asked for by name and
runs in fp32; ``auto`` never picks it. It is untested: no Mac is at hand to test on.

Example:
    >>> resolve_device("cpu")
    device(type='cpu')
"""

from __future__ import annotations

import torch

from defusion.fusion.errors import OptionsError

#: What each GPU back end a device may name is, in words, for the error when PyTorch sees none.
_GPUS = {"cuda": "CUDA device", "mps": "Apple GPU (MPS: macOS 12.3 or later on Apple silicon)"}


def gpu_available(kind: str) -> bool:
    """Whether PyTorch sees a GPU of ``kind`` (``cuda`` or ``mps``) on this machine.

    Example:
        >>> gpu_available("cuda") == torch.cuda.is_available()
        True
    """
    if kind == "mps":
        backend = getattr(torch.backends, "mps", None)
        return backend is not None and backend.is_available()
    return torch.cuda.is_available()


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``auto`` picks CUDA when present (else the CPU); asking for an absent CUDA or MPS is an error.

    Example:
        >>> resolve_device("gpu")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.fusion.errors.OptionsError: unknown device 'gpu'; use auto, cpu, cuda, cuda:N or mps
    """
    if str(device) == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError):
        raise OptionsError(f"unknown device {device!r}; use auto, cpu, cuda, cuda:N or mps") from None
    if device.type in _GPUS and not gpu_available(device.type):
        raise OptionsError(f"device {device.type} (--device {device.type}) was asked for, but PyTorch sees no "
                           f"{_GPUS[device.type]}")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        count = torch.cuda.device_count()  # an absent GPU's index fails later, deep in PyTorch, otherwise
        seen = "one CUDA device (cuda:0)" if count == 1 else f"{count} CUDA devices (cuda:0 to cuda:{count - 1})"
        raise OptionsError(f"device {device} (--device {device}) was asked for, but PyTorch sees {seen}: "
                           "give one of them, or cuda")
    return device


def describe_device(device: torch.device) -> str:
    """``device`` in words for a run's start line: its name, and a GPU's model.

    Example:
        >>> describe_device(torch.device("cpu"))
        'cpu'
    """
    if device.type != "cuda":
        return str(device)
    index = torch.cuda.current_device() if device.index is None else device.index
    return f"cuda:{index} ({torch.cuda.get_device_name(index)})"


def check_half(half: bool, device: torch.device) -> None:
    """Refuse fp16 off CUDA (an Apple GPU runs fp32 only here).

    Example:
        >>> check_half(False, torch.device("cpu"))  # fp32 runs anywhere
        >>> check_half(True, torch.device("cpu"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.fusion.errors.OptionsError: half precision (half=True, --half) needs a CUDA device (fp16 on the CPU ...
    """
    if half and device.type != "cuda":
        why = ("fp16 on the CPU is slower and less accurate" if device.type == "cpu"
               else f"{device.type} runs in fp32 only")
        raise OptionsError(f"half precision (half=True, --half) needs a CUDA device ({why})")


__all__ = ["check_half", "describe_device", "gpu_available", "resolve_device"]
