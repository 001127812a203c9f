"""The fusions already made, kept for re-runs (an option changed back, a download) and shared by
all sessions: their content-hash key and a cache bounded by count and bytes."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Callable, Hashable, TypeVar

import numpy as np

#: How many fusions the app keeps for re-runs (an option changed back, a download).
RESULTS_KEPT = 16
#: Most bytes of arrays the kept fusions may hold together: a result keeps float32 sources and
#: components, about 38 bytes per input pixel (1 GB for a 25 MP pair), so a count alone is no bound.
RESULTS_MAX_BYTES = 2 * 2**30

Result = TypeVar("Result")


def digest(*arrays: np.ndarray) -> str:
    """A content hash of arrays (shape, dtype and every byte): the fusion cache key."""
    h = hashlib.sha256()
    for a in arrays:
        h.update(f"{a.shape}{a.dtype}".encode())
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()


def array_bytes(value: object) -> int:
    """Bytes of the numpy arrays in ``value`` (an array, or tuples, lists and dicts of them, as
    FusedPair and FusedStack are), each array counted once: what keeping it costs.

    Example:
        >>> image = np.zeros((4, 5), np.float32)
        >>> array_bytes((image, [image, np.zeros(3, np.uint8)], {"EN": 1.0}))
        83
    """
    seen: set[int] = set()

    def count(item: object) -> int:
        if isinstance(item, np.ndarray):
            if id(item) in seen:
                return 0
            seen.add(id(item))
            return item.nbytes
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, (tuple, list)):
            return sum(count(part) for part in item)
        return 0

    return count(value)


class ResultCache:
    """Fusions already made, shared by all sessions: key -> result, the newest ``max_entries`` kept
    within ``max_bytes`` of arrays (oldest dropped first). The newest is kept whatever its size, so
    that the re-run a download button makes does not fuse again. Thread-safe: sessions run in threads."""

    def __init__(self, max_entries: int = RESULTS_KEPT, max_bytes: int = RESULTS_MAX_BYTES) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Hashable, tuple[object, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Bytes of arrays the kept results hold."""
        return self._bytes

    def remember(self, key: Hashable, compute: Callable[[], Result]) -> Result:
        """``compute()``'s result, made once per ``key`` while kept (computed outside the lock:
        another session's fusion does not wait for this one)."""
        with self._lock:
            if key in self._entries:
                self._entries.move_to_end(key)
                return self._entries[key][0]  # type: ignore[return-value]
        value = compute()
        with self._lock:
            if key in self._entries:  # another session made it meanwhile
                self._bytes -= self._entries.pop(key)[1]
            size = array_bytes(value)
            self._entries[key] = (value, size)
            self._bytes += size
            while len(self._entries) > 1 and (len(self._entries) > self.max_entries or self._bytes > self.max_bytes):
                self._bytes -= self._entries.popitem(last=False)[1][1]
        return value


__all__ = ["RESULTS_KEPT", "RESULTS_MAX_BYTES", "digest", "array_bytes", "ResultCache"]
