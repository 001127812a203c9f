"""What stops a video fusion: :class:`VideoError` (an input or output a user gave that cannot be
used, said in one line) and :class:`VideoInterrupted` (Ctrl-C, with how many frames were fused)."""

from __future__ import annotations

from pathlib import Path

from defusion.errors import DefusionError
from defusion.io.notes import plural


class VideoError(DefusionError, ValueError):
    """An input or output video that cannot be used; the message says which and why."""


class VideoInterrupted(KeyboardInterrupt):
    """A KeyboardInterrupt during :func:`~defusion.fusion.video.fuse_videos`, with how many frames were
    fused and written before it (``frames``): so that the caller can say what the interrupt discarded or kept.
    Where an input is live (a stream or camera, which runs until stopped), the output is finished there, a
    playable video or a frame folder: ``kept`` is it, ``seconds`` how long the fusion ran; else both None."""

    def __init__(self, frames: int, kept: Path | None = None, seconds: float | None = None) -> None:
        super().__init__(f"interrupted after {plural(frames, 'fused frame')}")
        self.frames = frames
        self.kept = kept
        self.seconds = seconds


__all__ = ["VideoError", "VideoInterrupted"]
