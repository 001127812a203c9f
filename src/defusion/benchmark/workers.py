"""Evaluating pairs in worker processes (``defusion bench --jobs N``), yielded in order.

The workers are spawned: each builds its own methods from a picklable recipe and evaluates pairs
with :func:`~defusion.benchmark.evaluation.evaluate_pair`, as the main process would, so the
scores are those of one process. What runs in a worker stays top-level here, importable by it.
"""

from __future__ import annotations

from typing import Callable, Iterator

from defusion.benchmark.evaluation import PairResult, PairTask, evaluate_pair
from defusion.benchmark.methods import FuseFn

#: The methods of a worker process of :func:`evaluate_in_workers`.
_WORKER_METHODS: dict[str, FuseFn] = {}

#: Pairs submitted per worker ahead of the consumer: enough to keep each busy, few to hold in memory.
PAIRS_AHEAD_PER_WORKER = 2


def _start_worker(make_methods: Callable[..., dict[str, FuseFn]], threads: int) -> None:
    """A worker's initializer: its torch threads, and its own methods built with that many threads."""
    import torch

    torch.set_num_threads(threads)
    _WORKER_METHODS.update(make_methods(threads=threads))


def _evaluate_in_worker(task: PairTask) -> PairResult:
    """One pair evaluated in a worker, with the methods :func:`_start_worker` built there."""
    return evaluate_pair(task, _WORKER_METHODS)


def evaluate_in_workers(tasks: list[PairTask], make_methods: Callable[..., dict[str, FuseFn]],
                        jobs: int) -> Iterator[PairResult]:
    """Results of ``tasks`` in order, evaluated ``jobs`` at a time in fresh (spawned) processes
    that share the cores; a worker never holds more than a few pairs ahead of the consumer."""
    import multiprocessing
    import os
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor

    threads = max(1, (os.cpu_count() or 1) // jobs)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker, initargs=(make_methods, threads)) as pool:
        pending: deque = deque()
        try:
            for task in tasks:
                pending.append(pool.submit(_evaluate_in_worker, task))
                if len(pending) >= PAIRS_AHEAD_PER_WORKER * jobs:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()
