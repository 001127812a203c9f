"""The one shared model, one request's call at a time (:class:`ModelRunner`), with a bounded
queue of the requests waiting for it, and how the runtimes say they ran out of memory."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import threading
from dataclasses import replace
from typing import Any, AsyncIterator, Callable, Iterator, Literal, Sequence

import numpy as np

from defusion.errors import runtime_out_of_memory
from defusion.fusion.fuser import FuseOptions, Fuser, Task
from defusion.serving.decode import one_line
from defusion.serving.errors import ClientGone
from defusion.serving.limits import DEFAULT_MAX_QUEUE

#: The Fuser methods a request runs (:meth:`ModelRunner.run`).
FuserCall = Literal["fuse", "fuse_with_weights", "fusion", "decompose"]
#: Seconds a client told 503 because the queue is full is asked to wait (Retry-After).
QUEUE_FULL_RETRY_AFTER_S = 10


class QueueFull(Exception):
    """``max_queue`` requests are held besides the one being fused: answered 503 with Retry-After."""


class ModelRunner:
    """The one shared model, one call at a time, each request with its own options.

    The shared Fuser is never changed: a request's options (:meth:`options_for`) are made from
    the server's alone, and its call runs on a shallow copy of the Fuser that shares the model
    and carries those options. So each request is checked and fused by its own settings, and
    no request sees another's, however they interleave.

    A request takes a place (:meth:`admitted`: at most ``max_queue`` besides the one being
    fused, else :class:`QueueFull`), then waits for the model's :meth:`turn` on the event loop,
    holding no worker thread, and only then calls :meth:`run` in the thread pool."""

    def __init__(self, fuser: Fuser, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        self.fuser = fuser
        self.options = fuser.options  # the server's options, frozen: each request starts from them
        self.max_queue = max_queue
        self.lock = threading.Lock()  # the model itself, whoever calls run (one event loop or not)
        self.active = 0  # requests admitted and not answered yet: reading, checking, waiting, being fused
        self.waiting = 0  # of those, the ones waiting for the model's turn
        self._turns: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    @property
    def full(self) -> bool:
        """Whether a new request would be refused: ``max_queue`` besides the one being fused are held."""
        return self.active > self.max_queue

    @contextlib.contextmanager
    def admitted(self) -> Iterator[None]:
        """A place among the requests the server holds, for the block; :class:`QueueFull` if none is left."""
        if self.full:
            raise QueueFull(f"{self.active} requests are held (one being fused, up to max_queue="
                             f"{self.max_queue} more)")
        self.active += 1
        try:
            yield
        finally:
            self.active -= 1

    @contextlib.asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """The model's turn, for the block: waited for on the event loop (no worker thread held),
        first come, first served."""
        loop = asyncio.get_running_loop()
        if self._turns is None or self._turns[0] is not loop:  # one per event loop (tests run several)
            self._turns = (loop, asyncio.Lock())
        lock = self._turns[1]
        self.waiting += 1
        try:
            await lock.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            lock.release()

    def options_for(self, task: Task | None = None, **request: Any) -> FuseOptions:
        """The server's options with ``task``'s settings and the request's own (None leaves the
        server's); a ValueError where FuseOptions refuses the combination. With or without a task,
        the scale follows the pixels asked for where the server's is the default for its own, and
        pixels from the sources drop the server's palette (FuseOptions.with_task's rules): only a
        request that asks for a palette with them is refused."""
        pixels = request.pop("pixels", None)
        if task is not None:
            options = self.options.with_task(task, pixels=pixels)
        else:
            options = self.options
            if pixels is not None:
                request.update(pixels=pixels, scale=self.options.scale_for(pixels))
                if pixels == "sources":  # a palette colours the network's fusion, as with_task drops it
                    options = replace(options, palette="none", infrared=None)
        return replace(options, **{name: value for name, value in request.items() if value is not None})

    def fuser_for(self, options: FuseOptions) -> Fuser:
        """The shared Fuser at ``options``: a shallow copy that shares the model, not the options."""
        fuser = copy.copy(self.fuser)
        fuser.options = options
        return fuser

    def run(self, call: FuserCall, images: Sequence[np.ndarray], options: FuseOptions,
            wanted: Callable[[], bool] = lambda: True) -> Any:
        """``Fuser.<call>(*images)`` at ``options`` under the model lock (in a worker thread; the
        server takes the request's :meth:`turn` first, so this lock is never waited for there). Once the lock is held,
        ``wanted()`` is asked first: a request whose client left meanwhile is not fused (it would
        only keep the requests behind it waiting), raising :class:`ClientGone`. It is asked again
        after each network pass (a tile, a pair of a stack), so a large fusion whose client left
        stops there and frees the model."""
        fuser = self.fuser_for(options)

        def stop_if_gone() -> None:
            if not wanted():
                raise ClientGone("during its fusion; it was stopped")

        with self.lock:
            if not wanted():
                raise ClientGone("while waiting for the model; its fusion was skipped")
            try:
                return getattr(fuser, call)(*images, on_tile=stop_if_gone)
            except Exception as exc:
                if runtime_out_of_memory(exc):  # PyTorch's (or onnxruntime's) own: answered as a MemoryError, a 503
                    raise MemoryError(one_line(exc)) from exc
                raise



