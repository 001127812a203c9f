"""Fusing two inputs frame by frame into one output with the one fusion core (:func:`fuse_videos`):
the inputs checked against each other (sizes, lengths, frame rates), each pair of frames fused by
the stream's steady fuser, the output written, and what was done returned (:class:`VideoResult`)."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from defusion.fusion.fuser import Fuser, SizeMismatchError
from defusion.fusion.rig import RigError
from defusion.fusion.video.errors import VideoError, VideoInterrupted
from defusion.fusion.video.sinks import FrameSink, VideoSink, output_kind
from defusion.fusion.video.sources import FrameSource, check_frame_size, note_float_spans, open_frames
from defusion.fusion.video.steady_fuser import fixed_for_stream, steady_fuser
from defusion.io.images import DEFAULT_MAX_PIXELS
from defusion.io.notes import note as say_note

#: Frame rate of the output when no input video says one.
DEFAULT_FPS = 25.0
#: Relative difference of the inputs' frame rates under which they count as one rate (29.97 and 30 do).
FPS_TOLERANCE = 0.01


@dataclass
class VideoResult:
    """What :func:`fuse_videos` did."""

    frames: int
    seconds: float
    output: Path

    @property
    def fps(self) -> float:
        """Frames fused per second of wall time (decoding and encoding included)."""
        return self.frames / self.seconds if self.seconds > 0 else float("inf")


def fuse_videos(
    fuser: Fuser,
    a: str | Path,
    b: str | Path,
    out: str | Path,
    *,
    max_frames: int | None = None,
    fps: float | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    progress: bool = True,
    warn: Callable[[str], None] | None = None,
    on_first: Callable[[list[Path], list[np.ndarray]], None] | None = None,
    note: Callable[[str], None] | None = None,
) -> VideoResult:
    """Fuse ``a`` and ``b`` (video files or frame folders) frame by frame into ``out``.

    Inputs of different lengths are fused over their common length and ``warn`` is told; so it is
    of inputs of different frame rates (frames are paired by index). A frame of another size than
    its input's first is a VideoError. The output frame rate is ``fps``, else the first input
    video's, else 25; an output folder keeps only this run's frames. A fuser that sorts
    its inputs (``FuseOptions.order``, e.g. ``task="mef"``) sorts the first frames and keeps that
    order for the whole video, so that it cannot flip, and flicker, between frames. So with the
    frame the others are aligned onto and deghost's reference (chosen on the first frames as
    ``Fuser.fuse`` chooses them: a bracket's best exposed), and with the stretch of raw thermal frames
    (``FuseOptions.stretch``, ``auto``): measured on the first frames that hold a raw one and kept,
    so that a hot object entering the view does not darken the rest of it; and so with a thermal
    palette's range (``FuseOptions.palette_range``, unless one is given): measured on the first
    frames whose infrared image is not flat (:meth:`Fuser.measure_palette`) and kept, so that the
    hot object does not recolour the rest; so with float frames outside [0, 1] (radiometric TIFFs
    in degrees): mapped from the first (not flat) frame's minimum to its maximum, as ``defusion fuse``
    reads that frame, for the whole stream (values beyond clipped), and ``note`` told once per input
    (default: a ``defusion: note:`` line). ``on_first`` is given the first frames and their
    inputs' paths, in the order they are fused, before they are (what to say about them: which
    one a palette colours). Ctrl-C raises :class:`VideoInterrupted` (a KeyboardInterrupt) with the
    number of frames fused so far.
    """
    from tqdm import tqdm

    out = Path(out)
    warn = warn or (lambda message: print(f"defusion: warning: {message}", file=sys.stderr))
    note = note or say_note
    kind = output_kind(out)
    src_a, src_b = _open_pair(a, b, max_pixels)
    sink, done = None, 0
    try:
        _check_sizes(fuser, src_a, src_b)
        total, counts_differ = _common_length(src_a, src_b, max_frames, warn)
        rate = fps or src_a.fps or src_b.fps or DEFAULT_FPS
        _warn_rates_differ(src_a, src_b, rate, fps is not None, warn)
        sink = VideoSink(out, rate) if kind == "video" else FrameSink(out, warn)
        start = time.perf_counter()
        frames_a, frames_b = src_a.frames(), src_b.frames()
        steady, swap, noted = fuser, None, set()
        with tqdm(total=total, desc="fusing", unit="frame", disable=not progress, file=sys.stderr) as bar:
            while max_frames is None or done < max_frames:
                fa, fb = next(frames_a, None), next(frames_b, None)
                if fa is None or fb is None:
                    if (fa is None) != (fb is None) and not counts_differ:
                        ended = src_a.path if fa is None else src_b.path
                        warn(f"{ended} ended after {done} frames, before the other input; fused the first {done}")
                    break
                check_frame_size(src_a, fa, done)
                check_frame_size(src_b, fb, done)
                note_float_spans((src_a, src_b), noted, note)
                try:
                    first = swap is None
                    if first:  # the order the fuser would give the first frames, kept
                        # (a rig's frames stay in its cameras' order: it maps b's onto a's)
                        swap = fuser.options.rig is None and fuser.input_order(fa, fb) == [1, 0]
                    pair = [fb, fa] if swap else [fa, fb]
                    if first and on_first is not None:
                        on_first([src_b.path, src_a.path] if swap else [src_a.path, src_b.path], pair)
                    steady = fixed_for_stream(fuser, steady_fuser(fuser, pair) if first else steady, pair)
                    fused = steady.fuse(*pair)
                except (SizeMismatchError, RigError) as exc:
                    raise VideoError(f"frame {done}: {exc}") from None
                sink.write(fused)
                done += 1
                bar.update()
        if done == 0:
            raise VideoError("no frames to fuse")
        sink.finish()
        seconds = time.perf_counter() - start
    except BaseException as exc:
        if sink is not None:
            sink.abort()
        if isinstance(exc, KeyboardInterrupt) and not isinstance(exc, VideoInterrupted):
            raise VideoInterrupted(done) from exc
        raise
    finally:
        src_a.close()
        src_b.close()
    return VideoResult(done, seconds, out)


def _open_pair(a: str | Path, b: str | Path, max_pixels: int) -> tuple[FrameSource, FrameSource]:
    """Both inputs opened (:func:`open_frames`); ``a`` closed again when ``b`` cannot be opened."""
    src_a = open_frames(a, max_pixels)
    try:
        src_b = open_frames(b, max_pixels)
    except Exception:
        src_a.close()
        raise
    return src_a, src_b


def _check_sizes(fuser: Fuser, src_a: FrameSource, src_b: FrameSource) -> None:
    """Refuse inputs whose frames cannot be fused together: of different sizes, or, with a calibrated
    rig (which maps b's frames onto a's, whatever their sizes), of sizes other than its cameras'."""
    if fuser.options.rig is not None:
        try:
            fuser.options.rig.check_sizes([src_a.size, src_b.size])
        except RigError as exc:
            raise VideoError(f"{src_a.path} and {src_b.path}: {exc}") from None
    elif src_a.size != src_b.size:
        raise VideoError(
            f"frames differ in size: {src_a.path} is {src_a.size[0]}x{src_a.size[1]}, {src_b.path} is "
            f"{src_b.size[0]}x{src_b.size[1]} (WxH); fusion needs registered inputs of one size (two cameras "
            "side by side: calibrate them with defusion calibrate and pass --rig)")


def _common_length(src_a: FrameSource, src_b: FrameSource, max_frames: int | None,
                   warn: Callable[[str], None]) -> tuple[int | None, bool]:
    """How many frames will be fused, where known (for the progress bar), and whether the inputs'
    known lengths differ: then ``warn`` is told that their common length is fused."""
    counts_differ = src_a.count is not None and src_b.count is not None and src_a.count != src_b.count
    if counts_differ:
        common = min(src_a.count, src_b.count)
        warn(f"{src_a.path} has {src_a.count} frames and {src_b.path} has {src_b.count}; "
             f"fusing the common {common}")
    known = [c for c in (src_a.count, src_b.count, max_frames) if c is not None]
    return (min(known) if known else None), counts_differ


def _warn_rates_differ(src_a: FrameSource, src_b: FrameSource, rate: float, asked: bool,
                       warn: Callable[[str], None]) -> None:
    """Warn when the inputs' frame rates differ: frames are paired by index, not by time, so the
    pairs drift apart (a 10 fps video's frame 10 is at 1 s, a 30 fps one's at 0.33 s)."""
    if src_a.fps is None or src_b.fps is None:
        return
    if abs(src_a.fps - src_b.fps) <= FPS_TOLERANCE * max(src_a.fps, src_b.fps):
        return
    whose = "as asked" if asked else f"{src_a.path}'s"
    warn(f"{src_a.path} runs at {src_a.fps:.4g} fps and {src_b.path} at {src_b.fps:.4g} fps: frames are paired by "
         f"index, not by time, and the output runs at {rate:.4g} fps ({whose})")


__all__ = ["DEFAULT_FPS", "FPS_TOLERANCE", "VideoResult", "fuse_videos"]
