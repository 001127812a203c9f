"""An epoch's data loading: its batches from the step a run is at, the DataLoader's worker processes
shielded from SIGTERM and stopped after an interrupt, and its failures recognised.

A SIGTERM to the whole process group must reach the main process's checkpointing handler, and no
worker may outlive the run it served.
"""

from __future__ import annotations

import signal
from typing import Iterator

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler

#: Seconds to wait for a killed data worker to be reaped.
_WORKER_JOIN_S = 5.0
#: How the messages of torch's data loader begin when one of its worker processes died (killed by the
#: OOM killer, a crash) or hung.
_LOADER_FAILURES = ("DataLoader worker", "DataLoader timed out")


def epoch_batches(sampler: DistributedSampler, batch_size: int, skip: int) -> list[list[int]]:
    """This process's batches of the sampler's epoch (whole ones only), past the first ``skip``
    (the steps of the epoch a resumed run already trained).

    Example:
        >>> sampler = DistributedSampler(range(10), num_replicas=1, rank=0, shuffle=False)
        >>> epoch_batches(sampler, 4, skip=0), epoch_batches(sampler, 4, skip=1)  # 8 and 9 make no whole batch
        ([[0, 1, 2, 3], [4, 5, 6, 7]], [[4, 5, 6, 7]])
    """
    order = list(sampler)
    batches = [order[i:i + batch_size] for i in range(0, len(order) - batch_size + 1, batch_size)]
    return batches[skip:]


def start_epoch_loader(dataset: Dataset, batches: list[list[int]], workers: int,
                       pin_memory: bool) -> Iterator[list[torch.Tensor]]:
    """The loader's iterator over ``batches`` of ``dataset``, its ``workers`` started shielded
    (:func:`start_shielded`)."""
    loader = DataLoader(dataset, batch_sampler=batches, num_workers=workers, pin_memory=pin_memory,
                        worker_init_fn=worker_ignores_sigterm if workers else None)
    return start_shielded(loader)


def worker_ignores_sigterm(_worker_id: int) -> None:
    """A SIGTERM to the whole process group (schedulers, `timeout`, `kill -- -PGID`) must reach the
    main process's checkpointing handler, not kill a data worker under it first (the main process
    would then fail with "DataLoader worker killed" and lose the steps since the last checkpoint).
    Workers still stop with the main process."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def start_shielded(loader: DataLoader) -> Iterator[list[torch.Tensor]]:
    """Start the loader's workers with SIGTERM blocked, so they are born deaf to it (a child
    inherits the signal mask; no window before ``worker_init_fn`` runs); then unblock it here,
    where a pending SIGTERM is delivered to the checkpointing handler."""
    if not loader.num_workers or not hasattr(signal, "pthread_sigmask"):
        return iter(loader)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGTERM})
    try:
        return iter(loader)
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def stop_workers(batches: object) -> None:
    """Stop this epoch's data workers after an interrupt. The loader's own shutdown goes first (it
    also unregisters the workers, so their deaths raise no "worker killed" error); then a worker it
    failed to stop is killed: they ignore SIGTERM, so the terminate() that the loader and
    multiprocessing fall back on cannot stop one the interrupt caught inside that shutdown, and
    the exit would wait on it forever. Only the loader's own workers: a caller of `train` may have
    processes of its own."""
    shutdown = getattr(batches, "_shutdown_workers", None)  # torch's multi-process loader iterator
    if shutdown is None:
        return
    shutdown()
    for worker in batches._workers:
        if worker.is_alive():
            worker.kill()
            worker.join(timeout=_WORKER_JOIN_S)


def loader_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is torch's data loader saying that a worker process died or hung.

    Example:
        >>> loader_failed(RuntimeError("DataLoader worker (pid(s) 4242) exited unexpectedly"))
        True
        >>> loader_failed(RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB"))
        False
    """
    return str(exc).startswith(_LOADER_FAILURES)
