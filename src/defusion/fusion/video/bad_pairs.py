"""Pairs of frames a video fusion cannot fuse (a frame unreadable, or of another size than its input's
first): each skipped and said in one line, the first :data:`SHOWN_BAD_PAIRS` of them, then once that the
rest are only counted (:class:`BadPairs`); and a run of frames of another size, a camera change rather
than a stray frame, found (:data:`SIZE_CHANGE_RUN`) so that the fusion stops there.

Skipping matches ``defusion fuse``'s folder runs (a pair that cannot be fused is said, skipped and
counted; the run goes on): an hour of frames is not lost to one damaged file.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

#: How many pairs that cannot be fused are said a line each; after them one line says that the rest are
#: only counted (in the run's last line): enough to tell one damaged file from a damaged stretch of them,
#: while an hour of damaged frames does not bury the progress bar under thousands of lines.
SHOWN_BAD_PAIRS = 10
#: Pairs in a row with a frame of another size than its input's first after which the fusion stops:
#: a stray or damaged frame is one, while a camera (or camera mode) change makes every frame after it
#: of another size, which one output video cannot hold nor the first frames' stretch and palette fit;
#: 5 in a row (a sixth of a second at 30 fps) are no stray frame.
SIZE_CHANGE_RUN = 5


class BadPair(NamedTuple):
    """Pair ``index`` cannot be fused: ``problem`` says why, naming the frame files (one line);
    ``resized`` whether a frame of another size than its input's first is (part of) why."""

    index: int
    problem: str
    resized: bool = False


class BadPairs:
    """The pairs a fusion skipped (``failed``, their indices), each told to ``warn`` in one line with how
    its place is kept (``kept(index)``: "the frame fused before it repeated in its place", say), up to
    :data:`SHOWN_BAD_PAIRS`; and how many pairs in a row hold a frame of another size (:meth:`size_changed`).

    Example:
        >>> said = []
        >>> bad = BadPairs(said.append, lambda index: f"no frame_{index:06d}.png")
        >>> bad.add(BadPair(2, "a/f2.png: cannot decode")); bad.fused()
        >>> bad.failed, said
        ([2], ['skipped frame 2 (no frame_000002.png): a/f2.png: cannot decode'])
    """

    def __init__(self, warn: Callable[[str], None], kept: Callable[[int], str]) -> None:
        self.warn, self.kept = warn, kept
        self.failed: list[int] = []
        self._resized_from: int | None = None  # the first of the pairs in a row with a frame of another size

    def add(self, pair: BadPair) -> None:
        """Count ``pair`` skipped and say so (one line; past :data:`SHOWN_BAD_PAIRS`, once that the rest
        are only counted)."""
        self.failed.append(pair.index)
        if len(self.failed) <= SHOWN_BAD_PAIRS:
            self.warn(f"skipped frame {pair.index} ({self.kept(pair.index)}): {pair.problem}")
        elif len(self.failed) == SHOWN_BAD_PAIRS + 1:
            self.warn(f"skipped frame {pair.index} too, and any more that cannot be fused without a line each "
                      f"({SHOWN_BAD_PAIRS} said above): the last line counts them")
        if not pair.resized:
            self._resized_from = None
        elif self._resized_from is None:
            self._resized_from = pair.index

    def fused(self) -> None:
        """A pair was fused (or kept from an earlier run): a run of frames of another size, if any, ended."""
        self._resized_from = None

    def size_changed(self) -> int | None:
        """The frame from which :data:`SIZE_CHANGE_RUN` pairs in a row have held a frame of another size
        than its input's first (a camera or its mode changed there: the fusion stops), else None."""
        if self._resized_from is None or self.failed[-1] - self._resized_from + 1 < SIZE_CHANGE_RUN:
            return None  # (the pairs in a row are the last ones failed: their indices follow one another)
        return self._resized_from


__all__ = ["SHOWN_BAD_PAIRS", "SIZE_CHANGE_RUN", "BadPair", "BadPairs"]
