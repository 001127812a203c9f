"""This process's place in a training job: one process, or one of ``torchrun``'s under DDP.

Every rank runs the same loop; rank 0 alone writes files and says what the job does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

from defusion.fusion.device import resolve_device
from defusion.fusion.errors import OptionsError


@dataclass(frozen=True)
class Distributed:
    """This process's place in a torchrun job (world size 1 when run directly).

    Example:
        >>> Distributed().is_main, Distributed(rank=1, local_rank=1, world_size=2).is_main
        (True, False)
    """

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1

    @classmethod
    def from_env(cls) -> "Distributed":
        return cls(int(os.environ.get("RANK", 0)), int(os.environ.get("LOCAL_RANK", 0)),
                   int(os.environ.get("WORLD_SIZE", 1)))

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def backend(device: torch.device | None = None) -> str:
    """The process group's backend: NCCL on GPUs where PyTorch has it, else gloo (CPUs, and Windows,
    whose PyTorch builds have no NCCL); gloo for a job told to train on the CPU (``device``).

    Example:
        >>> backend() in ("nccl", "gloo"), backend(torch.device("cpu"))
        (True, 'gloo')
    """
    on_gpu = torch.cuda.is_available() if device is None else device.type == "cuda"
    return "nccl" if on_gpu and dist.is_nccl_available() else "gloo"


def join_job(ctx: Distributed, device: torch.device | None = None) -> None:
    """Join the job's process group (:func:`backend` for ``device``), unless run alone or joined already."""
    if ctx.world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend(device))


def device_for(ctx: Distributed, requested: str = "auto") -> torch.device:
    """The device this process trains on, as ``--device`` (``requested``) names it, spelt as
    ``defusion fuse --device`` is (:func:`~defusion.fusion.device.resolve_device`: ``auto``, the GPU
    where PyTorch sees one, else the CPU). Under torchrun a GPU is the process's own, ``cuda:LOCAL_RANK``:
    ``cuda`` means it, and another GPU's index is refused, as is an Apple GPU (no DDP backend for it);
    ``cpu`` trains every process on the CPU (gloo). OptionsError (a ValueError) for what cannot run.

    Example:
        >>> device_for(Distributed(), "cpu"), device_for(Distributed(rank=1, local_rank=1, world_size=2), "cpu")
        (device(type='cpu'), device(type='cpu'))
    """
    device = resolve_device(requested)
    if ctx.world_size > 1 and device.type == "mps":
        raise OptionsError("--device mps cannot train under torchrun (no DDP backend for Apple GPUs): train in one "
                           "process, or pass --device cpu")
    if ctx.world_size > 1 and device.type == "cuda":
        if device.index is not None and device.index != ctx.local_rank:
            raise OptionsError(f"--device {device} conflicts with torchrun: each process trains on its own GPU, "
                               f"cuda:LOCAL_RANK (this one cuda:{ctx.local_rank}); pass --device cuda or auto (or "
                               "choose the GPUs with CUDA_VISIBLE_DEVICES)")
        device = resolve_device(f"cuda:{ctx.local_rank}")  # refused if this node has fewer GPUs than processes
    elif device.type == "cuda" and device.index is None:
        device = torch.device("cuda", 0)
    if device.type == "cuda":
        torch.cuda.set_device(device)
    return device


def processes(n: int) -> str:
    """``n`` processes, in words ("1 process", "2 processes").

    Example:
        >>> processes(1), processes(4)
        ('1 process', '4 processes')
    """
    return f"{n} process{'' if n == 1 else 'es'}"
