"""The output of a video fusion: a video file (``mp4v`` codec: ``.mp4``, ``.m4v``, ``.mov``, ``.avi``),
written whole or not at all (:class:`VideoSink`), or a folder of one PNG per frame, 16-bit frames
kept 16-bit (:class:`FrameSink`); :func:`output_kind` says which an output name asks for.

Both sinks take ``write(frame)`` per fused frame (or ``skip()`` where ``already_there()``: a frame
folder's frame an earlier run wrote, kept with ``skip_existing``; ``leave_out()`` where a pair cannot be
fused: a video repeats the frame before it, a folder leaves its file out), then ``finish()`` once
complete (or stopped early, keeping what was fused) or ``abort()`` on a failure or an interrupt.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Callable

import cv2
import numpy as np

from defusion.fusion.video.errors import VideoError
from defusion.io.eight_bits import as_uint8
from defusion.io.writing import write_image

#: Containers the ``mp4v`` writer produces.
VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi")
#: Names of the frames written into an output folder (frame_000000.png, ...), and the pattern that
#: recognises them (six digits or more, as the index grows).
FRAME_NAME = "frame_{:06d}.png"
_FRAME_PATTERN = re.compile(r"frame_(\d{6,})\.png")


def output_kind(out: Path) -> str:
    """``video`` for a video file name, ``frames`` for a folder (existing, or a name without suffix)."""
    if out.is_dir() or not out.suffix:
        return "frames"
    if out.suffix.lower() in VIDEO_SUFFIXES:
        return "video"
    raise VideoError(f"cannot write {out}: give a video file ({', '.join(VIDEO_SUFFIXES)}) or a folder for PNG frames")


class VideoSink:
    """An mp4v video written to a hidden partial file (``.NAME.partial.SUFFIX`` beside ``out``) and
    renamed into place when complete. A partial file an earlier run of the same ``out`` left (killed,
    or stopped in its cleanup) is unplayable: it is removed at the start, and ``warn`` told."""

    def __init__(self, out: Path, fps: float, warn: Callable[[str], None] | None = None) -> None:
        self.out = out
        self.fps = fps
        self.partial = partial_path(out)
        self._writer: cv2.VideoWriter | None = None
        self._size: tuple[int, int] | None = None
        #: Whether the partial file holds the whole video (:meth:`finish` could not rename it).
        self._complete = False
        self._last: np.ndarray | None = None  # the last frame written, as written: it stands in for those left out
        self._held = 0  # frames left out since it, written (as it) once the video goes on past them
        if self.partial.is_file():
            self.partial.unlink()
            if warn is not None:
                warn(f"removed {self.partial}, the unfinished video an earlier run of -o {out} left "
                     "(stopped before it was complete)")

    def already_there(self) -> bool:
        """Never: a video is written whole, from its first frame (see :class:`FrameSink`)."""
        return False

    def leave_out(self) -> None:
        """The next frame could not be fused: the frame fused before it stands in its place, so that the
        video keeps its inputs' timing (written once the video goes on past it, :meth:`write` or
        :meth:`finish`: a fusion stopped there ends on its last fused frame; before the first frame,
        that one stands in)."""
        self._held += 1

    def write(self, frame: np.ndarray) -> None:
        """Append ``frame`` (after the frames left out before it); one of another size than the first is
        refused (OpenCV would drop it with no more than a log line)."""
        bgr = _to_bgr8(frame)
        h, w = bgr.shape[:2]
        if self._writer is None:
            self.out.parent.mkdir(parents=True, exist_ok=True)
            self._writer = cv2.VideoWriter(str(self.partial), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, (w, h))
            if not self._writer.isOpened():
                self.abort()
                raise VideoError(f"cannot write {self.out}: OpenCV could not open an mp4v writer for it")
            self._size = (w, h)
        elif (w, h) != self._size:
            raise VideoError(f"cannot write a {w}x{h} frame into {self.out}, a video of {self._size[0]}x"
                             f"{self._size[1]} frames (WxH)")
        self._write_held(bgr if self._last is None else self._last)
        self._writer.write(bgr)
        self._last = bgr

    def _write_held(self, stand_in: np.ndarray) -> None:
        """Write ``stand_in`` for each frame left out since the last written (:meth:`leave_out`)."""
        for _ in range(self._held):
            self._writer.write(stand_in)
        self._held = 0

    def finish(self, cut: bool = False) -> None:
        """Move the complete video onto ``out``; ``cut`` (a fusion stopped early), without the frames left
        out at its end: it ends on its last fused frame. Where that fails (on Windows, ``out`` open in a
        player) the complete video is kept where it is, and a VideoError says where: :meth:`abort` then
        keeps it too."""
        if self._writer is None:
            return
        if not cut and self._last is not None:
            self._write_held(self._last)
        self._writer.release()
        self._writer = None
        try:
            os.replace(self.partial, self.out)
        except OSError as exc:
            reason = exc.strerror or str(exc)
            kept = self._kept_beside()
            raise VideoError(f"cannot replace {self.out} ({reason}: is it open in another program?); the fused "
                             f"video is at {kept}") from None

    def _kept_beside(self) -> Path:
        """Where a complete video that could not replace ``out`` is kept: renamed to a visible name beside
        it (:func:`kept_path`) where that name is free, so that the next run, which removes a hidden
        partial file as unfinished, does not delete it; else left as the partial file, marked complete."""
        beside = kept_path(self.out)
        if not beside.exists():
            try:
                os.replace(self.partial, beside)
                return beside
            except OSError:
                pass
        self._complete = True
        return self.partial

    def abort(self) -> None:
        """Drop the unfinished video (a complete one that could not be moved into place is kept)."""
        if self._writer is not None:
            self._writer.release()
        if not self._complete:
            self.partial.unlink(missing_ok=True)


class FrameSink:
    """One PNG per fused frame: frame_000000.png, frame_000001.png, ... When complete, the frames an
    earlier, longer run left after the last one are removed (and ``warn`` told), so that the folder
    holds one sequence. With ``skip_existing``, the frames already in the folder when it starts (an
    interrupted run's: each was written whole, atomically) are kept: :meth:`already_there` says so of
    the next one, and :meth:`skip` passes it, so that a long job goes on where it stopped."""

    def __init__(self, out: Path, warn: Callable[[str], None], skip_existing: bool = False) -> None:
        self.out = out
        self._index = 0
        self._warn = warn
        out.mkdir(parents=True, exist_ok=True)
        self._there = frozenset(i for path in out.iterdir() if (i := _frame_index(path.name)) is not None
                                and path.is_file()) if skip_existing else frozenset()

    def already_there(self) -> bool:
        """Whether the next frame's file was in the folder at the start and is kept (``skip_existing``)."""
        return self._index in self._there

    def write(self, frame: np.ndarray) -> None:
        write_image(self.out / FRAME_NAME.format(self._index), frame)
        self._index += 1

    def leave_out(self) -> None:
        """The next frame could not be fused: its file is left out (one an earlier run left there removed,
        so that the folder holds this run's frames alone), and every later frame keeps its inputs' frame
        number in its name."""
        path = self.out / FRAME_NAME.format(self._index)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:  # on Windows, open in a viewer: said, the run goes on
            self._warn(f"cannot remove {path}, an earlier run's frame ({exc.strerror or exc}); open in another "
                       "program? It is not this run's: this run could not fuse that frame")
        self._index += 1

    def skip(self) -> None:
        """Pass the next frame: its file, already there, stays as it is."""
        self._index += 1

    def finish(self, cut: bool = False) -> None:
        """Remove the frames an earlier, longer run left after this run's last (``cut``, a fusion stopped
        early, alike). One that cannot be removed (on Windows, open in a viewer) is said, not an error:
        this run's frames are all written."""
        indices = {path: _frame_index(path.name) for path in self.out.iterdir() if path.is_file()}
        stale = sorted((path for path, i in indices.items() if i is not None and i >= self._index), key=indices.get)
        kept: list[Path] = []
        for path in stale:
            try:
                path.unlink()
            except OSError:
                kept.append(path)
        removed = [path for path in stale if path not in kept]
        if removed:
            self._warn(f"removed {_frames(removed)}"
                       + ("" if kept else f": the folder holds this run's {self._index} only"))
        if kept:
            self._warn(f"cannot remove {_frames(kept)}; open in another program? The folder holds "
                       f"{'it' if len(kept) == 1 else 'them'} after this run's {self._index} "
                       f"frame{'s' if self._index != 1 else ''}")

    def abort(self) -> None:
        pass


def kept_path(out: Path) -> Path:
    """The name a complete video is kept under where it could not replace ``out`` (on Windows, ``out``
    open in a player).

    Example:
        >>> kept_path(Path("runs/fused.mp4")).as_posix()
        'runs/fused.new.mp4'
    """
    return out.with_name(f"{out.stem}.new{out.suffix}")


def partial_path(out: Path) -> Path:
    """Where :class:`VideoSink` writes ``out`` until it is complete: a hidden file beside it.

    Example:
        >>> str(partial_path(Path("clips/fused.mp4")))
        'clips/.fused.partial.mp4'
    """
    return out.with_name(f".{out.stem}.partial{out.suffix}")


def _frames(paths: list[Path]) -> str:
    """Frame files an earlier, longer run left in a folder (sorted), in words.

    Example:
        >>> _frames([Path("out/frame_000007.png"), Path("out/frame_000009.png")])
        '2 frames left in out by an earlier, longer run (frame_000007.png to frame_000009.png)'
    """
    span = paths[0].name if len(paths) == 1 else f"{paths[0].name} to {paths[-1].name}"
    return (f"{len(paths)} frame{'s' if len(paths) > 1 else ''} left in {paths[0].parent} by an earlier, longer run "
            f"({span})")


def _frame_index(name: str) -> int | None:
    """The index of a file name that is exactly one of FRAME_NAME's (``frame_000012.png``: 12), else None."""
    match = _FRAME_PATTERN.fullmatch(name)
    if match is None or FRAME_NAME.format(int(match[1])) != name:
        return None
    return int(match[1])


def _to_bgr8(frame: np.ndarray) -> np.ndarray:
    """A fused frame (uint8, uint16 or float in [0, 1]; grey or RGB) as the 8-bit BGR a video file holds."""
    frame = as_uint8(frame)
    code = cv2.COLOR_GRAY2BGR if frame.ndim == 2 else cv2.COLOR_RGB2BGR
    return cv2.cvtColor(frame, code)


def frame_files(folder: Path) -> list[Path]:
    """The frames (files named as :data:`FRAME_NAME`'s) in ``folder``, in index order; a frame a run
    left out (:meth:`FrameSink.leave_out`) leaves a gap, which does not end the list."""
    try:
        found = {path: _frame_index(path.name) for path in folder.iterdir()}
    except OSError:
        return []
    return sorted((path for path, i in found.items() if i is not None and path.is_file()), key=found.__getitem__)


__all__ = ["FRAME_NAME", "VIDEO_SUFFIXES", "FrameSink", "VideoSink", "frame_files", "output_kind", "partial_path"]
