"""Whether two frame folders' frames, paired by index, are the same moments by their file names
(:func:`misnumbered_pair`): a frame deleted from one folder shifts every later pair by one, which
the names show (vis/frame5.png beside ir/frame6.png) and the pixels do not. Names only: cheap."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

#: A frame number in a file name: the last run of digits of its stem (frame12, ir_0012, cam2_f0012 -> 12).
_NUMBER = re.compile(r"(\d+)\D*$")
#: The folders name their frames alike when at least this share of the shorter one's frame numbers (or
#: names) is in the other too: a missing frame leaves all but one shared, while two cameras' own
#: counters or timestamps share next to none (then the names say nothing of the pairing).
SHARED_NAMES = 0.5


def misnumbered_pair(files_a: Sequence[Path], files_b: Sequence[Path], pairs: int | None = None) -> int | None:
    """The index of the first of the first ``pairs`` pairs (all, None) whose frames' numbers (the last
    digits of each name; where a name holds none, the names themselves) differ, where the folders
    number their frames alike (``SHARED_NAMES``, each number once); None where all agree or the names
    tell nothing. Numbers off by one constant (a folder numbered from 1) agree where both folders
    hold as many frames; where one holds fewer, its first frame is missing or its last.

    Example:
        >>> names = lambda *n: [Path(f"frame{i}.png") for i in n]
        >>> misnumbered_pair(names(0, 1, 2, 3, 4), names(0, 1, 3, 4))  # frame 2 gone from the second
        2
        >>> misnumbered_pair(names(0, 1, 2, 3), names(1, 2, 3, 4)), misnumbered_pair(names(0, 1, 2), names(0, 1))
        (None, None)
        >>> misnumbered_pair(names(0, 1, 2, 3), names(1, 2, 3))  # frame 0 gone, or numbered from 1
        0
        >>> misnumbered_pair(names(1700000000123, 1700000000156), names(1700000000101, 1700000000140))
    """
    count = min(len(files_a), len(files_b))
    pairs = count if pairs is None else min(pairs, count)
    keys_a, keys_b = _keys(files_a, files_b)
    if pairs == 0 or len(set(keys_a)) < len(keys_a) or len(set(keys_b)) < len(keys_b):
        return None  # a number twice in a folder: the names do not say which frame is which
    if len(set(keys_a) & set(keys_b)) < SHARED_NAMES * count:
        return None
    offsets = [_offset(ka, kb) for ka, kb in zip(keys_a[:pairs], keys_b[:pairs])]
    if offsets[0] is not None and offsets[0] != 0 and len(files_a) != len(files_b):
        return 0
    allowed = offsets[0] if offsets[0] is not None else 0
    return next((i for i, offset in enumerate(offsets) if offset != allowed), None)


def _keys(files_a: Sequence[Path], files_b: Sequence[Path]) -> tuple[list[int | str], list[int | str]]:
    """Each folder's frame numbers where every name of both holds one, else their names (stems)."""
    numbers = [[_NUMBER.search(path.stem) for path in files] for files in (files_a, files_b)]
    if all(found is not None for found in numbers[0] + numbers[1]):
        return [int(m.group(1)) for m in numbers[0]], [int(m.group(1)) for m in numbers[1]]
    return [path.stem for path in files_a], [path.stem for path in files_b]


def _offset(key_a: int | str, key_b: int | str) -> int | None:
    """How far apart two frame numbers are (0: one frame); None for names that differ, 0 for equal ones."""
    if isinstance(key_a, int) and isinstance(key_b, int):
        return key_b - key_a
    return 0 if key_a == key_b else None


__all__ = ["SHARED_NAMES", "misnumbered_pair"]
