"""This process's place in a training job: one process, or one of ``torchrun``'s under DDP.

Every rank runs the same loop; rank 0 alone writes files and says what the job does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


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


def backend() -> str:
    """The process group's backend: NCCL on GPUs where PyTorch has it, else gloo (CPUs, and Windows,
    whose PyTorch builds have no NCCL).

    Example:
        >>> backend() in ("nccl", "gloo")
        True
    """
    return "nccl" if torch.cuda.is_available() and dist.is_nccl_available() else "gloo"


def join_job(ctx: Distributed) -> None:
    """Join the job's process group (:func:`backend`), unless run alone or joined already."""
    if ctx.world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend())


def device_for(ctx: Distributed) -> torch.device:
    """The device this process trains on: its local GPU, else the CPU."""
    if torch.cuda.is_available():
        torch.cuda.set_device(ctx.local_rank)
        return torch.device("cuda", ctx.local_rank)
    return torch.device("cpu")


def processes(n: int) -> str:
    """``n`` processes, in words ("1 process", "2 processes").

    Example:
        >>> processes(1), processes(4)
        ('1 process', '4 processes')
    """
    return f"{n} process{'' if n == 1 else 'es'}"
