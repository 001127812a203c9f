"""Fusing two videos (or two folders of frames, or live streams and cameras) frame by frame with the one
fusion core.

Inputs are video files OpenCV can decode, or folders of images matched in natural sorted order
(``frame2`` before ``frame10``), or live sources (a stream URL such as ``rtsp://...``, a capture
device such as ``/dev/video0``, or a camera by index, ``cam:0``: :mod:`.live`), fused until they
end. The output is a video (``mp4v`` codec: ``.mp4``, ``.m4v``, ``.mov``, ``.avi``) or, when it is a
folder, one PNG per frame (16-bit frames stay 16-bit).

Every failure a user can cause (missing or unreadable input, inputs of different sizes, an
output that cannot be written) raises :class:`VideoError` with a one-line message; a pair of frames
that cannot be fused mid-clip (a frame file unreadable, or a frame of another size than its input's
first) is skipped and said instead, its place kept (:mod:`.bad_pairs`).

The parts: :mod:`.sources` (the inputs' frames), :mod:`.live` (streams and cameras), :mod:`.sinks`
(the output), :mod:`.steady_fuser` (what stays fixed for the whole stream), :mod:`.fusing` (the frame
loop), :mod:`.bad_pairs` (the pairs skipped), :mod:`.errors`.

Example:
    >>> from pathlib import Path
    >>> from defusion.fusion.video import output_kind
    >>> output_kind(Path("fused.mp4")), output_kind(Path("frames/"))
    ('video', 'frames')
"""

from __future__ import annotations

from defusion.fusion.video.errors import VideoError, VideoInterrupted
from defusion.fusion.video.fusing import DEFAULT_FPS, FPS_TOLERANCE, VideoResult, fuse_videos
from defusion.fusion.video.sinks import FRAME_NAME, VIDEO_SUFFIXES, output_kind
from defusion.fusion.video.live import live_spec
from defusion.fusion.video.sources import FRAME_SUFFIXES, FrameSource, open_frames

__all__ = ["VideoError", "VideoInterrupted", "VideoResult", "FrameSource", "open_frames", "output_kind", "fuse_videos",
           "live_spec",
           "VIDEO_SUFFIXES", "FRAME_SUFFIXES",
           # defined in the modules beside this one, kept importable from here as before they were split out:
           "FRAME_NAME", "DEFAULT_FPS", "FPS_TOLERANCE"]
