"""Training's errors, without PyTorch: ``defusion train`` names them among its expected errors
while building its parser (fast ``--help``); :mod:`defusion.training.trainer` raises them."""

from __future__ import annotations

from defusion.errors import DefusionError


class RunDirError(DefusionError, RuntimeError):
    """The run folder holds work that this call would overwrite."""


class DivergedError(DefusionError, RuntimeError):
    """The loss became NaN or infinite: the run stops with its last finite checkpoint kept."""


class JobFailedError(DefusionError, RuntimeError):
    """A DDP job stopped when one of its processes failed; rank 0 saved its last completed step."""


class DataWorkerError(DefusionError, RuntimeError):
    """A data loader worker died (e.g. killed for lack of memory); the last completed step was saved."""


class SameOnEveryRankError(DefusionError, ValueError):
    """A refusal that every DDP process reaches alike (e.g. too few samples for a batch): only rank 0
    says it, the others only exit."""


class Terminated(KeyboardInterrupt):
    """SIGTERM stopped the run (a scheduler's or `kill`'s stop): handled as Ctrl-C (checkpoint saved),
    but said as "terminated" and exit status 143 (128 + SIGTERM), as a shell reports it."""


__all__ = ["Terminated", "RunDirError", "DivergedError", "JobFailedError", "DataWorkerError", "SameOnEveryRankError"]
