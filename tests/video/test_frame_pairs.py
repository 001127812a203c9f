"""``fuse_videos``'s frame pairing (``_frame_pairs``) on in-memory inputs: no fusion, no files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from defusion.fusion.video.bad_pairs import BadPair
from defusion.fusion.video.fusing import _frame_pairs
from defusion.fusion.video.sources import FrameSource


class _Frames(FrameSource):
    """An input of the given frames, sized by the first."""

    def __init__(self, name: str, frames: list[np.ndarray]):
        self.path, self.count, self.fps = Path(name), len(frames), None
        self.size = (frames[0].shape[1], frames[0].shape[0])
        self._frames = frames

    def frames(self):
        yield from self._frames


def _input(name: str, n: int, h: int = 4, w: int = 6) -> _Frames:
    return _Frames(name, [np.full((h, w), i, np.uint8) for i in range(n)])


def _pairs(a: _Frames, b: _Frames, max_frames: int | None = None, counts_differ: bool = False):
    warned: list[str] = []
    pairs = list(_frame_pairs(a, b, max_frames, counts_differ, warned.append, warned.append))
    return [(int(fa[0, 0]), int(fb[0, 0])) for fa, fb in pairs], warned


def test_pairs_by_index_up_to_max_frames():
    assert _pairs(_input("a", 3), _input("b", 3)) == ([(0, 0), (1, 1), (2, 2)], [])
    assert _pairs(_input("a", 3), _input("b", 3), max_frames=2) == ([(0, 0), (1, 1)], [])


def test_an_input_ending_first_is_said_unless_the_lengths_were_known_to_differ():
    pairs, warned = _pairs(_input("a", 3), _input("b", 2))
    assert pairs == [(0, 0), (1, 1)]
    assert warned == ["b ended after 2 frames, before the other input; fused the first 2"]
    assert _pairs(_input("a", 3), _input("b", 2), counts_differ=True)[1] == []


def test_a_frame_of_another_size_is_a_bad_pair_naming_it():
    b = _Frames("b", [np.zeros((4, 6), np.uint8), np.zeros((5, 6), np.uint8), np.zeros((4, 6), np.uint8)])
    pairs = list(_frame_pairs(_input("a", 3), b, None, False, print, print))
    assert isinstance(pairs[1], BadPair) and pairs[1].index == 1 and pairs[1].resized
    assert "b frame 1 is 6x5, but the first frame of b is 6x4" in pairs[1].problem
    assert [len(pair) for pair in (pairs[0], pairs[2])] == [2, 2]  # the pairs after it go on
