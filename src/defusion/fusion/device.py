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
from defusion.io.front_end import current_front_end

#: What each GPU back end a device may name is, in words, for the error when PyTorch sees none.
_GPUS = {"cuda": "CUDA device", "mps": "Apple GPU (MPS: macOS 12.3 or later on Apple silicon)"}
#: The front ends whose user sets the device and precision as a ``defusion`` command's options
#: (``--device``, ``--half``: :func:`asked`); every other caller passes Python arguments.
_COMMAND_LINES = ("cli", "bench", "training")
#: The web UI's device is ``defusion ui``'s option, set once for the server (it has no fp16 option: its
#: half, never asked by the page, is the Python argument's).
_UI_COMMAND = "defusion ui"


def asked(device: str | torch.device | None = None, half: bool = False) -> str:
    """How the user asked for ``device`` (or, with ``half``, for fp16), in the errors refusing it: a
    ``defusion`` command's option (``--device cuda:0``, ``--half``) under the command line
    (:func:`~defusion.io.front_end.current_front_end`), ``defusion ui``'s ``--device`` under the web UI,
    the Python argument (``device='cuda:0'``, ``half=True``) otherwise, after the device as it was given
    (``cuda:0``, not PyTorch's ``cuda``).

    Example:
        >>> asked("cuda:0"), asked(half=True)
        ("device cuda:0 (device='cuda:0')", 'half=True')
        >>> from defusion.io.front_end import reading_for
        >>> with reading_for("cli"):
        ...     asked("cuda:0"), asked(half=True)
        ('device cuda:0 (--device cuda:0)', '--half')
        >>> with reading_for("ui"):
        ...     asked("cuda")
        'device cuda (--device cuda of defusion ui)'
    """
    front_end = current_front_end()
    command = front_end in _COMMAND_LINES
    if half:
        return "--half" if command else "half=True"
    if front_end == "ui":
        return f"device {device} (--device {device} of {_UI_COMMAND})"
    return f"device {device} ({f'--device {device}' if command else f'device={str(device)!r}'})"


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
    """``auto`` picks CUDA when present (else the CPU); asking for an absent CUDA or MPS is an error
    that names the device as the user asked for it (:func:`asked`: ``device='cuda:0'`` in Python).

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
        raise OptionsError(f"{asked(device)} was asked for, but PyTorch sees no {_GPUS[device.type]}")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        count = torch.cuda.device_count()  # an absent GPU's index fails later, deep in PyTorch, otherwise
        seen = "one CUDA device (cuda:0)" if count == 1 else f"{count} CUDA devices (cuda:0 to cuda:{count - 1})"
        raise OptionsError(f"{asked(device)} was asked for, but PyTorch sees {seen}: give one of them, or cuda")
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
    """Refuse fp16 off CUDA (an Apple GPU runs fp32 only here), naming the option as the user set it
    (:func:`asked`).

    Example:
        >>> check_half(False, torch.device("cpu"))  # fp32 runs anywhere
        >>> check_half(True, torch.device("cpu"))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        defusion.fusion.errors.OptionsError: half precision (half=True) needs a CUDA device (fp16 on the CPU ...
    """
    if half and device.type != "cuda":
        why = ("fp16 on the CPU is slower and less accurate" if device.type == "cpu"
               else f"{device.type} runs in fp32 only")
        raise OptionsError(f"half precision ({asked(half=True)}) needs a CUDA device ({why})")


__all__ = ["asked", "check_half", "describe_device", "gpu_available", "resolve_device"]
