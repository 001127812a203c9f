"""Evaluating pairs in worker processes (``defusion bench --jobs N``), yielded in order.

The workers are spawned: each builds its own methods from a picklable recipe and evaluates pairs
with :func:`~defusion.benchmark.evaluation.evaluate_pair`, as the main process would, so the
scores are those of one process. What runs in a worker stays top-level here, importable by it.
"""

from __future__ import annotations

from typing import Any, Callable, Iterator

from defusion.benchmark.evaluation import OnMethod, PairResult, PairTask, evaluate_pair
from defusion.benchmark.methods import FuseFn

#: The methods of a worker process of :func:`evaluate_in_workers`.
_WORKER_METHODS: dict[str, FuseFn] = {}
#: Where a worker tells the parent which method it starts (:func:`evaluate_in_workers`' ``on_method``).
_WORKER_STARTS: list[Any] = []

#: Pairs submitted per worker ahead of the consumer: enough to keep each busy, few to hold in memory.
PAIRS_AHEAD_PER_WORKER = 2
#: Seconds the parent waits for the next result before it looks again for methods the workers started:
#: a method's line comes within this of its start (a log's lines are 30 s apart at the most often).
WORKER_POLL_SECONDS = 0.5


def _start_worker(make_methods: Callable[..., dict[str, FuseFn]], threads: int, starts: Any = None) -> None:
    """A worker's initializer: its torch threads, its own methods built with that many threads, and the
    queue it tells the parent its methods' starts on (None: none)."""
    import torch

    torch.set_num_threads(threads)
    _WORKER_METHODS.update(make_methods(threads=threads))
    if starts is not None:
        _WORKER_STARTS[:] = [starts]


def _evaluate_in_worker(task: PairTask) -> PairResult:
    """One pair evaluated in a worker, with the methods :func:`_start_worker` built there, each method's
    start put on the parent's queue where it gave one."""
    if not _WORKER_STARTS:
        return evaluate_pair(task, _WORKER_METHODS)
    starts = _WORKER_STARTS[0]
    return evaluate_pair(task, _WORKER_METHODS, lambda *said: starts.put(said))  # told before each method's timer


def evaluate_in_workers(tasks: list[PairTask], make_methods: Callable[..., dict[str, FuseFn]],
                        jobs: int, on_method: OnMethod | None = None) -> Iterator[PairResult]:
    """Results of ``tasks`` in order, evaluated ``jobs`` at a time in fresh (spawned) processes
    that share the cores; a worker never holds more than a few pairs ahead of the consumer.
    ``on_method(stem, name, k, n)`` is called here, in this process, as a worker starts a method on a
    pair (within :data:`WORKER_POLL_SECONDS`; every start of a pair before its result is yielded)."""
    import multiprocessing
    import os
    from collections import deque
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures import TimeoutError as NotYet  # the built-in one from Python 3.11, not before

    threads = max(1, (os.cpu_count() or 1) // jobs)
    context = multiprocessing.get_context("spawn")
    starts = context.SimpleQueue() if on_method is not None else None  # put whole before a method runs

    def told() -> None:
        while starts is not None and not starts.empty():
            on_method(*starts.get())  # type: ignore[misc]

    def result(future: Any) -> PairResult:
        while True:
            try:
                found = future.result(timeout=WORKER_POLL_SECONDS if starts is not None else None)
                break
            except NotYet:
                told()
        told()  # the pair's starts were put before its result was sent
        return found

    with ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_start_worker,
                             initargs=(make_methods, threads, starts)) as pool:
        pending: deque = deque()
        try:
            for task in tasks:
                pending.append(pool.submit(_evaluate_in_worker, task))
                if len(pending) >= PAIRS_AHEAD_PER_WORKER * jobs:
                    yield result(pending.popleft())
            while pending:
                yield result(pending.popleft())
        finally:
            for future in pending:
                future.cancel()
